"""The FastAPI application: one instance per daemon. Its parts go on app.state; routes get them through
dependencies.py. Routers are siblings: none imports another."""

from __future__ import annotations

from fastapi import FastAPI

from helper_daemon import __version__
from helper_daemon.db import Database
from helper_daemon.errors import install_error_handlers
from helper_daemon.logs import event
from helper_daemon.metrics import Metrics
from helper_daemon.middleware import AccessLog
from helper_daemon.routers import cleanup, data, fleet, health, leases, metrics, node_status, nodes, transfers
from helper_daemon.settings import Settings
from helper_daemon.state_dir import prepare_state_dir
from helper_daemon.store import ItemStore
from helper_daemon.tokens import ensure_admin_token


def create_app(settings: Settings) -> FastAPI:
    """Open the state dir (refusing an unsafe one), recover interrupted uploads, and build the app."""
    prepare_state_dir(settings.state_dir)
    app = FastAPI(title="TripleO upgrade helper", version=__version__,
                  description="Undercloud helper daemon: node data store, node registry, leases, fleet status.")
    app.state.settings = settings
    app.state.db = Database.in_state_dir(settings.state_dir)
    app.state.store = ItemStore(settings.state_dir / "nodes", settings.disk_reserve_bytes)
    removed = app.state.store.recover()
    if removed:
        event("removed leftovers of interrupted uploads", files=[str(p) for p in removed])
    app.state.admin_token_sha256 = ensure_admin_token(settings)
    app.state.metrics = Metrics()
    install_error_handlers(app)
    for module in (health, metrics, nodes, data, node_status, leases, fleet, transfers, cleanup):
        app.include_router(module.router)
    app.add_middleware(AccessLog, metrics=app.state.metrics)
    return app
