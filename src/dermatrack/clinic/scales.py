"""Clinician scales: their levels, items, sources, and the checking of a recorded score.

The scales are defined in ``clinic/data/scales.yaml`` (package data, read once): the
Fitzpatrick phototype, Glogau photoaging classes, the Global Aesthetic Improvement Scale
(clinician and subject), the Goodman and Baron qualitative acne scar grade and the
Vancouver Scar Scale. Each carries its source and the direction of improvement, which the
outcomes package reads to tell a better score from a worse one.

A score is stored as (instrument, version, item scores, total) (clinical.md, key inference
2). :func:`validate_score` checks one: every item within its levels, the total within the
scale's range, and a total given together with items equal to their sum.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from dermatrack.errors import InputError

Improvement = Literal["lower", "higher", "none"]


@dataclass(frozen=True)
class Level:
    """One allowed rating: its number, optional code (``"IV"``), label and description."""

    value: int
    label: str
    description: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Item:
    """One item of a summed scale, rated on its own levels."""

    code: str
    label: str
    levels: tuple[Level, ...]

    @property
    def min(self) -> int:
        return min(level.value for level in self.levels)

    @property
    def max(self) -> int:
        return max(level.value for level in self.levels)


@dataclass(frozen=True)
class Scale:
    """A clinician scale.

    ``kind`` is ``"ordinal"`` (one rating out of ``levels``) or ``"sum"`` (``items`` summed).
    ``improvement`` says which direction is better: ``"lower"``, ``"higher"`` or ``"none"``
    for a classification that is not an outcome (the phototype).
    """

    code: str
    name: str
    version: str
    kind: Literal["ordinal", "sum"]
    improvement: Improvement
    source: str
    levels: tuple[Level, ...] = ()
    items: tuple[Item, ...] = ()

    @property
    def min(self) -> int:
        if self.kind == "sum":
            return sum(item.min for item in self.items)
        return min(level.value for level in self.levels)

    @property
    def max(self) -> int:
        if self.kind == "sum":
            return sum(item.max for item in self.items)
        return max(level.value for level in self.levels)

    def level(self, value: float) -> Level | None:
        """The level an ordinal rating falls on (``None`` for summed scales)."""
        return next((lv for lv in self.levels if lv.value == value), None)


@dataclass(frozen=True)
class ScoreResult:
    """A checked score: the total (computed from items when given) and what it means."""

    instrument: str
    version: str
    total: float
    item_scores: dict[str, int] | None
    label: str | None
    improvement: Improvement
    minimum: int
    maximum: int

    def to_dict(self) -> dict[str, Any]:
        return {"instrument": self.instrument, "version": self.version, "total": self.total,
                "item_scores": self.item_scores, "label": self.label,
                "improvement": self.improvement, "range": [self.minimum, self.maximum]}


@cache
def load_scales() -> dict[str, Scale]:
    """Every bundled clinician scale, by code."""
    text = resources.files("dermatrack.clinic").joinpath("data/scales.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    return {code: _scale(code, spec) for code, spec in raw.items()}


def get_scale(instrument: str, version: str | None = None) -> Scale:
    """The scale ``instrument``, checking ``version`` when given (InputError otherwise)."""
    scales = load_scales()
    scale = scales.get(instrument)
    if scale is None:
        close = difflib.get_close_matches(instrument, list(scales), n=2, cutoff=0.6)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise InputError(f"unknown instrument {instrument!r}{hint}; known: "
                         f"{', '.join(scales)}", field="instrument")
    if version is not None and str(version) != scale.version:
        raise InputError(f"{instrument} version {version!r} is not known; dermatrack has "
                         f"version {scale.version!r}", field="version")
    return scale


def validate_score(instrument: str, version: str | None, item_scores: Mapping[str, Any] | None,
                   total: float | None) -> ScoreResult:
    """Check a recorded score and return it with its total.

    Parameters
    ----------
    instrument, version:
        Scale code (``vancouver_scar_scale``) and version (``None``: the bundled one).
    item_scores:
        Item code to rating, for summed scales; ``None`` for ordinal ones.
    total:
        The total as recorded; required for ordinal scales, computed from the items of a
        summed scale when left out.

    Raises
    ------
    InputError
        Naming ``item_scores.<item>`` for an unknown or out-of-range item, ``total`` for an
        out-of-range total or one that disagrees with the items.
    """
    scale = get_scale(instrument, version)
    if scale.kind == "ordinal":
        if item_scores:
            raise InputError(f"{instrument} is a single rating; give total, not item scores",
                             field="item_scores")
        if total is None:
            raise InputError(f"{instrument} needs a total (one of "
                             f"{', '.join(str(lv.value) for lv in scale.levels)})", field="total")
        value = _number(total, "total")
        level = scale.level(value)
        if level is None:
            raise InputError(f"{instrument} total {value:g} is not a level; expected one of "
                             f"{', '.join(f'{lv.value} ({lv.label})' for lv in scale.levels)}",
                             field="total")
        return ScoreResult(instrument, scale.version, float(value), None,
                           level.label if level.code is None else f"{level.code} {level.label}",
                           scale.improvement, scale.min, scale.max)

    items = {item.code: item for item in scale.items}
    checked: dict[str, int] | None = None
    if item_scores is not None:
        checked = {}
        for code, raw in item_scores.items():
            item = items.get(code)
            where = f"item_scores.{code}"
            if item is None:
                close = difflib.get_close_matches(code, list(items), n=2, cutoff=0.6)
                hint = f" (did you mean {' or '.join(close)}?)" if close else ""
                raise InputError(f"{instrument} has no item {code!r}{hint}; items: "
                                 f"{', '.join(items)}", field=where)
            value = _number(raw, where)
            if not float(value).is_integer() or not item.min <= value <= item.max:
                raise InputError(f"{item.label} {value:g} is out of range; expected a whole "
                                 f"number {item.min} to {item.max}", field=where)
            checked[code] = int(value)
        missing = [code for code in items if code not in checked]
        if missing:
            raise InputError(f"{instrument} items missing: {', '.join(missing)}",
                             field=f"item_scores.{missing[0]}")
        computed = float(sum(checked.values()))
        if total is not None and _number(total, "total") != computed:
            raise InputError(f"total {total:g} disagrees with the item scores, which sum to "
                             f"{computed:g}", field="total")
        total = computed
    elif total is None:
        raise InputError(f"{instrument} needs item_scores or a total", field="item_scores")
    value = float(_number(total, "total"))
    if not scale.min <= value <= scale.max:
        raise InputError(f"{instrument} total {value:g} is out of range {scale.min} to "
                         f"{scale.max}", field="total")
    return ScoreResult(instrument, scale.version, value, checked, None, scale.improvement,
                       scale.min, scale.max)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise InputError(f"expected a number, got {value!r}", field=where)
    return value


def _levels(raw: list[dict[str, Any]]) -> tuple[Level, ...]:
    return tuple(Level(value=int(lv["value"]), label=str(lv["label"]),
                       description=lv.get("description"), code=lv.get("code"))
                 for lv in raw)


def _scale(code: str, spec: dict[str, Any]) -> Scale:
    return Scale(code=code, name=spec["name"], version=str(spec["version"]), kind=spec["kind"],
                 improvement=spec["improvement"], source=spec["source"],
                 levels=_levels(spec.get("levels", [])),
                 items=tuple(Item(code=i["code"], label=i["label"], levels=_levels(i["levels"]))
                             for i in spec.get("items", [])))
