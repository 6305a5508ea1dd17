"""The JSON REST API under ``/api``: one module per resource, each with a ``router``."""

from __future__ import annotations

from fastapi import FastAPI

MODULES = ("token", "users", "patients", "visits", "screening", "planning", "sessions",
           "events", "scores", "measurements", "photos", "reports", "knowledge", "audit",
           # issue 16: the clinic's day
           "appointments", "consent", "products", "treatment_maps", "capture")


def include(app: FastAPI) -> None:
    """Mount every resource's router under ``/api``."""
    import importlib

    for name in MODULES:
        module = importlib.import_module(f"dermatrack.web.api.{name}")
        app.include_router(module.router, prefix="/api")
