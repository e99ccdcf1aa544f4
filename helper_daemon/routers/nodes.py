"""The node registry over HTTP (admin): register a node, list them."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helper_daemon import registry
from helper_daemon.auth import AdminCaller
from helper_daemon.dependencies import DatabaseDep
from helper_daemon.errors import documented
from helper_daemon.names import NODE_PATTERN
from helper_daemon.schemas import NodeList, NodeRegistered

router = APIRouter(prefix="/v1/nodes", tags=["nodes"])


class NodeRegistration(BaseModel):
    # strict: a JSON 0 or "yes" is not a boolean; a client sending one has a bug worth a 400.
    model_config = ConfigDict(strict=True)

    name: str = Field(pattern=NODE_PATTERN)
    role: str = Field(min_length=1, max_length=128)
    ceph_mon: bool = False
    one_by_one: Optional[bool] = Field(None, description="default: the role is one-by-one if a ceph-mon host is")
    rotate_token: bool = False


@router.post("", status_code=201, summary="Register or update a node; the token is in the answer only",
             response_model=NodeRegistered, responses=documented(400, 401, 403, 413))
def add_node(body: NodeRegistration, caller: AdminCaller, db: DatabaseDep) -> dict:
    reg = registry.add_node(db, body.name, body.role, body.ceph_mon, body.one_by_one, body.rotate_token,
                            actor=caller.name)
    return {"name": reg.name, "role": reg.role, "ceph_mon": reg.ceph_mon, "one_by_one": reg.one_by_one,
            "created": reg.created, "token": reg.token}


@router.get("", summary="Registered nodes", response_model=NodeList, responses=documented(401, 403))
def list_nodes(caller: AdminCaller, db: DatabaseDep) -> dict:
    return {"nodes": registry.list_nodes(db)}
