"""
Fixture ``ceph_cluster``: the Ceph cluster as the node's ``ceph_command`` reaches it, through the stand-in
``ceph`` command line (testing/fake_ceph.py) that keeps the OSD map flags and the monitor quorum in a state file.

    def test_x(ceph_cluster):
        tripleo_ceph.set_osd_flag(ceph_cluster.command, 'noout')
        assert 'noout' in ceph_cluster.dump_flags()        # what `ceph osd dump` shows an operator
"""
import json
import os
import subprocess
import sys

import pytest

FAKE_CEPH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fake_ceph.py')
QUORUM_STATUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'libraries', 'tests',
                             'data', 'ceph', 'quorum_status-3mons.json')


class CephCluster(object):
    def __init__(self, state_file):
        self.state_file = state_file
        self.command = [sys.executable, FAKE_CEPH, '--state', state_file]

    def state(self):
        with open(self.state_file) as stream:
            return json.load(stream)

    def update(self, **values):
        state = self.state()
        state.update(values)
        with open(self.state_file, 'w') as stream:
            json.dump(state, stream)

    def ceph(self, *args):
        """Run the stand-in as an operator would run ceph; returns its stdout."""
        return subprocess.run(self.command + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=True).stdout

    def dump_flags(self):
        """The ``flags`` string of ``ceph osd dump --format json``, as a list."""
        return json.loads(self.ceph('osd', 'dump', '--format', 'json'))['flags'].split(',')

    def calls(self):
        return self.state()['calls']

    def set_quorum(self, in_quorum):
        """quorum_status: the three-monitor monmap of the sample, with only ``in_quorum`` in quorum."""
        with open(QUORUM_STATUS) as stream:
            status = json.load(stream)
        ranks = dict((m['name'], m['rank']) for m in status['monmap']['mons'])
        status['quorum_names'] = list(in_quorum)
        status['quorum'] = [ranks[n] for n in in_quorum]
        self.update(quorum_status=status)


@pytest.fixture
def ceph_cluster(tmp_path):
    cluster = CephCluster(str(tmp_path / 'ceph-cluster.json'))
    cluster.ceph('osd', 'dump', '--format', 'json')  # creates the state: a healthy cluster, no flag of ours
    cluster.update(calls=[])
    return cluster
