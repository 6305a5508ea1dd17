"""Treatment planning: rank the modalities that address a patient's concerns and lay out a course.

:func:`plan` screens every modality (:mod:`dermatrack.clinic.screening`), leaves out the
contraindicated ones with their reasons, scores the rest on how well they fit the patient,
and for each proposes a series of sessions with dates, default parameters per region,
pre- and post-care, expected reactions, assessment timepoints, the mitigations the caution
rules call for, and the combinations the knowledge base supports.

Scoring
-------
The score is a product of factors, so that each reads as "how much of the fit survives":

``score = 100 * benefit * evidence * downtime * pigment_risk * caution``

* **benefit** (0-1): for each patient concern the modality addresses,
  ``efficacy / 3 * severity_fit``, weighted by the concern's severity (1-4) and divided by
  the total severity of *all* the patient's concerns. A modality that treats the severe
  concern well scores above one that treats a mild one, and one that covers several
  concerns above one that covers few. ``severity_fit`` is 1 when the patient's severity lies
  in the modality's ``severity_range`` and :data:`OUT_OF_RANGE_FIT` otherwise (a light peel
  for severe scarring helps little).
* **evidence**: the efficacy-weighted mean of :data:`EVIDENCE_WEIGHT` over the concerns
  addressed; strong trial evidence counts more than case series.
* **downtime**: ``1 - DOWNTIME_PENALTY_PER_DAY * mean downtime days``, floored at
  :data:`DOWNTIME_FLOOR`; a week off work is a real cost but never outweighs efficacy.
* **pigment_risk**: :data:`PIH_RISK_FACTOR_DARK` for Fitzpatrick IV-VI,
  :data:`PIH_RISK_FACTOR_LIGHT` otherwise. Post-inflammatory hyperpigmentation is the
  commonest complication of injury-based treatments in darker skin and is more frequent with
  deeper, hotter, denser treatment (Nikalji 2012, J Cutan Aesthet Surg; Graber 2008,
  Dermatol Surg 34:301; clinical.md §1.3-1.4), so a high-risk modality keeps only about a
  third of its score there.
* **caution**: :data:`CAUTION_FACTOR` per relative rule that fired: each mitigation is a
  step that can fail or be skipped. Each such mitigation is also appended to the
  recommendation's ``pre_care`` (:func:`caution_pre_care`), so it is done, not just scored.

The weights are judgements, documented here so that a clinic can disagree with them; they
are not fitted to any data. Ties break on the modality code, so plans are deterministic.

Assessment timepoints follow the trial pattern of clinical.md §3 (NCT02646917; Narins 2010):
a baseline before the first session, one at each session, and follow-ups 1, 3 and 6 months
after the last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dermatrack.clinic.charting import region_default
from dermatrack.clinic.dates import add_months
from dermatrack.clinic.intake import Concern, PatientProfile
from dermatrack.clinic.screening import (
    ModalityScreening,
    Reason,
    cite,
    evaluate,
    screen,
    window_end,
)
from dermatrack.errors import InputError

#: Weight of the strength of evidence behind an efficacy claim.
EVIDENCE_WEIGHT: dict[str, float] = {"high": 1.0, "moderate": 0.85, "low": 0.65}

#: Benefit kept when the patient's severity lies outside the modality's severity range.
OUT_OF_RANGE_FIT = 0.4

#: Score lost per day of expected downtime (mean of the modality's range) ...
DOWNTIME_PENALTY_PER_DAY = 0.03
#: ... but never more than this share is lost.
DOWNTIME_FLOOR = 0.6

#: Score kept by PIH risk class in Fitzpatrick IV-VI, where PIH is most frequent.
PIH_RISK_FACTOR_DARK: dict[str, float] = {"low": 1.0, "moderate": 0.65, "high": 0.35}
#: Score kept by PIH risk class in Fitzpatrick I-III, where PIH is uncommon.
PIH_RISK_FACTOR_LIGHT: dict[str, float] = {"low": 1.0, "moderate": 0.97, "high": 0.9}

#: Score kept per relative contraindication that fired.
CAUTION_FACTOR = 0.8

#: Phototypes in which :data:`PIH_RISK_FACTOR_DARK` applies.
DARK_PHOTOTYPES = frozenset({"IV", "V", "VI"})

#: Follow-up visits after the last session, in calendar months.
FOLLOW_UP_MONTHS: tuple[int, ...] = (1, 3, 6)


@dataclass(frozen=True)
class ScoreBreakdown:
    """The factors of one modality's score (see the module docstring)."""

    benefit: float
    evidence: float
    downtime: float
    pigment_risk: float
    caution: float

    @property
    def score(self) -> float:
        return round(100 * self.benefit * self.evidence * self.downtime
                     * self.pigment_risk * self.caution, 1)

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in vars(self).items()}


