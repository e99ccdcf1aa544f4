"""The safety controls of issue 15 as pure decisions: per-role budgets, pause, live ceph-mon quorum, accepted
inhibitors, the group check; and an exhaustive check over every combination of those facts on a small fleet."""

import itertools

import pytest

from helper_daemon.policy import (Acceptance, Inhibitor, LeaseFacts, LeaseRules, Node, Pause, QuorumObservation,
                                  budget_error, budget_nodes, decide_group, decide_lease, mons_not_live,
                                  role_budget, silent_pause, unaccepted)

SINCE = "2026-11-26T10:00:00Z"
NOW = "2026-11-26T11:00:00.000000Z"


def fleet(*nodes):
    return {n.name: n for n in nodes}


def controllers(count=3):
    return [Node(f"ctl-{i}", "Controller", ceph_mon=True, one_by_one=True) for i in range(count)]


def computes(count=4, role="Compute"):
    return [Node(f"{role.lower()}-{i}", role) for i in range(count)]


def leased(*names):
    return {name: SINCE for name in names}


def rules_of(decision):
    return [b.rule for b in decision.blockers]


# --- the group check ------------------------------------------------------------------------------------------------


def test_group_of_two_controllers_refuses_the_second_by_the_one_by_one_rule():
    nodes = fleet(*controllers(4))
    group = decide_group(["ctl-1", "ctl-2"], nodes, {}, LeaseRules())
    assert not group.allowed
    (first, d1), (second, d2) = group.decisions
    assert (first, d1.granted) == ("ctl-1", True)
    assert (second, d2.granted, rules_of(d2)) == ("ctl-2", False, ["one-by-one"])
    assert group.reasons[0].startswith("ctl-2: ctl-1 of one-by-one role Controller already holds a lease")


def test_group_holding_a_whole_role_is_refused_by_the_whole_role_rule():
    nodes = fleet(*computes(3))
    group = decide_group(["compute-0", "compute-1", "compute-2"], nodes, {}, LeaseRules())
    assert [d.granted for _, d in group.decisions] == [True, True, False]
    assert rules_of(group.decisions[2][1]) == ["whole-role"]
    assert not group.allowed


def test_group_within_budgets_is_allowed_and_counts_held_leases():
    nodes = fleet(*controllers(3), *computes(6))
    rules = LeaseRules(budgets={"Compute": 2})
    assert decide_group(["ctl-0", "compute-0", "compute-1"], nodes, {}, rules).allowed
    group = decide_group(["compute-1", "compute-2"], nodes, leased("compute-0"), rules)
    assert [(n, d.granted) for n, d in group.decisions] == [("compute-1", True), ("compute-2", False)]
    # A node holding its lease already is allowed (and counts once).
    again = decide_group(["compute-0", "compute-0", "compute-1"], nodes, leased("compute-0"), rules)
    assert again.allowed and [n for n, _ in again.decisions] == ["compute-0", "compute-1"]
    assert again.decisions[0][1].already_held


def test_group_decides_in_the_given_order():
    nodes = fleet(*computes(3))
    rules = LeaseRules(default_budget=1)
    for order in (["compute-2", "compute-0"], ["compute-0", "compute-2"]):
        group = decide_group(order, nodes, {}, rules)
        assert [d.granted for _, d in group.decisions] == [True, False], order


# --- budgets --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, size, expected", [
    (2, 10, 2), ("25%", 10, 2), ("25%", 3, 1), ("100%", 7, 7), ("10%", 100, 10), (1, 1, 1), ("0.5%", 10, 1)])
def test_budget_nodes_is_at_least_one(value, size, expected):
    assert budget_error(value) is None
    assert budget_nodes(value, size) == expected


@pytest.mark.parametrize("value", [0, -1, "0%", "101%", "abc", "25", True, 2.5, None])
def test_bad_budgets_say_why(value):
    assert budget_error(value)


def test_role_budget_sources():
    rules = LeaseRules(default_budget=3, budgets={"Compute": "50%"})
    assert role_budget("Controller", 3, True, rules).nodes == 1
    assert role_budget("Compute", 10, False, rules).source == "lease_budgets"
    assert role_budget("Compute", 10, False, rules, admin_budgets={"Compute"}).source == "admin"
    assert (role_budget("Networker", 10, False, rules).source, role_budget("Networker", 10, False, rules).nodes) == \
        ("default_lease_budget", 3)
    assert role_budget("Networker", 10, False, LeaseRules()).nodes is None
    assert rules.with_budgets({"Networker": 1}).budgets == {"Compute": "50%", "Networker": 1}


def test_percentage_budget_refuses_with_the_numbers():
    nodes = fleet(*computes(8))
    rules = LeaseRules(budgets={"Compute": "25%"})
    decision = decide_lease("compute-2", nodes, leased("compute-0", "compute-1"), rules)
    assert rules_of(decision) == ["budget"]
    assert "the budget of role Compute (25% of 8 nodes = 2 down at once, from lease_budgets)" in decision.reasons[0]
    assert decision.blockers[0].holders == ("compute-0", "compute-1")


