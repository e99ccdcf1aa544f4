"""GET /v1/status: the whole fleet in one consistent snapshot (the `tripleo-upgrade-helper status` table)."""

from __future__ import annotations

import json

from fastapi import APIRouter

from helper_daemon import policy, records, safety
from helper_daemon.auth import AdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, SettingsDep, StoreDep
from helper_daemon.errors import documented
from helper_daemon.schemas import FleetStatus

router = APIRouter(tags=["fleet"])


@router.get("/v1/status", summary="The fleet: nodes, roles, ceph-mon hosts, leases, transfers",
            response_model=FleetStatus, responses=documented(401, 403))
def fleet_status(caller: AdminCaller, db: DatabaseDep, store: StoreDep, settings: SettingsDep) -> dict:
    with db.snapshot() as conn:
        rows = records.fleet_rows(conn)
        leases = records.leases(conn)
        transfers = records.all_transfers(conn)
        services = records.services(conn)
        # issue 15: the safety controls
        now = utcnow()
        extra = records.safety_columns(conn)
        accepted = records.acceptances(conn)
        kept = records.kept_roles(conn)
        admin_budgets = records.admin_budgets(conn)
        osd_flags = records.osd_flags(conn)
        pause, _ = safety.current_pause(conn, settings, now)
        not_live = safety.mons_not_live(conn, [r["name"] for r in rows if r["ceph_mon"]], settings, now)
    stored = store.all_items()
    rules = settings.lease_rules.with_budgets(admin_budgets)

    nodes, roles = [], {}
    for row in rows:
        items = [obj.describe() for obj in stored.get(row["name"], [])]
        lease = leases.get(row["name"])
        os_state = policy.os_state(row["os_release"], settings.target_os_major)
        nodes.append({
            "name": row["name"], "role": row["role"], "ceph_mon": bool(row["ceph_mon"]),
            "phase": row["phase"], "os_release": row["os_release"], "os": os_state,
            "leapp_run_id": row["leapp_run_id"], "error": row["error"], "last_report_at": row["last_report_at"],
            "inhibitors": json.loads(row["inhibitors_json"]),
            "items": items,
            "stored_bytes": sum(i["size"] for i in items),
            "lease": {"since": lease["since"], "granted_by": lease["granted_by"]} if lease else None,
            "services": services.get(row["name"]),
            **_safety_fields(row, extra.get(row["name"], {}), accepted, kept),
        })
        summary = roles.setdefault(row["role"], {"role": row["role"], "nodes": 0, "old_os": 0, "new_os": 0,
                                                 "unknown_os": 0, "leased": 0})
        summary["nodes"] += 1
        summary[f"{os_state}_os"] += 1
        summary["leased"] += lease is not None
    policy_nodes = [policy.Node(r["name"], r["role"], one_by_one=bool(r["one_by_one"])) for r in rows]
    for summary in roles.values():
        summary["one_by_one"] = policy.is_one_by_one(summary["role"], policy_nodes, rules)
        summary.update(_role_budget(summary, rules, admin_budgets, kept))

    mons = [n["name"] for n in nodes if n["ceph_mon"]]
    running = sorted(name for name in mons if name not in leases)
    live = [name for name in running if name not in not_live]
    all_inhibitors = [i for n in nodes for i in n["inhibitors"]]
    return {
        "generated_at": utcnow(),
        "target_os_major": settings.target_os_major,
        "nodes": nodes,
        "roles": list(roles.values()),
        "ceph_mon": {"running": running, "leased": sorted(name for name in mons if name in leases),
                     "min": rules.min_ceph_mons, "ok": len(running) >= rules.min_ceph_mons or not mons,
                     "live": live, "not_live": {name: not_live[name] for name in running if name in not_live},
                     "live_ok": len(live) >= rules.min_ceph_mons or not mons},
        "leases": list(leases.values()),
        "policy": {"min_ceph_mons": rules.min_ceph_mons, "default_lease_budget": rules.default_budget,
                   "lease_budgets": dict(rules.budgets),
                   "one_by_one_roles": sorted(rules.one_by_one_roles) if rules.one_by_one_roles is not None else None},
        "transfers": transfers,
        "paused": pause.as_dict() if pause else None,
        "inhibitors": {"unresolved": sum(not i["accepted"] for i in all_inhibitors),
                       "accepted": sum(i["accepted"] for i in all_inhibitors)},
        "ceph_osd_flags": osd_flags,
    }


def _safety_fields(row, extra: dict, accepted: list[policy.Acceptance], kept: dict) -> dict:
    """A node's inhibitors marked accepted or not (and by which acceptance), its OSD host mark, leapp's own result
    record as FirstBoot reported it, and whether its role stays on the old OS (as intended, not pending)."""
    applying = policy.acceptances_for(row["name"], row["role"], accepted)
    inhibitors = []
    for inhibitor in json.loads(row["inhibitors_json"]):
        by = next((a for a in applying if a.key == inhibitor["key"]), None)
        inhibitors.append(dict(inhibitor, accepted=by is not None,
                               accepted_by=None if by is None else {"id": by.id, "scope": by.scope,
                                                                    "target": by.target, "reason": by.reason}))
    return {"inhibitors": inhibitors, "ceph_osd": extra.get("ceph_osd", False),
            "leapp_result": extra.get("leapp_result"), "kept_on_old_os": row["role"] in kept}


def _role_budget(summary: dict, rules: policy.LeaseRules, admin_budgets: dict, kept: dict) -> dict:
    budget = policy.role_budget(summary["role"], summary["nodes"], summary["one_by_one"], rules, admin_budgets)
    # "never the whole role" bounds every role of more than one node
    allowed = budget.nodes if budget.nodes is not None else max(1, summary["nodes"] - 1)
    if summary["nodes"] > 1:
        allowed = min(allowed, summary["nodes"] - 1)
    return {"budget": budget.budget, "budget_source": budget.source, "allowed_down": allowed,
            "down": summary["leased"], "may_go_now": max(0, allowed - summary["leased"]),
            "keep_old_os": kept.get(summary["role"])}