@dataclass(frozen=True)
class Recommendation:
    """One recommended modality with its proposed course (see :meth:`to_dict`)."""

    modality: str
    name: str
    score: float
    breakdown: ScoreBreakdown
    verdict: str
    addresses: tuple[dict[str, Any], ...]
    sessions: tuple[dict[str, Any], ...]
    maintenance: str | None
    downtime_days: dict[str, float]
    pre_care: tuple[str, ...]
    post_care: tuple[str, ...]
    expected_reactions: tuple[dict[str, Any], ...]
    assessments: tuple[dict[str, Any], ...]
    mitigations: tuple[dict[str, Any], ...]
    combinations: tuple[dict[str, Any], ...]
    region_exclusions: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, "name": self.name, "score": self.score,
                "score_breakdown": self.breakdown.to_dict(), "addresses": list(self.addresses),
                "verdict": self.verdict, "sessions": list(self.sessions),
                "maintenance": self.maintenance, "downtime_days": self.downtime_days,
                "pre_care": list(self.pre_care), "post_care": list(self.post_care),
                "expected_reactions": list(self.expected_reactions),
                "assessments": list(self.assessments), "mitigations": list(self.mitigations),
                "combinations": list(self.combinations),
                "region_exclusions": list(self.region_exclusions)}


@dataclass(frozen=True)
class Exclusion:
    """A modality that treats a patient concern but cannot be offered.

    Either it is contraindicated (``reasons``; ``eligible_from`` is the first day it no
    longer is, when only medication windows stand in the way), or every such concern lies
    in a region the modality must not treat (``region_exclusions``).
    """

    modality: str
    addresses: tuple[str, ...]
    reasons: tuple[Reason, ...]
    eligible_from: dt.date | None
    region_exclusions: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, "addresses": list(self.addresses),
                "reasons": [r.to_dict() for r in self.reasons],
                "eligible_from": None if self.eligible_from is None
                else self.eligible_from.isoformat(),
                "region_exclusions": list(self.region_exclusions)}


@dataclass(frozen=True)
class Plan:
    """Recommended modalities best first, and the excluded ones with their reasons."""

    on: dt.date
    start: dt.date
    recommended: tuple[Recommendation, ...]
    excluded: tuple[Exclusion, ...]
    warnings: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "start": self.start.isoformat(),
                "recommended": [r.to_dict() for r in self.recommended],
                "excluded": [e.to_dict() for e in self.excluded],
                "warnings": [w.to_dict() for w in self.warnings]}


def plan(profile: PatientProfile, modalities: Mapping[str, Any], start: dt.date,
         on: dt.date) -> Plan:
    """Rank the modalities addressing ``profile``'s concerns and propose a course for each.

    Parameters
    ----------
    profile:
        The patient (:func:`dermatrack.clinic.intake.parse_patient`).
    modalities:
        Modality code to ``Modality`` (:func:`dermatrack.knowledge.modalities.load_modalities`).
    start:
        Date of the first session (and of the baseline assessment).
    on:
        Screening date: medication windows are judged at it.

    Returns
    -------
    Plan
        ``recommended`` sorted by score, highest first (ties by code); ``excluded`` sorted
        by code. Modalities that address none of the concerns appear in neither.

    Raises
    ------
    InputError
        When the patient has no concerns to plan for (field ``concerns``) or ``start`` is
        before the screening date (field ``start``).
    """
    if not profile.concerns:
        raise InputError("a plan needs at least one concern (code, region, severity)",
                         field="concerns")
    if start < on:
        raise InputError(f"the first session {start.isoformat()} is before the screening "
                         f"date {on.isoformat()}", field="start")
    screening = screen(profile, modalities, on).by_modality()
    verdicts = {code: s.verdict for code, s in screening.items()}
    recommended, excluded = [], []
    for code in sorted(modalities):
        modality = modalities[code]
        matches = _matching_concerns(profile, modality)
        region_exclusions = _region_exclusions(profile, modality)
        if not matches and not region_exclusions:
            continue
        result = screening[code]
        if result.verdict == "contraindicated" or not matches:
            treated = [c for c, _ in matches] or [
                c for c in profile.concerns if modality.concern(c.code) is not None]
            contraindicated = result.verdict == "contraindicated"
            excluded.append(Exclusion(
                modality=code, addresses=tuple(sorted({c.code for c in treated})),
                reasons=result.reasons if contraindicated else (),
                eligible_from=_eligible_from(modality, profile, on) if contraindicated
                else None,
                region_exclusions=region_exclusions))
            continue
        recommended.append(_recommend(profile, modality, matches, result, verdicts, start))
    recommended.sort(key=lambda r: (-r.score, r.modality))
    if any(r.verdict == "contraindicated" for r in recommended):  # pragma: no cover - guard
        raise AssertionError("a contraindicated modality reached the recommendations")
    return Plan(on=on, start=start, recommended=tuple(recommended), excluded=tuple(excluded),
                warnings=profile.warnings)


