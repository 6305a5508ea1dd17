"""Contraindication rules: predicates over a patient, the rules built from them, and the
references a rule cites.

Shared by the modality model (:mod:`dermatrack.knowledge.modalities`), the contraindication
matrix (:mod:`dermatrack.knowledge.matrix`) and screening (:mod:`dermatrack.clinic.screening`),
so it depends on none of them. Frozen dataclasses, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Condition:
    """True when the patient has the vocabulary condition ``code``."""

    code: str


@dataclass(frozen=True)
class Medication:
    """True when the patient takes the vocabulary medication ``code``.

    ``within_days``: also true when it was last taken at most this many days before the
    screening date. ``within_months``: also true when the screening date is at most this
    many calendar months after the day it was last taken (the anniversary day included;
    a 31st moves to the month's last day). ``ever``: true for any recorded use, current or
    past, dated or not. With none of them, current use only.
    """

    code: str
    within_days: int | None = None
    within_months: int | None = None
    ever: bool = False

    @property
    def exposure(self) -> str:
        """``current``, ``ever``, ``within N calendar months`` or ``within N days``."""
        if self.ever:
            return "ever"
        if self.within_months is not None:
            return f"within {self.within_months} calendar months"
        if self.within_days is not None:
            return f"within {self.within_days} days"
        return "current"


@dataclass(frozen=True)
class Allergy:
    """True when the patient has the hypersensitivity ``code``.

    Allergies are vocabulary *condition* codes (``lidocaine_allergy``,
    ``hypersensitivity_plla``); this predicate marks the rule as an allergy rule.
    """

    code: str


@dataclass(frozen=True)
class Fitzpatrick:
    """True when the patient's Fitzpatrick skin type is one of ``types``."""

    types: tuple[str, ...]


@dataclass(frozen=True)
class AgeBelow:
    """True when the patient is younger than ``years`` on the screening date."""

    years: int


@dataclass(frozen=True)
class AgeAtLeast:
    """True when the patient is ``years`` old or older on the screening date."""

    years: int


@dataclass(frozen=True)
class AgeBand:
    """True when the patient's age falls in one of the vocabulary age bands ``codes``."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class Sex:
    """True when the patient's sex is one of ``codes`` (no sex recorded counts as unknown)."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class All:
    """True when every predicate in ``predicates`` is true."""

    predicates: tuple[Predicate, ...]


@dataclass(frozen=True)
class Any:
    """True when at least one predicate in ``predicates`` is true."""

    predicates: tuple[Predicate, ...]


Predicate = (Condition | Medication | Allergy | Fitzpatrick | AgeBelow | AgeAtLeast | AgeBand
             | Sex | All | Any)


def iter_leaves(predicate: Predicate) -> Iterator[Predicate]:
    """Yield the non-composite predicates of a predicate tree, depth first."""
    if isinstance(predicate, All | Any):
        for child in predicate.predicates:
            yield from iter_leaves(child)
    else:
        yield predicate


@dataclass(frozen=True)
class Rule:
    """A contraindication rule.

    Parameters
    ----------
    id : str
        Unique across the knowledge base, ``<modality>.<name>`` (``ipl.recent_tan``).
    kind : {"absolute", "relative"}
        ``absolute`` is a hard stop; ``relative`` means proceed with caution and the
        ``mitigation``.
    when : Predicate
        The patient state that triggers the rule.
    text : str
        Why, in one or two sentences for the clinician.
    mitigation : str or None
        What lowers the risk; always present for relative rules.
    source : str
        Reference id in the modality's ``references``.
    """

    id: str
    kind: str
    when: Predicate
    text: str
    mitigation: str | None
    source: str


@dataclass(frozen=True)
class Reference:
    """A citable source; ``url`` where one is known; ``kind`` (``label``, ``consensus``,
    ``peer_reviewed``, ...) for the sources of the contraindication matrix."""

    id: str
    citation: str
    url: str | None
    kind: str | None = None
