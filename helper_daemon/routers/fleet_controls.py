"""Pause and resume the fleet: a paused daemon grants no new lease and says why; nodes already down carry on.

The admin pauses with a reason (rule "admin"); the daemon pauses itself when a node reports `failed` (rule
"node-failed", node_status.py) or when a leased node stays silent longer than `silent_node_pause_after` (rule
"node-silent", written by the next lease decision; GET shows it as soon as it is due). Both audited.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import policy, records, safety
from helper_daemon.auth import AdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, SettingsDep
from helper_daemon.errors import documented
from helper_daemon.logs import event
from helper_daemon.schemas import FleetPauseState

router = APIRouter(prefix="/v1/fleet", tags=["fleet controls"])


class Reason(BaseModel):
    model_config = ConfigDict(strict=True)

    reason: str = Field(min_length=1, max_length=2048, pattern=r"\S", description="why; kept in the audit log")


@router.get("/pause", summary="Is the fleet paused, by which rule, since when", response_model=FleetPauseState,
            responses=documented(401, 403))
def fleet_pause_state(caller: AdminCaller, db: DatabaseDep, settings: SettingsDep) -> dict:
    with db.snapshot() as conn:
        pause, _ = safety.current_pause(conn, settings, utcnow())
    return {"paused": pause.as_dict() if pause else None, "changed": False}


@router.post("/pause", summary="Pause the fleet: no new lease until resumed (audited); a pause in force stays as "
             "it is", response_model=FleetPauseState, responses=documented(400, 401, 403, 413))
def pause_fleet(body: Reason, caller: AdminCaller, db: DatabaseDep, settings: SettingsDep) -> dict:
    reason = body.reason.strip()
    now = utcnow()
    with db.transaction() as conn:
        pause = records.fleet_pause(conn)
        changed = pause is None
        if changed:
            pause = policy.Pause("admin", reason, caller.name, now)
            records.pause_fleet(conn, pause)
        records.audit(conn, caller.name, "fleet-pause" if changed else "fleet-pause-already",
                      detail=reason if changed else f"{reason} (already paused by rule {pause.rule} since "
                      f"{pause.since})")
    event("fleet paused" if changed else "fleet already paused", rule=pause.rule, reason=reason)
    return {"paused": pause.as_dict(), "changed": changed}


@router.post("/resume", summary="Resume the fleet: leases are granted again (audited); a silent node is timed "
             "from now", response_model=FleetPauseState, responses=documented(400, 401, 403, 413))
def resume_fleet(body: Reason, caller: AdminCaller, db: DatabaseDep) -> dict:
    reason = body.reason.strip()
    now = utcnow()
    with db.transaction() as conn:
        pause = records.fleet_pause(conn)
        records.resume_fleet(conn, now)
        records.audit(conn, caller.name, "fleet-resume", node=pause.node if pause else None,
                      detail=f"{reason} (was paused by rule {pause.rule} since {pause.since}: {pause.reason})"
                      if pause else f"{reason} (was not paused)")
    event("fleet resumed", reason=reason, was=pause.as_dict() if pause else None)
    return {"paused": None, "changed": pause is not None}
