"""The OpenAPI document the daemon serves at /openapi.json, exact about what it answers.

FastAPI documents a 422 for every operation with parameters; this daemon answers every validation error with
400 and the `{"error","detail"}` body (errors.py), which each route documents with its other error statuses.
"""

from __future__ import annotations

from fastapi import FastAPI

_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def exact_openapi(app: FastAPI) -> None:
    """Serve FastAPI's document without the 422 responses and schemas the daemon never uses."""
    generate = app.openapi

    def openapi() -> dict:
        document = generate()  # built once and cached by FastAPI; the edits below are idempotent
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schemas = document.get("components", {}).get("schemas", {})
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
        return document

    app.openapi = openapi
