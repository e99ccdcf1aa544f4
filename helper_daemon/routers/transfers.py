"""One-shot database transfers: the plan per role, opening a grant, sealing it (decisions in policy.py).

While a transfer is open its target may read the source's listed items (auth.require_item_reader);
once sealed, that role refuses another transfer unless the admin forces it with a written reason, and never
after the target has started its services.
"""

from __future__ import annotations

import sqlite3
from typing import Annotated, List, Optional

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import policy, records
from helper_daemon.auth import AdminCaller, AnyCaller, NodeOrAdminCaller
from helper_daemon.db import utcnow
from helper_daemon.dependencies import DatabaseDep, NodeName, SettingsDep, TransferId
from helper_daemon.errors import ApiError, documented
from helper_daemon.logs import event
from helper_daemon.names import ITEM_PATTERN, NODE_PATTERN
from helper_daemon.schemas import NodeTransfers, Transfer, TransferPlans

router = APIRouter(tags=["transfers"])


def _plan_and_decide(conn: sqlite3.Connection, nodes: dict[str, policy.Node], started: set[str],
                     target_os_major: int, role: str, source: Optional[str] = None, target: Optional[str] = None,
                     force: bool = False, reason: str = "", kept: Optional[dict] = None):
    """`nodes` (records.policy_nodes), `started` (records.started_nodes) and `kept` (records.kept_roles) are read
    once per request."""
    kept = records.kept_roles(conn) if kept is None else kept
    plan = policy.plan_transfer(role, nodes, target_os_major, source, target,
                                kept[role]["reason"] if role in kept else None)
    history = records.transfers_of_role(conn, role)
    past = [policy.PastTransfer(t["id"], t["source"], t["target"], t["state"], t["sealed_at"]) for t in history]
    decision = policy.decide_transfer(plan, past, started, force, reason)
    return plan, history, decision


@router.get("/v1/transfer/plan", summary="Per role: the transfer's source and target, or why there is none now",
            response_model=TransferPlans, responses=documented(401, 403))
def transfer_plan(caller: AdminCaller, db: DatabaseDep, settings: SettingsDep,
                  role: Annotated[List[str], Query(description="repeat for several roles; none: every role")] = ()):
    plans = []
    with db.snapshot() as conn:
        kept = records.kept_roles(conn)
        # Roles kept on the old OS are left out of the plans, unless asked for by name (then: why none).
        roles = role or [r for r in records.roles(conn) if r not in kept]
        nodes, started = records.policy_nodes(conn), records.started_nodes(conn)
        services = records.services(conn)
        for name in dict.fromkeys(roles):
            plan, history, decision = _plan_and_decide(conn, nodes, started, settings.target_os_major, name,
                                                       kept=kept)
            # "valid"/"reasons" answer "would POST /v1/transfers open it now?" (the OS shape and the one-shot rule).
            plans.append(dict(plan.as_dict(), valid=decision.granted, reasons=list(decision.reasons),
                              transfers=history, source_services=services.get(plan.source)))
    return {"target_os_major": settings.target_os_major, "plans": plans}


class TransferRequest(BaseModel):
    # strict: a JSON 0 or "yes" is not a boolean; a client sending one has a bug worth a 400.
    model_config = ConfigDict(strict=True)

    role: str = Field(min_length=1, max_length=128)
    source: Optional[str] = Field(None, description="default: the first old-OS node of the role", pattern=NODE_PATTERN)
    target: Optional[str] = Field(None, description="default: the role's single new-OS node", pattern=NODE_PATTERN)
    items: List[Annotated[str, Field(pattern=ITEM_PATTERN)]] = Field(
        min_length=1, max_length=64, description="stored items of the source, e.g. mysql")
    force: bool = Field(False, description="override the one-shot seal (never a target that started services)")
    reason: str = Field("", max_length=2048, description="required with force: kept in the audit log")


@router.post("/v1/transfers", status_code=201, summary="Open a one-shot transfer grant for a role",
             response_model=Transfer,
             responses=documented(400, 401, 403, 409, 413, refusal="No transfer for this role now"))
def open_transfer(body: TransferRequest, caller: AdminCaller, db: DatabaseDep, settings: SettingsDep) -> dict:
    items = list(dict.fromkeys(body.items))
    with db.transaction() as conn:
        plan, history, decision = _plan_and_decide(conn, records.policy_nodes(conn), records.started_nodes(conn),
                                                   settings.target_os_major, body.role, body.source, body.target,
                                                   body.force, body.reason)
        if decision.granted:
            overrides_seal = any(t["state"] == "sealed" for t in history)
            created = records.insert_transfer(conn, body.role, plan.source, plan.target, items,
                                              body.reason.strip() if body.force else None)
            detail = f"transfer {created['id']} of role {body.role}: {plan.source} -> {plan.target}, items {items}"
            if overrides_seal:
                detail += f"; FORCED past the seal of transfer(s) " \
                          f"{', '.join(t['id'] for t in history)}: {body.reason.strip()}"
            records.audit(conn, caller.name, "transfer-open-forced" if overrides_seal else "transfer-open",
                          node=plan.target, detail=detail)
    if not decision.granted:
        event("transfer refused", role=body.role, actor=caller.name, reasons=list(decision.reasons))
        raise ApiError(409, "transfer refused", f"no transfer for role {body.role} now: {decision.reasons[0]}",
                       reasons=list(decision.reasons), plan=plan.as_dict())
    event("transfer opened", actor=caller.name, **created)
    return created


@router.post("/v1/transfers/{transfer_id}/complete", summary="Seal a transfer (its target or the admin)",
             response_model=Transfer, responses=documented(400, 401, 403, 404))
def complete_transfer(transfer_id: TransferId, caller: AnyCaller, db: DatabaseDep) -> dict:
    with db.transaction() as conn:
        transfer = records.transfer(conn, transfer_id)
        # A node that is neither source nor target learns nothing of the transfer, not even that it exists.
        if transfer and not caller.is_admin and caller.node not in (transfer["source"], transfer["target"]):
            transfer = None
        if transfer is None:
            raise ApiError(404, "unknown transfer", f"there is no transfer {transfer_id!r}; "
                           "see GET /v1/nodes/<node>/transfers")
        if not caller.is_admin and caller.node != transfer["target"]:
            raise ApiError(403, "forbidden", f"only the target {transfer['target']} or the admin may complete "
                           f"transfer {transfer_id}, not {caller.name}")
        if transfer["state"] == "open":
            transfer.update(state="sealed", sealed_at=utcnow())
            records.seal_transfer(conn, transfer_id, transfer["sealed_at"])
            records.audit(conn, caller.name, "transfer-seal", node=transfer["target"],
                          detail=f"transfer {transfer_id} of role {transfer['role']} sealed")
            event("transfer sealed", actor=caller.name, id=transfer_id, role=transfer["role"])
    return transfer


@router.get("/v1/nodes/{node}/transfers", summary="Transfers where the node is the source or the target",
            response_model=NodeTransfers, responses=documented(400, 401, 403, 404))
def node_transfers(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep) -> dict:
    with db.snapshot() as conn:
        return {"transfers": records.transfers_of_node(conn, node)}
