"""Metric definitions: what every stored measurement means, in one place.

Each metric dermatrack computes is defined once, beside the core that computes it
(:mod:`dermatrack.imaging.definitions` for photographs, :mod:`dermatrack.devices.definitions`
for instruments), as a :class:`MetricDefinition`: its code, a human label, its unit (as
stored in observations, and as UCUM for exchange), which way it improves after
rejuvenation treatment, the coarsest pixel size at which a photo metric can be measured,
how many decimals are meaningful, a definition and its source. Services, reports, the web
app and the exports read them from here (:func:`metric_definition`) instead of keeping
lists of their own.

This module has no I/O. The type itself lives in :mod:`dermatrack.metric_definition`,
which the cores import, so the registry can import the cores without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from dermatrack.metric_definition import (  # noqa: F401  (_UCUM re-exported for tests)
    _UCUM,
    Direction,
    MetricDefinition,
    ucum_unit,
)

__all__ = ["Direction", "MetricDefinition", "all_metrics", "describe_metric",
           "metric_definition", "ucum_unit", "metric_direction"]


@cache
def _registry() -> dict[tuple[str, str], MetricDefinition]:
    from dermatrack.devices.definitions import DEVICE_METRICS
    from dermatrack.imaging.definitions import PHOTO_METRICS

    registry: dict[tuple[str, str], MetricDefinition] = {}
    for definition in (*PHOTO_METRICS, *DEVICE_METRICS):
        key = (definition.kind, definition.code)
        if key in registry:
            raise ValueError(f"metric {key} is defined twice")
        registry[key] = definition
    return registry


def all_metrics(kind: str | None = None) -> list[MetricDefinition]:
    """Every metric definition, or those of one observation kind."""
    return [d for d in _registry().values() if kind is None or d.kind == kind]


def metric_definition(kind: str, code: str) -> MetricDefinition | None:
    """The definition of ``code`` in observation kind ``kind``, or ``None``."""
    return _registry().get((kind, code))


def describe_metric(kind: str, code: str, unit: str | None = None) -> MetricDefinition:
    """The definition of a metric, or, for a code no core defines, a plain one that
    shows the code and the stored unit (so every adapter can format any observation)."""
    found = metric_definition(kind, code)
    if found is not None:
        if unit is not None and unit != found.unit and found.shown_unit is None:
            # Stored in another unit (pixels when a photo had no physical scale).
            from dataclasses import replace

            return replace(found, unit=unit)
        return found
    return MetricDefinition(kind=kind, code=code, label=code.replace("_", " "),
                            unit=unit or "1", decimals=3)


def metric_direction(code: str, kind: str | None = None) -> Direction | None:
    """Which way ``code`` improves (searching every kind when ``kind`` is not given)."""
    candidates: Iterable[MetricDefinition] = (
        [d] if kind is not None and (d := metric_definition(kind, code)) is not None
        else [d for d in _registry().values() if d.code == code])
    directions = {d.direction for d in candidates}
    return directions.pop() if len(directions) == 1 else None
