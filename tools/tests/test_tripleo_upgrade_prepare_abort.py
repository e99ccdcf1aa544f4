"""tripleo-upgrade-prepare, -abort and -config-check run as commands, against the daemon process and the bus."""
import os
import subprocess
import sys

import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE = 'compute-0'
UNITS = ['tripleo_nova_compute.service', 'tripleo_nova_libvirt.service']


def run(tool, *args, env=None):
    return subprocess.run([sys.executable, os.path.join(TOOLS, tool)] + list(args), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)


@pytest.fixture
def node(tmp_path, systemd_bus, helper_daemon):
    """A configured compute node: its actor configuration directory, its units on the bus, its token."""
    systemd_bus.load([systemd_bus.unit(name) for name in UNITS])
    helper_daemon.add_node(NODE, 'Compute')
    helper_daemon.add_node('compute-1', 'Compute')
    data = tmp_path / 'var' / 'lib' / 'nova'
    data.mkdir(parents=True)
    (data / 'instance.xml').write_text('<domain/>')
    conf_dir = tmp_path / 'actor_conf.d'
    conf_dir.mkdir()
    (conf_dir / 'tripleo_upgrade.yaml').write_text(
        'tripleo_upgrade:\n  daemon_url: {}\n  token_file: {}\n  node_name: {}\n  persist_items: {{nova-state: [{}]}}\n'
        '  persist_dropin_dir: {}\n'.format(helper_daemon.url, helper_daemon.token_file(NODE), NODE, data,
                                            tmp_path / 'persist.d'))
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=systemd_bus.address)
    record = str(tmp_path / 'node-state' / 'prepare-state.json')
    return {'conf': str(conf_dir), 'env': env, 'record': record}


def test_prepare_then_abort_from_the_configuration_alone(node, systemd_bus, helper_daemon):
    prepared = run('tripleo-upgrade-prepare', '--config-dir', node['conf'], '--record', node['record'],
                   env=node['env'])
    assert prepared.returncode == 0, prepared.stderr
    assert 'compute-0 prepared: stopped tripleo_nova_compute.service, tripleo_nova_libvirt.service' in prepared.stdout
    assert all(u['active_state'] == 'inactive' for u in systemd_bus.units().values())
    refused = helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/compute-1/lease')
    assert refused.status_code == 409  # compute-0 holds the role's last allowed lease

    aborted = run('tripleo-upgrade-abort', '--config-dir', node['conf'], '--record', node['record'], env=node['env'])
    assert aborted.returncode == 0, aborted.stderr
    assert 'aborted after its preparation' in aborted.stdout
    units = systemd_bus.units()
    assert [(units[n]['active_state'], units[n]['unit_file_state']) for n in UNITS] == [('active', 'enabled')] * 2
    # The lease is released, and the failed report paused the fleet until an admin resumes it.
    assert helper_daemon.admin().get(helper_daemon.url + '/v1/status').json()['leases'] == []
    assert helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/compute-1/lease').status_code == 409
    helper_daemon.admin().post(helper_daemon.url + '/v1/fleet/resume', json={'reason': 'checked'}).raise_for_status()
    assert helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/compute-1/lease').status_code == 200

    again = run('tripleo-upgrade-abort', '--config-dir', node['conf'], '--record', node['record'], env=node['env'])
    assert again.returncode == 0 and 'has no prepare record' in again.stdout


@pytest.mark.parametrize('tool', ['tripleo-upgrade-prepare', 'tripleo-upgrade-abort', 'tripleo-upgrade-complete',
                                  'tripleo-upgrade-restore', 'tripleo-transfer-pull'])
def test_an_unusable_configuration_is_one_clear_error(tool, tmp_path):
    conf_dir = tmp_path / 'actor_conf.d'
    conf_dir.mkdir()
    (conf_dir / 'tripleo_upgrade.yaml').write_text('tripleo_upgrade:\n  restore_mod: always\n')
    done = run(tool, '--config-dir', str(conf_dir))
    assert done.returncode == 1
    assert done.stderr.startswith('{}: error: the tripleo_upgrade configuration cannot be used:'.format(tool))
    assert 'did you mean restore_mode?' in done.stderr and 'daemon_url' in done.stderr
    assert 'Traceback' not in done.stderr


