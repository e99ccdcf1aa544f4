import shutil

import pytest

from testing.trees import make_tree, snapshot
from tripleo_upgrade_libraries import tripleo_persist, tripleo_prepare_record, tripleo_restore
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient
from tripleo_upgrade_libraries.tripleo_restore import RestoreError
from tripleo_upgrade_libraries.tripleo_systemd import Systemd

NODE = 'compute-0'
DISABLED = ['tripleo_nova_compute.service', 'tripleo_nova_libvirt.service']


@pytest.fixture
def upgraded_node(tmp_path, systemd_bus, helper_daemon):
    """A node as it boots on the new OS: prepare's record, its data on the daemon, its units down and disabled."""
    systemd_bus.load([systemd_bus.unit(n, active_state='inactive', unit_file_state='disabled') for n in DISABLED] +
                     [systemd_bus.unit('tripleo_other.service', active_state='inactive', unit_file_state='disabled')])
    client = HelperClient(helper_daemon.url, helper_daemon.add_node(NODE, 'Compute'), retries=0)
    nova = make_tree(str(tmp_path / 'var' / 'lib' / 'nova'))
    kept = tmp_path / 'etc' / 'nova'
    kept.mkdir(parents=True)
    (kept / 'nova.conf').write_text('[DEFAULT]\n')
    records = tripleo_persist.persist(client, NODE, {'nova-state': [nova], 'nova-config': [str(kept)]})
    state_file = str(tmp_path / 'prepare-state.json')
    tripleo_prepare_record.save(state_file, {'node': NODE, 'phase': 'prepared', 'stopped_units': DISABLED,
                                          'disabled_units': DISABLED, 'pacemaker_stopped': False,
                                          'items': records})
    os_release = tmp_path / 'os-release'
    os_release.write_text('NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.2"\n')

    def restore(mode='missing-only'):
        return tripleo_restore.restore(client, Systemd(systemd_bus.address), NODE, mode, state_file=state_file,
                                       os_release_file=str(os_release), run_id='b3a1-run', work_dir=str(tmp_path))

    return {'restore': restore, 'nova': nova, 'kept': kept, 'bus': systemd_bus, 'daemon': helper_daemon,
            'state_file': state_file}


def _status(daemon):
    response = daemon.admin().get(daemon.url + '/v1/nodes/{}/status'.format(NODE))
    response.raise_for_status()
    return response.json()


def test_restore_puts_data_back_enables_without_starting_and_reports(upgraded_node):
    nova, bus = upgraded_node['nova'], upgraded_node['bus']
    before = snapshot(nova)
    shutil.rmtree(nova)
    (upgraded_node['kept'] / 'nova.conf').write_text('[DEFAULT]\n# written by the new OS\n')

    result = upgraded_node['restore']()

    assert sorted(result['restored']) == [('nova-config', str(upgraded_node['kept']), 'present'),
                                          ('nova-state', nova, 'restored')]
    assert snapshot(nova) == before
    assert (upgraded_node['kept'] / 'nova.conf').read_text() == '[DEFAULT]\n# written by the new OS\n'
    units = bus.units()
    assert [(units[n]['unit_file_state'], units[n]['active_state']) for n in DISABLED] == [('enabled', 'inactive')] * 2
    assert units['tripleo_other.service']['unit_file_state'] == 'disabled'
    assert bus.calls('StartUnit') == []
    status = _status(upgraded_node['daemon'])
    assert (status['phase'], status['os_release'], status['leapp_run_id']) == ('upgraded', '9.2', 'b3a1-run')
    assert tripleo_prepare_record.load(upgraded_node['state_file'])['phase'] == 'upgraded'

    again = upgraded_node['restore']()
    assert sorted(a for _, _, a in again['restored']) == ['present', 'present']
    assert snapshot(nova) == before


def test_a_corrupt_copy_restores_nothing_and_enables_nothing(upgraded_node):
    nova, daemon = upgraded_node['nova'], upgraded_node['daemon']
    shutil.rmtree(nova)
    HelperClient(daemon.url, daemon.tokens[NODE]).put_item(NODE, 'nova-state', [b'not the persisted archive'])
    with pytest.raises(RestoreError) as error:
        upgraded_node['restore']()
    assert str(error.value).startswith("restoring the data of compute-0 failed: item 'nova-state': the daemon "
                                       'holds a copy with sha256 ')
    assert 'Services stay disabled' in str(error.value)
    assert upgraded_node['bus'].calls('EnableUnitFiles') == []
    assert tripleo_prepare_record.load(upgraded_node['state_file'])['phase'] == 'prepared'


def test_without_a_record_of_prepare_nothing_is_done(upgraded_node, tmp_path):
    shutil.move(upgraded_node['state_file'], str(tmp_path / 'elsewhere.json'))
    with pytest.raises(RestoreError) as error:
        upgraded_node['restore']()
    assert 'no record of a completed TripleO upgrade preparation of compute-0 in {} (missing)'.format(
        upgraded_node['state_file']) in str(error.value)
    assert upgraded_node['bus'].calls('EnableUnitFiles') == []


def test_a_rerun_in_always_mode_never_replaces_data_again(upgraded_node):
    kept = upgraded_node['kept']
    first = upgraded_node['restore']('always')
    assert sorted(a for _, _, a in first['restored']) == ['replaced', 'replaced']
    # TripleO has started the services, which write to their data.
    (kept / 'nova.conf').write_text('[DEFAULT]\n# written by the running service\n')

    again = upgraded_node['restore']('always')

    assert sorted(a for _, _, a in again['restored']) == ['present', 'present']
    assert (kept / 'nova.conf').read_text() == '[DEFAULT]\n# written by the running service\n'
