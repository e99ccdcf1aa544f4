"""Database transfer plans and the one-shot rule, for every shape of role."""

import pytest

from helper_daemon.policy import Node, PastTransfer, decide_transfer, os_major, plan_transfer


def fleet(*nodes):
    return {n.name: n for n in nodes}


def controller(index, os_release, phase=None):
    return Node(f"controller-{index}", "Controller", ceph_mon=True, one_by_one=True, os_release=os_release, phase=phase)


ONE_NEW = fleet(
    controller(0, "8.4"), controller(1, "9.2"), controller(2, "8.4"), Node("compute-0", "Compute", os_release="8.4")
)


@pytest.mark.parametrize(
    "release, major", [("8.4", 8), ("9", 9), ("10.0", 10), (" 9.2", 9), (None, None), ("", None), ("unknown", None)]
)
def test_os_major(release, major):
    assert os_major(release) == major


def test_one_new_node_plans_from_the_first_old_node():
    plan = plan_transfer("Controller", ONE_NEW, 9)
    assert plan.valid
    assert plan.as_dict() == {
        "role": "Controller",
        "valid": True,
        "source": "controller-0",
        "target": "controller-1",
        "old_os": ["controller-0", "controller-2"],
        "new_os": ["controller-1"],
        "unknown_os": [],
        "reasons": [],
    }


def test_source_can_be_overridden_by_another_old_node():
    plan = plan_transfer("Controller", ONE_NEW, 9, source="controller-2")
    assert plan.valid and plan.source == "controller-2" and plan.target == "controller-1"


def test_source_override_must_be_an_old_node_of_the_role():
    for wrong in ("controller-1", "compute-0", "nonexistent"):
        plan = plan_transfer("Controller", ONE_NEW, 9, source=wrong)
        assert plan.reasons == (
            f"source {wrong} is not an old-OS node of role Controller (old-OS nodes: controller-0, controller-2)",
        )


def test_target_given_must_be_the_new_node():
    plan = plan_transfer("Controller", ONE_NEW, 9, target="controller-2")
    assert plan.reasons == ("target controller-2 is not the new-OS node of role Controller: that is controller-1",)
    assert plan_transfer("Controller", ONE_NEW, 9, target="controller-1").valid


def test_all_old_has_no_target_yet():
    plan = plan_transfer("Controller", fleet(controller(0, "8.4"), controller(1, "8.6")), 9)
    assert plan.target is None
    assert plan.reasons == (
        "no node of role Controller runs the new OS yet (old OS: controller-0, controller-1); "
        "upgrade one node of Controller to OS major 9 first",
    )


def test_two_new_nodes_is_refused_naming_both():
    plan = plan_transfer("Controller", fleet(controller(0, "8.4"), controller(1, "9.2"), controller(2, "9.2")), 9)
    assert plan.target is None
    assert plan.reasons == (
        "2 nodes of role Controller run the new OS (controller-1 and controller-2); the transfer goes to the single "
        "first upgraded node only, later nodes join it by replication",
    )


def test_no_old_node_leaves_nothing_to_transfer_from():
    plan = plan_transfer("Controller", fleet(controller(0, "9.2")), 9)
    assert plan.source is None and plan.target == "controller-0"
    assert plan.reasons == (
        "no node of role Controller is on the old OS: there is no database to transfer from",
    )


def test_unknown_os_nodes_are_listed_because_they_may_already_be_new():
    nodes = fleet(controller(0, "8.4"), controller(1, "9.2"), controller(2, None), controller(3, "garbage"))
    plan = plan_transfer("Controller", nodes, 9)
    assert not plan.valid and plan.unknown == ("controller-2", "controller-3")
    assert plan.reasons == (
        "controller-2, controller-3 of role Controller never reported an OS release, so they may already run the "
        "new OS; run `leapp preupgrade` there (it reports to the daemon) or remove the node from the registry",
    )


def test_all_unknown_says_only_that():
    plan = plan_transfer("Controller", fleet(controller(0, None), controller(1, None)), 9)
    assert len(plan.reasons) == 1 and "never reported an OS release" in plan.reasons[0]


def test_unknown_role_names_the_known_roles():
    plan = plan_transfer("Database", ONE_NEW, 9)
    assert plan.reasons == ("no node of role Database is registered (roles: Compute, Controller)",)


def test_target_major_is_a_setting():
    plan = plan_transfer("Controller", fleet(controller(0, "9.2"), controller(1, "10.0")), 10)
    assert plan.valid and (plan.source, plan.target) == ("controller-0", "controller-1")


# --- opening a transfer: one open per role, one-shot, never onto a live database ------------------------------------

PLAN = plan_transfer("Controller", ONE_NEW, 9)
SEALED = PastTransfer("1", "controller-0", "controller-1", "sealed", "2026-11-24T11:00:00Z")


def test_first_transfer_of_a_valid_plan_is_granted():
    assert decide_transfer(PLAN, [], set()).granted


def test_invalid_plan_refuses_with_the_plan_reasons_even_forced():
    plan = plan_transfer("Controller", fleet(controller(0, "8.4")), 9)
    decision = decide_transfer(plan, [], set(), force=True, reason="because")
    assert decision.reasons == plan.reasons


def test_only_one_open_transfer_per_role():
    open_one = PastTransfer("4", "controller-0", "controller-1", "open")
    decision = decide_transfer(PLAN, [open_one], set(), force=True, reason="retry")
    assert decision.reasons == (
        "transfer 4 of role Controller (controller-0 -> controller-1) is still open; "
        "finish it (POST /v1/transfers/4/complete) before opening another",
    )


def test_sealed_role_refuses_another_transfer():
    decision = decide_transfer(PLAN, [SEALED], set())
    assert decision.reasons == (
        "role Controller already had its one-shot transfer 1 (controller-0 -> controller-1, sealed at "
        "2026-11-24T11:00:00Z); another one would overwrite the database the target restored; if you must redo it, "
        "send force=true with a written reason",
    )


def test_forced_with_a_reason_overrides_the_seal():
    assert decide_transfer(PLAN, [SEALED], set(), force=True, reason="restore failed: disk full").granted


@pytest.mark.parametrize("reason", ["", "   "])
def test_forced_without_a_reason_is_refused(reason):
    decision = decide_transfer(PLAN, [SEALED], set(), force=True, reason=reason)
    assert decision.reasons == (
        "force=true needs a written reason (\"reason\": why the one-shot transfer must run again)",
    )


@pytest.mark.parametrize("past", [[], [SEALED]])
def test_target_that_started_its_services_is_refused_even_forced(past):
    decision = decide_transfer(PLAN, past, {"controller-1"}, force=True, reason="I insist")
    assert decision.reasons == (
        "controller-1 of role Controller has reported phase completed (its services run on the new OS): "
        "a transfer now would overwrite its live database; refused even when forced",
    )


def test_started_other_node_does_not_block():
    assert decide_transfer(PLAN, [], {"controller-0", "compute-0"}).granted
