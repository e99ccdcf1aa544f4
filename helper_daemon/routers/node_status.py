"""What each node reports about its upgrade: the current state and the timeline of its latest reports.

A report's body is at most `max_status_report_bytes` (413 beyond, app.py); the timeline keeps the latest
`status_timeline_length` reports per node, at most `status_timeline_bytes` of them, and counts the older ones, so no
node grows the database or this answer without limit.
"""

from __future__ import annotations

import functools
from typing import List, Literal, Optional

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from helper_daemon import records
from helper_daemon.auth import NodeOrAdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, NodeName, SettingsDep
from helper_daemon.errors import documented
from helper_daemon.logs import event
from helper_daemon.schemas import PHASES, NodeStatusView, ReportEntry, StatusAccepted

router = APIRouter(prefix="/v1/nodes/{node}/status", tags=["node status"])
# The reports as stored (reports_json), serialised in pydantic's core rather than json.dumps of dicts.
_REPORTS_JSON = TypeAdapter(List[ReportEntry])

class NodeStatus(BaseModel):
    model_config = ConfigDict(strict=True)

    phase: Literal[PHASES]
    os_release: Optional[str] = Field(None, max_length=32, pattern=r"^[0-9]+(\.[0-9]+)*$")
    leapp_run_id: Optional[str] = Field(None, max_length=128)
    reports: List[ReportEntry] = Field(default_factory=list, max_length=2000)
    error: Optional[str] = Field(None, max_length=65536)


@router.put("", summary="Report the node's upgrade phase, OS release, leapp reports and error "
            "(body: max_status_report_bytes, default 4 MiB)", response_model=StatusAccepted,
            responses=documented(400, 401, 403, 404, 413))
async def put_node_status(node: NodeName, body: NodeStatus, caller: NodeOrAdminCaller, db: DatabaseDep,
                          settings: SettingsDep) -> dict:
    # No thread-pool hop: the report joins the next group commit of the writer thread (db.py) and is answered
    # once that commit is on disk.
    at = utcnow()
    os_release = await db.write(functools.partial(
        records.record_status, node=node, at=at, phase=body.phase, os_release=body.os_release,
        leapp_run_id=body.leapp_run_id, error=body.error,
        reports_json=_REPORTS_JSON.dump_json(body.reports).decode(),
        timeline_length=settings.status_timeline_length, timeline_bytes=settings.status_timeline_bytes))
    inhibitors = sum(r.inhibitor for r in body.reports)
    event("node status", node=node, actor=caller.name, phase=body.phase, os_release=body.os_release,
          reports=len(body.reports), inhibitors=inhibitors)
    return {"node": node, "phase": body.phase, "os_release": os_release, "updated_at": at, "inhibitors": inhibitors}


@router.get("", summary="The node's current status and its timeline", response_model=NodeStatusView,
            responses=documented(400, 401, 403, 404))
def get_node_status(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep) -> dict:
    with db.snapshot() as conn:
        current, timeline = records.node_status(conn, node)
        older = records.older_reports(conn, node)
    return {"node": node, **current, "timeline": timeline, "older_reports": older}