@pytest.mark.parametrize('tool', ['tripleo-upgrade-prepare', 'tripleo-upgrade-abort', 'tripleo-upgrade-config-check'])
def test_help_and_bad_usage(tool):
    assert run(tool, '--help').returncode == 0
    bad = run(tool, '--no-such-flag')
    assert bad.returncode == 2 and 'unrecognized arguments: --no-such-flag' in bad.stderr


def test_config_check_names_what_would_stop_leapp(tmp_path):
    conf_dir = tmp_path / 'actor_conf.d'
    conf_dir.mkdir()
    (conf_dir / 'tripleo_upgrade.yaml').write_text('tripleo_upgrade:\n  compression: off\n')
    (conf_dir / 'zz-example.yaml').write_text('# tripleo_upgrade:\n#   daemon_url: https://uc:8990\n')
    done = run('tripleo-upgrade-config-check', '--config-dir', str(conf_dir))
    assert done.returncode == 1
    assert '{} holds nothing'.format(conf_dir / 'zz-example.yaml') in done.stdout
    assert 'tripleo_upgrade.config.compression' in done.stdout and 'as a boolean' in done.stdout
    (conf_dir / 'zz-example.yaml').unlink()
    token = tmp_path / 'token'
    token.write_text('t' * 43)
    token.chmod(0o600)
    (conf_dir / 'tripleo_upgrade.yaml').write_text(
        'tripleo_upgrade:\n  daemon_url: https://uc:8990\n  token_file: {}\n  node_name: controller-0\n'.format(token))
    done = run('tripleo-upgrade-config-check', '--config-dir', str(conf_dir))
    assert done.returncode == 0, done.stdout
    assert 'usable (node controller-0, daemon https://uc:8990)' in done.stdout


OSD_UNITS = ['ceph-osd@1.service', 'ceph-osd@5.service']
OUR_FLAGS = ['noout', 'nobackfill', 'norebalance', 'norecover', 'nodeep-scrub']  # in `ceph osd dump` order


def test_an_osd_node_holds_the_osd_flags_while_down_and_complete_clears_them(node, systemd_bus, helper_daemon,
                                                                             ceph_cluster):
    systemd_bus.load([systemd_bus.unit(name) for name in UNITS + OSD_UNITS])
    ceph = ['--ceph-command', ' '.join(ceph_cluster.command)]
    prepared = run('tripleo-upgrade-prepare', '--config-dir', node['conf'], '--record', node['record'], *ceph,
                   env=node['env'])
    assert prepared.returncode == 0, prepared.stderr
    assert ceph_cluster.dump_flags()[:5] == OUR_FLAGS

    completed = run('tripleo-upgrade-complete', '--config-dir', node['conf'], *ceph, env=node['env'])
    assert completed.returncode == 0, completed.stderr
    assert 'compute-0 reported completed' in completed.stdout and 'its lease is released' in completed.stdout
    assert 'Ceph OSD flags unset: nobackfill, nodeep-scrub, noout, norebalance, norecover.' in completed.stdout
    assert ceph_cluster.dump_flags() == ['sortbitwise', 'recovery_deletes', 'purged_snapdirs', 'pglog_hardlimit']
    assert helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/compute-1/lease').status_code == 200


def test_complete_keeps_the_lease_while_the_flags_cannot_be_unset(node, systemd_bus, helper_daemon, ceph_cluster):
    systemd_bus.load([systemd_bus.unit(name) for name in UNITS + OSD_UNITS])
    ceph = ['--ceph-command', ' '.join(ceph_cluster.command)]
    assert run('tripleo-upgrade-prepare', '--config-dir', node['conf'], '--record', node['record'], *ceph,
               env=node['env']).returncode == 0
    ceph_cluster.update(down=True)
    completed = run('tripleo-upgrade-complete', '--config-dir', node['conf'], *ceph, env=node['env'])
    assert completed.returncode == 1
    assert completed.stderr.startswith('tripleo-upgrade-complete: error: compute-0 reported completed, but the '
                                       'helper daemon says compute-0 must clear the Ceph OSD flag(s) ')
    assert 'RADOS timed out' in completed.stderr and 'its lease is kept' in completed.stderr
    assert helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/compute-1/lease').status_code == 409

    ceph_cluster.update(down=False)
    again = run('tripleo-upgrade-complete', '--config-dir', node['conf'], *ceph, env=node['env'])
    assert again.returncode == 0, again.stderr
    assert ceph_cluster.dump_flags()[0] == 'sortbitwise'
    assert helper_daemon.admin().post(helper_daemon.url + '/v1/nodes/compute-1/lease').status_code == 200
