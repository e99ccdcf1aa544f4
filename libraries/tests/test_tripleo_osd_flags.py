"""
The Ceph OSD flags around a node's downtime, against real components: the helper daemon as a process (it keeps
who holds which flag), a dbus-daemon with the systemd1 peer (the node's units, OSD units among them), and the
stand-in ceph CLI (testing/fake_ceph.py) whose ``ceph osd dump`` shows the flags an operator would see.
``pcs`` is a fake executable that stops pacemaker.service over the bus and, at that moment, copies what
``ceph osd dump`` shows, so a test sees which flags were set when the node started going down.
"""
import json
import os

import pytest

from testing.trees import make_tree
from tripleo_upgrade_libraries import tripleo_ceph, tripleo_osd_flags, tripleo_prepare
from tripleo_upgrade_libraries.tripleo_helper_client import HelperClient
from tripleo_upgrade_libraries.tripleo_prepare import PrepareError
from tripleo_upgrade_libraries.tripleo_systemd import Systemd

NODE = 'hci-0'
OSD_UNITS = ['ceph-osd@0.service', 'ceph-osd@4.service']
ALWAYS = ['sortbitwise', 'recovery_deletes', 'purged_snapdirs', 'pglog_hardlimit']
OURS = ['noout', 'nobackfill', 'norebalance', 'norecover', 'nodeep-scrub']  # in `ceph osd dump` order

FAKE_PCS = """#!/bin/sh
echo "$*" >> {log}
case "$1 $2" in
  "cluster stop") verb=StopUnit; {python} {ceph} osd dump --format json > {seen} ;;
  "cluster start") verb=StartUnit ;;
  *) echo "fake pcs: unexpected arguments: $*" >&2; exit 2 ;;
esac
dbus-send --bus={bus} --print-reply --dest=org.freedesktop.systemd1 /org/freedesktop/systemd1 \\
  org.freedesktop.systemd1.Manager.$verb string:pacemaker.service string:replace >/dev/null
"""


class OsdNode(object):
    def __init__(self, tmp_path, bus, daemon, cluster, name=NODE):
        self.name = name
        self.bus = bus
        self.daemon = daemon
        self.cluster = cluster
        self.client = HelperClient(daemon.url, daemon.tokens[name], retries=1, backoff=0.1)
        self.state_file = str(tmp_path / name / 'prepare-state.json')
        self.seen_at_stop = str(tmp_path / name / 'osd-dump-at-pcs-stop.json')
        self.pcs = str(tmp_path / name / 'pcs')
        os.makedirs(os.path.dirname(self.pcs))
        with open(self.pcs, 'w') as f:
            f.write(FAKE_PCS.format(log=str(tmp_path / name / 'pcs.log'), bus=bus.address, seen=self.seen_at_stop,
                                    python=cluster.command[0], ceph=' '.join(cluster.command[1:])))
        os.chmod(self.pcs, 0o755)
        self.items = {'nova-state': [make_tree(str(tmp_path / name / 'var' / 'lib' / 'nova'))]}
        self.os_release = tmp_path / name / 'os-release'
        self.os_release.write_text('NAME="Red Hat Enterprise Linux"\nVERSION_ID="8.4"\n')
        self.ceph_command = cluster.command

    def prepare(self):
        return tripleo_prepare.prepare(self.client, Systemd(self.bus.address), self.name, self.items,
                                       state_file=self.state_file, pcs_command=[self.pcs], pcs_timeout=30,
                                       os_release_file=str(self.os_release), ceph_command=self.ceph_command)

    def abort(self):
        return tripleo_prepare.abort(self.client, Systemd(self.bus.address), self.name, record_path=self.state_file,
                                     os_release_file=str(self.os_release), pcs_command=[self.pcs], pcs_timeout=30,
                                     ceph_command=self.ceph_command)

    def record(self):
        with open(self.state_file) as f:
            return json.load(f)

    def flags_when_pcs_stopped(self):
        with open(self.seen_at_stop) as f:
            return json.load(f)['flags'].split(',')

    def holds_lease(self):
        fleet = self.daemon.admin().get(self.daemon.url + '/v1/status').json()
        return self.name in [lease['node'] for lease in fleet['leases']]

    def may_take_lease(self, other):
        try:
            HelperClient(self.daemon.url, self.daemon.tokens[other], retries=0).acquire_lease(other, dry_run=True)
        except tripleo_prepare.LeaseRefused:
            return False
        return True