# --- pause ----------------------------------------------------------------------------------------------------------

PAUSE = Pause("node-failed", "leapp failed", "node:compute-0", SINCE, "compute-0")


def test_a_paused_fleet_grants_no_new_lease_but_holders_carry_on():
    nodes = fleet(*computes(4))
    facts = LeaseFacts(paused=PAUSE)
    refused = decide_lease("compute-1", nodes, leased("compute-0"), LeaseRules(), facts)
    assert rules_of(refused) == ["paused"]
    assert "paused since 2026-11-26T10:00:00Z (rule node-failed, node compute-0, by node:compute-0): leapp failed" \
        in refused.reasons[0]
    assert "tripleo-upgrade-helper resume --reason TEXT" in refused.reasons[0]
    held = decide_lease("compute-0", nodes, leased("compute-0"), LeaseRules(), facts)
    assert held.granted and held.already_held


def test_silent_leased_node_pauses_after_the_limit_counted_from_its_last_word():
    leased_reports = {"compute-0": ("2026-11-26T10:00:00Z", "2026-11-26T10:30:00Z"),
                      "compute-1": ("2026-11-26T10:50:00Z", None)}
    assert silent_pause(leased_reports, None, NOW, 0) is None
    assert silent_pause(leased_reports, None, NOW, 1800) is None  # 30 min exactly: not longer
    pause = silent_pause(leased_reports, None, NOW, 1200)
    assert (pause.rule, pause.node, pause.by) == ("node-silent", "compute-0", "daemon")
    assert "silent for 30 min 0 s (since 2026-11-26T10:30:00Z; its last status report was at" in pause.reason
    # Both silent: the longest first, the other counted.
    both = silent_pause(leased_reports, None, NOW, 300)
    assert both.node == "compute-0" and "1 more leased node(s) silent too" in both.reason
    # A resume restarts the clock.
    assert silent_pause(leased_reports, "2026-11-26T10:59:00Z", NOW, 300) is None


# --- live quorum ----------------------------------------------------------------------------------------------------


def obs(by, at, inq, outq=()):
    return QuorumObservation(by, at, tuple(inq), tuple(outq))


def test_no_quorum_facts_at_all_leaves_the_static_count():
    assert mons_not_live(["ctl-0", "ctl-1"], [], NOW, 600) == {}


def test_newest_observation_decides_and_names_peer_and_time():
    observations = [obs("ctl-0", "2026-11-26T10:58:00Z", ["ctl-0", "ctl-1"], ["ctl-2"]),
                    obs("ctl-1", "2026-11-26T10:59:00Z", ["ctl-0", "ctl-1", "ctl-2"])]
    assert mons_not_live(["ctl-0.example.com", "ctl-1", "ctl-2"], observations, NOW, 600) == {}
    observations.append(obs("ctl-0", "2026-11-26T10:59:30Z", ["ctl-0", "ctl-1"], ["ctl-2"]))
    assert mons_not_live(["ctl-0", "ctl-1", "ctl-2"], observations, NOW, 600) == {
        "ctl-2": "out of quorum per ctl-0 at 2026-11-26T10:59:30Z"}


def test_stale_and_unnamed_monitors_do_not_count():
    observations = [obs("ctl-0", "2026-11-26T10:00:00Z", ["ctl-0", "ctl-1"])]
    out = mons_not_live(["ctl-0", "ctl-1", "ctl-2"], observations, NOW, 600)
    assert out["ctl-0"].startswith("its quorum facts are older than 10 min 0 s (last from ctl-0 at "
                                   "2026-11-26T10:00:00Z, 60 min 0 s ago)")
    assert out["ctl-2"].startswith("no quorum facts name it")


def test_live_quorum_refuses_naming_the_monitors_not_counted():
    nodes = fleet(*controllers(3), Node("cmp-0", "Compute"))
    facts = LeaseFacts(mons_not_live={"ctl-2": "out of quorum per ctl-0 at 2026-11-26T10:59:30Z"})
    decision = decide_lease("ctl-0", nodes, {}, LeaseRules(min_ceph_mons=2), facts)
    assert rules_of(decision) == ["live-quorum"]
    assert decision.blockers[0].nodes == ("ctl-2",)
    assert ("live ceph-mon hosts would drop to 1, below min_ceph_mons=2 (live after this lease: ctl-1; not counted: "
            "ctl-2: out of quorum per ctl-0 at 2026-11-26T10:59:30Z)") in decision.reasons[0]
    # The monitor out of quorum itself may go: it takes no live monitor away.
    assert decide_lease("ctl-2", nodes, {}, LeaseRules(min_ceph_mons=2), facts).granted
    # A non-mon node is not concerned.
    assert decide_lease("cmp-0", nodes, {}, LeaseRules(min_ceph_mons=2), facts).granted


