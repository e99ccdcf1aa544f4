"""Upgrade leases over real HTTP: grant, refuse with reasons, dry run, release, and many nodes asking at once."""

import random
import subprocess
import threading

import pytest

from testing.daemon import DaemonProcess


def lease_url(daemon, node, dry_run=False):
    return '{}/v1/nodes/{}/lease{}'.format(daemon.url, node, '?dry_run=true' if dry_run else '')


def held_leases(daemon):
    return {lease['node'] for lease in daemon.admin().get(daemon.url + '/v1/status').json()['leases']}


@pytest.fixture
def controllers(helper_daemon):
    tokens = {name: helper_daemon.add_node(name, 'Controller', ceph_mon=True)
              for name in ('controller-0', 'controller-1', 'controller-2')}
    return helper_daemon, tokens


def test_node_gets_its_lease_once_and_again_idempotently(controllers):
    daemon, tokens = controllers
    node = daemon.session(tokens['controller-1'])
    first = node.post(lease_url(daemon, 'controller-1'))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body['node'] == 'controller-1' and body['granted'] is True and body['dry_run'] is False and body['since']
    again = node.post(lease_url(daemon, 'controller-1'))
    assert again.status_code == 200 and again.json()['since'] == body['since']
    assert held_leases(daemon) == {'controller-1'}


def test_refusal_is_409_with_every_reason(controllers):
    daemon, tokens = controllers
    since = daemon.session(tokens['controller-0']).post(lease_url(daemon, 'controller-0')).json()['since']
    refused = daemon.session(tokens['controller-1']).post(lease_url(daemon, 'controller-1'))
    assert refused.status_code == 409
    body = refused.json()
    assert body['error'] == 'lease refused'
    assert body['reasons'] == [
        'controller-0 of one-by-one role Controller already holds a lease since {}; it ends when '
        'tripleo-upgrade-complete runs on controller-0 (back in service), or with `tripleo-upgrade-helper lease '
        'release controller-0 --reason TEXT` if controller-0 died holding it'.format(since),
        'ceph-mon hosts without a lease would drop to 1, below min_ceph_mons=2 (running: controller-1, controller-2; '
        'leased: controller-0); wait until a leased ceph-mon host is back in service and releases its lease',
    ]
    assert body['detail'].startswith('controller-1 may not be taken down now: controller-0 of one-by-one role')
    assert body['blockers'] == [{'rule': 'one-by-one', 'holders': ['controller-0'], 'must_release': 1, 'nodes': []},
                                {'rule': 'min-ceph-mons', 'holders': ['controller-0'], 'must_release': 1,
                                 'nodes': []}]
    assert held_leases(daemon) == {'controller-0'}


def test_dry_run_answers_without_taking_the_lease(controllers):
    daemon, tokens = controllers
    node = daemon.session(tokens['controller-2'])
    dry = node.post(lease_url(daemon, 'controller-2', dry_run=True))
    assert dry.status_code == 200 and dry.json()['dry_run'] is True and dry.json()['since'] is None
    assert held_leases(daemon) == set()
    daemon.admin().post(lease_url(daemon, 'controller-0'))
    dry_refused = node.post(lease_url(daemon, 'controller-2', dry_run=True))
    assert dry_refused.status_code == 409 and len(dry_refused.json()['reasons']) == 2
    assert held_leases(daemon) == {'controller-0'}


def test_release_is_idempotent_and_frees_the_role(controllers):
    daemon, tokens = controllers
    node0 = daemon.session(tokens['controller-0'])
    assert node0.post(lease_url(daemon, 'controller-0')).status_code == 200
    for _ in range(2):
        assert node0.delete(lease_url(daemon, 'controller-0')).status_code == 204
    assert held_leases(daemon) == set()
    assert daemon.session(tokens['controller-1']).post(lease_url(daemon, 'controller-1')).status_code == 200


def test_admin_may_release_a_node_lease_another_node_may_not(controllers):
    daemon, tokens = controllers
    daemon.session(tokens['controller-0']).post(lease_url(daemon, 'controller-0'))
    other = daemon.session(tokens['controller-1'])
    assert other.delete(lease_url(daemon, 'controller-0')).status_code == 403
    assert other.post(lease_url(daemon, 'controller-0')).status_code == 403
    assert held_leases(daemon) == {'controller-0'}
    assert daemon.admin().delete(lease_url(daemon, 'controller-0')).status_code == 204
    assert held_leases(daemon) == set()


def test_unknown_node_is_404_and_bad_name_400(controllers):
    daemon, _ = controllers
    assert daemon.admin().post(lease_url(daemon, 'controller-9')).status_code == 404
    assert daemon.admin().post(daemon.url + '/v1/nodes/-bad/lease').status_code == 400


def test_lease_survives_a_daemon_kill(controllers):
    daemon, tokens = controllers
    since = daemon.session(tokens['controller-2']).post(lease_url(daemon, 'controller-2')).json()['since']
    daemon.kill()
    daemon.start()
    status = daemon.admin().get(daemon.url + '/v1/status').json()
    assert status['leases'] == [{'node': 'controller-2', 'since': since, 'granted_by': 'node:controller-2'}]
    assert daemon.session(tokens['controller-0']).post(lease_url(daemon, 'controller-0')).status_code == 409


# --- many nodes asking at once, repeated: the invariants hold after every round ------------------------------------

