"""What each node reports about its upgrade: the current state and the timeline of its latest reports.

A report's body is at most `max_status_report_bytes` (413 beyond, app.py); the timeline keeps the latest
`status_timeline_length` reports per node, at most `status_timeline_bytes` of them, and counts the older ones, so no
node grows the database or this answer without limit.
"""

from __future__ import annotations

import functools
from typing import List, Literal, Optional

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from helper_daemon import policy, records, safety
from helper_daemon.auth import NodeOrAdminCaller, NodeWrite, NodeWriteDep
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, NodeName
from helper_daemon.errors import documented
from helper_daemon.logs import event, note
from helper_daemon.schemas import PHASES, CephMonQuorum, NodeStatusView, ReportEntry, StatusAccepted

router = APIRouter(prefix="/v1/nodes/{node}/status", tags=["node status"])
# The reports as stored (reports_json), serialised in pydantic's core rather than json.dumps of dicts.
_REPORTS_JSON = TypeAdapter(List[ReportEntry])

class LeappResult(BaseModel):
    """leapp's own result record (/etc/migration-results), as FirstBoot read it."""

    model_config = ConfigDict(strict=True)

    success: bool
    activity: str = Field("upgrade", max_length=64)
    executed: Optional[str] = Field(None, max_length=64)
    source: str = Field("/etc/migration-results", max_length=4096)


class NodeStatus(BaseModel):
    model_config = ConfigDict(strict=True)

    phase: Literal[PHASES]
    os_release: Optional[str] = Field(None, max_length=32, pattern=r"^[0-9]+(\.[0-9]+)*$")
    leapp_run_id: Optional[str] = Field(None, max_length=128)
    reports: List[ReportEntry] = Field(default_factory=list, max_length=2000)
    error: Optional[str] = Field(None, max_length=65536)
    ceph_mon_quorum: Optional[CephMonQuorum] = Field(None, description="what the node sees of the ceph-mon "
                                                     "quorum now; recorded as its facts")
    leapp_result: Optional[LeappResult] = Field(None, description="FirstBoot: leapp's result record; a failed "
                                                "upgrade is recorded as phase failed")


def _verified(body: NodeStatus) -> tuple[str, Optional[str]]:
    """The phase and error to record: an `upgraded` report whose leapp result record says it failed is `failed`."""
    result = body.leapp_result
    if result is not None and not result.success and body.phase == "upgraded":
        said = (f"leapp's result record {result.source} says the {result.activity} failed"
                + (f" (executed {result.executed})" if result.executed else ""))
        return "failed", said + (f"\n{body.error}" if body.error else "")
    return body.phase, body.error


def _record(conn, at: str, body: NodeStatus, reports_json: str,
            w: NodeWrite) -> tuple[Optional[str], Optional[policy.Pause], str]:
    """Record the report in the caller's write transaction; (the node's OS release, the pause this report caused
    or None, the phase recorded). Issue 15: leapp's result record (a failed one makes `upgraded` `failed`), the
    quorum facts, and the auto-pause (rule node-failed) of a failed node. records.NotRegistered, with nothing
    written, if the node is not registered or the caller's token is no longer its token (auth.NodeWrite)."""
    node, caller_node, settings = w.node, w.caller.node, w.settings
    phase, error = _verified(body)
    os_release = records.record_status(conn, node, at, phase, body.os_release, body.leapp_run_id, error,
                                       reports_json, settings.status_timeline_length, settings.status_timeline_bytes,
                                       token_sha256=w.token_sha256)
    if body.leapp_result is not None:
        records.set_leapp_result(conn, node, body.leapp_result.model_dump())
    safety.record_quorum(conn, body.ceph_mon_quorum, caller_node)
    paused = None
    if phase == "failed" and records.fleet_pause(conn) is None:
        first = ((error or "").strip().splitlines() or ["no error text"])[0][:300]
        paused = policy.Pause("node-failed", f"{node} reported phase failed: {first}",
                              f"node:{caller_node}" if caller_node else "admin", at, node)
        records.pause_fleet(conn, paused)
        records.audit(conn, "daemon", "fleet-pause", node=node, detail=f"rule node-failed: {paused.reason}")
    return os_release, paused, phase


@router.put("", summary="Report the node's upgrade phase, OS release, leapp reports and error "
            "(body: max_status_report_bytes, default 4 MiB)", response_model=StatusAccepted,
            responses=documented(400, 401, 403, 404, 413))
async def put_node_status(body: NodeStatus, w: NodeWriteDep, request: Request) -> dict:
    # No thread-pool hop: the report joins the next group commit of the writer thread (db.py) and is answered
    # once that commit is on disk.
    at = utcnow()
    try:
        os_release, paused, phase = await w.db.write(functools.partial(
            _record, at=at, body=body, reports_json=_REPORTS_JSON.dump_json(body.reports).decode(), w=w))
    except records.NotRegistered:
        raise w.refusal() from None
    node = w.node
    inhibitors = sum(r.inhibitor for r in body.reports)
    # The request's one log line (middleware.AccessLog) says what was reported.
    note(request.scope, "node status", node=node, actor=w.caller.name, phase=phase, os_release=body.os_release,
         reports=len(body.reports), inhibitors=inhibitors)
    if paused is not None:
        event("fleet paused", rule=paused.rule, node=node, reason=paused.reason)
    return {"node": node, "phase": phase, "os_release": os_release, "updated_at": at, "inhibitors": inhibitors,
            "paused_fleet": paused is not None}


@router.get("", summary="The node's current status and its timeline", response_model=NodeStatusView,
            responses=documented(400, 401, 403, 404))
def get_node_status(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep) -> dict:
    with db.snapshot() as conn:
        current, timeline = records.node_status(conn, node)
        older = records.older_reports(conn, node)
    return {"node": node, **current, "timeline": timeline, "older_reports": older}
