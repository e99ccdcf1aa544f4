"""The node registry over HTTP (admin): register a node, list them."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from helper_daemon import registry
from helper_daemon.auth import AdminCaller

router = APIRouter(prefix="/v1/nodes", tags=["nodes"])


class NodeRegistration(BaseModel):
    name: str = Field(max_length=253)
    role: str = Field(min_length=1, max_length=128)
    ceph_mon: bool = False
    one_by_one: Optional[bool] = Field(None, description="default: the role is one-by-one if a ceph-mon host is")
    rotate_token: bool = False


@router.post("", status_code=201, summary="Register or update a node; the token is in the answer only")
def add_node(body: NodeRegistration, request: Request, caller: AdminCaller) -> dict:
    reg = registry.add_node(request.app.state.db, body.name, body.role, body.ceph_mon, body.one_by_one,
                            body.rotate_token, actor=caller.name)
    return {"name": reg.name, "role": reg.role, "ceph_mon": reg.ceph_mon, "one_by_one": reg.one_by_one,
            "created": reg.created, "token": reg.token}


@router.get("", summary="Registered nodes")
def list_nodes(request: Request, caller: AdminCaller) -> dict:
    return {"nodes": registry.list_nodes(request.app.state.db)}
