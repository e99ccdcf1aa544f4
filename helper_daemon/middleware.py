"""A pure ASGI middleware (streaming bodies pass through untouched): one access log line and error counting."""

from __future__ import annotations

import logging
import time

from helper_daemon.logs import event


class AccessLog:
    def __init__(self, app, metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        status = {"code": 500}

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            code = status["code"]
            if code >= 400:
                self.metrics.count_error(code)
            client = scope.get("client") or ("?", 0)
            event("request", logging.WARNING if code >= 500 else logging.INFO, method=scope["method"],
                  path=scope["path"], status=code, client=client[0],
                  ms=round((time.monotonic() - started) * 1000, 1))
