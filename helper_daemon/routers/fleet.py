"""GET /v1/status: the whole fleet in one consistent snapshot (the `tripleo-upgrade-helper status` table)."""

from __future__ import annotations

import json

from fastapi import APIRouter

from helper_daemon import policy, records
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
    stored = store.all_items()
    rules = settings.lease_rules

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
        })
        summary = roles.setdefault(row["role"], {"role": row["role"], "nodes": 0, "old_os": 0, "new_os": 0,
                                                 "unknown_os": 0, "leased": 0})
        summary["nodes"] += 1
        summary[f"{os_state}_os"] += 1
        summary["leased"] += lease is not None
    policy_nodes = [policy.Node(r["name"], r["role"], one_by_one=bool(r["one_by_one"])) for r in rows]
    for summary in roles.values():
        summary["one_by_one"] = policy.is_one_by_one(summary["role"], policy_nodes, rules)

    mons = [n["name"] for n in nodes if n["ceph_mon"]]
    running = sorted(name for name in mons if name not in leases)
    return {
        "generated_at": utcnow(),
        "target_os_major": settings.target_os_major,
        "nodes": nodes,
        "roles": list(roles.values()),
        "ceph_mon": {"running": running, "leased": sorted(name for name in mons if name in leases),
                     "min": rules.min_ceph_mons, "ok": len(running) >= rules.min_ceph_mons or not mons},
        "leases": list(leases.values()),
        "policy": {"min_ceph_mons": rules.min_ceph_mons, "batch_size": rules.batch_size,
                   "one_by_one_roles": sorted(rules.one_by_one_roles) if rules.one_by_one_roles is not None else None},
        "transfers": transfers,
    }
