"""Every error the API returns is JSON `{"error": <short>, "detail": <sentence>, ...}` with the right status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


def error_response(status: int, error: str, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "bad request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        short = {404: "not found", 405: "method not allowed"}.get(exc.status_code, "http error")
        detail = exc.detail if isinstance(exc.detail, str) else short
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such API path; see /openapi.json"
        return error_response(exc.status_code, short, detail, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log by the server; the client gets no internals.
        return error_response(500, "internal error", f"the daemon failed: {type(exc).__name__}; see its log")
