"""Registers every command group on the root app (one import line per group)."""

from __future__ import annotations

from dermatrack.cli.app import app

# Each group module exposes ``register(app)``; keep one line per group, sorted.
_GROUPS: list[str] = [
    "clinic_day",
    "demo",
    "export",
    "interop",
    "kb",
    "measure",
    "photo",
    "photo_batch",
    "plan",
    "records",
    "repeatability",
    "report",
    "screen",
    "web",
]


def _load() -> None:
    import importlib

    for name in _GROUPS:
        importlib.import_module(f"dermatrack.cli.{name}").register(app)


_load()
