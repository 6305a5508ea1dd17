"""Charting: treatment sessions, expected reactions and adverse events.

A session's parameters are checked against the modality's documented ranges for each
treated region (:func:`dermatrack.clinic.charting.check_parameters`). A value outside the
range is refused unless the operator gives an ``override_reason``, which is then stored
with the findings; unknown parameters and non-numbers are always refused.

A reaction after a session is charted as an *expected reaction* or as an *adverse event*
by :func:`dermatrack.clinic.charting.classify_reaction`: an expected response of the
modality (erythema after microneedling, say) that has lasted no longer than its usual
duration stays an expected reaction; one that outlasts it is charted as the adverse event
its vocabulary term ``escalates_to`` (``prolonged_erythema``); anything else is an adverse
event. The caller says which one was recorded from the result's ``kind``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from dermatrack.errors import InputError
from dermatrack.services.common import (
    Record,
    Store,
    get_patient,
    get_row,
    get_visit,
    patient_page,
    validate_input,
)
from dermatrack.services.paging import (
    Page,
    check_limit,
    decode_cursor,
    encode_cursor,
)
from dermatrack.services.products import LotUseIn, SessionLotOut, lots_of_sessions
from dermatrack.store.models import AdverseEvent, ExpectedReaction, TreatmentSession

# --- inputs ------------------------------------------------------------------------------


class ProductIn(BaseModel):
    """A product applied or injected, with its batch so that a recall can be traced."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    lot: str = Field(min_length=1, max_length=80)
    expiry: dt.date | None = None


class SessionFields(BaseModel):
    """A session as charted, but for the patient (whom the API's path names)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: dt.date
    operator: str = Field(min_length=1, max_length=120)
    modality: str
    regions: list[str] = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    products: list[ProductIn] = Field(default_factory=list)
    # Catalogue lots used (issue 16): traced by ``dermatrack recall lot``.
    lots: list[LotUseIn] = Field(default_factory=list)
    immediate_reactions: list[str] = Field(default_factory=list)
    notes: str | None = None
    visit_id: str | None = None
    override_reason: str | None = Field(
        None, description="Why parameters outside the documented range were used.")

    @model_validator(mode="before")
    @classmethod
    def _region_alias(cls, data: Any) -> Any:
        # A single ``region`` is accepted for ``regions: [region]``.
        if isinstance(data, dict) and "region" in data:
            data = dict(data)
            region = data.pop("region")
            if "regions" in data:
                # Not a ValueError: pydantic would report it without a field.
                raise InputError("give region or regions, not both", field="region")
            data["regions"] = [region] if isinstance(region, str) else region
        return data


class SessionIn(SessionFields):
    """A session to chart, for the patient ``patient_id``."""

    patient_id: str


class EventIn(BaseModel):
    """A reaction or adverse event after a session (or, for an adverse event, outside one).

    ``code`` is a vocabulary expected-reaction or adverse-event code. Give ``resolved_on``
    when it has resolved, else ``still_present_on`` (default: ``recorded_on``).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str
    onset: dt.date
    session_id: str | None = None
    patient_id: str | None = None
    resolved_on: dt.date | None = None
    still_present_on: dt.date | None = None
    grade: int | None = Field(None, description="CTCAE grade 1-5 (adverse events)")
    seriousness_criteria: list[str] = Field(default_factory=list)
    serious: bool | None = None
    relatedness: str | None = Field(None, description="WHO-UMC category, FHIR code")
    action: str | None = None
    outcome: str | None = None
    notes: str | None = None


# --- outputs -----------------------------------------------------------------------------


class ParameterFindingOut(BaseModel):
    parameter: str
    level: str
    message: str
    value: float | None = None
    unit: str | None = None
    allowed: list[float] | None = None
    default: float | None = None
    source: str | None = None
    region: str | None = None


