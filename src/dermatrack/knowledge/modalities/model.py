"""The typed modality model: predicates, rules, protocols with parameter ranges, reactions,
adverse-event rates, combinations and references (frozen dataclasses, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dermatrack.errors import NotFoundError
from dermatrack.knowledge.record import FIELDS
from dermatrack.knowledge.rules import (  # noqa: F401  (re-exported: part of the modality model)
    AgeAtLeast,
    AgeBand,
    AgeBelow,
    All,
    Allergy,
    Any,
    Condition,
    Fitzpatrick,
    Medication,
    Predicate,
    Reference,
    Rule,
    Sex,
    iter_leaves,
)

MODALITY_SCHEMA = "modality.schema.json"

#: Fields of a seed-format record, in order (seed 000).
RECORD_FIELDS: tuple[str, ...] = FIELDS

# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Range:
    """A closed numeric interval with an optional usual value.

    Parameters
    ----------
    min, max : float
        Inclusive bounds, in the unit of whatever the range measures.
    default : float or None
        The usual starting value, ``min <= default <= max``.
    """

    min: float
    max: float
    default: float | None = None

    def contains(self, value: float) -> bool:
        """True when ``min <= value <= max``."""
        return self.min <= value <= self.max


@dataclass(frozen=True)
class ConcernEffect:
    """How well a modality treats a concern.

    ``efficacy`` is 1 (modest), 2 (good) or 3 (strong); ``evidence`` is ``"high"``,
    ``"moderate"`` or ``"low"``; ``severity_range`` is the span of severities (1-4) it
    suits, or None when not restricted.
    """

    code: str
    efficacy: int
    evidence: str
    severity_range: tuple[int, int] | None
    source: str


@dataclass(frozen=True)
class Parameter:
    """A device or product setting with its allowed range, overall and per region.

    Parameters
    ----------
    code, label, unit : str
        ``unit`` is written out (``mm``, ``J/cm2``, ``%``, ``min``, ``mL``, ``passes``).
    min, max, default : float
        The overall allowed range and usual start.
    by_region : dict of str to Range
        Narrower usual ranges for vocabulary regions, where anatomy matters.
    source : str
        Reference id.
    agent : str or None
        For alternatives that are not combined in one session (the acids of a
        superficial peel): which agent the parameter belongs to; a plan proposes the
        parameters of one agent only, the first listed.
    note : str or None
        How to read the range (for example that regional values are starting points).
    region_aliases : dict of str to str
        Imaging region names and the clinic region each stands for (the vocabulary's
        ``region_aliases``, given by the loader that resolved this parameter against it),
        so :meth:`range_for` accepts either.
    """

    code: str
    label: str
    unit: str
    min: float
    max: float
    default: float
    by_region: Mapping[str, Range]
    source: str
    note: str | None = None
    agent: str | None = None
    region_aliases: Mapping[str, str] = field(default_factory=dict, repr=False)

    def range_for(self, region: str | None) -> Range:
        """The usual range for ``region`` (imaging aliases accepted), else the overall one."""
        if region is not None:
            region = self.region_aliases.get(region, region)
            if region in self.by_region:
                return self.by_region[region]
        return Range(self.min, self.max, self.default)


@dataclass(frozen=True)
class Protocol:
    """A course of treatment: ``sessions`` (count), ``interval_days`` between sessions
    (None for single-session procedures), maintenance advice and the parameters."""

    sessions: Range
    interval_days: Range | None
    maintenance: str | None
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True)
class Reaction:
    """An expected, normal response and how many days it usually lasts."""

    code: str
    label: str
    usual_duration_days: float
    source: str


@dataclass(frozen=True)
class AdverseEventRate:
    """An adverse event with its reported rate in percent of treatments or patients
    (None when reported without a usable rate; ``note`` then says what is known)."""

    code: str
    label: str
    rate_percent: float | None
    note: str | None
    source: str


@dataclass(frozen=True)
class Combination:
    """A combination with another modality that the cited evidence supports."""

    with_modality: str
    note: str
    source: str


@dataclass(frozen=True)
class RegionExclusion:
    """A region the modality must not treat, with the reason and source."""

    region: str
    text: str
    source: str


@dataclass(frozen=True)
class Modality:
    """Everything dermatrack knows about one treatment modality (see module docstring)."""

    code: str
    name: str
    record: str
    category: str
    depth: str
    pih_risk: str
    concerns: tuple[ConcernEffect, ...]
    contraindications: tuple[Rule, ...]
    protocol: Protocol
    expected_reactions: tuple[Reaction, ...]
    adverse_events: tuple[AdverseEventRate, ...]
    downtime_days: Range
    pre_care: tuple[str, ...]
    post_care: tuple[str, ...]
    combinations: tuple[Combination, ...]
    references: tuple[Reference, ...]
    excluded_regions: tuple[RegionExclusion, ...] = ()

    def reference(self, id: str) -> Reference:
        """The reference with this id.

        Raises
        ------
        NotFoundError
            If the modality declares no such reference.
        """
        for ref in self.references:
            if ref.id == id:
                return ref
        raise NotFoundError(f"modality {self.code!r} has no reference {id!r}")

    def parameter(self, code: str) -> Parameter:
        """The protocol parameter with this code (NotFoundError if absent)."""
        for parameter in self.protocol.parameters:
            if parameter.code == code:
                return parameter
        raise NotFoundError(f"modality {self.code!r} has no parameter {code!r}")

    def concern(self, code: str) -> ConcernEffect | None:
        """The effect on concern ``code``, or None when the modality does not treat it."""
        return next((c for c in self.concerns if c.code == code), None)
