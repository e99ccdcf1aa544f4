"""Accepted inhibitors: the admin lets a leapp inhibitor through, by report key, for a node, a role or the fleet,
with a written reason (audited). The lease rules, the preupgrade check and the prepare step let an accepted
inhibitor through and stop on every other one."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import policy, records
from helper_daemon.auth import AdminCaller, NodeOrAdminCaller
from helper_daemon.dependencies import DatabaseDep, NodeName
from helper_daemon.errors import ApiError, documented
from helper_daemon.logs import event
from helper_daemon.names import NODE_PATTERN
from helper_daemon.schemas import ROLE_PATTERN, AcceptedInhibitor, AcceptedInhibitors, NodeAcceptedInhibitors

router = APIRouter(tags=["inhibitors"])

AcceptanceId = Annotated[str, Path(pattern=r"^[0-9]{1,18}$", description="the id POST /v1/inhibitors/accepted "
                                                                          "answered")]


class _Acceptance(BaseModel):
    model_config = ConfigDict(strict=True)

    key: str = Field(min_length=1, max_length=256, pattern=r"^\S+$", description="the leapp report entry's key")
    reason: str = Field(min_length=1, max_length=2048, pattern=r"\S", description="why it is safe; audited")


class NodeAcceptance(_Acceptance):
    scope: Literal["node"]
    target: str = Field(pattern=NODE_PATTERN, description="the node")


class RoleAcceptance(_Acceptance):
    scope: Literal["role"]
    target: str = Field(pattern=ROLE_PATTERN, description="the role")


class FleetAcceptance(_Acceptance):
    scope: Literal["fleet"]
    target: None = Field(None, description="null: every node")


Acceptance = Annotated[Union[NodeAcceptance, RoleAcceptance, FleetAcceptance], Field(discriminator="scope")]


def _view(acceptance: policy.Acceptance) -> dict:
    return acceptance.as_dict()


@router.post("/v1/inhibitors/accepted", status_code=201, summary="Accept an inhibitor by report key for a node, "
             "a role or the fleet, with a reason (audited)", response_model=AcceptedInhibitor,
             responses=documented(400, 401, 403, 404, 413))
def accept_inhibitor(body: Acceptance, caller: AdminCaller, db: DatabaseDep) -> dict:
    reason = body.reason.strip()
    with db.transaction() as conn:
        if body.scope == "node" and not records.node_exists(conn, body.target):
            raise ApiError(404, "unknown node", f"target: node {body.target!r} is not registered")
        if body.scope == "role" and not records.role_exists(conn, body.target):
            raise ApiError(404, "unknown role", f"target: no node of role {body.target!r} is registered")
        accepted = records.accept_inhibitor(conn, body.key, body.scope, body.target, reason, caller.name)
        records.audit(conn, caller.name, "inhibitor-accept", node=body.target if body.scope == "node" else None,
                      item=body.key, detail=f"#{accepted.id} scope {body.scope} {body.target or ''}: {reason}")
    event("inhibitor accepted", id=accepted.id, key=body.key, scope=body.scope, target=body.target, reason=reason)
    return _view(accepted)


@router.get("/v1/inhibitors/accepted", summary="Every accepted inhibitor", response_model=AcceptedInhibitors,
            responses=documented(401, 403))
def list_accepted_inhibitors(caller: AdminCaller, db: DatabaseDep) -> dict:
    with db.snapshot() as conn:
        return {"accepted": [_view(a) for a in records.acceptances(conn)]}


@router.delete("/v1/inhibitors/accepted/{acceptance_id}", status_code=204, summary="Revoke an acceptance "
               "(audited)", responses=documented(400, 401, 403, 404))
def revoke_accepted_inhibitor(acceptance_id: AcceptanceId, caller: AdminCaller, db: DatabaseDep) -> Response:
    with db.transaction() as conn:
        gone = records.revoke_acceptance(conn, int(acceptance_id))
        if gone is None:
            raise ApiError(404, "unknown acceptance", f"there is no accepted inhibitor #{acceptance_id}; see GET "
                           "/v1/inhibitors/accepted")
        records.audit(conn, caller.name, "inhibitor-revoke", node=gone.target if gone.scope == "node" else None,
                      item=gone.key, detail=f"#{gone.id} scope {gone.scope} {gone.target or ''}")
    event("inhibitor acceptance revoked", id=acceptance_id, key=gone.key)
    return Response(status_code=204)


@router.get("/v1/nodes/{node}/accepted-inhibitors", summary="Every acceptance that applies to this node (its own, "
            "its role's, the fleet's)", response_model=NodeAcceptedInhibitors,
            responses=documented(400, 401, 403, 404))
def node_accepted_inhibitors(node: NodeName, caller: NodeOrAdminCaller, db: DatabaseDep) -> dict:
    with db.snapshot() as conn:
        role = records.node_role(conn, node)
        if role is None:
            raise ApiError(404, "unknown node", f"node {node!r} is not registered")
        found = policy.acceptances_for(node, role, records.acceptances(conn))
    return {"node": node, "accepted": [_view(a) for a in found]}
