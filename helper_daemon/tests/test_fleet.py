"""The fleet status (GET /v1/status) and the `tripleo-upgrade-helper status` table, against a real daemon."""

import json
import subprocess

import pytest

from testing.daemon import REPO_ROOT

INHIBITOR = {'key': 'tripleo_ceph_quorum', 'title': 'ceph-mon quorum would be lost', 'summary': '2 of 3 up',
             'severity': 'high', 'inhibitor': True, 'remediation': 'start ceph-mon on controller-2'}
FAILURE = 'leapp upgrade failed: see /var/log/leapp\nTraceback (most recent call last):\n  File "x"'
ADVICE = {'key': 'tripleo_corosync_major', 'title': 'corosync changes major version', 'severity': 'info',
          'inhibitor': False}


@pytest.fixture
def fleet(helper_daemon):
    """Three controllers with ceph-mon and two computes in different states of their upgrade."""
    daemon = helper_daemon
    sessions = {name: daemon.session(daemon.add_node(name, role, ceph_mon=mon)) for name, role, mon in (
        ('controller-0', 'Controller', True), ('controller-1', 'Controller', True),
        ('controller-2', 'Controller', True), ('compute-1', 'Compute', False), ('compute-0', 'Compute', False))}

    def report(node, **body):
        answer = sessions[node].put(daemon.url + '/v1/nodes/{}/status'.format(node), json=body)
        assert answer.status_code == 200, answer.text

    report('controller-0', phase='preupgrade', os_release='8.4', reports=[ADVICE])
    # The lease before the inhibitor and the failure: either one now refuses new leases.
    assert sessions['controller-0'].post(daemon.url + '/v1/nodes/controller-0/lease').status_code == 200
    report('controller-0', phase='prepared', os_release='8.4', reports=[INHIBITOR, ADVICE])
    report('controller-1', phase='upgraded', os_release='9.2')
    report('compute-0', phase='failed', os_release='8.4', error=FAILURE)
    for item, size in (('etc', 3000), ('mysql', 5 * 1024 * 1024)):
        stored = sessions['controller-0'].put(daemon.url + '/v1/nodes/controller-0/data/' + item, data=b'x' * size)
        assert stored.status_code == 201, stored.text
    return daemon


def test_status_shows_every_node_role_lease_and_ceph_mon(fleet):
    status = fleet.admin().get(fleet.url + '/v1/status').json()
    nodes = {n['name']: n for n in status['nodes']}
    assert [n['name'] for n in status['nodes']] == ['compute-0', 'compute-1', 'controller-0', 'controller-1',
                                                    'controller-2']
    c0 = nodes['controller-0']
    assert (c0['role'], c0['phase'], c0['os_release'], c0['os']) == ('Controller', 'prepared', '8.4', 'old')
    assert c0['inhibitors'] == [{'key': 'tripleo_ceph_quorum', 'title': 'ceph-mon quorum would be lost',
                                 'remediation': 'start ceph-mon on controller-2', 'accepted': False,
                                 'accepted_by': None}]
    assert [(i['item'], i['size']) for i in c0['items']] == [('etc', 3000), ('mysql', 5 * 1024 * 1024)]
    assert c0['stored_bytes'] == 3000 + 5 * 1024 * 1024
    assert c0['lease']['since'] and c0['lease']['granted_by'] == 'node:controller-0'
    assert c0['last_report_at'].endswith('Z')
    assert nodes['controller-1']['os'] == 'new' and nodes['controller-1']['lease'] is None
    assert nodes['controller-2']['os'] == 'unknown' and nodes['controller-2']['last_report_at'] is None
    assert nodes['compute-0']['error'].startswith('leapp upgrade failed: see /var/log/leapp\nTraceback')
    assert {r['role']: (r['nodes'], r['old_os'], r['new_os'], r['unknown_os'], r['leased'], r['one_by_one'])
            for r in status['roles']} == {'Controller': (3, 1, 1, 1, 1, True), 'Compute': (2, 1, 0, 1, 0, False)}
    assert status['ceph_mon'] == {'running': ['controller-1', 'controller-2'], 'leased': ['controller-0'],
                                  'min': 2, 'ok': True, 'live': ['controller-1', 'controller-2'], 'not_live': {},
                                  'live_ok': True}
    assert [lease['node'] for lease in status['leases']] == ['controller-0']
    assert status['transfers'] == []


