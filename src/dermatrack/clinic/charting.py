"""Charting rules: session parameters against the knowledge base, reactions, adverse events.

What a clinician records during and after a session is checked here before the store keeps
it (the service layer calls these functions):

* :func:`check_parameters` compares device settings with the modality's documented range
  for the treated region (``Parameter.range_for``) and notes the defaults of settings left
  out. The per-region ranges come from the modality files, whose sources the findings cite;
  some rest on practitioner guidance only (clinical.md §1.1), so a clinic may override an
  out-of-range finding, but it is reported as an error so that it is never missed.
* :func:`classify_reaction` separates an *expected treatment response* from an *adverse
  event*. The SkinPen pivotal study recorded "common treatment responses" (erythema,
  tightness, dryness) apart from adverse events; a response became an adverse event only
  when it persisted beyond its expected course (SkinPen Precision labelling, FDA De Novo
  DEN160029; clinical.md §3). Here the expected course is the reaction's
  ``usual_duration_days`` in the modality file: a reaction that lasts longer, or one the
  modality does not list as expected, is an adverse event.
* Adverse events are graded with CTCAE severity grades (:data:`CTCAE_GRADES`), their
  relatedness with the WHO-UMC causality categories as FHIR codes
  (:data:`WHO_UMC_RELATEDNESS`), their outcome with the FHIR R4 outcome codes
  (:data:`OUTCOMES`), and :func:`is_serious` applies the seriousness rule.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dermatrack.errors import InputError

#: CTCAE severity grades (Common Terminology Criteria for Adverse Events v5.0, NCI 2017;
#: summary in clinical.md §3). ADL: activities of daily living.
CTCAE_GRADES: dict[int, str] = {
    1: "Mild: asymptomatic or mild symptoms; observation only; no intervention indicated.",
    2: "Moderate: minimal, local or non-invasive intervention indicated; limits "
       "age-appropriate instrumental ADL.",
    3: "Severe or medically significant but not immediately life-threatening; "
       "hospitalisation indicated; limits self-care ADL.",
    4: "Life-threatening consequences; urgent intervention indicated.",
    5: "Death related to the adverse event.",
}

#: WHO-UMC causality categories as the FHIR ``adverse-event-causality-assess`` codes
#: (who-umc.org; build.fhir.org/valueset-adverse-event-causality-assess).
WHO_UMC_RELATEDNESS: dict[str, str] = {
    "certain": "Certain",
    "probably-likely": "Probable/Likely",
    "possible": "Possible",
    "unlikely": "Unlikely",
    "conditional-classified": "Conditional/Unclassified",
    "unassessable-unclassifiable": "Unassessable/Unclassifiable",
}

#: Relatedness codes counted as "related" when events are tabulated: possible or above,
#: the convention of trial protocols (PMC7573712, table 5).
RELATED_CODES = frozenset({"certain", "probably-likely", "possible"})

#: Regulatory seriousness criteria (ICH E2A, 1994): any one makes an event serious.
SERIOUSNESS_CRITERIA: dict[str, str] = {
    "death": "Results in death",
    "life_threatening": "Is life-threatening",
    "hospitalisation": "Requires inpatient hospitalisation or prolongs it",
    "disability": "Results in persistent or significant disability or incapacity",
    "congenital_anomaly": "Is a congenital anomaly or birth defect",
    "important_medical_event": "Is an important medical event that may need intervention "
                               "to prevent one of the outcomes above",
}

#: Outcome of an adverse event, FHIR R4 ``adverse-event-outcome`` codes.
OUTCOMES: dict[str, str] = {
    "resolved": "Resolved",
    "recovering": "Recovering/resolving",
    "ongoing": "Ongoing",
    "resolvedWithSequelae": "Resolved with sequelae",
    "fatal": "Fatal",
    "unknown": "Unknown",
}

#: Grades at or above which dermatrack flags an event serious whatever the criteria say: a
#: severe (grade 3) complication of an elective cosmetic treatment is reported as serious
#: (a deliberately conservative project rule).
SERIOUS_GRADE = 3

Severity = Literal["error", "note"]
ReactionClass = Literal["expected", "adverse_event"]


@dataclass(frozen=True)
class ParameterFinding:
    """One remark on a session's parameters.

    ``level`` is ``"error"`` (unknown parameter, value outside the documented range, not a
    number) or ``"note"`` (left out: the default is assumed).
    """

    parameter: str
    level: Severity
    message: str
    value: float | None = None
    unit: str | None = None
    allowed: tuple[float, float] | None = None
    default: float | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "level": self.level, "message": self.message,
                "value": self.value, "unit": self.unit,
                "allowed": None if self.allowed is None else list(self.allowed),
                "default": self.default, "source": self.source}


def check_parameters(modality: Any, region: str,
                     parameters: Mapping[str, Any]) -> list[ParameterFinding]:
    """Check a session's settings against the modality's documented ranges for ``region``.

    Parameters
    ----------
    modality:
        A ``dermatrack.knowledge.modalities.Modality``.
    region:
        Vocabulary region code of the treated area.
    parameters:
        Parameter code to value, in the parameter's unit (mm, J/cm², %, ...).

    Returns
    -------
    list of ParameterFinding
        Errors first, in the order given, then notes for the parameters left out. An empty
        list means every documented parameter was given and within range.
    """
    known = {p.code: p for p in modality.protocol.parameters}
    findings: list[ParameterFinding] = []
    for excluded in getattr(modality, "excluded_regions", ()):
        if excluded.region == region:
            findings.append(ParameterFinding(
                parameter="region", level="error", source=excluded.source,
                message=f"{modality.code} is not used on {region}: {excluded.text}"))
    for code, value in parameters.items():
        parameter = known.get(code)
        if parameter is None:
            close = difflib.get_close_matches(code, list(known), n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            findings.append(ParameterFinding(
                parameter=code, level="error",
                message=f"{modality.code} has no parameter {code!r}{hint}; known: "
                        f"{', '.join(known) or 'none'}"))
            continue
        allowed = parameter.range_for(region)
        source = parameter.source
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            findings.append(ParameterFinding(
                parameter=code, level="error", unit=parameter.unit, source=source,
                allowed=(allowed.min, allowed.max),
                message=f"{parameter.label} must be a finite number in {parameter.unit}, "
                        f"got {value!r}"))
            continue
        if not allowed.min <= value <= allowed.max:
            findings.append(ParameterFinding(
                parameter=code, level="error", value=float(value), unit=parameter.unit,
                allowed=(allowed.min, allowed.max), default=region_default(parameter, region),
                source=source,
                message=f"{parameter.label} {value:g} {parameter.unit} is outside "
                        f"{allowed.min:g}-{allowed.max:g} {parameter.unit} for {region} "
                        f"({modality.code}, source {source})"))
    for code, parameter in known.items():
        if code not in parameters:
            allowed = parameter.range_for(region)
            default = region_default(parameter, region)
            findings.append(ParameterFinding(
                parameter=code, level="note", unit=parameter.unit, default=default,
                allowed=(allowed.min, allowed.max), source=parameter.source,
                message=f"{parameter.label} not recorded; the default for {region} is "
                        f"{default:g} {parameter.unit}"))
    return findings


def region_default(parameter: Any, region: str) -> float:
    """A parameter's usual value for ``region``: the regional default, else the overall
    default brought inside the regional range."""
    allowed = parameter.range_for(region)
    if allowed.default is not None:
        return allowed.default
    return min(max(parameter.default, allowed.min), allowed.max)


@dataclass(frozen=True)
class Classification:
    """How a reaction is charted, and why (the text the form previews and the chart keeps).

    Attributes
    ----------
    kind : ``"expected"`` or ``"adverse_event"``
    reason : one sentence saying why, naming the reaction, its duration and the modality
    code : the code it is charted under: the reaction itself, or for a prolonged expected
        reaction the adverse-event term it escalates to (``erythema`` ->
        ``prolonged_erythema``)
    """

    kind: ReactionClass
    reason: str
    code: str


def unlinked_reaction(code: str, *, name: str | None = None) -> Classification:
    """A reaction charted without a treatment session: always an adverse event."""
    return Classification("adverse_event", f"{name or code} is not linked to a treatment "
                                           "session", code)


def classify_reaction(modality: Any, code: str, onset: dt.date, *,
                      still_present_on: dt.date | None = None,
                      resolved_on: dt.date | None = None,
                      term: Any = None) -> Classification:
    """Whether a reaction after a session is an expected response or an adverse event.

    Parameters
    ----------
    modality:
        The modality given at the session.
    code:
        The reaction (vocabulary code: ``erythema``, ``edema``, ...).
    onset:
        First day of the reaction.
    still_present_on, resolved_on:
        Exactly one: the last day it was seen still present, or the day it resolved.
    term:
        The reaction's vocabulary term, when it has one (its ``label`` names it in the
        reason, its ``escalates_to`` is the adverse event a prolonged one becomes).

    Returns
    -------
    Classification
        ``"expected"`` when the modality lists ``code`` as an expected reaction and it has
        lasted no longer than its ``usual_duration_days``; ``"adverse_event"`` otherwise
        (SkinPen labelling rule, see the module docstring); with the reason and the code
        it is charted under.
    """
    if (still_present_on is None) == (resolved_on is None):
        raise InputError("give exactly one of still_present_on and resolved_on",
                         field="resolved_on")
    if resolved_on is not None:
        seen_until, field_name = resolved_on, "resolved_on"
    else:
        assert still_present_on is not None  # exactly one was given
        seen_until, field_name = still_present_on, "still_present_on"
    if seen_until < onset:
        raise InputError(f"{seen_until.isoformat()} is before the onset {onset.isoformat()}",
                         field=field_name)
    name = getattr(term, "label", None) or code.replace("_", " ")
    reaction = {r.code: r for r in modality.expected_reactions}.get(code)
    if reaction is None:
        return Classification("adverse_event",
                              f"{name} is not an expected reaction to {modality.name}", code)
    lasted_days = (seen_until - onset).days
    usual = reaction.usual_duration_days
    if lasted_days <= usual:
        return Classification("expected", f"{name} has lasted {lasted_days} days, within "
                                          f"the usual {usual:g} days after {modality.name}",
                              code)
    escalated = getattr(term, "escalates_to", None) or code
    return Classification("adverse_event",
                          f"{name} has lasted {lasted_days} days, longer than the usual "
                          f"{usual:g} days after {modality.name}: charted as "
                          f"{escalated.replace('_', ' ')}", escalated)


def adverse_event_code(reaction: str, vocabulary: Any) -> str | None:
    """The adverse-event code a reaction is charted under once it is an adverse event.

    An expected reaction names its adverse event in the vocabulary (``escalates_to``:
    erythema -> prolonged_erythema); an adverse-event code maps to itself. ``None`` when
    the vocabulary gives no mapping, and the clinician must choose the term.
    """
    if reaction in vocabulary.adverse_events:
        return reaction
    term = vocabulary.expected_reactions.get(reaction)
    return None if term is None else term.escalates_to


def is_serious(grade: int, criteria: Iterable[str] = ()) -> bool:
    """Seriousness flag: grade >= :data:`SERIOUS_GRADE` or any ICH E2A criterion met."""
    grade = validate_grade(grade)
    criteria = [validate_choice(c, SERIOUSNESS_CRITERIA, "seriousness_criteria")
                for c in criteria]
    return grade >= SERIOUS_GRADE or bool(criteria)


def is_related(relatedness: str) -> bool:
    """True for WHO-UMC possible, probable/likely and certain (:data:`RELATED_CODES`)."""
    return validate_choice(relatedness, WHO_UMC_RELATEDNESS, "relatedness") in RELATED_CODES


def validate_grade(grade: Any, field: str = "grade") -> int:
    """A CTCAE grade 1-5, or :class:`InputError` naming ``field``."""
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in CTCAE_GRADES:
        raise InputError(f"grade must be a whole number 1 to 5 (CTCAE), got {grade!r}",
                         field=field)
    return grade


def validate_choice(value: Any, choices: Mapping[str, str], field: str) -> str:
    """``value`` when it is a key of ``choices`` (relatedness, outcome, criterion).

    Raises :class:`InputError` naming ``field`` otherwise.
    """
    if not isinstance(value, str) or value not in choices:
        close = difflib.get_close_matches(str(value), list(choices), n=2, cutoff=0.6)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise InputError(f"unknown value {value!r}{hint}; expected one of "
                         f"{', '.join(choices)}", field=field)
    return value
