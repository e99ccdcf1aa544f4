"""
The first boot reads leapp's own result record (/etc/migration-results) before it restores anything.

The samples in data/migration-results/ were written by leapp-repository's own code (commands/upgrade/breadcrumbs.py,
``produces_breadcrumbs`` as ``leapp preupgrade`` and ``leapp upgrade`` run it, through testing/leapp_breadcrumbs.py
with leapp 0.21.0 and leapp-repository 0.25), then given a RHEL 8.10 to 9.6 node's OS names, times, environment and
leapp packages: a preupgrade, then the upgrade's three leapp processes (old OS, the initramfs before and after the RPM
transaction). In ``failed.json`` the last one, the RPM transaction's, ended failed. The restore runs against the
daemon as a process and the units on a private bus, as in test_tripleo_restore.py.
"""
import os
import shutil

import pytest

from testing.trees import make_tree
from tripleo_upgrade_libraries import tripleo_config, tripleo_leapp_result, tripleo_persist, tripleo_prepare_record
from tripleo_upgrade_libraries import tripleo_restore
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'migration-results')
NODE = 'compute-0'
DISABLED = ['tripleo_nova_compute.service']
RUN = '7c2e9b1a-3f0d-4e8b-a5d6-2b9f4c8e1d07'


def sample(name):
    return os.path.join(DATA, name + '.json')


def test_the_newest_upgrade_activity_is_the_result():
    result, problem = tripleo_leapp_result.result(sample('upgraded'), run_id=RUN)
    assert problem is None
    assert result == {'success': True, 'activity': 'upgrade', 'executed': '2026-11-24T11:01:09.228450Z',
                      'source': sample('upgraded'), 'command': '/usr/bin/leapp upgrade --resume', 'run_id': RUN,
                      'started': '2026-11-24T10:58:30.774112Z', 'source_os': 'Red Hat Enterprise Linux 8.10',
                      'target_os': 'Red Hat Enterprise Linux 9.6', 'leapp_version': '0.21.0'}
    failed, _ = tripleo_leapp_result.result(sample('failed'))
    assert failed['success'] is False and failed['executed'] == '2026-11-24T11:01:09.228450Z'


def test_no_usable_record_says_why(tmp_path):
    assert tripleo_leapp_result.result(str(tmp_path / 'absent')) == (
        None, 'leapp\'s result record {} cannot be read: No such file or directory'.format(tmp_path / 'absent'))
    (tmp_path / 'empty').write_text('')
    assert 'is not JSON' in tripleo_leapp_result.result(str(tmp_path / 'empty'))[1]
    (tmp_path / 'pre').write_text('{"activities": [{"activity": "preupgrade", "success": true}]}')
    assert tripleo_leapp_result.result(str(tmp_path / 'pre'))[1].endswith('holds no "upgrade" activity')


@pytest.fixture
def first_boot(tmp_path, systemd_bus, helper_daemon):
    """A node on its first boot of the new OS: prepare's record, its data at the daemon, units disabled."""
    systemd_bus.load([systemd_bus.unit(n, active_state='inactive', unit_file_state='disabled') for n in DISABLED])
    helper_daemon.add_node(NODE, 'Compute')
    client = HelperClient(helper_daemon.url, helper_daemon.tokens[NODE], retries=0)
    nova = make_tree(str(tmp_path / 'var' / 'lib' / 'nova'))
    items = tripleo_persist.persist(client, NODE, {'nova-state': [nova]})
    shutil.rmtree(nova)  # what the restore puts back
    record = str(tmp_path / 'state' / 'prepare-state.json')
    tripleo_prepare_record.save(record, {'node': NODE, 'phase': 'prepared', 'stopped_units': DISABLED,
                                         'disabled_units': DISABLED, 'pacemaker_stopped': False, 'items': items})
    os_release = tmp_path / 'os-release'
    os_release.write_text('NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.6"\n')
    values = dict(tripleo_config.DEFAULTS, daemon_url=helper_daemon.url, token_file=helper_daemon.token_file(NODE),
                  node_name=NODE, request_timeout=10.0)

    def restore(migration_results):
        return tripleo_restore.restore_node(values, run_id=RUN, record_path=record, bus_address=systemd_bus.address,
                                            os_release_file=str(os_release), migration_results=migration_results)

    def status():
        response = helper_daemon.admin().get(helper_daemon.url + '/v1/nodes/{}/status'.format(NODE))
        response.raise_for_status()
        return response.json()

    def fleet():
        return helper_daemon.admin().get(helper_daemon.url + '/v1/status').json()

    def fleet_node():
        return next(n for n in fleet()['nodes'] if n['name'] == NODE)

    return {'restore': restore, 'status': status, 'fleet_node': fleet_node, 'fleet': fleet, 'nova': nova,
            'bus': systemd_bus, 'record': record}


def test_an_upgrade_leapp_marks_failed_is_reported_failed_and_nothing_is_restored(first_boot):
    with pytest.raises(tripleo_restore.RestoreError) as error:
        first_boot['restore'](sample('failed'))
    message = str(error.value)
    assert message.startswith('restoring compute-0 did not start: leapp marks its newest upgrade activity failed in '
                              '{}: `/usr/bin/leapp upgrade --resume` (run {}), ended '
                              '2026-11-24T11:01:09.228450Z (Red Hat Enterprise Linux 8.10 to Red Hat Enterprise '
                              'Linux 9.6)'.format(sample('failed'), RUN))
    status = first_boot['status']()
    assert status['phase'] == 'failed' and 'leapp marks its newest upgrade activity failed' in status['error']
    assert not os.path.exists(first_boot['nova'])
    assert first_boot['bus'].units()[DISABLED[0]]['unit_file_state'] == 'disabled'
    assert tripleo_prepare_record.load(first_boot['record'])['phase'] == 'prepared'
    node = first_boot['fleet_node']()
    assert node['leapp_result']['success'] is False
    assert first_boot['fleet']()['paused']['rule'] == 'node-failed'  # the daemon stops further leases


def test_an_upgrade_leapp_marks_successful_is_restored_and_reported_upgraded(first_boot):
    result = first_boot['restore'](sample('upgraded'))
    assert [(item, action) for item, _, action in result['restored']] == [('nova-state', 'restored')]
    assert os.path.isdir(first_boot['nova'])
    status = first_boot['status']()
    assert (status['phase'], status['os_release']) == ('upgraded', '9.6')
    assert first_boot['bus'].units()[DISABLED[0]]['unit_file_state'] == 'enabled'
    reported = first_boot['fleet_node']()['leapp_result']
    assert dict((k, reported[k]) for k in ('success', 'activity', 'executed', 'source')) == {
        'success': True, 'activity': 'upgrade', 'executed': '2026-11-24T11:01:09.228450Z',
        'source': sample('upgraded')}


def test_without_leapp_record_the_restore_runs_as_before(first_boot, tmp_path):
    first_boot['restore'](str(tmp_path / 'no-migration-results'))
    assert first_boot['status']()['phase'] == 'upgraded'
    assert os.path.isdir(first_boot['nova'])
