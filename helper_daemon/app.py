"""The FastAPI application: one instance per daemon, all state hangs off app.state."""

from __future__ import annotations

from fastapi import FastAPI

from helper_daemon import __version__
from helper_daemon.routers import health
from helper_daemon.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="TripleO upgrade helper", version=__version__)
    app.state.settings = settings
    app.include_router(health.router)
    return app
