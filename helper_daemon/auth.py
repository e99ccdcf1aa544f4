"""Who is calling: FastAPI dependencies that turn the bearer token into a `Caller` or refuse (401/403/404)."""

from __future__ import annotations

import dataclasses
import hmac
from typing import Annotated, Optional

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from helper_daemon import records
from helper_daemon.db import Database
from helper_daemon.dependencies import AdminTokenSha256, DatabaseDep, ItemName, NodeName, parts
from helper_daemon.errors import ApiError
from helper_daemon.settings import Settings
from helper_daemon.tokens import KnownTokens, token_sha256

ADMIN = "admin"

# auto_error=False: a missing or malformed header gets this API's own 401 below, not FastAPI's 403.
_BEARER_DESCRIPTION = "the admin token or a node's token"
_bearer = HTTPBearer(auto_error=False, description=_BEARER_DESCRIPTION)


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


Bearer = Annotated[Optional[HTTPAuthorizationCredentials], Depends(_bearer)]


def _token_digest(credentials: Optional[HTTPAuthorizationCredentials]) -> str:
    """The sha256 of the bearer token; 401 without one. Only digests are compared or looked up, so timing says
    nothing about the token itself: the admin's in constant time, a node's by an equality on the token's sha256
    (in SQL or in KnownTokens; safe because the token is hashed first)."""
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise _unauthorized("send 'Authorization: Bearer <token>' (the admin token or the node's token)")
    return token_sha256(token)


NOT_REGISTERED = "the token is not the admin token nor any registered node's token"


def _node_with_token(db: Database, digest: str) -> Caller:
    with db.snapshot() as conn:
        node = records.node_with_token(conn, digest)
    if node is None:
        raise _unauthorized(NOT_REGISTERED)
    return Caller(node=node)


async def authenticated(credentials: Bearer, db: DatabaseDep, admin_token_sha256: AdminTokenSha256) -> Caller:
    digest = _token_digest(credentials)
    if hmac.compare_digest(digest, admin_token_sha256):
        return Caller(node=None)
    return _node_with_token(db, digest)


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


@dataclasses.dataclass(frozen=True, slots=True)
class NodeWrite:
    """A write about `node` by that node or the admin, done in a `Database.write()` job that confirms the caller
    in its own transaction (records.NotRegistered from the write: answer `refusal()`); with the daemon's parts it
    needs, so the busiest route (status reports) has FastAPI solve one dependency where it solved six.

    A node's token is recognised from `KnownTokens` (no SQLite read on the event loop) once SQLite has said whose
    it is; the write then matches the node's row by name AND token digest, so a token rotated or a node removed
    meanwhile (by this daemon or by the CLI on the same state dir) is refused at once, with nothing written. The
    admin's is compared in constant time as for every route; a node the admin names must exist, checked by the
    write too."""

    node: str
    caller: Caller
    token_sha256: Optional[str]  # a node's token digest, for the write's own check; None: the admin
    db: Database
    settings: Settings
    known_tokens: KnownTokens

    def refusal(self) -> ApiError:
        """The answer when the write found no row of `node` with the caller's token (see records.record_status)."""
        if self.token_sha256 is None:
            return ApiError(404, "unknown node", f"node {self.node!r} is not registered; see 'tripleo-upgrade-helper "
                            "nodes add'")
        self.known_tokens.forget(self.node, self.token_sha256)
        return _unauthorized(NOT_REGISTERED)


class _NodeWriteBearer(HTTPBearer):
    """`node_write` as the bearer scheme itself: OpenAPI shows the same HTTPBearer security as for every other
    route, and FastAPI solves one dependency where a function taking `Bearer` would be two."""

    async def __call__(self, node: NodeName, request: Request) -> NodeWrite:
        """The node named in the path or the admin (401/403 as `require_node_or_admin`; 404 and a token changed
        since it was known come from the write, see NodeWrite)."""
        state = parts(request)
        digest = _token_digest(await super().__call__(request))
        if hmac.compare_digest(digest, state.admin_token_sha256):
            return NodeWrite(node, Caller(node=None), None, state.db, state.settings, state.known_tokens)
        if not state.known_tokens.is_token_of(node, digest):
            caller = _node_with_token(state.db, digest)
            if caller.node != node:
                raise ApiError(403, "forbidden", f"the token of node {caller.node!r} reaches only that node, not "
                               f"{node!r}")
            state.known_tokens.learn(node, digest)
        return NodeWrite(node, Caller(node=node), digest, state.db, state.settings, state.known_tokens)


node_write = _NodeWriteBearer(auto_error=False, scheme_name=_bearer.scheme_name, description=_BEARER_DESCRIPTION)


# Route parameters: `def route(..., caller: AdminCaller)`.
AnyCaller = Annotated[Caller, Depends(authenticated)]
AdminCaller = Annotated[Caller, Depends(require_admin)]
NodeOrAdminCaller = Annotated[Caller, Depends(require_node_or_admin)]
ItemReaderCaller = Annotated[Caller, Depends(require_item_reader)]
ItemWriterCaller = Annotated[Caller, Depends(require_item_writer)]
NodeWriteDep = Annotated[NodeWrite, Depends(node_write)]