class SessionOut(Record):
    id: str
    patient_id: str
    visit_id: str | None
    date: dt.date
    operator: str
    modality: str
    regions: list[str]
    parameters: dict[str, Any]
    products: list[dict[str, Any]]
    immediate_reactions: list[str]
    parameter_findings: list[ParameterFindingOut]
    notes: str | None
    lots: list[SessionLotOut] = Field(default_factory=list)


class EventOut(BaseModel):
    """What was recorded: ``kind`` says whether an expected reaction or an adverse event."""

    kind: Literal["expected_reaction", "adverse_event"]
    id: str
    patient_id: str
    session_id: str | None
    code: str
    onset: dt.date
    resolved_on: dt.date | None
    reason: str
    grade: int | None = None
    serious: bool | None = None
    relatedness: str | None = None
    action: str | None = None
    outcome: str | None = None


# --- helpers -----------------------------------------------------------------------------


def load_modality(code: str, *, field: str = "modality") -> Any:
    """The knowledge base's ``Modality`` for ``code``, or InputError naming ``field``."""
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    load_vocabulary().require("modalities", code, field=field)
    modality = load_modalities(load_vocabulary()).get(code)
    if modality is None:
        raise InputError(f"modality {code!r} has no protocol data in the knowledge base",
                         field=field)
    return modality


def _check_session(session_in: SessionIn) -> tuple[list[str], list[ParameterFindingOut]]:
    """Canonical regions and the parameter findings; InputError for refused values."""
    from dermatrack.clinic.charting import check_parameters
    from dermatrack.knowledge.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()
    modality = load_modality(session_in.modality)
    regions = [vocabulary.require("regions", region, field=f"regions[{i}]").code
               for i, region in enumerate(session_in.regions)]
    for i, code in enumerate(session_in.immediate_reactions):
        if code not in vocabulary.expected_reactions and code not in vocabulary.adverse_events:
            raise InputError(f"unknown reaction code {code!r}",
                             field=f"immediate_reactions[{i}]")
    findings: list[ParameterFindingOut] = []
    for region in dict.fromkeys(regions):
        for finding in check_parameters(modality, region, session_in.parameters):
            out = ParameterFindingOut(**finding.to_dict(), region=region)
            if out.level == "error":
                out_of_range = out.value is not None and out.allowed is not None
                if not (out_of_range and session_in.override_reason):
                    hint = (" (give override_reason to record it anyway)"
                            if out_of_range else "")
                    raise InputError(out.message + hint, field=f"parameters.{out.parameter}")
                out.message += f"; recorded with override: {session_in.override_reason}"
            findings.append(out)
    return regions, findings


def _session_out(row: TreatmentSession) -> SessionOut:
    return SessionOut.model_validate(row)


# --- services ----------------------------------------------------------------------------


def add_session(store: Store, data: SessionIn | dict[str, Any], *, actor: str) -> SessionOut:
    """Record a treatment session after checking its parameters (see module docstring).

    The patient must have a current treatment consent covering the modality
    (:mod:`dermatrack.clinic.consent`; :class:`~dermatrack.errors.ConflictError`
    otherwise); each catalogue lot used must not have expired by the session's day.
    """
    from dermatrack.services import consent, products

    session_in = validate_input(SessionIn, data)
    regions, findings = _check_session(session_in)
    with store.transaction(actor) as session:
        get_patient(session, session_in.patient_id)
        if session_in.visit_id is not None:
            get_visit(session, session_in.visit_id, session_in.patient_id)
        consent.require(session, session_in.patient_id, "session",
                        modality=session_in.modality)
        row = TreatmentSession(
            patient_id=session_in.patient_id, visit_id=session_in.visit_id,
            date=session_in.date, operator=session_in.operator,
            modality=session_in.modality, regions=regions,
            parameters=session_in.parameters,
            products=[p.model_dump(mode="json") for p in session_in.products],
            immediate_reactions=session_in.immediate_reactions,
            parameter_findings=[f.model_dump(mode="json") for f in findings],
            notes=session_in.notes)
        session.add(row)
        session.flush()
        products.record_uses(session, row, session_in.lots)
        out = _session_out(row)
        # A new session has used the lots just recorded and no other: none, none to read.
        if session_in.lots:
            out.lots = products.lots_of_sessions(session, [row.id])[row.id]
        return out


