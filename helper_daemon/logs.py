"""Structured logs: one JSON object per line on stderr, for journald and log shippers alike.

Every request gets one line from the access log (middleware.AccessLog): "request" with its method, path, status,
client and time; a route may name that line and add its own fields (`note`), so a status report is one line
"node status" with the request's fields and the report's, not two.
"""

from __future__ import annotations

import json
import logging
import sys
import time

LOG = logging.getLogger("helper_daemon")

# default=str: a Path, a datetime, ... is logged as its text rather than failing the line.
_ENCODER = json.JSONEncoder(default=str)


class JsonFormatter(logging.Formatter):
    def __init__(self):
        super().__init__()
        self._second, self._stamp = -1, ""  # the timestamp up to the second, made once per second

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # (the handler's lock lets one thread at a time format)
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        entry = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # What the JSON lines never show, not gathered for every record (the logging HOWTO's "Optimization"): the
    # caller's file and line (a walk up the stack), the thread, process and task.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.logAsyncioTasks = False  # Python 3.12 and later


def event(msg: str, level: int = logging.INFO, **fields) -> None:
    """One log line with key/value fields: `event("stored", node=..., size=...)`."""
    LOG.log(level, msg, extra={"fields": fields})


# Where a route's note for its request's access log line waits in the ASGI scope (the same dict in the route's
# Request and in the middleware).
_NOTE = "helper_daemon.log_note"


def note(scope: dict, msg: str, **fields) -> None:
    """Name this request's access log line `msg` and add `fields` to it (in place of a line of the route's own)."""
    scope[_NOTE] = (msg, fields)


def noted(scope: dict) -> tuple[str, dict]:
    """(the message, the route's fields) of this request's access log line."""
    return scope.get(_NOTE) or ("request", {})
