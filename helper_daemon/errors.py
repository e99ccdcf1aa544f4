"""Every error the API returns is JSON `{"error": <short>, "detail": <sentence>, ...}` with the right status."""

from __future__ import annotations

from typing import Any, Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """Raise from any route or dependency; `extra` keys (for example `reasons`) are added to the body."""

    def __init__(self, status: int, error: str, detail: str, headers: dict | None = None, **extra):
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers
        self.extra = extra


class ErrorBody(BaseModel):
    """The body of every error answer; some refusals add keys (reasons, nodes, plan)."""

    model_config = ConfigDict(extra="allow")
    error: str = Field(description="what went wrong, in a few words, e.g. 'bad node name', 'lease refused'")
    detail: str = Field(description="a sentence for the operator: what was wrong and what to do")


class LeaseBlocker(BaseModel):
    rule: str = Field(description="one-by-one, budget, whole-role, min-ceph-mons, live-quorum, paused or "
                                  "inhibitors")
    holders: list[str] = Field(description="the nodes whose leases stand in the way")
    must_release: int = Field(description="how many of those leases must end before this one can be granted")
    nodes: list[str] = Field(default_factory=list,
                             description="live-quorum: the ceph-mon hosts not counted; inhibitors: their keys")


class Refusal(ErrorBody):
    """409: the request is valid but the rules refuse it now; every reason, in words an operator can act on."""

    reasons: list[str]
    nodes: Optional[list[str]] = Field(None, description="cleanup: the nodes whose data may not be restored yet")
    plan: Optional[dict[str, Any]] = Field(None, description="transfer: the plan of the role, as GET "
                                                               "/v1/transfer/plan gives it")
    blockers: Optional[list[LeaseBlocker]] = Field(None, description="lease: the rules in the way, as facts")


_WHY = {
    400: "Not valid: a name, a field, a header or the body (the detail names it); nothing changed",
    401: "No bearer token, or not the admin's nor any registered node's",
    403: "The token may not do this: another node's resource, or an admin operation",
    404: "No such node, item or transfer",
    409: "Refused by the upgrade rules now (every reason is given)",
    413: "The request body is over this operation's limit; nothing was stored",
    500: "Writing to the state directory failed; nothing was stored",
    503: "The item is being replaced again and again; retry",
    507: "Storing it would cross the disk reserve of the state directory; nothing was stored",
}


def documented(*statuses: int, refusal: str = "") -> dict:
    """The `responses=` of a route: each error status it can answer, with the error body's schema."""
    out = {}
    for status in statuses:
        out[status] = {"model": Refusal if status == 409 else ErrorBody,
                       "description": refusal if status == 409 and refusal else _WHY[status]}
        if status == 401:
            out[status]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}}
    return out


def error_response(status: int, error: str, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status, headers=headers)


# A bad path parameter is named as such: "bad node name" tells the operator more than "bad request".
_PATH_PARAMETER_ERRORS = {"node": "bad node name", "item": "bad item name", "transfer_id": "bad transfer id",
                          "acceptance_id": "bad acceptance id", "role": "bad role name"}


def _validation_error(exc: RequestValidationError) -> tuple[str, str]:
    parts, error = [], "bad request"
    for err in exc.errors():
        loc = err.get("loc", ())
        if len(loc) == 2 and loc[0] == "path" and loc[1] in _PATH_PARAMETER_ERRORS and error == "bad request":
            error = _PATH_PARAMETER_ERRORS[loc[1]]
        where = ".".join(str(p) for p in loc if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return error, "; ".join(parts) or "the request is not valid"


def allowed_methods(routes: list[APIRoute], path: str) -> list[str]:
    """Every method some route answers on `path` (Starlette's own 405 names only the first route's, although
    several routes share a path: POST and DELETE .../lease)."""
    return sorted({method for route in routes if route.path_regex.match(path) for method in route.methods})


def install_error_handlers(app: FastAPI, routes: list[APIRoute]) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, *_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        short = {404: "not found", 405: "method not allowed", 413: "too large"}.get(exc.status_code, "http error")
        detail = exc.detail if isinstance(exc.detail, str) else short
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such API path; see /openapi.json"
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(routes, request.url.path))
            detail = f"{request.method} is not allowed on {request.url.path}; allowed: {headers['Allow']}"
        return error_response(exc.status_code, short, detail, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log by the server; the client gets no internals.
        return error_response(500, "internal error", f"the daemon failed: {type(exc).__name__}; see its log")
