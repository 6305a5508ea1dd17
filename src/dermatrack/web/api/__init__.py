"""The JSON REST API under ``/api``: one module per resource, each with a ``router``.

Every operation documents the error answers it can give (:data:`ERROR_RESPONSES`), so
that the OpenAPI schema describes every status a client can meet: 401 (not signed in),
403 (the role lacks the right, or a session write without its CSRF token), 404 (no such
row) and 422 (bad input, naming the field: FastAPI's ``HTTPValidationError`` shape).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class ErrorOut(BaseModel):
    """An error answer: what was wrong, in words."""

    detail: str


class ValidationItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """A 422 answer: each bad value, where it was (``loc``) and what was wrong."""

    detail: list[ValidationItem]


ERROR_RESPONSES: dict[int | str, dict] = {
    401: {"model": ErrorOut, "description": "Not signed in (no, a forged or an expired "
                                            "token or session)"},
    403: {"model": ErrorOut, "description": "The caller's role lacks the right (or a "
                                            "session write lacks its CSRF token)"},
    404: {"model": ErrorOut, "description": "No such patient, photo, visit or record"},
    422: {"model": ValidationErrorOut, "description": "Bad input; names the field"},
    503: {"model": ErrorOut, "description": "The database is unavailable; try again after "
                                            "Retry-After seconds"},
}
"""The error answers every API operation documents."""

MODULES = ("token", "users", "patients", "visits", "screening", "planning", "sessions",
           "events", "scores", "measurements", "photos", "reports", "knowledge", "audit",
           # issue 16: the clinic's day
           "appointments", "consent", "products", "treatment_maps", "capture")


class ConflictItem(BaseModel):
    loc: list[str]
    msg: str
    type: str = "conflict"
    rule: str | None = None
    existing: str | None = None


class ConflictDetail(BaseModel):
    """A 409: the request breaks a rule about stored records (docs/architecture.md)."""

    detail: list[ConflictItem]


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ConflictDetail,
          "description": "Breaks a rule about stored records; names the rule and the "
                         "record already there"}}
"""``responses=`` of a route that can answer 409 Conflict."""


def include(app: FastAPI) -> None:
    """Mount every resource's router under ``/api``."""
    import importlib

    from dermatrack.web import routes

    for name in MODULES:
        module = importlib.import_module(f"dermatrack.web.api.{name}")
        responses = {} if name == "token" else ERROR_RESPONSES
        app.include_router(module.router, prefix="/api", responses=responses)
        routes.register(app, module.router, "/api")
