"""
ceph-mon presence and quorum. Ceph cannot run here, so a fake ``podman`` on PATH answers
``container exists`` and prints ``ceph quorum_status -f json`` in the format the real tool prints.
"""
import json
import os
import stat

import pytest

from tripleo_upgrade_libraries import tripleo_ceph

DATA = os.path.join(os.path.dirname(__file__), 'data', 'ceph')

FAKE_PODMAN = """#!/bin/sh
# fake podman: `container exists NAME` and `exec NAME ceph --cluster ceph quorum_status -f json`
echo "$@" >> "{log}"
case "$1 $2" in
  "container exists") [ "$3" = "{container}" ] && exit 0 || exit 1 ;;
esac
if [ "$1" = exec ] && [ "$2" = "{container}" ] && [ "$3" = ceph ]; then
  cat "{output}"
  exit {exec_code}
fi
echo "Error: no container with name or ID $2 found" >&2
exit 125
"""


@pytest.fixture
def fake_podman(tmp_path, monkeypatch):
    """Install a fake podman on PATH hosting ``container``, printing ``output`` for quorum_status."""
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    monkeypatch.setenv('PATH', '{}:{}'.format(bindir, os.environ['PATH']))
    log = tmp_path / 'podman.log'

    def install(container, output, exec_code=0):
        output_file = tmp_path / 'quorum_status.out'
        output_file.write_text(output)
        script = bindir / 'podman'
        script.write_text(FAKE_PODMAN.format(log=log, container=container, output=output_file,
                                             exec_code=exec_code))
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return log
    return install


