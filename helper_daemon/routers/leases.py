"""Upgrade leases: the right to take a node down, granted only when the fleet stays safe (helper_daemon/policy.py).

The decision and the write happen in one write transaction, so concurrent requests are decided one after the
other against the leases actually held.
"""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter, Request, Response

from helper_daemon import policy
from helper_daemon.auth import NodeOrAdminCaller
from helper_daemon.db import utcnow
from helper_daemon.errors import ApiError
from helper_daemon.logs import event
from helper_daemon.settings import Settings

router = APIRouter(prefix="/v1/nodes/{node}/lease", tags=["leases"])


def load_nodes(conn: sqlite3.Connection) -> dict[str, policy.Node]:
    rows = conn.execute("SELECT name, role, ceph_mon, one_by_one, os_release, phase FROM nodes").fetchall()
    return {r["name"]: policy.Node(r["name"], r["role"], bool(r["ceph_mon"]), bool(r["one_by_one"]),
                                   r["os_release"], r["phase"]) for r in rows}


def load_leases(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    return {r["node"]: r for r in conn.execute("SELECT node, since, granted_by FROM leases ORDER BY node")}


def lease_rules(settings: Settings) -> policy.LeaseRules:
    roles = settings.one_by_one_roles
    return policy.LeaseRules(settings.min_ceph_mons, frozenset(roles) if roles is not None else None,
                             settings.batch_size)


def _decide(conn: sqlite3.Connection, node: str, settings: Settings) -> tuple[policy.Decision, dict]:
    nodes = load_nodes(conn)
    if node not in nodes:
        raise ApiError(404, "unknown node", f"node {node!r} is not registered")
    leases = load_leases(conn)
    decision = policy.decide_lease(node, nodes, {n: r["since"] for n, r in leases.items()}, lease_rules(settings))
    return decision, leases


@router.post("", summary="Ask for the right to take the node down now (dry_run: only ask)")
def acquire_lease(node: str, request: Request, caller: NodeOrAdminCaller, dry_run: bool = False) -> dict:
    db, settings = request.app.state.db, request.app.state.settings
    since = None
    if dry_run:
        with db.snapshot() as conn:
            decision, leases = _decide(conn, node, settings)
    else:
        with db.transaction() as conn:
            decision, leases = _decide(conn, node, settings)
            if decision.granted and not decision.already_held:
                since = utcnow()
                conn.execute("INSERT INTO leases (node, since, granted_by) VALUES (?,?,?)", (node, since, caller.name))
                db.audit(caller.name, "lease-grant", node=node, conn=conn)
    if decision.already_held:
        since = leases[node]["since"]
    if not decision.granted:
        event("lease refused", node=node, actor=caller.name, dry_run=dry_run, reasons=list(decision.reasons))
        more = len(decision.reasons) - 1
        raise ApiError(409, "lease refused", f"{node} may not be taken down now: {decision.reasons[0]}"
                       + (f" (and {more} more reason(s))" if more else ""), reasons=list(decision.reasons))
    if since is not None and not decision.already_held:
        event("lease granted", node=node, actor=caller.name, since=since)
    return {"node": node, "granted": True, "dry_run": dry_run, "since": since,
            "already_held": decision.already_held}


@router.delete("", status_code=204, summary="End the node's lease once it is back in service (idempotent)")
def release_lease(node: str, request: Request, caller: NodeOrAdminCaller) -> Response:
    db = request.app.state.db
    with db.transaction() as conn:
        held = conn.execute("SELECT since FROM leases WHERE node = ?", (node,)).fetchone()
        if held is not None:
            conn.execute("DELETE FROM leases WHERE node = ?", (node,))
            db.audit(caller.name, "lease-release", node=node, detail=f"held since {held['since']}", conn=conn)
    if held is not None:
        event("lease released", node=node, actor=caller.name, since=held["since"])
    return Response(status_code=204)
