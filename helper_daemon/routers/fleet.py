"""GET /v1/status: the whole fleet in one consistent snapshot (the `tripleo-upgrade-helper status` table).

The answer is built once per change and kept serialised: while `Database.generation()` is unchanged (no commit
by anyone, no stored item changed, no other write request answered) a GET is a dict lookup and a bytes copy, with
only `generated_at` new. A build reads the generation first, so a change during the build makes the next GET
build again. An answer is also built again once it is MAX_AGE_S old, so whatever in it depends on the clock rather
than on stored state (e.g. how long a node has been silent) is never older than that.
"""

from __future__ import annotations

import json
import threading
import time
import weakref

from anyio import to_thread
from fastapi import APIRouter, Response

from helper_daemon import policy, records
from helper_daemon.auth import AdminCaller
from helper_daemon.db import Database, utcnow
from helper_daemon.dependencies import DatabaseDep, SettingsDep, StoreDep
from helper_daemon.errors import documented
from helper_daemon.schemas import FleetStatus
from helper_daemon.settings import Settings
from helper_daemon.store import ItemStore

router = APIRouter(tags=["fleet"])


class _Answer:
    """The serialised answer of one generation, without its `generated_at` (the bytes after it)."""

    def __init__(self):
        self.lock = threading.Lock()  # one build at a time; the others wait for it and reuse it
        self.current: tuple = (None, 0.0, b"")  # (generation, built at (monotonic), tail), replaced as one
        self.inhibitors: dict[str, tuple[str, list]] = {}  # node -> (report_key, its inhibitors), across builds


_answers: "weakref.WeakKeyDictionary[Database, _Answer]" = weakref.WeakKeyDictionary()
_PREFIX = b'{"generated_at":"'
MAX_AGE_S = 1.0


@router.get("/v1/status", summary="The fleet: nodes, roles, ceph-mon hosts, leases, transfers",
            response_model=FleetStatus, responses=documented(401, 403))
async def fleet_status(caller: AdminCaller, db: DatabaseDep, store: StoreDep, settings: SettingsDep) -> Response:
    answer = _answers.get(db)
    if answer is None:
        answer = _answers.setdefault(db, _Answer())
    generation, built, tail = answer.current
    if generation != db.generation() or time.monotonic() - built >= MAX_AGE_S:
        tail = await to_thread.run_sync(_current_tail, answer, db, store, settings)
    return Response(_PREFIX + utcnow().encode() + tail, media_type="application/json")


def _current_tail(answer: _Answer, db: Database, store: ItemStore, settings: Settings) -> bytes:
    with answer.lock:
        generation, started = db.generation(), time.monotonic()
        if answer.current[0] != generation or started - answer.current[1] >= MAX_AGE_S:
            fleet = _fleet(db, store, settings, generated_at="", known=answer.inhibitors)
            body = json.dumps(fleet, separators=(",", ":")).encode()
            assert body.startswith(_PREFIX + b'"'), body[:40]
            answer.current = (generation, started, body[len(_PREFIX):])  # from generated_at's closing quote on
        return answer.current[2]


def _fleet(db: Database, store: ItemStore, settings: Settings, generated_at: str,
           known: dict[str, tuple[str, list]]) -> dict:
    """The answer; `known` keeps each node's inhibitors with the report_key they were read at, across calls."""
    with db.snapshot() as conn:
        rows = records.fleet_rows(conn)
        moved = {r["name"]: r["report_key"] for r in rows if known.get(r["name"], ("",))[0] != r["report_key"]}
        if moved:
            for name, inhibitors in records.inhibitors(conn, list(moved)).items():
                known[name] = (moved[name], json.loads(inhibitors))
        if len(known) > len(rows):  # nodes gone from the registry
            for name in known.keys() - {r["name"] for r in rows}:
                del known[name]
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
            "inhibitors": known[row["name"]][1],
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
        "generated_at": generated_at,
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