def score_modality(profile: PatientProfile, modality: Any,
                   screening: ModalityScreening) -> ScoreBreakdown:
    """The score factors of one modality for one patient (see the module docstring)."""
    matches = _matching_concerns(profile, modality)
    total_severity = sum(c.severity for c in profile.concerns) or 1
    benefit = 0.0
    evidence_num = evidence_den = 0.0
    for concern, effect in matches:
        fit = 1.0 if _in_severity_range(concern, effect) else OUT_OF_RANGE_FIT
        benefit += concern.severity * (effect.efficacy / 3) * fit
        evidence_num += effect.efficacy * EVIDENCE_WEIGHT[effect.evidence]
        evidence_den += effect.efficacy
    downtime_mean = (modality.downtime_days.min + modality.downtime_days.max) / 2
    risk_table = (PIH_RISK_FACTOR_DARK if profile.fitzpatrick in DARK_PHOTOTYPES
                  else PIH_RISK_FACTOR_LIGHT)
    return ScoreBreakdown(
        benefit=benefit / total_severity,
        evidence=evidence_num / evidence_den if evidence_den else 0.0,
        downtime=max(DOWNTIME_FLOOR, 1 - DOWNTIME_PENALTY_PER_DAY * downtime_mean),
        pigment_risk=risk_table[modality.pih_risk],
        caution=CAUTION_FACTOR ** len(screening.mitigations),
    )


def session_dates(modality: Any, start: dt.date) -> list[dt.date]:
    """The protocol's default number of sessions, every default interval from ``start``.

    A single-session procedure (no interval in its protocol) gives ``[start]``.
    """
    protocol = modality.protocol
    count = int(protocol.sessions.default if protocol.sessions.default is not None
                else protocol.sessions.min)
    if protocol.interval_days is None:
        return [start]
    interval = dt.timedelta(days=int(protocol.interval_days.default))
    return [start + n * interval for n in range(count)]


def assessment_schedule(dates: list[dt.date]) -> list[dict[str, Any]]:
    """Baseline at the first session, one per session, then 1, 3 and 6 months after the last."""
    schedule = [{"timepoint": "baseline", "date": dates[0].isoformat()}]
    schedule += [{"timepoint": f"session_{n}", "date": d.isoformat()}
                 for n, d in enumerate(dates, start=1)]
    schedule += [{"timepoint": f"month_{m}", "date": add_months(dates[-1], m).isoformat()}
                 for m in FOLLOW_UP_MONTHS]
    return schedule


def default_parameters(modality: Any, regions: list[str]) -> dict[str, dict[str, Any]]:
    """Default parameters per region: ``{region: {parameter: {value, unit, min, max, source}}}``.

    Parameters of alternative agents (a superficial peel is glycolic acid *or* salicylic
    acid *or* TCA *or* Jessner's solution, never all in one session) carry an ``agent``;
    only those of the first agent the knowledge base lists, its default, are proposed.
    """
    out: dict[str, dict[str, Any]] = {}
    agents = [p.agent for p in modality.protocol.parameters if getattr(p, "agent", None)]
    chosen = agents[0] if agents else None
    for region in regions:
        values = {}
        for parameter in modality.protocol.parameters:
            if getattr(parameter, "agent", None) not in (None, chosen):
                continue
            allowed = parameter.range_for(region)
            values[parameter.code] = {"value": region_default(parameter, region),
                                      "unit": parameter.unit,
                                      "min": allowed.min, "max": allowed.max,
                                      "source": parameter.source}
        out[region] = values
    return out


