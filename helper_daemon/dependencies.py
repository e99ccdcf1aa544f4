"""What a route may ask for: the daemon's parts (settings, database, store, metrics) and its path parameters.

The one module that reads `app.state` (app.py fills it): routes and the auth dependencies declare
`db: DatabaseDep`, `node: NodeName`, ... and FastAPI hands them over, validated.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.datastructures import State

from helper_daemon.db import Database
from helper_daemon.metrics import Metrics
from helper_daemon.names import ITEM_PATTERN, NODE_PATTERN
from helper_daemon.settings import Settings
from helper_daemon.store import ItemStore

# `async def`: a plain `def` dependency costs a thread-pool hop per request for one attribute read.


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _database(request: Request) -> Database:
    return request.app.state.db


async def _store(request: Request) -> ItemStore:
    return request.app.state.store


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def _admin_token_sha256(request: Request) -> str:
    return request.app.state.admin_token_sha256


def parts(request: Request) -> State:
    """All the daemon's parts at once, for a dependency that needs several (auth.node_write, on the busiest route:
    FastAPI solves each dependency of a request at some cost)."""
    return request.app.state


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
StoreDep = Annotated[ItemStore, Depends(_store)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
AdminTokenSha256 = Annotated[str, Depends(_admin_token_sha256)]

# A name that does not match is a 400 naming the parameter (errors.py), before any file or row is touched.
NodeName = Annotated[str, Path(pattern=NODE_PATTERN, description="a registered node, as in the inventory")]
ItemName = Annotated[str, Path(pattern=ITEM_PATTERN, description="a stored item of the node, e.g. mysql")]
TransferId = Annotated[str, Path(pattern=r"^[0-9]{1,19}$", description="the id POST /v1/transfers answered")]