def read(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


def test_monitor_host_with_three_monitors_in_quorum(fake_podman):
    log = fake_podman('ceph-mon-controller-1', read('quorum_status-3mons.json'))
    result = tripleo_ceph.mon_status('controller-1')
    assert (result['hosts_mon'], result['container'], result['reason']) == (True, 'ceph-mon-controller-1', None)
    assert result['quorum'] == {'known': True, 'monitors': ['controller-0', 'controller-1', 'controller-2'],
                                'in_quorum': ['controller-0', 'controller-1', 'controller-2'],
                                'out_of_quorum': [], 'leader': 'controller-0', 'reason': None}
    assert 'exec ceph-mon-controller-1 ceph --cluster ceph quorum_status -f json' in log.read_text()


def test_two_monitor_monmap(fake_podman):
    fake_podman('ceph-mon-controller-0', read('quorum_status-2mons.json'))
    quorum = tripleo_ceph.mon_status('controller-0')['quorum']
    assert (quorum['monitors'], quorum['in_quorum']) == (['controller-0', 'controller-1'],
                                                         ['controller-0', 'controller-1'])


def test_monitor_out_of_quorum_is_named(fake_podman):
    data = json.loads(read('quorum_status-3mons.json'))
    data['quorum'], data['quorum_names'] = [0, 1], ['controller-0', 'controller-1']
    fake_podman('ceph-mon-controller-0', json.dumps(data))
    assert tripleo_ceph.mon_status('controller-0')['quorum']['out_of_quorum'] == ['controller-2']


def test_node_without_monitor_container(fake_podman):
    fake_podman('ceph-mon-controller-0', read('quorum_status-3mons.json'))
    assert tripleo_ceph.mon_status('compute-0') == {'hosts_mon': False, 'container': None, 'quorum': None,
                                                    'reason': None}


def test_output_that_is_not_json_is_unknown_quorum(fake_podman):
    fake_podman('ceph-mon-controller-0', 'Error initializing cluster client: ObjectNotFound\n')
    result = tripleo_ceph.mon_status('controller-0')
    assert result['hosts_mon'] is True
    assert result['quorum']['known'] is False
    assert 'not JSON' in result['quorum']['reason'] and 'ObjectNotFound' in result['quorum']['reason']


def test_failing_exec_is_unknown_quorum_with_the_error(fake_podman):
    fake_podman('ceph-mon-controller-0', 'Error: container is not running\n', exec_code=125)
    quorum = tripleo_ceph.mon_status('controller-0')['quorum']
    assert quorum['known'] is False
    assert 'exit code 125' in quorum['reason'] and 'container is not running' in quorum['reason']


def test_podman_absent_is_unknown_presence(tmp_path):
    result = tripleo_ceph.mon_status('controller-0', container_cli=str(tmp_path / 'podman'))
    assert result['hosts_mon'] is None
    assert result['reason'].startswith('cannot tell whether this node hosts a ceph-mon: cannot run')


# --- the OSD flags and the quorum through ceph_command (the stand-in ceph CLI of testing/fake_ceph.py) -------------

def test_set_and_unset_osd_flags_show_in_osd_dump_as_an_operator_sees_them(ceph_cluster):
    for flag in tripleo_ceph.OSD_FLAGS:
        tripleo_ceph.set_osd_flag(ceph_cluster.command, flag)
    tripleo_ceph.set_osd_flag(ceph_cluster.command, 'noout')  # already set: no change, no error
    # ceph's own order of the flags string, with the flags a Nautilus+ cluster always has.
    assert ceph_cluster.dump_flags() == ['noout', 'nobackfill', 'norebalance', 'norecover', 'nodeep-scrub',
                                         'sortbitwise', 'recovery_deletes', 'purged_snapdirs', 'pglog_hardlimit']
    assert tripleo_ceph.osd_flags(ceph_cluster.command) == sorted(
        list(tripleo_ceph.OSD_FLAGS) + ['pglog_hardlimit', 'purged_snapdirs', 'recovery_deletes', 'sortbitwise'])
    tripleo_ceph.unset_osd_flag(ceph_cluster.command, 'noout')
    assert 'noout' not in ceph_cluster.dump_flags() and 'norecover' in ceph_cluster.dump_flags()
    assert ceph_cluster.calls()[:2] == ['osd set noout', 'osd set norecover']


def test_ceph_refusing_a_flag_names_the_command_and_ceph_error(ceph_cluster):
    with pytest.raises(tripleo_ceph.CephError) as error:
        tripleo_ceph.set_osd_flag(ceph_cluster.command, 'nosuchflag')
    assert 'osd set nosuchflag` failed with exit code 22' in str(error.value)
    assert 'Invalid command: nosuchflag not in' in str(error.value)


def test_unreachable_cluster_is_one_clear_error(ceph_cluster):
    ceph_cluster.update(down=True)
    with pytest.raises(tripleo_ceph.CephError) as error:
        tripleo_ceph.osd_flags(ceph_cluster.command)
    assert 'osd dump --format json` failed with exit code 1' in str(error.value)
    assert 'RADOS timed out' in str(error.value)


def test_no_ceph_command_says_which_key_to_set():
    with pytest.raises(tripleo_ceph.CephError) as error:
        tripleo_ceph.set_osd_flag([], 'noout')
    assert 'tripleo_upgrade.ceph_command' in str(error.value) and 'osd set noout' in str(error.value)


def test_osd_units_of_ceph_ansible_and_cephadm_are_found(systemd_bus):
    from tripleo_upgrade_libraries.tripleo_systemd import Systemd
    systemd_bus.load([systemd_bus.unit('ceph-osd@0.service'), systemd_bus.unit('ceph-osd@3.service'),
                      systemd_bus.unit('ceph-4b5c8c0a-ff60-454b-a1b4-9747aa737d19@osd.7.service'),
                      systemd_bus.unit('ceph-4b5c8c0a-ff60-454b-a1b4-9747aa737d19@mon.controller-0.service'),
                      systemd_bus.unit('ceph-mon@controller-0.service'),
                      systemd_bus.unit('tripleo_nova_compute.service')])
    assert tripleo_ceph.osd_units(Systemd(systemd_bus.address)) == [
        'ceph-4b5c8c0a-ff60-454b-a1b4-9747aa737d19@osd.7.service', 'ceph-osd@0.service', 'ceph-osd@3.service']
    systemd_bus.load([systemd_bus.unit('ceph-mon@controller-0.service')])
    assert tripleo_ceph.osd_units(Systemd(systemd_bus.address)) == []


def test_quorum_through_ceph_command_on_a_node_without_monitor(ceph_cluster, tmp_path):
    import datetime
    ceph_cluster.set_quorum(['controller-0', 'controller-1'])
    seen = tripleo_ceph.observe_quorum('compute-0', ceph_cluster.command, container_cli=str(tmp_path / 'no-podman'),
                                       now=datetime.datetime(2026, 11, 26, 12, 0, 5, 123))
    assert seen == {'in': ['controller-0', 'controller-1'], 'out': ['controller-2'],
                    'observed_at': '2026-11-26T12:00:05Z', 'observed_by': 'compute-0'}
    ceph_cluster.update(down=True)
    assert tripleo_ceph.observe_quorum('compute-0', ceph_cluster.command,
                                       container_cli=str(tmp_path / 'no-podman')) is None
    assert tripleo_ceph.observe_quorum('compute-0', [], container_cli=str(tmp_path / 'no-podman')) is None


def test_quorum_of_a_monitor_host_comes_from_its_own_monitor(fake_podman):
    fake_podman('ceph-mon-controller-1', read('quorum_status-3mons.json'))
    seen = tripleo_ceph.observe_quorum('controller-1')
    assert (seen['in'], seen['out'], seen['observed_by']) == (
        ['controller-0', 'controller-1', 'controller-2'], [], 'controller-1')
    assert seen['observed_at'].endswith('Z')