# --- accepted inhibitors --------------------------------------------------------------------------------------------

INHIBITORS = (Inhibitor("k-net", "Network interfaces named ethX"), Inhibitor("k-fs", "XFS ftype=0"))


def test_acceptances_by_scope():
    accepted = [Acceptance(1, "k-net", "role", "Compute"), Acceptance(2, "k-fs", "node", "compute-1"),
                Acceptance(3, "k-other", "fleet", None)]
    assert unaccepted(INHIBITORS, "compute-0", "Compute", accepted) == (INHIBITORS[1],)
    assert unaccepted(INHIBITORS, "compute-1", "Compute", accepted) == ()
    assert unaccepted(INHIBITORS, "ctl-0", "Controller", accepted) == INHIBITORS
    assert unaccepted(INHIBITORS, "ctl-0", "Controller", [Acceptance(4, "k-net", "fleet", None)]) == (INHIBITORS[1],)


def test_unaccepted_inhibitors_refuse_with_keys_and_titles():
    nodes = fleet(*computes(3))
    facts = LeaseFacts(unaccepted_inhibitors={"compute-0": INHIBITORS[1:]})
    decision = decide_lease("compute-0", nodes, {}, LeaseRules(), facts)
    assert rules_of(decision) == ["inhibitors"]
    assert decision.blockers[0].nodes == ("k-fs",)
    assert "compute-0's newest leapp report has 1 inhibitor(s) not accepted: XFS ftype=0 [k-fs]" in decision.reasons[0]
    assert decide_lease("compute-1", nodes, {}, LeaseRules(), facts).granted


# --- exhaustive: every lease state x pause x monitor liveness x inhibitors x budgets --------------------------------

FLEET = fleet(*controllers(3), *computes(4), *computes(2, "Networker"))
MONS = [n for n in FLEET.values() if n.ceph_mon]


def expected_grant(requester, holders, rules, facts):
    if requester in holders:
        return True
    if facts.paused is not None or facts.unaccepted_inhibitors.get(requester):
        return False
    after = set(holders) | {requester}
    by_role = {}
    for node in FLEET.values():
        by_role.setdefault(node.role, []).append(node)
    for role, members in by_role.items():
        down = [n for n in members if n.name in after]
        limit = 1 if members[0].one_by_one else role_budget(role, len(members), False, rules).nodes
        if limit is not None and len(down) > limit:
            return False
        if len(members) > 1 and len(down) == len(members):
            return False
    if FLEET[requester].ceph_mon:
        running = [n.name for n in MONS if n.name not in after]
        if len(running) < rules.min_ceph_mons:
            return False
        live = [name for name in running if name not in facts.mons_not_live]
        if facts.mons_not_live and len(live) < rules.min_ceph_mons:
            return False
    return True


def invariants_hold(holders, rules):
    return all(expected_grant(name, set(holders) - {name}, rules, LeaseFacts()) for name in holders)


RULE_SETS = [LeaseRules(min_ceph_mons=1), LeaseRules(min_ceph_mons=2, default_budget=1),
             LeaseRules(min_ceph_mons=1, budgets={"Compute": "50%", "Networker": 1}),
             LeaseRules(min_ceph_mons=2, budgets={"Compute": 3})]
FACT_SETS = [
    LeaseFacts(),
    LeaseFacts(paused=PAUSE),
    LeaseFacts(mons_not_live={"ctl-2": "out of quorum per ctl-0 at " + SINCE}),
    LeaseFacts(mons_not_live={"ctl-1": "stale", "ctl-2": "stale"}),
    LeaseFacts(unaccepted_inhibitors={"compute-1": INHIBITORS[:1], "ctl-0": INHIBITORS}),
]


@pytest.mark.parametrize("rules", RULE_SETS)
@pytest.mark.parametrize("facts", FACT_SETS)
def test_granted_exactly_when_every_rule_still_holds(rules, facts):
    names = sorted(FLEET)
    checked = refused = 0
    for size in range(len(names) + 1):
        for holders in itertools.combinations(names, size):
            if not invariants_hold(holders, rules):
                continue
            for requester in names:
                decision = decide_lease(requester, FLEET, leased(*holders), rules, facts)
                expected = expected_grant(requester, set(holders), rules, facts)
                assert decision.granted == expected, (holders, requester, decision.reasons)
                assert decision.granted == (not decision.reasons) == (not decision.blockers)
                checked += 1
                refused += not decision.granted
    assert checked > 300 and refused > 0


@pytest.mark.parametrize("rules", RULE_SETS)
def test_a_group_allowed_is_a_set_of_leases_that_keeps_every_rule(rules):
    names = sorted(FLEET)
    allowed = 0
    for size in range(1, 5):
        for group in itertools.combinations(names, size):
            decision = decide_group(group, FLEET, {}, rules)
            assert decision.allowed == invariants_hold(group, rules), (group, decision.reasons)
            allowed += decision.allowed
    assert allowed > 10
