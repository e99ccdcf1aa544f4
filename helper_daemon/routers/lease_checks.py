"""POST /v1/leases/check: may these nodes be down together now? The Ansible `--limit` guard asks before it runs.

The nodes are decided one after the other as if each earlier allowed one had been granted its lease; nothing is
written (a snapshot), not even the quorum facts the body may carry.
"""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import policy, records, safety
from helper_daemon.auth import AdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, SettingsDep
from helper_daemon.errors import ApiError, documented
from helper_daemon.names import NODE_PATTERN
from helper_daemon.schemas import CephMonQuorum, LeaseCheck

router = APIRouter(tags=["leases"])
# Per database file: the rows of each role as last loaded, reused while records.nodes_version is unchanged.
_rows_cache: dict[str, dict] = {}


class LeaseCheckRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    nodes: list[Annotated[str, Field(pattern=NODE_PATTERN)]] = Field(min_length=1, max_length=2000,
                             description="registered nodes, decided in this order; a repeated name counts once")
    ceph_mon_quorum: Optional[CephMonQuorum] = Field(None, description="what the caller sees now (not recorded)")


@router.post("/v1/leases/check", summary="May these nodes be down together now? Decided one after the other; "
             "nothing is written", response_model=LeaseCheck, responses=documented(400, 401, 403, 404, 413))
def check_leases(body: LeaseCheckRequest, caller: AdminCaller, db: DatabaseDep, settings: SettingsDep) -> dict:
    now = utcnow()
    with db.snapshot() as conn:
        nodes, unknown = records.lease_group_nodes(conn, body.nodes, _rows_cache.setdefault(str(settings.state_dir),
                                                                                           {}))
        if unknown:
            raise ApiError(404, "unknown node", f"not registered: {', '.join(unknown)}", nodes=unknown)
        leases = {n: r["since"] for n, r in records.leases(conn).items()}
        pause, _ = safety.current_pause(conn, settings, now)
        extra = [safety.observation(body.ceph_mon_quorum, None)] if body.ceph_mon_quorum else []
        facts = safety.lease_facts(conn, nodes, body.nodes, settings, now, pause, extra)
        rules = safety.lease_rules(conn, settings)
    group = policy.decide_group(body.nodes, nodes, leases, rules, facts)
    return {
        "allowed": group.allowed,
        "nodes": [{"node": name, "granted": d.granted, "already_held": d.already_held, "reasons": list(d.reasons),
                   "blockers": [b.as_dict() for b in d.blockers]} for name, d in group.decisions],
        "reasons": group.reasons,
    }
