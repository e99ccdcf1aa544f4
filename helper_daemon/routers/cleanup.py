"""system_upgrade_cleanup: remove every stored item (they hold secrets) once the nodes have restored them."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import records
from helper_daemon.auth import AdminCaller
from helper_daemon.dependencies import DatabaseDep, MetricsDep, StoreDep
from helper_daemon.errors import ApiError, documented
from helper_daemon.logs import event
from helper_daemon.schemas import CleanupDone

router = APIRouter(tags=["operations"])

RESTORED_PHASES = ("upgraded", "completed")


class CleanupRequest(BaseModel):
    # strict: a JSON 0 or "yes" is not a boolean; a client sending one has a bug worth a 400.
    model_config = ConfigDict(strict=True)

    force: bool = False
    reason: str = Field("", max_length=1024)


@router.post("/v1/cleanup", summary="Remove all stored node data; refused while a node has not restored its data",
             response_model=CleanupDone,
             responses=documented(400, 401, 403, 409, 413, refusal="A node's data may not be restored yet"))
def cleanup(caller: AdminCaller, db: DatabaseDep, store: StoreDep, metrics: MetricsDep,
            body: Optional[CleanupRequest] = None) -> dict:
    body = body or CleanupRequest()
    stored = store.all_items()
    with db.snapshot() as conn:
        phases = records.node_phases(conn)
        kept = records.kept_roles(conn)
        roles = {n["name"]: n["role"] for n in records.registered_nodes(conn)}
    # A node of a role kept on the old OS is not upgraded: it restores nothing, cleanup does not wait for it.
    waiting = {node: objs for node, objs in stored.items()
               if phases.get(node) not in RESTORED_PHASES and roles.get(node) not in kept}
    reasons = [f"node {node} has {len(objs)} stored item(s) ({', '.join(o.item for o in objs)}) and its phase is "
               f"{phases.get(node) or 'unreported'}, not upgraded or completed: its data may not be restored yet"
               for node, objs in waiting.items()]
    if metrics.uploads_in_flight:
        reasons.append(f"{metrics.uploads_in_flight} upload(s) in progress; they would survive the cleanup")
    if reasons and not body.force:
        raise ApiError(409, "cleanup refused", "stored data may still be needed; finish those nodes or force the "
                       "cleanup (tripleo-upgrade-helper cleanup --force)", reasons=reasons,
                       nodes=sorted(waiting))
    detail = "forced: " + (body.reason or "no reason given") if body.force and reasons else None
    removed = []
    for node, objs in stored.items():
        for obj in objs:
            gone = store.delete(node, obj.item)
            if gone is None:
                continue
            with db.transaction() as conn:
                records.audit(conn, caller.name, "cleanup-remove", node, gone.item, gone.size, gone.sha256, detail)
            removed.append({"node": node, "item": gone.item, "size": gone.size, "sha256": gone.sha256})
    event("cleanup", actor=caller.name, forced=bool(detail), items=len(removed),
          bytes=sum(r["size"] for r in removed), overridden=reasons if detail else [])
    return {"removed": removed, "forced": bool(detail), "overridden": reasons if detail else []}
