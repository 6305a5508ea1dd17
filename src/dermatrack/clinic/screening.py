"""Contraindication screening: the knowledge base's rules evaluated against a patient.

Each modality file lists its contraindications as rules (docs/knowledge-data.md): an
``absolute`` rule is a hard stop, a ``relative`` one calls for caution and names the
mitigation to apply. A rule's ``when`` is a small predicate tree (condition, medication
within a number of days, allergy, Fitzpatrick types, age bounds, and ``all``/``any`` of
those). This module evaluates those trees generically; it holds no knowledge of any one
modality, so adding or changing a rule is an edit to the data, never to this code.

The verdict for a modality is

* ``contraindicated`` when any absolute rule fires,
* ``caution`` when only relative rules fire,
* ``suitable`` when none does,

and every fired rule comes back as a :class:`Reason` carrying its id, text, mitigation,
the reference it cites and the patient facts that made it fire, so that a clinician can
check the reasoning rather than trust it.

Medication windows follow the modality files: ``{medication: X, within_days: N}`` fires
when the patient takes X now (``ongoing``) or last took it at most N days before the
screening date. Without ``within_days`` it fires only for current use. The isotretinoin
windows in the data follow the stratification by depth of the ASDS 2017 and JAMA
Dermatology 2017 consensus statements (Waldman et al., Dermatol Surg 43:1249; Spring et al.);
see the cited reference of each rule.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dermatrack.clinic.intake import PatientProfile
from dermatrack.errors import InputError, NotFoundError

Verdict = Literal["contraindicated", "caution", "suitable"]

#: Verdicts from worst to best; used for ordering and summaries.
VERDICTS: tuple[Verdict, ...] = ("contraindicated", "caution", "suitable")


@dataclass(frozen=True)
class Reason:
    """One rule that fired, with why.

    Attributes
    ----------
    rule:
        The rule id, unique across the knowledge base (``microneedling.isotretinoin``).
    kind:
        ``"absolute"`` or ``"relative"``.
    text, mitigation:
        From the rule; ``mitigation`` is ``None`` for absolute rules.
    source:
        The cited reference as ``"<id>: <citation>"``.
    matched:
        The patient facts that satisfied the rule, one sentence each.
    """

    rule: str
    kind: str
    text: str
    mitigation: str | None
    source: str
    matched: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "kind": self.kind, "text": self.text,
                "mitigation": self.mitigation, "source": self.source,
                "matched": list(self.matched)}


@dataclass(frozen=True)
class ModalityScreening:
    """The verdict for one modality and the rules behind it."""

    modality: str
    verdict: Verdict
    reasons: tuple[Reason, ...]

    @property
    def mitigations(self) -> tuple[Reason, ...]:
        """The relative rules that fired: what to do before treating."""
        return tuple(r for r in self.reasons if r.kind == "relative")

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, "verdict": self.verdict,
                "reasons": [r.to_dict() for r in self.reasons]}


@dataclass(frozen=True)
class ScreeningResult:
    """Verdicts for every screened modality at one date, sorted by modality code."""

    on: dt.date
    results: tuple[ModalityScreening, ...]

    def by_modality(self) -> dict[str, ModalityScreening]:
        return {r.modality: r for r in self.results}

    def to_dict(self) -> dict[str, Any]:
        """The ``{"on": DATE, "results": [...]}`` shape of issue 3."""
        return {"on": self.on.isoformat(), "results": [r.to_dict() for r in self.results]}


def evaluate(predicate: Any, profile: PatientProfile, on: dt.date) -> tuple[str, ...] | None:
    """Evaluate one predicate tree against a patient at date ``on``.

    Returns
    -------
    tuple of str or None
        The matched facts (one explanatory sentence per leaf that held) when the predicate
        holds, ``None`` when it does not.
    """
    from dermatrack.knowledge import modalities as kb

    if isinstance(predicate, kb.Condition | kb.Allergy):
        # Allergies are condition codes too; a clinician may list one under either key,
        # and a hard stop must not depend on which.
        if predicate.code in profile.conditions:
            return (f"condition {predicate.code} recorded",)
        if predicate.code in profile.allergies:
            return (f"allergy {predicate.code} recorded",)
        return None
    if isinstance(predicate, kb.Medication):
        return _medication_fact(predicate.code, predicate.within_days, profile, on)
    if isinstance(predicate, kb.Fitzpatrick):
        types = tuple(predicate.types)
        if profile.fitzpatrick in types:
            return (f"Fitzpatrick type {profile.fitzpatrick} is one of {', '.join(types)}",)
        return None
    if isinstance(predicate, kb.AgeBelow):
        if profile.age < predicate.years:
            return (f"age {profile.age} is below {predicate.years}",)
        return None
    if isinstance(predicate, kb.AgeAtLeast):
        if profile.age >= predicate.years:
            return (f"age {profile.age} is at least {predicate.years}",)
        return None
    if isinstance(predicate, kb.All):
        facts: list[str] = []
        for item in predicate.predicates:
            held = evaluate(item, profile, on)
            if held is None:
                return None
            facts.extend(held)
        return tuple(facts)
    if isinstance(predicate, kb.Any):
        facts = []
        for item in predicate.predicates:
            held = evaluate(item, profile, on)
            if held is not None:
                facts.extend(held)
        return tuple(facts) if facts else None
    raise TypeError(f"unknown predicate type {type(predicate).__name__}")


def screen_modality(profile: PatientProfile, modality: Any, on: dt.date) -> ModalityScreening:
    """Evaluate every contraindication rule of one modality (a ``Modality``)."""
    reasons = []
    for rule in modality.contraindications:
        matched = evaluate(rule.when, profile, on)
        if matched is not None:
            reasons.append(Reason(rule=rule.id, kind=rule.kind, text=rule.text,
                                  mitigation=rule.mitigation,
                                  source=cite(modality, rule.source),
                                  matched=matched))
    # Absolute rules first so the hard stops read first; then rule id for a stable order.
    reasons.sort(key=lambda r: (r.kind != "absolute", r.rule))
    if any(r.kind == "absolute" for r in reasons):
        verdict: Verdict = "contraindicated"
    elif reasons:
        verdict = "caution"
    else:
        verdict = "suitable"
    return ModalityScreening(modality=modality.code, verdict=verdict, reasons=tuple(reasons))


def screen(profile: PatientProfile, modalities: Mapping[str, Any], on: dt.date,
           only: str | None = None) -> ScreeningResult:
    """Screen a patient against every modality, or only the one named.

    Parameters
    ----------
    profile:
        From :func:`dermatrack.clinic.intake.parse_patient`.
    modalities:
        Modality code to ``Modality``, as from
        :func:`dermatrack.knowledge.modalities.load_modalities`.
    on:
        The date time windows are judged at.
    only:
        A modality code; :class:`InputError` (field ``modality``) when unknown.
    """
    if only is not None:
        if only not in modalities:
            close = difflib.get_close_matches(only, list(modalities), n=3, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise InputError(f"unknown modality {only!r}{hint}; known: "
                             f"{', '.join(sorted(modalities))}", field="modality")
        codes = [only]
    else:
        codes = sorted(modalities)
    return ScreeningResult(on=on, results=tuple(screen_modality(profile, modalities[c], on)
                                                for c in codes))


def window_end(predicate: Any, profile: PatientProfile) -> dt.date | None:
    """The first day a medication window in ``predicate`` no longer holds, if it is one.

    For a leaf ``{medication: X, within_days: N}`` that holds because X was last taken on
    day D (and is not ongoing) this is D + N + 1 days. ``None`` for any other predicate, for
    ongoing use, and for trees whose end cannot be read off one leaf.
    """
    from dermatrack.knowledge import modalities as kb

    if isinstance(predicate, kb.Medication) and predicate.within_days is not None:
        use = profile.medication(predicate.code)
        if use is not None and not use.ongoing and use.last_taken is not None:
            return use.last_taken + dt.timedelta(days=predicate.within_days + 1)
    return None


def _medication_fact(code: str, within_days: int | None, profile: PatientProfile,
                     on: dt.date) -> tuple[str, ...] | None:
    use = profile.medication(code)
    if use is None:
        return None
    if use.ongoing:
        return (f"{code} taken now (ongoing)",)
    if within_days is None or use.last_taken is None:
        # Without a window only current use counts; a stopped medication with no date
        # cannot be placed in time and so does not fire a windowed rule either.
        return None
    days = (on - use.last_taken).days
    if 0 <= days <= within_days:
        return (f"{code} last taken {use.last_taken.isoformat()}, {days} days before "
                f"{on.isoformat()}, within {within_days} days",)
    return None


def cite(modality: Any, reference_id: str) -> str:
    """A modality's reference as ``"<id>: <citation>"`` (the bare id if it is not declared)."""
    try:
        reference = modality.reference(reference_id)
    except NotFoundError:
        return reference_id
    return f"{reference.id}: {reference.citation}"
