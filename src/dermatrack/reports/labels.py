"""Human names for the codes the record stores, for reports and pages.

A report prints "Superficial chemical peel", "Post-inflammatory hyperpigmentation" and
"Spot area (%)", never ``superficial_peel`` or ``photo:pigment.spot_area_fraction``. Names
come from where the facts live: modality, concern, region and event labels from the
knowledge base's vocabulary and modality files, metric labels, units and rounding from
the metric definitions (:mod:`dermatrack.metrics`). An unknown code is shown with its
underscores as spaces rather than refused: a report must render whatever was stored.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from dermatrack.metrics import MetricDefinition, describe_metric

_SIDES = {"left": "left", "right": "right"}


@cache
def _vocabulary() -> Any:
    from dermatrack.knowledge.vocabulary import load_vocabulary

    return load_vocabulary()


@cache
def _modalities() -> dict[str, Any]:
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    return load_modalities(load_vocabulary())


def plain(code: str | None) -> str:
    """A code with underscores as spaces (the fallback for unknown codes)."""
    return "–" if not code else str(code).replace("_", " ")


def term(kind: str, code: str | None) -> str:
    """The vocabulary label of ``code`` (kinds as :meth:`Vocabulary.terms`)."""
    if not code:
        return "–"
    found = _vocabulary().terms(kind).get(code)
    return found.label if found is not None else plain(code)


def modality(code: str | None) -> str:
    found = _modalities().get(code or "")
    return found.name if found is not None else term("modalities", code)


def concern(code: str | None) -> str:
    return term("concerns", code)


def event(code: str | None) -> str:
    """An adverse event or expected reaction."""
    if not code:
        return "–"
    vocabulary = _vocabulary()
    for kind in ("adverse_events", "expected_reactions"):
        found = vocabulary.terms(kind).get(code)
        if found is not None:
            return found.label
    return plain(code)


def region(code: str | None, *, face: bool = True) -> str:
    """A clinic region or an imaging region (``cheek_left`` is "Cheek, left"; ``whole``
    is "Whole face", or "Whole area" for a close-up)."""
    if not code:
        return "–"
    if code == "whole":
        return "Whole face" if face else "Whole area"
    vocabulary = _vocabulary()
    found = vocabulary.regions.get(code)
    if found is not None:
        return found.label
    stem, _, side = code.rpartition("_")
    if side in _SIDES and stem:
        canonical = vocabulary.region_aliases.get(code)
        base = vocabulary.regions.get(canonical) if canonical else None
        name = base.label if base is not None else plain(stem).capitalize()
        if name.endswith("s") and stem.endswith("cheek"):
            name = name[:-1]
        return f"{name}, {side}"
    return plain(code).capitalize()


def parameter(modality_code: str, code: str) -> tuple[str, str]:
    """(label, unit) of a treatment parameter from the modality's knowledge file."""
    found = _modalities().get(modality_code)
    if found is not None:
        for item in found.protocol.parameters:
            if item.code == code:
                return item.label, item.unit
    return plain(code).capitalize(), ""


def parameters_text(modality_code: str, values: dict[str, Any]) -> str:
    """Treatment parameters as "Glycolic acid concentration 30 %, contact time 3 min"."""
    parts = []
    for code, value in values.items():
        label, unit = parameter(modality_code, code)
        number = (f"{value:g}" if isinstance(value, float) else str(value))
        parts.append(f"{label} {number}" + (f" {unit}" if unit else ""))
    return "; ".join(parts) or "–"


def metric(kind: str, code: str, unit: str | None = None) -> MetricDefinition:
    """The definition of a stored metric (a plain one for unknown codes)."""
    if ":" in code and kind == "":
        kind, _, code = code.partition(":")
    return describe_metric(kind, code, unit)


def metric_title(kind: str, code: str, unit: str | None = None) -> str:
    """"Spot area (%)": the metric's label and shown unit."""
    definition = metric(kind, code, unit)
    shown = definition.display_unit
    return definition.label + (f" ({shown})" if shown else "")


def kind_name(kind: str) -> str:
    return {"photo": "Photograph", "surface": "Skin surface (profilometry)",
            "colour": "Colorimeter", "elasticity": "Elasticity (suction)",
            "spectral": "Spectrophotometer", "elastography": "Elastography"}.get(kind,
                                                                             plain(kind))


def metric_value(key: str, value: float | None, *, unit: bool = True,
                 signed: bool = False, stored_unit: str | None = None) -> str:
    """A value of metric ``key`` (``kind:code`` as the cohort statistics name them),
    rounded to its resolution; with ``signed``, a change ("no change" below it)."""
    return metric("", key, stored_unit).format(value, unit=unit, signed=signed)


def negligible(key: str, value: float | None, stored_unit: str | None = None) -> bool:
    """True when a change of metric ``key`` is below the measurement's resolution (its
    effect size is then floating-point noise, not a result)."""
    return value is not None and abs(value) < metric("", key, stored_unit).resolution()


def install(environment: Any) -> None:
    """Make the label and formatting helpers available to Jinja templates."""
    environment.globals.update(
        metric_label=lambda key, unit=None: metric("", key, unit).label,
        metric_unit=lambda key, unit=None: metric("", key, unit).display_unit,
        metric_value=metric_value, negligible_change=negligible,
        region_label=region, event_label=event, concern_label=concern)
