"""
Prepare against real components: the helper daemon as a process, a dbus-daemon with the systemd1
peer, GNU tar. ``pcs`` is a fake executable (no cluster runs here) that records its arguments and
does what the real one does to systemd: stops or starts pacemaker.service over the same bus.
"""
import json
import os
import threading

import pytest

from testing.processes import wait_for
from testing.trees import make_tree
from tripleo_upgrade_libraries import tripleo_prepare, tripleo_restore
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient
from tripleo_upgrade_libraries.tripleo_prepare import PrepareError
from tripleo_upgrade_libraries.tripleo_systemd import Systemd

NODE = 'controller-0'
OTHER = 'controller-1'
TRIPLEO_UNITS = ['tripleo_haproxy.service', 'tripleo_nova_api.service', 'tripleo_nova_api_healthcheck.timer']

FAKE_PCS = """#!/bin/sh
echo "$*" >> {log}
case "$1 $2" in
  "cluster stop") verb=StopUnit; {on_stop}
    case " $* " in
      *" --force "*) ;;
      *) if [ -e {quorum_lost} ]; then
           echo "Error: Stopping the node(s) will cause a loss of the quorum, use --force to override" >&2; exit 1
         fi ;;
    esac ;;
  "cluster start") verb=StartUnit ;;
  *) echo "fake pcs: unexpected arguments: $*" >&2; exit 2 ;;
esac
dbus-send --bus={bus} --print-reply --dest=org.freedesktop.systemd1 /org/freedesktop/systemd1 \\
  org.freedesktop.systemd1.Manager.$verb string:pacemaker.service string:replace >/dev/null
"""


@pytest.fixture
def node(tmp_path, systemd_bus, helper_daemon):
    systemd_bus.load([systemd_bus.unit(name) for name in TRIPLEO_UNITS] + [
        systemd_bus.unit('tripleo_logrotate_crond.service', active_state='inactive'),
        systemd_bus.unit('tripleo_ceph-mon.service'),
        systemd_bus.unit('ceph-mon@controller-0.service'),
        systemd_bus.unit('pacemaker.service'),
        systemd_bus.unit('corosync.service'),
    ])
    token = helper_daemon.add_node(NODE, 'Controller', one_by_one=True)
    helper_daemon.add_node(OTHER, 'Controller', one_by_one=True)
    return Node(tmp_path, systemd_bus, helper_daemon, token)


class Node(object):
    def __init__(self, tmp_path, bus, daemon, token):
        self.bus = bus
        self.daemon = daemon
        self.client = HelperClient(daemon.url, token, retries=1, backoff=0.1)
        self.state_file = str(tmp_path / 'state' / 'prepare-state.json')
        self.pcs_log = str(tmp_path / 'pcs.log')
        self.pcs = str(tmp_path / 'pcs')
        # While this file exists, the fake pcs refuses a stop without --force, as the real one does when the
        # node's departure would lose the cluster's quorum.
        self.quorum_lost = str(tmp_path / 'quorum-lost')
        self.fake_pcs()
        self.items = {'nova-state': [make_tree(str(tmp_path / 'var' / 'lib' / 'nova'))]}
        self.os_release = tmp_path / 'os-release'
        self.os_release.write_text('NAME="Red Hat Enterprise Linux"\nVERSION_ID="8.4"\n')

    def fake_pcs(self, on_stop=':'):
        with open(self.pcs, 'w') as f:
            f.write(FAKE_PCS.format(log=self.pcs_log, bus=self.bus.address, on_stop=on_stop,
                                    quorum_lost=self.quorum_lost))
        os.chmod(self.pcs, 0o755)

    def prepare(self):
        return tripleo_prepare.prepare(self.client, Systemd(self.bus.address), NODE, self.items,
                                       state_file=self.state_file, pcs_command=[self.pcs], pcs_timeout=30,
                                       os_release_file=str(self.os_release), run_id='run-1')

    def pcs_calls(self):
        if not os.path.exists(self.pcs_log):
            return []
        with open(self.pcs_log) as f:
            return f.read().splitlines()

    def other_may_take_the_lease(self):
        other = HelperClient(self.daemon.url, self.daemon.tokens[OTHER], retries=0)
        try:
            other.acquire_lease(OTHER, dry_run=True)
        except tripleo_prepare.LeaseRefused:
            return False
        return True

    def status(self):
        response = self.daemon.admin().get(self.daemon.url + '/v1/nodes/{}/status'.format(NODE))
        response.raise_for_status()
        return response.json()


