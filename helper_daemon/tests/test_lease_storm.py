"""A lease storm against the daemon as a real process: 200 threads asking and releasing leases over real HTTP at
once, with per-role budgets, a one-by-one role of ceph-mon hosts and the whole-role rule. Every lease the daemon
ever held is replayed from its audit trail (grants and releases in commit order): no moment broke a rule."""

import random
import sqlite3
import threading

from testing.daemon import DaemonProcess

FLEET = ([('ctl-{}'.format(i), 'Controller', True) for i in range(3)]
         + [('cmp-{}'.format(i), 'Compute', False) for i in range(20)]
         + [('net-{}'.format(i), 'Networker', False) for i in range(3)]
         + [('stor-{}'.format(i), 'ObjectStorage', False) for i in range(2)])
BUDGETS = {'Compute': '20%', 'ObjectStorage': 5}  # Compute: 4 of 20; ObjectStorage: all but one (whole role)
DEFAULT_BUDGET = 1  # Networker
THREADS = 200
ROUNDS = 3


def limits():
    by_role = {}
    for name, role, _ in FLEET:
        by_role.setdefault(role, []).append(name)
    return by_role, {'Controller': 1, 'Compute': 4, 'Networker': 1, 'ObjectStorage': 1}


def broken_rules(holders):
    by_role, limit = limits()
    broken = []
    for role, members in by_role.items():
        down = holders & set(members)
        if len(down) > limit[role]:
            broken.append('{}: {} down, budget {}'.format(role, sorted(down), limit[role]))
        if len(down) == len(members):
            broken.append('{}: the whole role down'.format(role))
    running_mons = [name for name, _, mon in FLEET if mon and name not in holders]
    if len(running_mons) < 2:
        broken.append('ceph-mon hosts running: {}'.format(running_mons))
    return broken


def test_200_threads_never_break_a_budget_or_the_one_by_one_rule(tmp_path):
    config = {'lease_budgets': BUDGETS, 'default_lease_budget': DEFAULT_BUDGET, 'min_ceph_mons': 2}
    with DaemonProcess(str(tmp_path / 'state'), config=config) as daemon:
        tokens = {name: daemon.add_node(name, role, ceph_mon=mon) for name, role, mon in FLEET}
        barrier = threading.Barrier(THREADS)
        outcomes, failures = [], []
        lock = threading.Lock()

        def storm(seed):
            rng = random.Random(seed)
            name = rng.choice(sorted(tokens))
            session = daemon.session(tokens[name])
            url = '{}/v1/nodes/{}/lease'.format(daemon.url, name)
            barrier.wait()
            try:
                for _ in range(ROUNDS):
                    answer = session.post(url, timeout=120)
                    with lock:
                        outcomes.append(answer.status_code)
                    if answer.status_code not in (200, 409):
                        raise AssertionError('{} {}: {}'.format(name, answer.status_code, answer.text))
                    if answer.status_code == 200 and rng.random() < 0.6:
                        assert session.delete(url, timeout=120).status_code == 204
            except Exception as exc:  # noqa: BLE001 - reported below, with the node
                with lock:
                    failures.append('{}: {!r}'.format(name, exc))

        threads = [threading.Thread(target=storm, args=(seed,)) for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures[:5]

        db = sqlite3.connect('{}/helper.sqlite3'.format(daemon.state_dir))
        try:
            trail = db.execute("SELECT action, node FROM audit WHERE action IN ('lease-grant', 'lease-release') "
                               "ORDER BY id").fetchall()
            final = {row[0] for row in db.execute('SELECT node FROM leases')}
        finally:
            db.close()
        holders, most = set(), 0
        for action, name in trail:
            if action == 'lease-grant':
                assert name not in holders, ('granted twice', name)
                holders.add(name)
            else:
                holders.discard(name)
            assert not broken_rules(holders), (action, name, broken_rules(holders))
            most = max(most, len(holders))
        assert holders == final
        # The storm exercised both sides: leases granted (several at once) and refused.
        assert outcomes.count(200) > 20 and outcomes.count(409) > 20 and most >= 4, (
            outcomes.count(200), outcomes.count(409), most)
