"""What each node reports about its upgrade: the current state and the timeline of every report."""

from __future__ import annotations

import json
from typing import List, Literal, Optional

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from helper_daemon.auth import NodeOrAdminCaller
from helper_daemon.db import utcnow
from helper_daemon.logs import event

router = APIRouter(prefix="/v1/nodes/{node}/status", tags=["node status"])

PHASES = ("preupgrade", "prepared", "upgraded", "completed", "failed")


class ReportEntry(BaseModel):
    key: str = Field("", max_length=256)
    title: str = Field(max_length=1024)
    summary: str = Field("", max_length=65536)
    severity: str = Field("info", max_length=32)
    inhibitor: bool = False
    remediation: Optional[str] = Field(None, max_length=65536)


class NodeStatus(BaseModel):
    phase: Literal[PHASES]
    os_release: Optional[str] = Field(None, max_length=32, pattern=r"^[0-9]+(\.[0-9]+)*$")
    leapp_run_id: Optional[str] = Field(None, max_length=128)
    reports: List[ReportEntry] = Field(default_factory=list, max_length=2000)
    error: Optional[str] = Field(None, max_length=65536)


@router.put("", summary="Report the node's upgrade phase, OS release, leapp reports and error")
def put_status(node: str, body: NodeStatus, request: Request,
               caller: NodeOrAdminCaller) -> dict:
    at = utcnow()
    reports_json = json.dumps([r.model_dump() for r in body.reports])
    row = (body.phase, body.os_release, body.leapp_run_id, body.error, reports_json)
    with request.app.state.db.transaction() as conn:
        # A report without an OS release or run id (an early failure) keeps the last known one: the fleet view
        # and the transfer plan must not forget that a node already runs the new OS.
        conn.execute("UPDATE nodes SET phase = ?, os_release = COALESCE(?, os_release), "
                     "leapp_run_id = COALESCE(?, leapp_run_id), error = ?, reports_json = ?, "
                     "updated_at = ? WHERE name = ?", row + (at, node))
        current = conn.execute("SELECT os_release FROM nodes WHERE name = ?", (node,)).fetchone()
        conn.execute("INSERT INTO node_events (node, at, phase, os_release, leapp_run_id, error, reports_json) "
                     "VALUES (?,?,?,?,?,?,?)", (node, at) + row)
    inhibitors = sum(r.inhibitor for r in body.reports)
    event("node status", node=node, actor=caller.name, phase=body.phase, os_release=body.os_release,
          reports=len(body.reports), inhibitors=inhibitors)
    return {"node": node, "phase": body.phase, "os_release": current["os_release"], "updated_at": at,
            "inhibitors": inhibitors}


@router.get("", summary="The node's current status and its timeline")
def get_status(node: str, request: Request, caller: NodeOrAdminCaller) -> dict:
    db = request.app.state.db
    with db.snapshot() as conn:
        current = conn.execute("SELECT phase, os_release, leapp_run_id, error, reports_json, updated_at "
                               "FROM nodes WHERE name = ?", (node,)).fetchone()
        events = conn.execute("SELECT at, phase, os_release, leapp_run_id, error, reports_json FROM node_events "
                              "WHERE node = ? ORDER BY id", (node,)).fetchall()

    def shaped(row) -> dict:
        out = dict(row)
        out["reports"] = json.loads(out.pop("reports_json") or "[]")
        return out

    return {"node": node, **shaped(current), "timeline": [shaped(e) for e in events]}
