"""The JSON REST API under ``/api``: one module per resource, each with a ``router``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

MODULES = ("token", "users", "patients", "visits", "screening", "planning", "sessions",
           "events", "scores", "measurements", "photos", "reports", "knowledge", "audit")


class ConflictItem(BaseModel):
    loc: list[str]
    msg: str
    type: str = "conflict"
    rule: str
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

    for name in MODULES:
        module = importlib.import_module(f"dermatrack.web.api.{name}")
        app.include_router(module.router, prefix="/api")
