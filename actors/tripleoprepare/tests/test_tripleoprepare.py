"""The prepare actor against the real daemon process and a private system bus (DBUS_SYSTEM_BUS_ADDRESS)."""
import json
import os

import pytest

from leapp.libraries.common import tripleo_node, tripleo_prepare_record
from leapp.models import SystemdServicesTasks
from testing.node_config import upgrade_config
from testing.processes import free_port

NODE = 'compute-0'
UNITS = ['tripleo_nova_compute.service', 'tripleo_nova_compute_healthcheck.timer', 'tripleo_nova_libvirt.service']


@pytest.fixture
def node(tmp_path, monkeypatch, systemd_bus, helper_daemon):
    systemd_bus.load([systemd_bus.unit(name) for name in UNITS])
    monkeypatch.setenv('DBUS_SYSTEM_BUS_ADDRESS', systemd_bus.address)
    monkeypatch.setattr(tripleo_prepare_record, 'PATH', str(tmp_path / 'node-state' / 'prepare-state.json'))
    os_release = tmp_path / 'os-release'
    os_release.write_text('ID="rhel"\nVERSION_ID="8.4"\n')
    monkeypatch.setattr(tripleo_node, 'OS_RELEASE', str(os_release))
    monkeypatch.setenv('LEAPP_EXECUTION_ID', 'run-42')
    helper_daemon.add_node(NODE, 'Compute')
    data = tmp_path / 'var' / 'lib' / 'nova'
    data.mkdir(parents=True)
    (data / 'instance.xml').write_text('<domain/>')
    return dict(daemon_url=helper_daemon.url, token_file=helper_daemon.token_file(NODE), node_name=NODE,
                persist_items={'nova-state': [str(data)]}, persist_dropin_dir=str(tmp_path / 'persist.d'))


def _errors(context):
    """The errors the actor reported (StopActorExecutionError), as {message, details}."""
    return [json.loads(e['message']['data']) for e in context._messaging.errors()]


def test_prepare_stops_disables_persists_and_tells_leapp_to_keep_the_services_disabled(
        current_actor_context, node, systemd_bus, helper_daemon):
    current_actor_context.feed(upgrade_config(**node))
    current_actor_context.run()
    assert _errors(current_actor_context) == []
    units = systemd_bus.units()
    assert [(u['active_state'], u['unit_file_state']) for u in units.values()] == [('inactive', 'disabled')] * 3
    with open(tripleo_prepare_record.PATH) as f:
        assert json.load(f)['phase'] == 'prepared'
    response = helper_daemon.admin().get(helper_daemon.url + '/v1/nodes/{}/status'.format(NODE))
    assert (response.json()['phase'], response.json()['leapp_run_id']) == ('prepared', 'run-42')
    [tasks] = current_actor_context.consume(SystemdServicesTasks)
    assert tasks.to_disable == ['tripleo_nova_compute.service', 'tripleo_nova_libvirt.service']
    assert tasks.to_enable == []


def test_unreachable_daemon_stops_the_upgrade_before_anything_is_touched(current_actor_context, node, systemd_bus):
    current_actor_context.feed(upgrade_config(**dict(node, daemon_url='http://127.0.0.1:{}'.format(free_port()))))
    current_actor_context.run()
    [error] = _errors(current_actor_context)
    assert error['message'] == 'TripleO upgrade preparation of compute-0 failed'
    details = json.loads(error['details'])['details']
    assert details.startswith('could not get the upgrade lease for compute-0, nothing was stopped: ')
    assert 'the daemon is unreachable' in details
    assert systemd_bus.calls('StopUnit', 'DisableUnitFiles') == []
    assert not os.path.exists(tripleo_prepare_record.PATH)
    assert current_actor_context.consume(SystemdServicesTasks) == ()