FLEET = (
    [('controller-{}'.format(i), 'Controller', True) for i in range(3)]
    + [('cephmon-{}'.format(i), 'CephMon', True) for i in range(3)]
    + [('compute-{}'.format(i), 'Compute', False) for i in range(4)]
    + [('networker-{}'.format(i), 'Networker', False) for i in range(2)]
)
MIN_CEPH_MONS = 5
BATCH_SIZE = 2


def assert_invariants(holders):
    by_role = {}
    for name, role, _ in FLEET:
        by_role.setdefault(role, []).append(name)
    for role in ('Controller', 'CephMon'):
        assert len(holders & set(by_role[role])) <= 1, ('one-by-one role', role, holders)
    assert len(holders & set(by_role['Compute'])) <= BATCH_SIZE, holders
    for role, members in by_role.items():
        assert not set(members) <= holders, ('whole role down', role, holders)
    running_mons = [name for name, _, mon in FLEET if mon and name not in holders]
    assert len(running_mons) >= MIN_CEPH_MONS, holders


def ask_at_once(daemon, sessions, askers):
    """Every asker requests its lease in its own thread, all released at the same moment; name -> response."""
    barrier = threading.Barrier(len(askers))
    answers = {}

    def ask(name):
        barrier.wait()
        answers[name] = sessions[name].post(lease_url(daemon, name))

    threads = [threading.Thread(target=ask, args=(name,)) for name in askers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_requests_never_break_an_invariant(tmp_path):
    rounds = 20
    rng = random.Random(20261124)
    with DaemonProcess(str(tmp_path / 'state'), config={'min_ceph_mons': MIN_CEPH_MONS,
                                                         'default_lease_budget': BATCH_SIZE}) as daemon:
        sessions = {name: daemon.session(daemon.add_node(name, role, ceph_mon=mon)) for name, role, mon in FLEET}
        held = set()
        granted_total = refused_total = 0
        for _ in range(rounds):
            askers = sorted(sessions)
            rng.shuffle(askers)
            answers = ask_at_once(daemon, sessions, askers)
            granted = {name for name, answer in answers.items() if answer.status_code == 200}
            for name, answer in answers.items():
                assert answer.status_code in (200, 409), (name, answer.status_code, answer.text)
                if answer.status_code == 409:
                    assert answer.json()['error'] == 'lease refused' and answer.json()['reasons']
            assert held <= granted, 'a holder asking again must get its lease again'
            held = held_leases(daemon)
            assert held == granted, 'every 200 is a lease held, every lease held answered 200'
            assert_invariants(held)
            granted_total += len(granted)
            refused_total += len(answers) - len(granted)

            for name in sorted(held):
                if rng.random() < 0.5:
                    assert sessions[name].delete(lease_url(daemon, name)).status_code == 204
            held = held_leases(daemon)
        # The rules bound, and leases were granted: the test exercised both sides.
        assert granted_total > rounds and refused_total > rounds


def test_one_by_one_roles_setting_replaces_the_registry_default(tmp_path):
    with DaemonProcess(str(tmp_path / 'state'), config={'one_by_one_roles': ['Compute']}) as daemon:
        sessions = {name: daemon.session(daemon.add_node(name, role, ceph_mon=mon)) for name, role, mon in (
            ('controller-0', 'Controller', True), ('controller-1', 'Controller', True),
            ('controller-2', 'Controller', True), ('controller-3', 'Controller', True),
            ('compute-0', 'Compute', False), ('compute-1', 'Compute', False), ('compute-2', 'Compute', False))}
        for name in ('controller-0', 'controller-1', 'compute-0'):
            assert sessions[name].post(lease_url(daemon, name)).status_code == 200, name
        refused = sessions['compute-1'].post(lease_url(daemon, 'compute-1'))
        assert refused.status_code == 409 and 'one-by-one role Compute' in refused.json()['reasons'][0]
        roles = {r['role']: r['one_by_one'] for r in daemon.admin().get(daemon.url + '/v1/status').json()['roles']}
        assert roles == {'Controller': False, 'Compute': True}


def test_decisions_see_nodes_registered_meanwhile_by_the_cli(helper_daemon):
    """Lease decisions reuse a role's rows while nothing changed; a node the CLI (another process) registers or
    moves, or a new status, must count at once."""
    daemon = helper_daemon
    tokens = {name: daemon.add_node(name, 'Compute') for name in ('compute-0', 'compute-1')}
    assert daemon.session(tokens['compute-0']).post(lease_url(daemon, 'compute-0')).status_code == 200
    # Both nodes of the role down at once: refused.
    assert daemon.session(tokens['compute-1']).post(lease_url(daemon, 'compute-1')).status_code == 409
    added = subprocess.run(daemon.command('nodes', 'add', 'compute-2', '--role', 'Compute', '--no-one-by-one'),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert added.returncode == 0, added.stderr
    # With a third node the role stays up.
    assert daemon.session(tokens['compute-1']).post(lease_url(daemon, 'compute-1'), params={
        'dry_run': 'true'}).status_code == 200
    moved = subprocess.run(daemon.command('nodes', 'add', 'compute-2', '--role', 'Networker', '--no-one-by-one'),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert moved.returncode == 0, moved.stderr
    assert daemon.session(tokens['compute-1']).post(lease_url(daemon, 'compute-1')).status_code == 409