def _running(units):
    return sorted(n for n, u in units.items() if u['active_state'] == 'active')


def test_prepare_stops_disables_persists_and_reports(node):
    state = node.prepare()

    expected = sorted(TRIPLEO_UNITS)
    assert node.pcs_calls() == ['cluster stop --force --request-timeout=30']
    assert node.bus.calls('StopUnit') == [['pacemaker.service', 'replace']] + [[n, 'replace'] for n in expected]
    disabled = sorted(expected + ['tripleo_logrotate_crond.service', 'pacemaker.service', 'corosync.service'])
    assert node.bus.calls('DisableUnitFiles') == [[disabled, False]]
    units = node.bus.units()
    # corosync is stopped by the real `pcs cluster stop`, not by this fake one.
    assert _running(units) == ['ceph-mon@controller-0.service', 'corosync.service', 'tripleo_ceph-mon.service']
    assert units['tripleo_ceph-mon.service']['unit_file_state'] == 'enabled'
    assert units['pacemaker.service']['unit_file_state'] == 'disabled'
    assert units['corosync.service']['unit_file_state'] == 'disabled'

    with open(node.state_file) as f:
        assert json.load(f) == state
    assert state['phase'] == 'prepared'
    assert state['stopped_units'] == expected
    assert state['disabled_units'] == disabled
    assert state['pacemaker_stopped'] is True
    [item] = node.client.list_items(NODE)
    assert (item['item'], item['sha256']) == ('nova-state', state['items'][0]['sha256'])
    assert node.status()['phase'] == 'prepared'
    assert not node.other_may_take_the_lease()


def test_a_refused_lease_touches_nothing(node):
    HelperClient(node.daemon.url, node.daemon.tokens[OTHER]).acquire_lease(OTHER)
    with pytest.raises(PrepareError) as error:
        node.prepare()
    assert str(error.value).startswith('the helper daemon refused the upgrade lease for controller-0, '
                                       'nothing was stopped: ')
    assert OTHER in str(error.value)
    assert [m for m, _ in node.bus.calls()] == []
    assert node.pcs_calls() == []
    assert not os.path.exists(node.state_file)


def test_daemon_killed_before_persist_restarts_everything_and_releases_the_lease(node):
    # The daemon dies while the node is being stopped; it comes back while the rollback runs.
    node.fake_pcs(on_stop='kill -9 {}'.format(node.daemon.pid))

    prepare_ended = threading.Event()

    def restart_daemon_during_rollback():
        while not node.bus.calls('StartUnit') and not prepare_ended.wait(0.05):
            pass
        if node.daemon.process.poll() is not None:
            node.daemon.start()

    restarter = threading.Thread(target=restart_daemon_during_rollback)
    restarter.start()
    try:
        with pytest.raises(PrepareError) as error:
            node.prepare()
    finally:
        prepare_ended.set()
        restarter.join()

    message = str(error.value)
    assert message.startswith('TripleO upgrade preparation of controller-0 failed while persisting node data to '
                              "the helper daemon: item 'nova-state'")
    assert 'Running again: {}.'.format(', '.join(sorted(TRIPLEO_UNITS))) in message
    assert 'The Pacemaker cluster runs again on this node.' in message
    assert 'The upgrade lease of controller-0 was released.' in message
    units = node.bus.units()
    assert _running(units) == sorted(TRIPLEO_UNITS + ['ceph-mon@controller-0.service', 'corosync.service',
                                                      'pacemaker.service', 'tripleo_ceph-mon.service'])
    assert all(u['unit_file_state'] == 'enabled' for u in units.values())
    assert node.pcs_calls() == ['cluster stop --force --request-timeout=30', 'cluster start --request-timeout=30']
    assert node.other_may_take_the_lease()
    assert not os.path.exists(node.state_file)

    # A re-run starts cleanly and records exactly what it stopped.
    node.fake_pcs()
    state = node.prepare()
    assert state['stopped_units'] == sorted(TRIPLEO_UNITS)
    assert state['phase'] == 'prepared'