# --- helpers -----------------------------------------------------------------------------

def _matching_concerns(profile: PatientProfile, modality: Any) -> list[tuple[Concern, Any]]:
    """The patient's concerns the modality treats, with its effect, outside excluded regions."""
    effects = {effect.code: effect for effect in modality.concerns}
    banned = {e.region for e in modality.excluded_regions}
    return [(c, effects[c.code]) for c in profile.concerns
            if c.code in effects and c.region not in banned]


def _region_exclusions(profile: PatientProfile, modality: Any) -> tuple[dict[str, Any], ...]:
    """Concerns the modality treats but not in the region where the patient has them."""
    treated = {effect.code for effect in modality.concerns}
    banned = {e.region: e for e in modality.excluded_regions}
    return tuple({"concern": c.code, "region": c.region, "text": banned[c.region].text,
                  "source": cite(modality, banned[c.region].source)}
                 for c in profile.concerns if c.code in treated and c.region in banned)


def _in_severity_range(concern: Concern, effect: Any) -> bool:
    if effect.severity_range is None:
        return True
    low, high = effect.severity_range
    return low <= concern.severity <= high


def _recommend(profile: PatientProfile, modality: Any, matches: list[tuple[Concern, Any]],
               screening: ModalityScreening, verdicts: Mapping[str, str],
               start: dt.date) -> Recommendation:
    breakdown = score_modality(profile, modality, screening)
    regions = sorted({concern.region for concern, _ in matches})
    parameters = default_parameters(modality, regions)
    dates = session_dates(modality, start)
    addresses = tuple(
        {"concern": c.code, "region": c.region, "severity": c.severity,
         "efficacy": e.efficacy, "evidence": e.evidence,
         "severity_in_range": _in_severity_range(c, e), "source": cite(modality, e.source)}
        for c, e in matches)
    # A combination is proposed only when the partner is not contraindicated for this
    # patient; its own verdict travels with it so a caution is not lost.
    combinations = tuple(
        {"with": combo.with_modality, "with_verdict": verdicts[combo.with_modality],
         "note": combo.note, "source": cite(modality, combo.source)}
        for combo in modality.combinations
        if verdicts.get(combo.with_modality, "contraindicated") != "contraindicated")
    return Recommendation(
        modality=modality.code, name=modality.name, score=breakdown.score,
        breakdown=breakdown, verdict=screening.verdict, addresses=addresses,
        sessions=tuple({"n": n, "date": d.isoformat(), "parameters": parameters}
                       for n, d in enumerate(dates, start=1)),
        maintenance=modality.protocol.maintenance,
        downtime_days={"min": modality.downtime_days.min, "max": modality.downtime_days.max},
        pre_care=tuple(modality.pre_care) + caution_pre_care(screening),
        post_care=tuple(modality.post_care),
        expected_reactions=tuple(
            {"code": r.code, "label": r.label, "usual_duration_days": r.usual_duration_days}
            for r in modality.expected_reactions),
        assessments=tuple(assessment_schedule(dates)),
        mitigations=tuple({"rule": r.rule, "mitigation": r.mitigation, "source": r.source}
                          for r in screening.mitigations),
        combinations=combinations,
        region_exclusions=_region_exclusions(profile, modality),
    )


def caution_pre_care(screening: ModalityScreening) -> tuple[str, ...]:
    """The mitigation of every caution rule that fired, as pre-care steps naming the rule.

    The contraindication matrix states a mitigation for every ``caution`` verdict; a plan
    that recommends the modality must carry it into what is done before the first session.
    """
    return tuple(f"{r.mitigation} (caution: {r.rule})" for r in screening.mitigations
                 if r.mitigation)


def _eligible_from(modality: Any, profile: PatientProfile, on: dt.date) -> dt.date | None:
    """The first day no absolute rule fires, when every one that fires is a medication window."""
    ends = []
    for rule in modality.contraindications:
        if rule.kind != "absolute" or evaluate(rule.when, profile, on) is None:
            continue
        end = window_end(rule.when, profile, on)
        if end is None:
            return None
        ends.append(end)
    return max(ends) if ends else None
