"""Adverse-event rates per session and per patient, by severity and relatedness.

Two denominators answer two questions: the share of *sessions* followed by an adverse
event (risk per treatment) and the share of *patients* who had at least one (risk per
course). Both are proportions with Wilson 95 % intervals
(:func:`dermatrack.outcomes.proportions.wilson_interval`).

Severity is the CTCAE grade: 1 mild, 2 moderate, 3 severe, 4 life-threatening, 5 death.
Relatedness is the WHO-UMC causality category; *certain*, *probable/likely* and
*possible* count as related, *unlikely*, *conditional/unclassified* and
*unassessable/unclassifiable* as not related, following the usual trial convention of
counting "possible or above" as related (clinical reference, sec. 3; WHO-UMC system for
standardised case causality assessment; PMC7573712, table 5).
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass
from typing import Any

from dermatrack.errors import InputError
from dermatrack.outcomes.groups import ROMAN, recorded_type
from dermatrack.outcomes.proportions import Proportion, wilson_interval

SEVERITY_GRADES = (1, 2, 3, 4, 5)

_RELATED = {"certain", "definite", "probable", "likely", "probable/likely", "probably-likely",
            "probable-likely", "possible"}
_NOT_RELATED = {"unlikely", "unrelated", "not-related", "conditional", "unclassified",
                "conditional/unclassified", "conditional-classified", "unassessable",
                "unclassifiable", "unassessable/unclassifiable",
                "unassessable-unclassifiable"}

#: Event terms counted as post-inflammatory hyperpigmentation (compared lower-cased): the
#: knowledge base's adverse-event code (``adverse_events`` in ``vocabulary.yaml``), which
#: the clinic's records use, and the spellings of free-text or imported terms.
PIH_TERMS = frozenset({"post_inflammatory_hyperpigmentation", "pih",
                       "post-inflammatory hyperpigmentation",
                       "postinflammatory hyperpigmentation"})


@dataclass(frozen=True)
class EventRates:
    """Sessions and patients with at least one event of a kind, and the event count."""

    n_events: int
    per_session: Proportion
    per_patient: Proportion

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SafetySummary:
    """Adverse-event rates of a set of sessions.

    ``by_severity`` is keyed by CTCAE grade 1-5 (every grade present, zero counts
    included); ``by_relatedness`` by ``"related"`` and ``"not related"``.
    """

    n_sessions: int
    n_patients: int
    any_event: EventRates
    by_severity: dict[int, EventRates]
    by_relatedness: dict[str, EventRates]
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


def is_related(category: str, *, line: int | None = None) -> bool:
    """Whether a WHO-UMC causality category counts as treatment-related.

    Accepts the WHO-UMC names, the FHIR ``adverse-event-causality-assess`` codes
    (``probably-likely``, ``conditional-classified``, ``unassessable-unclassifiable``)
    and the trial words ``definite``/``unrelated``, in any case.

    Raises
    ------
    InputError
        An unknown category (field ``relatedness``).
    """
    key = str(category).strip().lower().replace("_", "-").replace(" ", "-")
    if key in _RELATED:
        return True
    if key in _NOT_RELATED:
        return False
    raise InputError(f"unknown relatedness {category!r}; use a WHO-UMC category (certain, "
                     "probable/likely, possible, unlikely, conditional, unassessable)",
                     field="relatedness", line=line)


def _severity(value: Any, line: int) -> int:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or value not in SEVERITY_GRADES):
        raise InputError(f"severity must be a CTCAE grade 1-5, got {value!r}",
                         field="severity", line=line)
    return int(float(value))  # a Real equal to a grade, such as 3.0


def _require(frame: Any, columns: tuple[str, ...], name: str) -> None:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{name} must be a pandas DataFrame", field=name)
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)}", field=missing[0])


def _session_patients(sessions: Any) -> dict[Any, Any]:
    _require(sessions, ("session", "patient"), "sessions")
    owner: dict[Any, Any] = {}
    for row, (session, patient) in enumerate(zip(sessions["session"], sessions["patient"],
                                                 strict=True), start=1):
        if session in owner:
            raise InputError(f"session {session!s} is listed twice", field="session", line=row)
        owner[session] = patient
    return owner


def _event_patient(owner: dict[Any, Any], session: Any, row: int) -> Any:
    if session not in owner:
        raise InputError(f"event in row {row} refers to unknown session {session!s}",
                         field="session", line=row)
    return owner[session]


def _rates(events: list[tuple[Any, Any]], n_sessions: int, n_patients: int,
           confidence: float) -> EventRates:
    """``events`` holds (session, patient) of each event of one kind."""
    sessions = {session for session, _ in events}
    patients = {patient for _, patient in events}
    return EventRates(len(events), wilson_interval(len(sessions), n_sessions, confidence),
                      wilson_interval(len(patients), n_patients, confidence))


def adverse_event_rates(sessions: Any, events: Any, confidence: float = 0.95) -> SafetySummary:
    """Adverse events per session and per patient, overall, by grade and by relatedness.

    Parameters
    ----------
    sessions:
        DataFrame with one row per treatment session: ``session`` (unique id) and
        ``patient``. These are the denominators.
    events:
        DataFrame with one row per adverse event: ``session`` (which session it followed),
        ``severity`` (CTCAE grade 1-5) and ``relatedness`` (WHO-UMC category). Expected
        treatment responses (transient erythema and the like) are not adverse events and
        should not be listed here.
    confidence:
        Two-sided level of the Wilson intervals.

    Returns
    -------
    SafetySummary

    Raises
    ------
    InputError
        Missing columns, a session listed twice, an event of an unknown session, a grade
        outside 1-5 or an unknown relatedness; the message names the row.
    """
    owner = _session_patients(sessions)
    _require(events, ("session", "severity", "relatedness"), "events")
    n_sessions, n_patients = len(owner), len(set(owner.values()))
    everything: list[tuple[Any, Any]] = []
    by_grade: dict[int, list[tuple[Any, Any]]] = {grade: [] for grade in SEVERITY_GRADES}
    by_relation: dict[str, list[tuple[Any, Any]]] = {"related": [], "not related": []}
    columns = zip(events["session"], events["severity"], events["relatedness"], strict=True)
    for row, (session, severity, relatedness) in enumerate(columns, start=1):
        item = (session, _event_patient(owner, session, row))
        everything.append(item)
        by_grade[_severity(severity, row)].append(item)
        by_relation["related" if is_related(relatedness, line=row)
                    else "not related"].append(item)
    return SafetySummary(
        n_sessions=n_sessions,
        n_patients=n_patients,
        any_event=_rates(everything, n_sessions, n_patients, confidence),
        by_severity={grade: _rates(items, n_sessions, n_patients, confidence)
                     for grade, items in by_grade.items()},
        by_relatedness={name: _rates(items, n_sessions, n_patients, confidence)
                        for name, items in by_relation.items()},
        confidence=confidence,
    )


def pih_rate_by_fitzpatrick(sessions: Any, events: Any, *, terms: frozenset[str] = PIH_TERMS,
                            confidence: float = 0.95) -> dict[str, Proportion]:
    """Share of patients of each Fitzpatrick type with post-inflammatory hyperpigmentation.

    Parameters
    ----------
    sessions:
        DataFrame with ``session``, ``patient`` and ``fitzpatrick`` (I-VI or 1-6, the
        patient's phototype); every patient with a session is at risk.
    events:
        DataFrame with ``session`` and ``term``; an event is PIH when its term, lower-cased
        and stripped, is in ``terms``.
    terms:
        Event terms that mean PIH.
    confidence:
        Two-sided level of the Wilson intervals.

    Returns
    -------
    dict
        Phototype "I".."VI" to :class:`Proportion` (types without patients have n = 0).
    """
    owner = _session_patients(sessions)
    _require(sessions, ("fitzpatrick",), "sessions")
    _require(events, ("session", "term"), "events")
    phototype: dict[Any, str | None] = {}
    for row, (patient, value) in enumerate(zip(sessions["patient"], sessions["fitzpatrick"],
                                               strict=True), start=1):
        kind = recorded_type(value, line=row)  # None: not on file, in no phototype's rate
        if phototype.setdefault(patient, kind) != kind:
            raise InputError(f"patient {patient!s} has two Fitzpatrick types",
                             field="fitzpatrick", line=row)
    wanted = {term.lower() for term in terms}
    affected = {
        _event_patient(owner, session, row)
        for row, (session, term) in enumerate(zip(events["session"], events["term"],
                                                  strict=True), start=1)
        if str(term).strip().lower() in wanted
    }
    result = {}
    for kind in ROMAN:
        at_risk = [patient for patient, value in phototype.items() if value == kind]
        cases = sum(patient in affected for patient in at_risk)
        result[kind] = wilson_interval(cases, len(at_risk), confidence)
    return result
