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
