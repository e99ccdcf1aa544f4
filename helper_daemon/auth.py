"""Who is calling: FastAPI dependencies that turn the bearer token into a `Caller` or refuse (401/403)."""

from __future__ import annotations

import dataclasses
import hmac
import json
from typing import Annotated, Optional

from fastapi import Depends, Request

from helper_daemon.errors import ApiError
from helper_daemon.names import check_item, check_node
from helper_daemon.tokens import token_sha256

ADMIN = "admin"


@dataclasses.dataclass(frozen=True)
class Caller:
    node: Optional[str]  # None for the admin

    @property
    def is_admin(self) -> bool:
        return self.node is None

    @property
    def name(self) -> str:
        """How the audit log and the logs name the caller."""
        return ADMIN if self.node is None else f"node:{self.node}"


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def authenticated(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("send 'Authorization: Bearer <token>' (the admin token or the node's token)")
    # Only digests are compared or looked up, so timing says nothing about the token itself: the admin's in
    # constant time, a node's by the SQL equality on the token's sha256 (safe because the token is hashed first).
    digest = token_sha256(token.strip())
    if hmac.compare_digest(digest, request.app.state.admin_token_sha256):
        return Caller(node=None)
    row = request.app.state.db.query_one("SELECT name FROM nodes WHERE token_sha256 = ?", (digest,))
    if row is None:
        raise _unauthorized("the token is not the admin token nor any registered node's token")
    return Caller(node=row["name"])


def require_admin(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    if not caller.is_admin:
        raise ApiError(403, "forbidden", f"only the admin token may do this; {caller.name} may not")
    return caller


def _registered(request: Request, caller: Caller, node: str) -> None:
    """404 unless `node` is registered; a node calling about itself was just found by its token."""
    if caller.node == node:
        return
    if request.app.state.db.query_one("SELECT 1 FROM nodes WHERE name = ?", (node,)) is None:
        raise ApiError(404, "unknown node", f"node {node!r} is not registered; see 'tripleo-upgrade-helper nodes add'")


def require_node_or_admin(node: str, request: Request, caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """The node named in the path, or the admin."""
    check_node(node)
    if not caller.is_admin and caller.node != node:
        raise ApiError(403, "forbidden", f"the token of node {caller.node!r} reaches only that node, not {node!r}")
    _registered(request, caller, node)
    return caller


def granted_transfer_id(request: Request, source: str, target: str, item: str) -> Optional[str]:
    """The id of an open transfer letting `target` read `source`'s `item`, if any."""
    rows = request.app.state.db.query(
        "SELECT id, items_json FROM transfers WHERE state = 'open' AND source = ? AND target = ?", (source, target))
    for row in rows:
        if item in json.loads(row["items_json"]):
            return row["id"]
    return None


def require_item_reader(node: str, item: str, request: Request,
                        caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """The node itself, the admin, or the target of an open transfer of this item from this node."""
    check_node(node)
    check_item(item)
    if not caller.is_admin and caller.node != node:
        request.state.transfer_id = granted_transfer_id(request, node, caller.node, item)
        if request.state.transfer_id is None:
            raise ApiError(403, "forbidden", f"the token of node {caller.node!r} reaches only that node; no open "
                           f"transfer grants it {node!r}'s item {item!r}")
    _registered(request, caller, node)
    return caller


# Route parameters: `def route(..., caller: AdminCaller)`.
AnyCaller = Annotated[Caller, Depends(authenticated)]
AdminCaller = Annotated[Caller, Depends(require_admin)]
NodeOrAdminCaller = Annotated[Caller, Depends(require_node_or_admin)]
ItemReaderCaller = Annotated[Caller, Depends(require_item_reader)]
