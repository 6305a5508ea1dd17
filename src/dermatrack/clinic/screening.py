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

The bundled rules come from the contraindication matrix (``knowledge/data/matrix.yaml``,
:mod:`dermatrack.knowledge.matrix`), which gives every vocabulary factor an explicit verdict
for every modality; the ``no_effect`` cells fire no rule.

Before any rule is evaluated, the vocabulary's implications are applied: a recorded
condition implies others (``pacemaker`` implies ``cardiac_conduction_disease``, which
implies ``cardiac_disease``; ``systemic_lupus`` implies ``autoimmune_disease`` and
``photosensitivity_disorder``), and a medication taken now implies conditions
(``chemotherapy`` implies ``immunosuppression``). A rule that fires on an implied condition
says so in its matched facts ("condition cardiac_disease implied by pacemaker ->
cardiac_conduction_disease").

Medication exposure (:class:`dermatrack.knowledge.modalities.Medication`):

* current: the patient takes it now (``ongoing``);
* ever: any recorded use, current or past, dated or not;
* within N days: taken now, or last taken on day D with ``0 <= on - D <= N`` days;
* within N calendar months: taken now, or last taken on day D with
  ``on <= add_months(D, N)``: the anniversary day still counts, the day after does not.
  Isotretinoin stopped on 2026-05-23 is in its 6-month window on 2026-11-21 (5 months and
  29 days later) and on 2026-11-23, out of it on 2026-11-24; a 31 August stop ends on the
  last day of February.

The isotretinoin windows follow the ASDS 2017 and JAMA Dermatology 2017 consensus statements
(Waldman et al., Dermatol Surg 43:1249; Spring et al., JAMA Dermatol 153:802) and the label's
6 months; see each rule's cited source.

Implausible facts found at intake (pregnancy in a male patient, a medication last taken
before it was started, an age that disagrees with the date of birth) travel with the result
as ``warnings``; they never pass silently.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dermatrack.clinic.dates import add_months
from dermatrack.clinic.intake import PatientProfile, PlausibilityWarning
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
    warnings: tuple[PlausibilityWarning, ...] = ()

    def by_modality(self) -> dict[str, ModalityScreening]:
        return {r.modality: r for r in self.results}

    def to_dict(self) -> dict[str, Any]:
        """The ``{"on": DATE, "results": [...]}`` shape of issue 3, plus ``warnings``."""
        return {"on": self.on.isoformat(), "results": [r.to_dict() for r in self.results],
                "warnings": [w.to_dict() for w in self.warnings]}


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
        chain = implied_conditions(profile).get(predicate.code)
        if chain is not None:
            return (f"condition {predicate.code} implied by {' -> '.join(chain)} "
                    "(vocabulary implication)",)
        return None
    if isinstance(predicate, kb.Medication):
        return _medication_fact(predicate, profile, on)
    if isinstance(predicate, kb.AgeBand):
        band = profile.age_band
        if band in predicate.codes:
            return (f"age {profile.age} is in age band {band}",)
        return None
    if isinstance(predicate, kb.Sex):
        sex = profile.sex or "unknown"
        if sex in predicate.codes:
            return (f"sex {sex}" + ("" if profile.sex else " (not recorded)"),)
        return None
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
                                                for c in codes),
                           warnings=profile.warnings)


def implied_conditions(profile: PatientProfile) -> dict[str, tuple[str, ...]]:
    """Conditions the vocabulary's implications add to ``profile``, with the implying chain.

    Recorded conditions and allergies imply conditions; medications imply them only while
    taken (``ongoing``). :func:`dermatrack.clinic.intake.parse_patient` works them out with
    the vocabulary it is given (:attr:`PatientProfile.implied_conditions`).
    """
    return dict(profile.implied_conditions)


def window_end(predicate: Any, profile: PatientProfile,
               on: dt.date | None = None) -> dt.date | None:
    """The first day a medication window in ``predicate`` no longer holds, if it is one.

    For a leaf ``{medication: X, within_days: N}`` that holds because X was last taken on
    day D (and is not ongoing) this is D + N + 1 days; for ``within_months: N`` it is the day
    after ``add_months(D, N)``. For an ``any`` tree, the last end among the leaves that hold
    at ``on`` (every leaf when ``on`` is not given). ``None`` for any other predicate
    (``ever`` never ends), for ongoing use, and when some leaf that holds has no end.
    """
    from dermatrack.knowledge import modalities as kb

    if isinstance(predicate, kb.Any):
        # Every leaf that holds must have ended; the tree ends with the last of them.
        ends = []
        for leaf in predicate.predicates:
            if _held(leaf, profile, on):
                end = window_end(leaf, profile, on)
                if end is None:
                    return None
                ends.append(end)
        return max(ends) if ends else None
    if isinstance(predicate, kb.Medication) and not predicate.ever and (
            predicate.within_days is not None or predicate.within_months is not None):
        use = profile.medication(predicate.code)
        if use is not None and not use.ongoing and use.last_taken is not None:
            if predicate.within_months is not None:
                return add_months(use.last_taken, predicate.within_months) + dt.timedelta(days=1)
            if predicate.within_days is not None:
                return use.last_taken + dt.timedelta(days=predicate.within_days + 1)
    return None


def _held(predicate: Any, profile: PatientProfile, on: dt.date | None) -> bool:
    """Whether a leaf holds at ``on`` (without a date: whether it could hold at all)."""
    from dermatrack.knowledge import modalities as kb

    if on is not None:
        return evaluate(predicate, profile, on) is not None
    if isinstance(predicate, kb.Medication):
        return profile.medication(predicate.code) is not None
    return evaluate(predicate, profile, dt.date.max) is not None


def _medication_fact(predicate: Any, profile: PatientProfile,
                     on: dt.date) -> tuple[str, ...] | None:
    code = predicate.code
    use = profile.medication(code)
    if use is None:
        return None
    if use.ongoing:
        return (f"{code} taken now (ongoing)",)
    if predicate.ever:
        when = f"last taken {use.last_taken.isoformat()}" if use.last_taken else "date not recorded"
        return (f"{code} taken in the past ({when}); any past use counts",)
    if use.last_taken is None:
        # A stopped medication with no date cannot be placed in a window.
        return None
    if predicate.within_months is not None:
        end = add_months(use.last_taken, predicate.within_months)
        if use.last_taken <= on <= end:
            return (f"{code} last taken {use.last_taken.isoformat()}, within "
                    f"{predicate.within_months} calendar months of {on.isoformat()} "
                    f"(the window ends {end.isoformat()})",)
        return None
    if predicate.within_days is None:
        return None  # current use only
    days = (on - use.last_taken).days
    if 0 <= days <= predicate.within_days:
        return (f"{code} last taken {use.last_taken.isoformat()}, {days} days before "
                f"{on.isoformat()}, within {predicate.within_days} days",)
    return None


def cite(modality: Any, reference_id: str) -> str:
    """A modality's reference as ``"<id>: <citation>"`` (the bare id if it is not declared)."""
    try:
        reference = modality.reference(reference_id)
    except NotFoundError:
        return reference_id
    return f"{reference.id}: {reference.citation}"
