"""The restore actor against the real daemon process and a private system bus (DBUS_SYSTEM_BUS_ADDRESS)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from leapp.libraries.common import tripleo_helper_client, tripleo_leapp_result, tripleo_node, tripleo_persist
from leapp.libraries.common import tripleo_prepare_record
from testing.node_config import upgrade_config

NODE = 'compute-0'
UNITS = ['tripleo_nova_compute.service', 'tripleo_nova_libvirt.service']


@pytest.fixture
def node(tmp_path, monkeypatch, systemd_bus, helper_daemon):
    systemd_bus.load([systemd_bus.unit(n, active_state='inactive', unit_file_state='disabled') for n in UNITS])
    monkeypatch.setenv('DBUS_SYSTEM_BUS_ADDRESS', systemd_bus.address)
    monkeypatch.setattr(tripleo_prepare_record, 'PATH', str(tmp_path / 'node-state' / 'prepare-state.json'))
    os_release = tmp_path / 'os-release'
    os_release.write_text('ID="rhel"\nVERSION_ID="9.2"\n')
    monkeypatch.setattr(tripleo_node, 'OS_RELEASE', str(os_release))
    monkeypatch.setenv('LEAPP_EXECUTION_ID', 'run-43')
    token = helper_daemon.add_node(NODE, 'Compute')
    data = tmp_path / 'var' / 'lib' / 'nova'
    data.mkdir(parents=True)
    (data / 'instance.xml').write_text('<domain/>')
    client = tripleo_helper_client.HelperClient(helper_daemon.url, token)
    records = tripleo_persist.persist(client, NODE, {'nova-state': [str(data)]})
    tripleo_prepare_record.save(tripleo_prepare_record.PATH, {
        'node': NODE, 'phase': 'prepared', 'stopped_units': UNITS, 'disabled_units': UNITS,
        'pacemaker_stopped': False, 'items': records})
    shutil.rmtree(str(data))
    config = upgrade_config(daemon_url=helper_daemon.url, token_file=helper_daemon.token_file(NODE),
                            node_name=NODE, persist_dropin_dir=str(tmp_path / 'persist.d'))
    return config, data


def test_restore_brings_data_back_and_enables_without_starting(current_actor_context, node, systemd_bus,
                                                              helper_daemon):
    config, data = node
    current_actor_context.feed(config)
    current_actor_context.run()
    assert [e['message']['data'] for e in current_actor_context._messaging.errors()] == []
    assert (data / 'instance.xml').read_text() == '<domain/>'
    units = systemd_bus.units()
    assert [(units[n]['active_state'], units[n]['unit_file_state']) for n in UNITS] == [('inactive', 'enabled')] * 2
    status = helper_daemon.admin().get(helper_daemon.url + '/v1/nodes/{}/status'.format(NODE)).json()
    assert (status['phase'], status['os_release'], status['leapp_run_id']) == ('upgraded', '9.2', 'run-43')


def _leapp_writes_its_result(record, run_id, outcome):
    """leapp-repository's own breadcrumbs code appends an upgrade activity to ``record`` (testing/leapp_breadcrumbs)."""
    repos = os.environ['LEAPP_REPOSITORY_REPOS']
    commands = os.path.join(os.path.dirname(os.path.abspath(repos)), 'commands')
    if not os.path.isfile(os.path.join(commands, 'upgrade', 'breadcrumbs.py')):
        pytest.skip('leapp-repository\'s commands/upgrade/breadcrumbs.py is not next to {}'.format(repos))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    conf = record + '.leapp.conf'
    with open(conf, 'w') as f:
        f.write('[database]\npath={}.leapp.db\n'.format(record))
    subprocess.run([sys.executable, os.path.join(root, 'testing', 'leapp_breadcrumbs.py'), commands, record, 'upgrade',
                    outcome, run_id, '/usr/bin/leapp', 'upgrade', '--resume'], check=True,
                   env=dict(os.environ, LEAPP_CONFIG=conf), cwd=os.path.dirname(record))


def test_an_upgrade_leapp_recorded_as_failed_restores_nothing_and_reports_failed(current_actor_context, node,
                                                                                  systemd_bus, helper_daemon,
                                                                                  tmp_path, monkeypatch):
    config, data = node
    record = str(tmp_path / 'migration-results')
    _leapp_writes_its_result(record, 'run-43', 'succeeded')  # leapp upgrade on the old OS
    _leapp_writes_its_result(record, 'run-43', 'failed')     # the initramfs stage
    monkeypatch.setattr(tripleo_leapp_result, 'PATH', record)
    current_actor_context.feed(config)
    current_actor_context.run()
    [error] = [json.loads(e['message']['data']) for e in current_actor_context._messaging.errors()]
    assert error['message'] == 'TripleO restore of compute-0 after the upgrade failed'
    assert 'leapp marks its newest upgrade activity failed in {}'.format(record) in json.loads(error['details'])[
        'details']
    assert not data.exists()
    units = systemd_bus.units()
    assert [units[n]['unit_file_state'] for n in UNITS] == ['disabled'] * 2
    status = helper_daemon.admin().get(helper_daemon.url + '/v1/nodes/{}/status'.format(NODE)).json()
    assert status['phase'] == 'failed' and '`/usr/bin/leapp upgrade --resume` (run run-43)' in status['error']


def test_an_upgrade_leapp_recorded_as_successful_is_restored(current_actor_context, node, helper_daemon, tmp_path,
                                                            monkeypatch):
    config, data = node
    record = str(tmp_path / 'migration-results')
    _leapp_writes_its_result(record, 'run-43', 'succeeded')
    monkeypatch.setattr(tripleo_leapp_result, 'PATH', record)
    current_actor_context.feed(config)
    current_actor_context.run()
    assert [e['message']['data'] for e in current_actor_context._messaging.errors()] == []
    assert (data / 'instance.xml').read_text() == '<domain/>'
    status = helper_daemon.admin().get(helper_daemon.url + '/v1/nodes/{}/status'.format(NODE)).json()
    assert status['phase'] == 'upgraded'
