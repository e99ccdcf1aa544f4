"""What a node says of its own TripleO services, apart from its upgrade phase (tripleo-upgrade-stop-services).

The transfer step stops every TripleO service except ceph-mon on the role's old-OS nodes; the node reports
"down" once its database server has really exited, and "up" when it started them again (transfer abandoned).
The fleet status and the transfer plan show it, and the source's upload of a transfer item waits for "down"
(auth.require_item_writer): a copy of a live datadir is not a backup.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import records
from helper_daemon.auth import NodeOrAdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, NodeName
from helper_daemon.errors import documented
from helper_daemon.logs import event
from helper_daemon.schemas import ServicesReported

router = APIRouter(prefix="/v1/nodes/{node}/services", tags=["node services"])


class ServicesReport(BaseModel):
    model_config = ConfigDict(strict=True)

    state: Literal["down", "up"]
    detail: str = Field("", max_length=8192, description="what was stopped or started")


@router.put("", summary="Report that the node's TripleO services (not ceph-mon) are down, or up again",
            response_model=ServicesReported, responses=documented(400, 401, 403, 404, 413))
def put_node_services(node: NodeName, body: ServicesReport, caller: NodeOrAdminCaller, db: DatabaseDep) -> dict:
    at = utcnow()
    with db.transaction() as conn:
        records.set_services(conn, node, body.state, at, body.detail)
        records.audit(conn, caller.name, f"services-{body.state}", node=node, detail=body.detail or None)
    event("node services", node=node, actor=caller.name, state=body.state)
    return {"node": node, "state": body.state, "at": at, "detail": body.detail}