def page_sessions(store: Store, patient_id: str, *, cursor: str | None = None,
                  limit: int | None = None) -> Page[SessionOut]:
    """A page of a patient's sessions by date (:func:`list_sessions` reads them all)."""
    return patient_page(store, patient_id,
                        select(TreatmentSession).where(TreatmentSession.patient_id == patient_id),
                        (TreatmentSession.date, TreatmentSession.id), _session_out,
                        cursor=cursor, limit=limit)


def list_sessions(store: Store, patient_id: str) -> list[SessionOut]:
    """A patient's sessions by date."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return sessions_of(session, patient_id)


def sessions_of(session: Any, patient_id: str) -> list[SessionOut]:
    """A patient's sessions by date, read in the caller's transaction."""
    rows = session.scalars(select(TreatmentSession)
                           .where(TreatmentSession.patient_id == patient_id)
                           .order_by(TreatmentSession.date, TreatmentSession.id))
    sessions = [_session_out(row) for row in rows]
    lots = lots_of_sessions(session, [s.id for s in sessions])
    for out in sessions:
        out.lots = lots[out.id]
    return sessions


def add_event(store: Store, data: EventIn | dict[str, Any], *, actor: str,
              recorded_on: dt.date | None = None) -> EventOut:
    """Chart a reaction as an expected reaction or an adverse event (module docstring).

    Parameters
    ----------
    recorded_on:
        The day of charting (default today): ``still_present_on`` when neither it nor
        ``resolved_on`` is given; no date may lie after it.
    """
    from dermatrack.clinic import charting
    from dermatrack.knowledge.vocabulary import load_vocabulary

    event_in = validate_input(EventIn, data)
    recorded_on = recorded_on or dt.date.today()
    vocabulary = load_vocabulary()
    if event_in.code not in vocabulary.expected_reactions \
            and event_in.code not in vocabulary.adverse_events:
        vocabulary.require("adverse_events", event_in.code, field="code")
    for name in ("onset", "resolved_on", "still_present_on"):
        value = getattr(event_in, name)
        if value is not None and value > recorded_on:
            raise InputError(f"{value.isoformat()} is in the future "
                             f"(charted on {recorded_on.isoformat()})", field=name)
    if event_in.resolved_on is not None and event_in.still_present_on is not None:
        raise InputError("give resolved_on or still_present_on, not both",
                         field="still_present_on")
    seen_until = event_in.resolved_on or event_in.still_present_on or recorded_on
    term = (vocabulary.expected_reactions.get(event_in.code)
            or vocabulary.adverse_events.get(event_in.code))

    with store.transaction(actor) as session:
        treatment = None
        if event_in.session_id is not None:
            treatment = get_row(session, TreatmentSession, event_in.session_id,
                                field="session_id")
            if event_in.patient_id not in (None, treatment.patient_id):
                raise InputError(f"session {treatment.id} is not patient "
                                 f"{event_in.patient_id}'s", field="patient_id")
            if event_in.onset < treatment.date:
                raise InputError(f"onset {event_in.onset} is before the session "
                                 f"({treatment.date})", field="onset")
            patient_id = treatment.patient_id
            found = charting.classify_reaction(
                load_modality(treatment.modality, field="session_id"), event_in.code,
                event_in.onset, still_present_on=None if event_in.resolved_on else seen_until,
                resolved_on=event_in.resolved_on, term=term)
        elif event_in.patient_id is not None:
            patient_id = get_patient(session, event_in.patient_id).id
            found = charting.unlinked_reaction(event_in.code,
                                               name=getattr(term, "label", None))
        else:
            raise InputError("give the session_id (or, for an adverse event outside a "
                             "session, the patient_id)", field="session_id")

        if found.kind == "expected":
            # only a reaction after a session is ever classified as expected
            assert treatment is not None
            reaction = ExpectedReaction(patient_id=patient_id, session_id=treatment.id,
                                        code=event_in.code, onset=event_in.onset,
                                        resolved_on=event_in.resolved_on, notes=event_in.notes)
            session.add(reaction)
            session.flush()
            return _reaction_out(reaction, found.reason)

        if event_in.grade is None:
            raise InputError(f"{found.reason}: an adverse event needs a CTCAE grade 1-5",
                             field="grade")
        grade = charting.validate_grade(event_in.grade)
        relatedness = (None if event_in.relatedness is None else charting.validate_choice(
            event_in.relatedness, charting.WHO_UMC_RELATEDNESS, "relatedness"))
        outcome = event_in.outcome or ("resolved" if event_in.resolved_on else "ongoing")
        charting.validate_choice(outcome, charting.OUTCOMES, "outcome")
        criteria = [charting.validate_choice(c, charting.SERIOUSNESS_CRITERIA,
                                             f"seriousness_criteria[{i}]")
                    for i, c in enumerate(event_in.seriousness_criteria)]
        serious = charting.is_serious(grade, criteria) or bool(event_in.serious)
        row = AdverseEvent(patient_id=patient_id,
                           session_id=treatment.id if treatment is not None else None,
                           term=found.code, onset=event_in.onset, grade=grade,
                           serious=serious, relatedness=relatedness, action=event_in.action,
                           outcome=outcome, resolved_on=event_in.resolved_on,
                           classification_reason=found.reason,
                           notes=event_in.notes)
        session.add(row)
        session.flush()
        return _adverse_event_out(row)


def _reaction_out(row: ExpectedReaction, reason: str = "expected reaction") -> EventOut:
    return EventOut(kind="expected_reaction", id=row.id, patient_id=row.patient_id,
                    session_id=row.session_id, code=row.code, onset=row.onset,
                    resolved_on=row.resolved_on, reason=reason)


def _adverse_event_out(row: AdverseEvent) -> EventOut:
    return EventOut(kind="adverse_event", id=row.id, patient_id=row.patient_id,
                    session_id=row.session_id, code=row.term, onset=row.onset,
                    resolved_on=row.resolved_on, reason=row.classification_reason or "",
                    grade=row.grade, serious=row.serious, relatedness=row.relatedness,
                    action=row.action, outcome=row.outcome)


def _event_key(event: EventOut) -> list[Any]:
    return [event.onset, int(event.kind != "expected_reaction"), event.id]


def page_events(store: Store, patient_id: str, *, cursor: str | None = None,
                limit: int | None = None) -> Page[EventOut]:
    """A page of :func:`list_events`. Reactions and adverse events are two tables, and a
    patient has few of them: the page is cut from the ordered list, after the cursor's
    key (onset, kind, id), so it is as stable as a database keyset."""
    limit = check_limit(limit)
    events = list_events(store, patient_id)
    if cursor:
        after = decode_cursor(cursor, (AdverseEvent.onset, AdverseEvent.grade,
                                       AdverseEvent.id))
        events = [e for e in events if _event_key(e) > after]
    shown = events[:limit]
    more = len(events) > limit
    return Page(items=shown, next=encode_cursor(_event_key(shown[-1])) if more else None)


def list_events(store: Store, patient_id: str) -> list[EventOut]:
    """A patient's expected reactions and adverse events, by onset (expected first)."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return events_of(session, patient_id)


def events_of(session: Any, patient_id: str) -> list[EventOut]:
    """:func:`list_events`, read in the caller's transaction."""
    events = [_reaction_out(r) for r in session.scalars(
        select(ExpectedReaction).where(ExpectedReaction.patient_id == patient_id))]
    events += [_adverse_event_out(a) for a in session.scalars(
        select(AdverseEvent).where(AdverseEvent.patient_id == patient_id))]
    return sorted(events, key=lambda e: (e.onset, e.kind != "expected_reaction", e.id))
