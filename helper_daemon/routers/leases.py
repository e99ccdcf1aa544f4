"""Upgrade leases: the right to take a node down, granted only when the fleet stays safe (helper_daemon/policy.py).

The decision and the write happen in one write transaction, so concurrent requests are decided one after the
other against the leases actually held.
"""

from __future__ import annotations

import sqlite3
from typing import Optional

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import policy, records, safety
from helper_daemon.auth import AdminCaller, NodeOrAdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, NodeName, SettingsDep
from helper_daemon.errors import ApiError, documented
from helper_daemon.logs import event
from helper_daemon.settings import Settings
from helper_daemon.schemas import CephMonQuorum, LeaseGranted, LeaseReleased

router = APIRouter(prefix="/v1/nodes/{node}/lease", tags=["leases"])
# Per database file: the rows of each role as last loaded, reused while records.nodes_version is unchanged.
_rows_cache: dict[str, dict] = {}


class LeaseRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    ceph_mon_quorum: Optional[CephMonQuorum] = Field(
        None, description="what the requester sees of the ceph-mon quorum now; recorded before the decision")


def _decide(conn: sqlite3.Connection, node: str, settings: Settings, caller_node: Optional[str],
            quorum: Optional[CephMonQuorum], write: bool) -> tuple[policy.Decision, dict[str, str]]:
    """The decision and the leases held (node -> since). `write`: a lease may be granted (write a node-silent
    pause that is due). The quorum facts are recorded before deciding (a dry run with facts writes them too)."""
    nodes = records.lease_nodes(conn, node, _rows_cache.setdefault(str(settings.state_dir), {}))
    if node not in nodes:
        raise ApiError(404, "unknown node", f"node {node!r} is not registered")
    safety.record_quorum(conn, quorum, caller_node)
    now = utcnow()
    pause, due = safety.current_pause(conn, settings, now)
    if due and write:
        records.pause_fleet(conn, pause)
        records.audit(conn, "daemon", "fleet-pause", node=pause.node, detail=f"rule {pause.rule}: {pause.reason}")
        event("fleet paused", rule=pause.rule, node=pause.node, reason=pause.reason)
    leases = {n: r["since"] for n, r in records.leases(conn).items()}
    facts = safety.lease_facts(conn, nodes, [node], settings, now, pause)
    decision = policy.decide_lease(node, nodes, leases, safety.lease_rules(conn, settings), facts)
    return decision, leases


def _decide_read_only(db, node: str, settings: Settings, caller_node: Optional[str],
                      quorum: Optional[CephMonQuorum]) -> tuple[policy.Decision, dict[str, str]]:
    """A dry run: a snapshot, or a write transaction when it brings quorum facts to record."""
    with db.snapshot() if quorum is None else db.transaction() as conn:
        return _decide(conn, node, settings, caller_node, quorum, write=False)


def _decide_and_grant(conn: sqlite3.Connection, node: str, settings: Settings, caller: str,
                      caller_node: Optional[str], quorum: Optional[CephMonQuorum]
                      ) -> tuple[policy.Decision, dict[str, str], Optional[str]]:
    decision, leases = _decide(conn, node, settings, caller_node, quorum, write=True)
    since = None
    if decision.granted and not decision.already_held:
        since = utcnow()
        records.grant_lease(conn, node, since, caller)
        records.audit(conn, caller, "lease-grant", node=node)
    return decision, leases, since


@router.post("", summary="Ask for the right to take the node down now (dry_run: only ask)",
             response_model=LeaseGranted,
             responses=documented(400, 401, 403, 404, 409, refusal="The lease would break a safety rule now"))
def acquire_lease(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep, settings: SettingsDep,
                  dry_run: bool = False, body: Optional[LeaseRequest] = None) -> dict:
    quorum = body.ceph_mon_quorum if body is not None else None
    if dry_run:
        decision, leases = _decide_read_only(db, node, settings, caller.node, quorum)
        since = None
    else:
        with db.transaction() as conn:
            decision, leases, since = _decide_and_grant(conn, node, settings, caller.name, caller.node, quorum)
    if decision.already_held:
        since = leases[node]
    if not decision.granted:
        event("lease refused", node=node, actor=caller.name, dry_run=dry_run, reasons=list(decision.reasons))
        more = len(decision.reasons) - 1
        raise ApiError(409, "lease refused", f"{node} may not be taken down now: {decision.reasons[0]}"
                       + (f" (and {more} more reason(s))" if more else ""), reasons=list(decision.reasons),
                       blockers=[b.as_dict() for b in decision.blockers])
    if since is not None and not decision.already_held:
        event("lease granted", node=node, actor=caller.name, since=since)
    return {"node": node, "granted": True, "dry_run": dry_run, "since": since,
            "already_held": decision.already_held}


@router.delete("", status_code=204, summary="End the node's lease once it is back in service (idempotent)",
               responses=documented(400, 401, 403, 404))
def release_lease(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep) -> Response:
    with db.transaction() as conn:
        since = records.release_lease(conn, node)
        if since is not None:
            records.audit(conn, caller.name, "lease-release", node=node, detail=f"held since {since}")
    if since is not None:
        event("lease released", node=node, actor=caller.name, since=since)
    return Response(status_code=204)


class AdminRelease(BaseModel):
    model_config = ConfigDict(strict=True)

    reason: str = Field(min_length=1, max_length=2048, pattern=r"\S",
                        description="why the admin ends the lease (a node that died holding it); audited")


@router.post("/release", summary="The admin ends a node's lease with a written reason (a node that died holding "
             "it); audited", response_model=LeaseReleased, responses=documented(400, 401, 403, 404, 413))
def admin_release_lease(node: NodeName, body: AdminRelease, caller: AdminCaller, db: DatabaseDep) -> dict:
    reason = body.reason.strip()
    with db.transaction() as conn:
        if not records.node_exists(conn, node):
            raise ApiError(404, "unknown node", f"node {node!r} is not registered")
        since = records.release_lease(conn, node)
        records.audit(conn, caller.name, "lease-release-admin" if since else "lease-release-admin-none", node=node,
                      detail=f"held since {since}: {reason}" if since else f"no lease held: {reason}")
    event("lease released by admin", node=node, since=since, reason=reason)
    return {"node": node, "released": since is not None, "since": since, "reason": reason}
