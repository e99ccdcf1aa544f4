"""Ceph OSD flags (noout, norecover, nobackfill, norebalance, nodeep-scrub) the project sets around a node hosting
OSDs going down. The daemon keeps who holds each flag; the node runs the cluster's own CLI (`ceph osd set|unset`):

1. before going down: PUT (hold) -> the node sets the flags;
2. back in service: DELETE -> `clear`: the flags no other node holds, now "clearing by <node>"; the node unsets
   them, then POST .../cleared. While a flag is being cleared, another node's PUT of it is a 409 (retry later):
   it would be unset under that node.
A flag the project set is never left set silently: GET /v1/status shows each one with its node(s) and since when.
The admin may forget the flags of a node that died (POST /v1/ceph-osd-flags/forget, audited).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import records
from helper_daemon.auth import AdminCaller, NodeOrAdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, NodeName
from helper_daemon.errors import ApiError, documented
from helper_daemon.logs import event
from helper_daemon.schemas import OsdFlagsCleared, OsdFlagsForgotten, OsdFlagsHeld

router = APIRouter(tags=["ceph osd flags"])

OsdFlag = Literal["noout", "norecover", "nobackfill", "norebalance", "nodeep-scrub"]


class Flags(BaseModel):
    model_config = ConfigDict(strict=True)

    flags: list[OsdFlag] = Field(min_length=1, max_length=5)


class ForgetFlags(Flags):
    reason: str = Field(min_length=1, max_length=2048, pattern=r"\S", description="why; kept in the audit log")


def _holders(rows: list[dict], state: str = "held") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in rows:
        if row["state"] == state:
            out.setdefault(row["flag"], []).append(row["node"])
    return out


@router.put("/v1/nodes/{node}/ceph-osd-flags", summary="Record that the node holds these OSD flags (before it "
            "goes down and sets them); 409 while another node clears one of them",
            response_model=OsdFlagsHeld, responses=documented(
                400, 401, 403, 404, 409, 413, refusal="Another node is clearing one of these flags: retry later"))
def hold_osd_flags(node: NodeName, body: Flags, caller: NodeOrAdminCaller, db: DatabaseDep) -> dict:
    flags = sorted(set(body.flags))
    with db.transaction() as conn:
        rows = records.osd_flags(conn)
        clearing = [r for r in rows if r["state"] == "clearing" and r["node"] != node and r["flag"] in flags]
        if clearing:
            raise ApiError(409, "flags being cleared", "another node is clearing " + ", ".join(
                f"{r['flag']} (by {r['node']} since {r['since']})" for r in clearing) + "; retry later",
                reasons=[f"{r['flag']} is being cleared by {r['node']} since {r['since']}" for r in clearing])
        records.hold_osd_flags(conn, node, flags, utcnow())
        records.audit(conn, caller.name, "osd-flags-hold", node=node, detail=",".join(flags))
        rows = records.osd_flags(conn)
    event("ceph osd flags held", node=node, flags=flags)
    return {"node": node, "flags": flags, "holders": _holders(rows)}


@router.delete("/v1/nodes/{node}/ceph-osd-flags", summary="The node is back: release its hold; `clear` are the "
               "flags no other node holds, now being cleared by this node (idempotent)",
               response_model=OsdFlagsCleared, responses=documented(400, 401, 403, 404))
def release_osd_flags(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep) -> dict:
    with db.transaction() as conn:
        rows = records.osd_flags(conn)
        mine = [r for r in rows if r["node"] == node]
        held_by_others = _holders([r for r in rows if r["node"] != node])
        still_held = {r["flag"]: held_by_others[r["flag"]] for r in mine
                      if r["state"] == "held" and r["flag"] in held_by_others}
        to_clear = [r["flag"] for r in mine if r["state"] == "held" and r["flag"] not in held_by_others]
        pending = [r["flag"] for r in mine if r["state"] == "clearing"]
        if still_held:
            records.drop_osd_flag_rows(conn, node, sorted(still_held), state="held")
        if to_clear:
            records.mark_osd_flags_clearing(conn, node, to_clear, utcnow())
        if mine:
            records.audit(conn, caller.name, "osd-flags-release", node=node,
                          detail=f"clear: {','.join(sorted(to_clear + pending)) or '-'}; still held by others: "
                          f"{','.join(sorted(still_held)) or '-'}")
    clear = sorted(set(to_clear + pending))
    if mine:
        event("ceph osd flags released", node=node, clear=clear, still_held=still_held)
    return {"node": node, "clear": clear, "still_held": still_held}


@router.post("/v1/nodes/{node}/ceph-osd-flags/cleared", status_code=204, summary="The node unset these flags "
             "(`ceph osd unset`): they are no longer the project's (idempotent)",
             responses=documented(400, 401, 403, 404, 413))
def osd_flags_cleared(node: NodeName, body: Flags, caller: NodeOrAdminCaller, db: DatabaseDep) -> Response:
    flags = sorted(set(body.flags))
    with db.transaction() as conn:
        gone = records.drop_osd_flag_rows(conn, node, flags, state="clearing")
        if gone:
            records.audit(conn, caller.name, "osd-flags-cleared", node=node, detail=",".join(flags))
    if gone:
        event("ceph osd flags cleared", node=node, flags=flags)
    return Response(status_code=204)


@router.post("/v1/ceph-osd-flags/forget", summary="Forget every hold and clearing of these flags (a node died "
             "holding them; audited): unset them with `ceph osd unset` yourself if they must go",
             response_model=OsdFlagsForgotten, responses=documented(400, 401, 403, 413))
def forget_osd_flags(body: ForgetFlags, caller: AdminCaller, db: DatabaseDep) -> dict:
    flags = sorted(set(body.flags))
    reason = body.reason.strip()
    with db.transaction() as conn:
        forgotten = [r for r in records.osd_flags(conn) if r["flag"] in flags]
        records.drop_osd_flag_rows(conn, None, flags)
        records.audit(conn, caller.name, "osd-flags-forget", detail=f"{','.join(flags)}: {reason}; forgot "
                      + (", ".join(f"{r['flag']} {r['state']} by {r['node']}" for r in forgotten) or "nothing"))
    event("ceph osd flags forgotten", flags=flags, reason=reason, forgotten=forgotten)
    return {"forgotten": forgotten, "reason": reason}