@pytest.fixture
def osd_node(tmp_path, systemd_bus, helper_daemon, ceph_cluster):
    systemd_bus.load([systemd_bus.unit('tripleo_nova_compute.service'), systemd_bus.unit('pacemaker.service')] +
                     [systemd_bus.unit(name) for name in OSD_UNITS])
    for name in ('hci-0', 'hci-1', 'hci-2'):
        helper_daemon.add_node(name, 'ComputeHCI', one_by_one=True)
    return OsdNode(tmp_path, systemd_bus, helper_daemon, ceph_cluster)


def test_prepare_sets_the_osd_flags_before_the_node_starts_going_down(osd_node):
    record = osd_node.prepare()

    calls = osd_node.cluster.calls()
    assert osd_node.flags_when_pcs_stopped() == OURS + ALWAYS
    assert osd_node.cluster.dump_flags() == OURS + ALWAYS
    # The quorum for the lease request, the five flags, then the dump the fake pcs made when the node went down.
    assert calls == ['quorum_status -f json'] + ['osd set ' + f for f in tripleo_ceph.OSD_FLAGS] + [
        'osd dump --format json']
    assert record['phase'] == 'prepared'
    assert record['ceph_osd_flags'] == {'osd_units': OSD_UNITS, 'flags': list(tripleo_ceph.OSD_FLAGS),
                                        'set': list(tripleo_ceph.OSD_FLAGS)}
    # The OSD units themselves are not prepare's to stop: the reboot takes them down, with the flags set.
    assert not any(name in OSD_UNITS for name, _ in osd_node.bus.calls('StopUnit'))

    # Back in service: the daemon says no other node holds them, so all five are unset and confirmed.
    unset, still_held = tripleo_osd_flags.release_and_unset(osd_node.client, NODE, osd_node.ceph_command)
    assert (unset, still_held) == (sorted(tripleo_ceph.OSD_FLAGS), {})
    assert osd_node.cluster.dump_flags() == ALWAYS
    # Released and confirmed: asking again clears nothing.
    assert tripleo_osd_flags.release_and_unset(osd_node.client, NODE, osd_node.ceph_command) == ([], {})


def test_an_osd_node_without_ceph_command_is_refused_before_anything_stops(osd_node):
    osd_node.ceph_command = []
    with pytest.raises(PrepareError) as error:
        osd_node.prepare()
    message = str(error.value)
    assert 'hosts Ceph OSDs (ceph-osd@0.service, ceph-osd@4.service) but tripleo_upgrade.ceph_command is not set' \
        in message
    assert 'The upgrade lease of hci-0 was released.' in message
    assert osd_node.bus.calls('StopUnit') == [] and osd_node.bus.calls('DisableUnitFiles') == []
    assert osd_node.cluster.dump_flags() == ALWAYS
    assert osd_node.may_take_lease('hci-1')
    assert not os.path.exists(osd_node.state_file)


def test_a_failure_after_the_flags_were_set_unsets_them_in_the_rollback(osd_node):
    osd_node.items = {'nova-state': None}  # persist fails (a bug), after the flags were set and services stopped
    with pytest.raises(PrepareError) as error:
        osd_node.prepare()
    message = str(error.value)
    assert 'failed while persisting node data' in message
    assert 'Ceph OSD flags unset: nobackfill, nodeep-scrub, noout, norebalance, norecover.' in message
    assert osd_node.flags_when_pcs_stopped() == OURS + ALWAYS
    assert osd_node.cluster.dump_flags() == ALWAYS
    assert osd_node.may_take_lease('hci-1')
    assert not os.path.exists(osd_node.state_file)


