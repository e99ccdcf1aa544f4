"""Who is calling: FastAPI dependencies that turn the bearer token into a `Caller` or refuse (401/403/404)."""

from __future__ import annotations

import dataclasses
import hmac
from typing import Annotated, Optional

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from helper_daemon import records
from helper_daemon.dependencies import AdminTokenSha256, DatabaseDep, ItemName, NodeName
from helper_daemon.errors import ApiError
from helper_daemon.tokens import token_sha256

ADMIN = "admin"

# auto_error=False: a missing or malformed header gets this API's own 401 below, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="the admin token or a node's token")


@dataclasses.dataclass(frozen=True)
class Caller:
    node: Optional[str]  # None for the admin
    transfer_id: Optional[str] = None  # the open transfer that lets this node read another node's item

    @property
    def is_admin(self) -> bool:
        return self.node is None

    @property
    def name(self) -> str:
        """How the audit log and the logs name the caller."""
        return ADMIN if self.node is None else f"node:{self.node}"


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


# The dependencies below are `async def`: their SQLite reads are indexed point queries of microseconds, done on the
# event loop instead of a thread-pool hop each (a status report went through three hops).


async def authenticated(credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(_bearer)],
                  db: DatabaseDep, admin_token_sha256: AdminTokenSha256) -> Caller:
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise _unauthorized("send 'Authorization: Bearer <token>' (the admin token or the node's token)")
    # Only digests are compared or looked up, so timing says nothing about the token itself: the admin's in
    # constant time, a node's by the SQL equality on the token's sha256 (safe because the token is hashed first).
    digest = token_sha256(token)
    if hmac.compare_digest(digest, admin_token_sha256):
        return Caller(node=None)
    with db.snapshot() as conn:
        node = records.node_with_token(conn, digest)
    if node is None:
        raise _unauthorized("the token is not the admin token nor any registered node's token")
    return Caller(node=node)


async def require_admin(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    if not caller.is_admin:
        raise ApiError(403, "forbidden", f"only the admin token may do this; {caller.name} may not")
    return caller


def _registered(db, caller: Caller, node: str) -> None:
    """404 unless `node` is registered; a node calling about itself was just found by its token."""
    if caller.node == node:
        return
    with db.snapshot() as conn:
        if not records.node_exists(conn, node):
            raise ApiError(404, "unknown node", f"node {node!r} is not registered; see 'tripleo-upgrade-helper "
                           "nodes add'")


async def require_node_or_admin(node: NodeName, db: DatabaseDep,
                                caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """The node named in the path, or the admin."""
    if not caller.is_admin and caller.node != node:
        raise ApiError(403, "forbidden", f"the token of node {caller.node!r} reaches only that node, not {node!r}")
    _registered(db, caller, node)
    return caller


async def require_item_reader(node: NodeName, item: ItemName, db: DatabaseDep,
                        caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """The node itself, the admin, or the target of an open transfer of this item from this node."""
    if not caller.is_admin and caller.node != node:
        with db.snapshot() as conn:
            transfer_id = records.open_transfer_granting(conn, node, caller.node, item)
        if transfer_id is None:
            raise ApiError(403, "forbidden", f"the token of node {caller.node!r} reaches only that node; no open "
                           f"transfer grants it {node!r}'s item {item!r}")
        caller = dataclasses.replace(caller, transfer_id=transfer_id)
    _registered(db, caller, node)
    return caller


def require_item_writer(node: NodeName, item: ItemName, db: DatabaseDep,
                        caller: Annotated[Caller, Depends(require_node_or_admin)]) -> Caller:
    """The node itself or the admin; while an open transfer takes this item from the node, the node may upload
    it only after it reported its services down (a copy of a live datadir is not a backup)."""
    if caller.is_admin:
        return caller
    with db.snapshot() as conn:
        transfers = records.open_transfers_from(conn, node, item)
        services = records.services(conn).get(node) if transfers else None
    if transfers and (services is None or services["state"] != "down"):
        said = (f"its services were reported {services['state']} at {services['at']}" if services
                else "its services were never reported down")
        raise ApiError(409, "source services not down",
                       f"{node} is the source of open transfer {', '.join(transfers)} but {said}: run "
                       "tripleo-upgrade-stop-services on it first, then push again",
                       reasons=[f"{node}: {said}"])
    return caller


# Route parameters: `def route(..., caller: AdminCaller)`.
AnyCaller = Annotated[Caller, Depends(authenticated)]
AdminCaller = Annotated[Caller, Depends(require_admin)]
NodeOrAdminCaller = Annotated[Caller, Depends(require_node_or_admin)]
ItemReaderCaller = Annotated[Caller, Depends(require_item_reader)]
ItemWriterCaller = Annotated[Caller, Depends(require_item_writer)]
