"""The restore actor against the real daemon process and a private system bus (DBUS_SYSTEM_BUS_ADDRESS)."""
import shutil

import pytest

from leapp.libraries.common import tripleo_helper_client, tripleo_node, tripleo_persist, tripleo_prepare_record
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