def test_a_rerun_after_success_keeps_the_record_and_stops_nothing_more(node):
    first = node.prepare()
    calls = len(node.bus.calls())
    second = node.prepare()
    assert second['stopped_units'] == first['stopped_units']
    assert second['disabled_units'] == first['disabled_units']
    assert second['pacemaker_stopped'] is True
    assert [m for m, _ in node.bus.calls()[calls:] if m in ('StopUnit', 'StartUnit')] == []
    assert node.pcs_calls() == ['cluster stop --force --request-timeout=30']


def test_after_the_reboot_restore_enables_the_cluster_services_without_starting_them(node):
    state = node.prepare()
    # The reboot into the new OS: nothing of this node runs; what prepare disabled stays disabled.
    node.bus.load([dict(u, active_state='inactive', sub_state='dead') for u in node.bus.units().values()])

    result = tripleo_restore.restore(node.client, Systemd(node.bus.address), NODE, state_file=node.state_file,
                                     os_release_file=str(node.os_release), run_id='run-2')

    assert result['enabled_units'] == state['disabled_units']
    units = node.bus.units()
    for name in ['pacemaker.service', 'corosync.service'] + TRIPLEO_UNITS:
        assert (name, units[name]['unit_file_state'], units[name]['active_state']) == (name, 'enabled', 'inactive')
    assert node.bus.calls('StartUnit') == []


def test_an_unreadable_record_stops_nothing_and_keeps_no_lease(node):
    os.makedirs(os.path.dirname(node.state_file))
    with open(node.state_file, 'w') as f:
        f.write('{"node": "controller-0", "stopped_units": [')
    with pytest.raises(PrepareError) as error:
        node.prepare()
    assert 'is not valid JSON' in str(error.value)
    assert [m for m, _ in node.bus.calls()] == []
    assert node.other_may_take_the_lease()


def test_an_unexpected_error_while_persisting_still_restarts_everything(node):
    node.items = {'nova-state': None}  # a persist set of the wrong shape: a bug, not an operational failure

    with pytest.raises(PrepareError) as error:
        node.prepare()

    message = str(error.value)
    assert message.startswith('TripleO upgrade preparation of controller-0 failed while persisting node data to '
                              'the helper daemon: TypeError: ')
    assert 'The upgrade lease of controller-0 was released.' in message
    assert node.pcs_calls() == ['cluster stop --force --request-timeout=30', 'cluster start --request-timeout=30']
    units = node.bus.units()
    assert set(TRIPLEO_UNITS) <= set(_running(units))
    assert all(u['unit_file_state'] == 'enabled' for u in units.values())
    assert node.other_may_take_the_lease()


def test_the_controller_whose_departure_loses_quorum_is_still_stopped(node):
    # Non-rolling procedure: the first controller has left the old cluster; this one leaving loses its quorum.
    open(node.quorum_lost, 'w').close()
    state = node.prepare()
    assert state['phase'] == 'prepared'
    assert state['pacemaker_stopped'] is True
    assert node.pcs_calls() == ['cluster stop --force --request-timeout=30']


def _abort(node):
    return tripleo_prepare.abort(node.client, Systemd(node.bus.address), NODE, record_path=node.state_file,
                                 os_release_file=str(node.os_release), pcs_command=[node.pcs], pcs_timeout=30)


