"""The fleet status page: GET /ui/ with its script and style (anyone: a static shell that holds no data), and
GET /v1/status/version (admin), the change counter the page polls to know when to fetch GET /v1/status again.

The page asks for the admin token in a login form and sends it as a bearer header to the admin API only; the
shell's answers forbid any script, style or connection that does not come from the daemon itself
(Content-Security-Policy), inline script included, and HTML built from strings (Trusted Types).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from helper_daemon.auth import AdminCaller
from helper_daemon.dependencies import DatabaseDep
from helper_daemon.errors import documented

router = APIRouter(tags=["status page"])

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
                               "require-trusted-types-for 'script'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

_FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "app.css": "text/css; charset=utf-8"}


def _asset(name: str) -> Response:
    body = resources.files("helper_daemon").joinpath("dashboard", name).read_bytes()
    return Response(body, media_type=_FILES[name], headers=SECURITY_HEADERS)


def _documented_asset(media_type: str) -> dict:
    return {200: {"content": {media_type.split(";")[0]: {"schema": {"type": "string"}}},
                  "description": "the file, with the page's security headers"}}


@router.get("/ui/", summary="The fleet status page (HTML shell; its data comes from the admin API after login)",
            response_class=Response, responses=_documented_asset(_FILES["index.html"]))
def status_page() -> Response:
    return _asset("index.html")


@router.get("/ui/app.js", summary="The fleet status page's script", response_class=Response,
            responses=_documented_asset(_FILES["app.js"]))
def status_page_script() -> Response:
    return _asset("app.js")


@router.get("/ui/app.css", summary="The fleet status page's style", response_class=Response,
            responses=_documented_asset(_FILES["app.css"]))
def status_page_style() -> Response:
    return _asset("app.css")


class StatusVersion(BaseModel):
    version: str = Field(description="changes whenever anything GET /v1/status shows may have changed; opaque")


class _ChangeWatcher:
    """SQLite's `PRAGMA data_version` on a connection of its own, which never writes: it changes whenever any
    other connection committed, in this daemon (reports, leases, uploads' audit rows, transfers, cleanup) or in
    another process (`nodes add` and `nodes import` write the registry directly). A few microseconds a call."""

    def __init__(self, path: Path):
        self._conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                     isolation_level=None)
        self._lock = threading.Lock()
        self._instance = secrets.token_hex(4)  # a restarted daemon never repeats an old version
        self._seen = None
        self._count = 0

    def version(self) -> str:
        with self._lock:
            data_version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if data_version != self._seen:
                self._seen = data_version
                self._count += 1
            return f"{self._instance}-{self._count}"


_watchers: dict[Path, _ChangeWatcher] = {}
_watchers_lock = threading.Lock()


@router.get("/v1/status/version", summary="A change counter for GET /v1/status: poll it, fetch the status when "
            "it changes", response_model=StatusVersion, responses=documented(401, 403))
def status_version(caller: AdminCaller, db: DatabaseDep) -> dict:
    with _watchers_lock:
        watcher = _watchers.get(db.path)
        if watcher is None:
            watcher = _watchers[db.path] = _ChangeWatcher(db.path)
    return {"version": watcher.version()}