def test_a_cluster_that_does_not_answer_in_the_rollback_keeps_the_lease_until_abort_unsets_the_flags(osd_node):
    osd_node.prepare()
    osd_node.cluster.update(down=True)
    with pytest.raises(PrepareError) as error:
        osd_node.abort()
    message = str(error.value)
    assert 'NOT everything runs again' in message and 'RADOS timed out' in message
    assert 'the flags stay marked as being cleared by hci-0 at the daemon' in message
    assert osd_node.cluster.state()['flags'] == sorted(OURS + ALWAYS)
    assert osd_node.holds_lease()  # kept: no other node of its role goes down meanwhile
    assert osd_node.record()['ceph_osd_flags']['set'] == list(tripleo_ceph.OSD_FLAGS)

    osd_node.cluster.update(down=False)
    story = osd_node.abort()
    assert 'Ceph OSD flags unset: nobackfill, nodeep-scrub, noout, norebalance, norecover.' in story
    assert osd_node.cluster.dump_flags() == ALWAYS
    assert not osd_node.holds_lease()


def test_a_flag_another_node_still_holds_stays_set_until_it_is_back(tmp_path, systemd_bus, helper_daemon,
                                                                    ceph_cluster):
    systemd_bus.load([systemd_bus.unit(name) for name in OSD_UNITS])
    for role, names in (('ComputeHCI', ('hci-0', 'hci-1', 'hci-2')), ('CephStorage', ('ceph-0', 'ceph-1'))):
        for name in names:
            helper_daemon.add_node(name, role)
    first = OsdNode(tmp_path, systemd_bus, helper_daemon, ceph_cluster, 'hci-0')
    second = OsdNode(tmp_path, systemd_bus, helper_daemon, ceph_cluster, 'ceph-0')
    first.prepare()
    second.prepare()
    assert ceph_cluster.dump_flags() == OURS + ALWAYS

    unset, still_held = tripleo_osd_flags.release_and_unset(first.client, 'hci-0', first.ceph_command)
    assert unset == []
    assert still_held == dict((flag, ['ceph-0']) for flag in tripleo_ceph.OSD_FLAGS)
    assert ceph_cluster.dump_flags() == OURS + ALWAYS  # ceph-0 is still down: nothing may rebalance yet
    assert 'Still set for other nodes\' downtime: nobackfill (ceph-0);' in tripleo_osd_flags.describe_release(
        'hci-0', unset, still_held)

    unset, still_held = tripleo_osd_flags.release_and_unset(second.client, 'ceph-0', second.ceph_command)
    assert (unset, still_held) == (sorted(tripleo_ceph.OSD_FLAGS), {})
    assert ceph_cluster.dump_flags() == ALWAYS


def test_a_hold_waits_while_another_node_is_clearing_and_says_so_when_it_gives_up(helper_daemon):
    for name in ('hci-0', 'hci-1', 'hci-2'):
        helper_daemon.add_node(name, 'ComputeHCI')
    first = HelperClient(helper_daemon.url, helper_daemon.tokens['hci-0'], retries=0)
    second = HelperClient(helper_daemon.url, helper_daemon.tokens['hci-1'], retries=0, backoff=0.1)
    first.hold_ceph_osd_flags('hci-0', tripleo_ceph.OSD_FLAGS)
    assert first.release_ceph_osd_flags('hci-0')['clear'] == sorted(tripleo_ceph.OSD_FLAGS)  # hci-0 now clearing

    with pytest.raises(tripleo_osd_flags.DaemonError) as error:
        second.hold_ceph_osd_flags('hci-1', tripleo_ceph.OSD_FLAGS, patience=0.5)
    assert error.value.status == 409
    assert 'another node is clearing nobackfill (by hci-0 since ' in str(error.value)
    assert str(error.value).endswith('retry later (still refused after 0.5 s)')

    first.ceph_osd_flags_cleared('hci-0', sorted(tripleo_ceph.OSD_FLAGS))
    held = second.hold_ceph_osd_flags('hci-1', tripleo_ceph.OSD_FLAGS, patience=0.5)
    assert held['holders'] == dict((flag, ['hci-1']) for flag in tripleo_ceph.OSD_FLAGS)