def test_leapp_is_told_to_keep_every_disabled_service_disabled_but_not_timers(node):
    record = node.prepare()
    assert tripleo_prepare.services_kept_disabled(record) == [
        'corosync.service', 'pacemaker.service', 'tripleo_haproxy.service', 'tripleo_logrotate_crond.service',
        'tripleo_nova_api.service']
    assert 'tripleo_nova_api_healthcheck.timer' in record['disabled_units']


def test_abort_after_prepare_brings_the_node_back_and_frees_its_lease(node):
    running_before = _running(node.bus.units())
    node.prepare()
    assert not node.other_may_take_the_lease()

    story = _abort(node)
    # `pcs cluster start` returns before Pacemaker has started, as the real one does without --wait.
    wait_for(lambda: node.bus.units()['pacemaker.service']['active_state'] == 'active', 'pacemaker to start',
             timeout=10)
    units = node.bus.units()
    assert _running(units) == running_before
    assert all(units[n]['unit_file_state'] == 'enabled' for n in TRIPLEO_UNITS + ['pacemaker.service'])
    assert node.pcs_calls()[-1].startswith('cluster start')
    assert not os.path.exists(node.state_file)
    status = node.status()
    assert status['phase'] == 'failed' and 'aborted after its preparation' in status['error']
    # Its lease is released; the failed report paused the fleet (rule node-failed) until an admin resumes it.
    fleet = node.daemon.admin().get(node.daemon.url + '/v1/status').json()
    assert fleet['leases'] == [] and fleet['paused']['rule'] == 'node-failed'
    assert not node.other_may_take_the_lease()
    node.daemon.admin().post(node.daemon.url + '/v1/fleet/resume', json={'reason': 'abort checked'}).raise_for_status()
    assert node.other_may_take_the_lease()
    assert 'lease of controller-0 was released' in story

    again = _abort(node)
    assert 'has no prepare record' in again and 'lease is released' in again


def test_abort_refuses_on_a_node_that_booted_the_new_os(node):
    node.prepare()
    node.os_release.write_text('NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.2"\n')
    with pytest.raises(PrepareError) as error:
        _abort(node)
    assert 'was prepared on OS 8.4 and now runs OS 9.2' in str(error.value)
    assert not node.other_may_take_the_lease()
    assert os.path.exists(node.state_file)


def test_the_lease_request_carries_the_quorum_this_node_sees(tmp_path, systemd_bus, helper_daemon, ceph_cluster):
    # Three ceph-mon controllers; the registry alone would let one go (2 left), but this node sees controller-2's
    # monitor out of quorum, so only controller-1's would be left: the daemon refuses on the live facts.
    systemd_bus.load([systemd_bus.unit('tripleo_haproxy.service')])
    for name in ('controller-0', 'controller-1', 'controller-2'):
        helper_daemon.add_node(name, 'Controller', ceph_mon=True, one_by_one=True)
    client = HelperClient(helper_daemon.url, helper_daemon.tokens[NODE], retries=0)
    ceph_cluster.set_quorum(['controller-0', 'controller-1'])

    def prepare():
        return tripleo_prepare.prepare(client, Systemd(systemd_bus.address), NODE, {},
                                       state_file=str(tmp_path / 'prepare-state.json'), pcs_command=['false'],
                                       ceph_command=ceph_cluster.command)

    with pytest.raises(PrepareError) as error:
        prepare()
    message = str(error.value)
    assert message.startswith('the helper daemon refused the upgrade lease for controller-0, nothing was stopped: ')
    assert 'not counted: controller-2: out of quorum per controller-0 at ' in message
    assert systemd_bus.calls('StopUnit') == []

    ceph_cluster.set_quorum(['controller-0', 'controller-1', 'controller-2'])  # the monitor is back
    assert prepare()['phase'] == 'prepared'
    assert ceph_cluster.calls().count('quorum_status -f json') == 2
