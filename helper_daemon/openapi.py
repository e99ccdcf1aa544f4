"""The OpenAPI document the daemon serves at /openapi.json, exact about what it answers.

FastAPI documents a 422 for every operation with parameters; this daemon answers every validation error with
400 and the `{"error","detail"}` body (errors.py), which each route documents with its other error statuses.
Each request body states its limit (413 beyond), as this daemon's settings make it.
"""

from __future__ import annotations

from typing import Callable

from fastapi import FastAPI

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def exact_openapi(app: FastAPI, body_limit: Callable[[str, str], int]) -> None:
    """Serve FastAPI's document without the 422 responses and schemas the daemon never uses, and with each
    request body's limit in bytes (`body_limit(method, path template)`) as `x-max-bytes` and in words."""
    generate = app.openapi

    def openapi() -> dict:
        document = generate()  # built once and cached by FastAPI; the edits below are idempotent
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                operation.get("responses", {}).pop("422", None)
                body = operation.get("requestBody")
                if body is not None and "x-max-bytes" not in body:
                    body["x-max-bytes"] = limit = body_limit(method.upper(), path)
                    said = body.get("description", "")
                    body["description"] = f"{said} At most {limit} bytes (413 beyond).".strip()
        schemas = document.get("components", {}).get("schemas", {})
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
        return document

    app.openapi = openapi