def test_status_is_admin_only(fleet):
    token = fleet.add_node('compute-9', 'Compute')
    assert fleet.session(token).get(fleet.url + '/v1/status').status_code == 403
    assert fleet.session('not-a-token').get(fleet.url + '/v1/status').status_code == 401


def cli_status(daemon, *args):
    return subprocess.run(daemon.command('status', *args), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


def test_status_command_prints_a_table(fleet):
    done = cli_status(fleet)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # compute-0's failure paused the fleet: said first.
    assert lines[0].startswith('PAUSED since ') and lines[0].endswith(
        'by node:compute-0 (rule node-failed, node compute-0): compute-0 reported phase failed: leapp upgrade '
        'failed: see /var/log/leapp')
    lines = lines[3:]
    assert lines[0].split() == ['NODE', 'ROLE', 'PHASE', 'OS', 'LEASE', 'INHIBITORS', 'DATA']
    rows = [line.split() for line in lines[1:6]]
    assert [row[0] for row in rows] == ['compute-0', 'compute-1', 'controller-0', 'controller-1', 'controller-2']
    assert rows[0] == ['compute-0', 'Compute', 'failed', '8.4', '(old)', '-', '-', '-']
    assert rows[1] == ['compute-1', 'Compute', '-', 'unknown', '-', '-', '-']
    assert rows[2][:7] == ['controller-0', 'Controller', '(mon)', 'prepared', '8.4', '(old)', 'since']
    assert rows[2][-5:] == ['1', '2', 'items,', '5.0', 'MiB']
    assert lines[3].index('since') == lines[0].index('LEASE'), 'fixed-width columns'
    assert lines[3].index('2 items') == lines[0].index('DATA'), 'fixed-width columns'
    assert rows[3][:6] == ['controller-1', 'Controller', '(mon)', 'upgraded', '9.2', '(new)']
    text = done.stdout
    assert '  controller-0: inhibitor ceph-mon quorum would be lost [tripleo_ceph_quorum]' in text
    assert '  compute-0: error leapp upgrade failed: see /var/log/leapp (+2 more lines)' in text
    assert 'Traceback' not in text, 'a multi-line error shows its first line only; the rest is in --json'
    assert 'Controller  3 nodes  old OS 1  new OS 1  unknown OS 1  leased 1  one-by-one' in text
    assert 'Compute     2 nodes  old OS 1  new OS 0  unknown OS 1  leased 0' in text
    assert 'ceph-mon hosts running: 2 (min 2, OK): controller-1, controller-2; leased: controller-0' in text


def test_status_command_json(fleet):
    done = cli_status(fleet, '--json')
    assert done.returncode == 0, done.stderr
    assert [n['name'] for n in json.loads(done.stdout)['nodes']][2] == 'controller-0'


def test_status_command_says_when_the_daemon_is_down(fleet):
    fleet.stop()
    done = cli_status(fleet)
    assert done.returncode == 1 and 'cannot reach the daemon' in done.stderr and not done.stdout


def test_status_table_says_when_no_ceph_mon_host_is_registered():
    from helper_daemon.fleet_table import render

    node = {'name': 'compute-0', 'role': 'Compute', 'ceph_mon': False, 'phase': None, 'os_release': None,
            'os': 'unknown', 'lease': None, 'inhibitors': [], 'items': [], 'stored_bytes': 0, 'error': None}
    text = render({'nodes': [node], 'target_os_major': 9, 'transfers': [],
                   'roles': [{'role': 'Compute', 'nodes': 1, 'old_os': 0, 'new_os': 0, 'unknown_os': 1, 'leased': 0,
                              'one_by_one': False}],
                   'ceph_mon': {'running': [], 'leased': [], 'min': 2, 'ok': True}})
    assert 'ceph-mon hosts: none registered' in text and 'ceph-mon hosts running' not in text
