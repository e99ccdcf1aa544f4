"""Database transfers over real HTTP: plan, open, read grant, seal, one-shot, force, never onto a live database."""

import os
import sqlite3
import subprocess

import pytest

from helper_daemon.tests.helpers import sha256
from testing.daemon import REPO_ROOT

DUMP = b'pretend this is a tar of /var/lib/mysql\n' * 1000


class Fleet(object):
    """Three controllers and a compute, each with its own token session."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.admin = daemon.admin()
        self.nodes = {}
        for name, role, mon in (('controller-0', 'Controller', True), ('controller-1', 'Controller', True),
                                ('controller-2', 'Controller', True), ('compute-0', 'Compute', False)):
            self.nodes[name] = daemon.session(daemon.add_node(name, role, ceph_mon=mon))

    def url(self, path):
        return self.daemon.url + path

    def report(self, node, phase, os_release):
        answer = self.nodes[node].put(self.url('/v1/nodes/{}/status'.format(node)),
                                      json={'phase': phase, 'os_release': os_release})
        assert answer.status_code == 200, answer.text

    def plans(self, *roles):
        answer = self.admin.get(self.url('/v1/transfer/plan'), params=[('role', r) for r in roles])
        assert answer.status_code == 200, answer.text
        return {plan['role']: plan for plan in answer.json()['plans']}

    def open(self, **body):
        return self.admin.post(self.url('/v1/transfers'), json=dict({'role': 'Controller', 'items': ['mysql']}, **body))

    def complete(self, transfer_id, node=None):
        session = self.nodes[node] if node else self.admin
        return session.post(self.url('/v1/transfers/{}/complete'.format(transfer_id)))

    def read(self, reader, owner, item='mysql', method='GET'):
        return self.nodes[reader].request(method, self.url('/v1/nodes/{}/data/{}'.format(owner, item)))

    def audit(self, action):
        db = sqlite3.connect(os.path.join(self.daemon.state_dir, 'helper.sqlite3'))
        try:
            query = 'SELECT actor, node, detail FROM audit WHERE action = ? ORDER BY id'
            return db.execute(query, (action,)).fetchall()
        finally:
            db.close()


@pytest.fixture
def fleet(helper_daemon):
    return Fleet(helper_daemon)


@pytest.fixture
def upgraded_one(fleet):
    """controller-1 runs the new OS, the others the old one; controller-0 pushed its database."""
    fleet.report('controller-0', 'prepared', '8.4')
    fleet.report('controller-1', 'upgraded', '9.2')
    fleet.report('controller-2', 'preupgrade', '8.4')
    fleet.report('compute-0', 'preupgrade', '8.4')
    stored = fleet.nodes['controller-0'].put(fleet.url('/v1/nodes/controller-0/data/mysql'), data=DUMP)
    assert stored.status_code == 201, stored.text
    fleet.nodes['controller-0'].put(fleet.url('/v1/nodes/controller-0/data/etc'), data=b'secrets')
    return fleet


def test_plan_before_any_report_names_the_unknown_nodes(fleet):
    plan = fleet.plans('Controller')['Controller']
    assert plan['valid'] is False and plan['unknown_os'] == ['controller-0', 'controller-1', 'controller-2']
    assert plan['reasons'] == [
        'controller-0, controller-1, controller-2 of role Controller never reported an OS release, so they may '
        'already run the new OS; run `leapp preupgrade` there (it reports to the daemon) or remove the node from '
        'the registry']
    refused = fleet.open()
    assert refused.status_code == 409 and refused.json()['reasons'] == plan['reasons']


def test_plan_for_several_roles_at_once(upgraded_one):
    plans = upgraded_one.plans('Controller', 'Compute')
    assert plans['Controller']['valid'] is True
    assert (plans['Controller']['source'], plans['Controller']['target']) == ('controller-0', 'controller-1')
    assert plans['Controller']['old_os'] == ['controller-0', 'controller-2']
    assert plans['Compute']['valid'] is False
    assert plans['Compute']['reasons'] == [
        'no node of role Compute runs the new OS yet (old OS: compute-0); upgrade one node of Compute to OS major 9 '
        'first']
    assert set(upgraded_one.plans()) == {'Controller', 'Compute'}, 'no role given: every role'


def test_two_new_nodes_refuse_the_plan(upgraded_one):
    upgraded_one.report('controller-2', 'upgraded', '9.2')
    plan = upgraded_one.plans('Controller')['Controller']
    assert plan['valid'] is False and plan['new_os'] == ['controller-1', 'controller-2']
    assert upgraded_one.open().status_code == 409


def test_transfer_lifecycle(upgraded_one):
    fleet = upgraded_one
    opened = fleet.open()
    assert opened.status_code == 201, opened.text
    transfer = opened.json()
    assert {k: transfer[k] for k in ('role', 'source', 'target', 'items', 'state')} == {
        'role': 'Controller', 'source': 'controller-0', 'target': 'controller-1', 'items': ['mysql'],
        'state': 'open'}
    tid = transfer['id']

    # While open: the target reads the listed item of the source, nothing else; nobody else does.
    got = fleet.read('controller-1', 'controller-0')
    assert got.status_code == 200 and got.content == DUMP
    assert fleet.read('controller-1', 'controller-0', method='HEAD').status_code == 200
    assert fleet.read('controller-1', 'controller-0', item='etc').status_code == 403
    assert fleet.read('controller-2', 'controller-0').status_code == 403
    assert fleet.read('compute-0', 'controller-0').status_code == 403
    assert fleet.audit('get')[-1] == ('node:controller-1', 'controller-0',
                                      'read granted by open transfer {}'.format(tid))

    # Only one open transfer per role.
    second = fleet.open(force=True, reason='retry')
    assert second.status_code == 409
    assert 'transfer {} of role Controller (controller-0 -> controller-1) is still open'.format(tid) \
        in second.json()['reasons'][0]

    # The nodes see their transfers; a node sees only its own list.
    for node in ('controller-0', 'controller-1'):
        listed = fleet.nodes[node].get(fleet.url('/v1/nodes/{}/transfers'.format(node)))
        assert [t['id'] for t in listed.json()['transfers']] == [tid]
    assert fleet.nodes['controller-2'].get(fleet.url('/v1/nodes/controller-2/transfers')).json() == {'transfers': []}
    assert fleet.nodes['controller-2'].get(fleet.url('/v1/nodes/controller-1/transfers')).status_code == 403

    # Only the target (or admin) seals it; sealing twice is harmless.
    assert fleet.complete(tid, node='controller-0').status_code == 403
    outsider = fleet.complete(tid, node='controller-2')
    assert (outsider.status_code, outsider.json()['error']) == (404, 'unknown transfer'), 'no hint that it exists'
    sealed = fleet.complete(tid, node='controller-1')
    assert sealed.status_code == 200 and sealed.json()['state'] == 'sealed' and sealed.json()['sealed_at']
    assert fleet.complete(tid).json() == sealed.json()
    assert fleet.read('controller-1', 'controller-0').status_code == 403, 'the grant ends with the seal'

    # One-shot: a second transfer is refused; forcing needs a written reason, and is audited.
    refused = fleet.open()
    assert refused.status_code == 409 and refused.json()['error'] == 'transfer refused'
    assert 'already had its one-shot transfer {}'.format(tid) in refused.json()['reasons'][0]
    no_reason = fleet.open(force=True, reason=' ')
    assert no_reason.status_code == 409 and 'needs a written reason' in no_reason.json()['reasons'][0]
    forced = fleet.open(force=True, reason='restore on controller-1 ran out of disk')
    assert forced.status_code == 201, forced.text
    assert forced.json()['forced_reason'] == 'restore on controller-1 ran out of disk'
    [(actor, node, detail)] = fleet.audit('transfer-open-forced')
    assert actor == 'admin' and node == 'controller-1'
    assert 'FORCED past the seal of transfer(s) {}: restore on controller-1 ran out of disk'.format(tid) in detail
    assert fleet.complete(forced.json()['id'], node='controller-1').status_code == 200

    # Once the target started its services on the new OS, never again, even forced.
    fleet.report('controller-1', 'completed', '9.2')
    live = fleet.open(force=True, reason='I am sure')
    assert live.status_code == 409
    assert live.json()['reasons'] == [
        'controller-1 of role Controller has reported phase completed (its services run on the new OS): a transfer '
        'now would overwrite its live database; refused even when forced']
    # ... even if the node later reports another phase: the timeline remembers.
    fleet.report('controller-1', 'failed', '9.2')
    assert fleet.open(force=True, reason='I am sure').status_code == 409

    status = fleet.admin.get(fleet.url('/v1/status')).json()
    assert [(t['id'], t['state'], t['forced_reason']) for t in status['transfers']] == [
        (tid, 'sealed', None), (forced.json()['id'], 'sealed', 'restore on controller-1 ran out of disk')]
    table = subprocess.run(fleet.daemon.command('status'), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                           universal_newlines=True, timeout=60).stdout
    transfer_lines = table.split('Transfers:\n')[1].splitlines()
    assert [line.split()[:6] for line in transfer_lines] == [
        ['#' + tid, 'Controller', 'controller-0', '->', 'controller-1', 'mysql'],
        ['#' + forced.json()['id'], 'Controller', 'controller-0', '->', 'controller-1', 'mysql']]
    assert transfer_lines[1].endswith('forced: restore on controller-1 ran out of disk')


def test_source_override_and_its_check(upgraded_one):
    wrong = upgraded_one.open(source='compute-0')
    assert wrong.status_code == 409
    assert wrong.json()['reasons'] == [
        'source compute-0 is not an old-OS node of role Controller (old-OS nodes: controller-0, controller-2)']
    wrong_target = upgraded_one.open(target='controller-2')
    assert wrong_target.status_code == 409
    opened = upgraded_one.open(source='controller-2', target='controller-1', items=['mysql', 'mysql', 'galera'])
    assert opened.status_code == 201, opened.text
    assert (opened.json()['source'], opened.json()['items']) == ('controller-2', ['mysql', 'galera'])


@pytest.mark.parametrize('body, status', [
    ({'role': 'Controller', 'items': ['../etc']}, 400),
    ({'role': 'Controller', 'items': []}, 400),
    ({'role': 'Controller'}, 400),
])
def test_bad_requests(upgraded_one, body, status):
    answer = upgraded_one.admin.post(upgraded_one.url('/v1/transfers'), json=body)
    assert answer.status_code == status and answer.json()['detail']


def test_only_admin_plans_and_opens(upgraded_one):
    node = upgraded_one.nodes['controller-1']
    assert node.get(upgraded_one.url('/v1/transfer/plan?role=Controller')).status_code == 403
    assert node.post(upgraded_one.url('/v1/transfers'), json={'role': 'Controller', 'items': ['mysql']}) \
        .status_code == 403
    assert upgraded_one.complete('99').status_code == 404


def test_transfer_state_survives_a_daemon_kill(upgraded_one):
    tid = upgraded_one.open().json()['id']
    upgraded_one.daemon.kill()
    upgraded_one.daemon.start()
    assert sha256(upgraded_one.read('controller-1', 'controller-0').content) == sha256(DUMP)
    assert upgraded_one.complete(tid, node='controller-1').status_code == 200
    assert upgraded_one.open().status_code == 409
