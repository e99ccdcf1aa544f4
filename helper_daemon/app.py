"""The FastAPI application: one instance per daemon. Its parts go on app.state; routes get them through
dependencies.py. Routers are siblings: none imports another."""

from __future__ import annotations

import contextlib
import ctypes
import platform

from anyio import to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute

from helper_daemon import __version__
from helper_daemon.db import Database
from helper_daemon.errors import install_error_handlers
from helper_daemon.logs import event
from helper_daemon.metrics import Metrics
from helper_daemon.middleware import AccessLog, BodyLimit
from helper_daemon.openapi import exact_openapi
from helper_daemon.routers import (ceph_osd_flags, cleanup, dashboard, data, fleet, fleet_controls, health,
                                   inhibitors, lease_checks, leases, metrics, node_services, node_status, nodes,
                                   roles, transfers)
from helper_daemon.settings import Settings
from helper_daemon.state_dir import prepare_state_dir
from helper_daemon.store import ItemStore
from helper_daemon.tokens import KnownTokens, ensure_admin_token


def create_app(settings: Settings) -> FastAPI:
    """Open the state dir (refusing an unsafe one), recover interrupted uploads, and build the app."""
    prepare_state_dir(settings.state_dir)
    _bound_malloc()
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # Blocking work (sync routes, SQLite writes, file I/O) runs on at most worker_threads threads, each with
        # its own SQLite connection (db.py): memory and connections stay bounded however many requests wait.
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield
        app.state.db.close()  # after the requests in flight: the writes they queued are committed first

    app = FastAPI(title="TripleO upgrade helper", version=__version__, lifespan=lifespan,
                  description="Undercloud helper daemon: node data store, node registry, leases, fleet status.",
                  # operationId = the route function's name (put_item, acquire_lease): what generated clients call
                  generate_unique_id_function=lambda route: route.name,
                  # The daemon's observability is its JSON log lines and /metrics. FastAPI's OpenTelemetry bridge
                  # (FastAPI 0.16x) would otherwise look for a configured provider at every request: 8 us, 1.5% of
                  # a status report.
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.settings = settings
    app.state.db = Database.in_state_dir(settings.state_dir)
    app.state.store = ItemStore(settings.state_dir / "nodes", settings.disk_reserve_bytes)
    removed = app.state.store.recover()
    if removed:
        event("removed leftovers of interrupted uploads", files=[str(p) for p in removed])
    app.state.admin_token_sha256 = ensure_admin_token(settings)
    app.state.known_tokens = KnownTokens()
    app.state.metrics = Metrics()
    # In the order requests look for their route: the busiest first (status reports, then leases); no two routers
    # answer the same method and path, so the order changes nothing else.
    routers = (node_status, leases, health, metrics, nodes, data, node_services, fleet, transfers, cleanup, dashboard,
               lease_checks, inhibitors, fleet_controls, ceph_osd_flags, roles)
    for module in routers:
        app.include_router(module.router)
    # The routes as declared (their full paths and methods), whatever FastAPI builds from them for dispatch.
    routes = [route for module in routers for route in module.router.routes if isinstance(route, APIRoute)]
    install_error_handlers(app, routes)
    limit_for = _body_limits(routes, settings)
    # The streamed upload is bounded in its route, by max_item_bytes.
    exact_openapi(app, lambda method, path: limit_for(method, path) or settings.max_item_bytes)
    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(AccessLog, metrics=app.state.metrics, changed=app.state.db.changed)
    return app


# glibc's mallopt parameters (malloc.h).
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8


def _bound_malloc() -> None:
    """Keep the daemon's memory near what it uses (glibc): at most 2 malloc arenas, not one per thread that ever
    allocated (each keeps its freed memory), and buffers of 128 KiB and more (upload batches, SQLite's larger
    blocks) mapped on their own and given back when freed, rather than kept in an arena once the first such buffer
    is freed (glibc's dynamic threshold). 8 concurrent 256 MiB uploads at 1000 nodes: peak RSS 107 -> 94 MiB."""
    if platform.libc_ver()[0] != "glibc":
        return
    libc = ctypes.CDLL(None)
    libc.mallopt(_M_ARENA_MAX, 2)
    libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)


# Any request body not listed here: a JSON document of a few fields.
MAX_JSON_BODY_BYTES = 64 * 1024


def _body_limits(routes: list[APIRoute], settings: Settings):
    """limit_for(method, path): the body limit of the route a request goes to (middleware.BodyLimit)."""
    by_endpoint = {
        data.put_item: None,  # streamed to disk; bounded by max_item_bytes and the disk reserve in the route
        node_status.put_node_status: settings.max_status_report_bytes,
    }

    # Per method, that method's routes in order (the busiest first, see `routers`): a request tries only those.
    by_method: dict[str, list] = {}
    for route in routes:
        limit = by_endpoint.get(route.endpoint, MAX_JSON_BODY_BYTES)
        for method in route.methods:
            by_method.setdefault(method, []).append((route.path_regex.match, limit))

    def limit_for(method: str, path: str) -> int | None:
        for matches, limit in by_method.get(method, ()):
            if matches(path):
                return limit
        return MAX_JSON_BODY_BYTES

    return limit_for
