"""Upgrade lease decisions: every rule, the facts an operator acts on (who holds the leases in the way, how many
must end, what to release), and an exhaustive check over small fleets."""

import itertools

import pytest

from helper_daemon.policy import LeaseRules, Node, decide_lease

SINCE = "2026-11-24T10:00:00Z"


def fleet(*nodes):
    return {n.name: n for n in nodes}


def controllers(count=3):
    return [Node(f"controller-{i}", "Controller", ceph_mon=True, one_by_one=True) for i in range(count)]


def computes(count=4):
    return [Node(f"compute-{i}", "Compute") for i in range(count)]


def leased(*names):
    return {name: SINCE for name in names}


def blockers(decision):
    """(rule, leases in the way, how many of them must end) of each refusal."""
    return [(b.rule, b.holders, b.must_release) for b in decision.blockers]


def test_first_controller_is_granted():
    decision = decide_lease("controller-0", fleet(*controllers(), *computes()), {}, LeaseRules())
    assert decision.granted and not decision.reasons and not decision.already_held


def test_second_controller_of_one_by_one_role_is_refused_naming_the_holder_and_the_way_out():
    nodes = fleet(*controllers(4))  # 4 ceph-mon hosts: the ceph-mon rule alone would allow a second one
    decision = decide_lease("controller-2", nodes, leased("controller-1"), LeaseRules())
    assert not decision.granted
    assert blockers(decision) == [("one-by-one", ("controller-1",), 1)]
    [reason] = decision.reasons
    assert "`tripleo-upgrade-helper lease release controller-1 --reason TEXT`" in reason and SINCE in reason


def test_holder_gets_its_lease_again():
    nodes = fleet(*controllers())
    decision = decide_lease("controller-1", nodes, leased("controller-1"), LeaseRules())
    assert decision.granted and decision.already_held


def test_ceph_mon_hosts_never_drop_below_the_minimum():
    nodes = fleet(
        Node("controller-0", "Controller", ceph_mon=True),
        Node("controller-1", "Controller", ceph_mon=True),
        Node("controller-2", "Controller", ceph_mon=True),
        Node("controller-3", "Controller", ceph_mon=True),
    )
    decision = decide_lease("controller-0", nodes, leased("controller-2", "controller-3"), LeaseRules())
    assert not decision.granted
    assert blockers(decision) == [("min-ceph-mons", ("controller-2", "controller-3"), 1)]
    assert "min_ceph_mons=2" in decision.reasons[0]


def test_ceph_mon_minimum_is_a_setting():
    nodes = fleet(*controllers())
    assert decide_lease("controller-0", nodes, {}, LeaseRules(min_ceph_mons=2)).granted
    decision = decide_lease("controller-0", nodes, {}, LeaseRules(min_ceph_mons=3))
    assert blockers(decision) == [("min-ceph-mons", (), 1)]
    assert "min_ceph_mons=3" in decision.reasons[0] and "leased: none" in decision.reasons[0]


def test_ceph_mon_rule_counts_hosts_across_roles():
    nodes = fleet(
        Node("controller-0", "Controller", ceph_mon=True, one_by_one=True),
        Node("controller-1", "Controller", ceph_mon=True, one_by_one=True),
        Node("cephmon-0", "CephMon", ceph_mon=True, one_by_one=True),
        Node("cephmon-1", "CephMon", ceph_mon=True, one_by_one=True),
    )
    assert decide_lease("cephmon-0", nodes, leased("controller-0"), LeaseRules()).granted
    refused = decide_lease("cephmon-0", nodes, leased("controller-0", "cephmon-1"), LeaseRules())
    assert blockers(refused)[-1] == ("min-ceph-mons", ("cephmon-1", "controller-0"), 1)


def test_whole_role_is_never_down_at_once():
    nodes = fleet(*computes(3))
    decision = decide_lease("compute-2", nodes, leased("compute-0", "compute-1"), LeaseRules())
    assert blockers(decision) == [("whole-role", ("compute-0", "compute-1"), 1)]


def test_role_of_a_single_node_can_be_upgraded():
    # A single-controller cloud or a lone Networker: taking it down is the only way to upgrade it.
    nodes = fleet(Node("networker-0", "Networker"), *computes(2))
    assert decide_lease("networker-0", nodes, {}, LeaseRules()).granted


def test_default_budget_limits_other_roles():
    nodes = fleet(*computes(30))
    rules = LeaseRules(default_budget=10)
    holders = [f"compute-{i}" for i in range(10)]
    decision = decide_lease("compute-10", nodes, leased(*holders), rules)
    assert blockers(decision) == [("budget", tuple(sorted(holders)), 1)]
    assert "the budget of role Compute (10 of 30 nodes = 10 down at once, from default_lease_budget)" \
        in decision.reasons[0]
    assert decide_lease("compute-10", nodes, leased(*holders[:9]), rules).granted


def test_without_budget_all_but_one_node_of_a_role_may_go():
    nodes = fleet(*computes(5))
    assert decide_lease("compute-3", nodes, leased("compute-0", "compute-1", "compute-2"), LeaseRules()).granted


def test_configured_one_by_one_roles_override_the_registry():
    nodes = fleet(*controllers(4), *computes(4))
    rules = LeaseRules(one_by_one_roles=frozenset({"Compute"}))
    assert not decide_lease("compute-1", nodes, leased("compute-0"), rules).granted
    # Controller is no longer one-by-one: only the ceph-mon and whole-role rules apply.
    assert decide_lease("controller-1", nodes, leased("controller-0"), rules).granted


def test_every_reason_is_given_at_once():
    nodes = fleet(*controllers(2))
    decision = decide_lease("controller-1", nodes, leased("controller-0"), LeaseRules())
    assert [b.rule for b in decision.blockers] == ["one-by-one", "whole-role", "min-ceph-mons"]
    assert len(decision.reasons) == 3


# --- exhaustive: over every lease state of a small fleet, a lease is granted exactly when it keeps the invariants --

FLEET = fleet(
    *controllers(3),
    Node("cephmon-0", "CephMon", ceph_mon=True, one_by_one=True),
    Node("cephmon-1", "CephMon", ceph_mon=True, one_by_one=True),
    *computes(3),
    Node("networker-0", "Networker"),
    Node("networker-1", "Networker"),
)


def invariants_hold(holders, rules):
    by_role = {}
    for node in FLEET.values():
        by_role.setdefault(node.role, []).append(node)
    for members in by_role.values():
        down = [n for n in members if n.name in holders]
        if members[0].one_by_one and len(down) > 1:
            return False
        if not members[0].one_by_one and rules.default_budget is not None and len(down) > rules.default_budget:
            return False
        if len(members) > 1 and len(down) == len(members):
            return False
    running_mons = [n for n in FLEET.values() if n.ceph_mon and n.name not in holders]
    return len(running_mons) >= rules.min_ceph_mons


@pytest.mark.parametrize("rules", [LeaseRules(), LeaseRules(min_ceph_mons=3, default_budget=1)])
def test_granted_exactly_when_the_invariants_still_hold(rules):
    names = sorted(FLEET)
    checked = 0
    for size in range(len(names) + 1):
        for holders in itertools.combinations(names, size):
            if not invariants_hold(set(holders), rules):
                continue
            for requester in names:
                decision = decide_lease(requester, FLEET, leased(*holders), rules)
                expected = requester in holders or invariants_hold(set(holders) | {requester}, rules)
                assert decision.granted == expected, (holders, requester, decision.reasons)
                assert decision.granted == (not decision.reasons) == (not decision.blockers)
                checked += 1
    assert checked > 500
