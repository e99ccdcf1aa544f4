"""Pure ASGI middlewares (streaming bodies pass through untouched): the access log with error counting, and the
request body limits."""

from __future__ import annotations

import logging
import time

from fastapi import HTTPException

from helper_daemon.errors import error_response
from helper_daemon.logs import event, noted


class AccessLog:
    """One line per request (logs.py): "request", or what the route noted, with its own fields; each error
    status counted in `metrics`. And `changed()` (Database.changed) called for every answered request that may
    change something (not GET/HEAD), before the client sees the answer and after the route did its work: the
    answers cached by `Database.generation()` (GET /v1/status) go stale, stored items living outside SQLite.
    Both in one middleware: each layer costs every request a wrapped `send` and a deeper stack."""

    def __init__(self, app, metrics, changed):
        self.app = app
        self.metrics = metrics
        self.changed = changed

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        status = {"code": 500}
        changes = scope["method"] not in ("GET", "HEAD")

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                if changes:
                    self.changed()
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            code = status["code"]
            if code >= 400:
                self.metrics.count_error(code)
            client = scope.get("client") or ("?", 0)
            msg, extra = noted(scope)
            fields = {"method": scope["method"], "path": scope["path"], "status": code, "client": client[0],
                      "ms": round((time.monotonic() - started) * 1000, 1)}
            for key, value in extra.items():  # the request's own fields stay what they are
                fields.setdefault(key, value)
            event(msg, logging.WARNING if code >= 500 else logging.INFO, **fields)


class _BodyTooLarge(HTTPException):
    """Raised from `receive` when a body crosses its limit: FastAPI passes an HTTPException through its body
    parsing untouched, so errors.py answers it as JSON."""


class BodyLimit:
    """413 for a request body over the limit of its route (`limit_for(method, path)`; None: the route bounds its own
    streamed body): at once when Content-Length says so, else as soon as the received bytes cross it, before
    anything is parsed or stored."""

    def __init__(self, app, limit_for):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send):
        limit = self.limit_for(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            return await self.app(scope, receive, send)
        detail = f"the request body exceeds this operation's limit of {limit} bytes; nothing was stored"
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            return await error_response(413, "too large", detail)(scope, receive, send)
        received = 0

        async def bounded_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge(413, detail)
            return message

        await self.app(scope, bounded_receive, send)
