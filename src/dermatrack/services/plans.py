"""Treatment plans: the modalities chosen for a patient and their scheduled sessions.

A plan is saved from what the clinician chose, typically from ``dermatrack plan``'s
recommendations (each ``sessions`` entry is ``{"n": 1, "date": ...}`` there too). Before it
is stored, each modality is screened against the patient's stored record on its first
session date (:func:`dermatrack.clinic.screening.screen_modality`): a contraindicated
modality is refused with its rule ids; a caution is stored and returned with its
mitigations. Parameters are checked against the documented ranges per region, as for a
session, without the override: a plan should start within the ranges.

When a session is done, :func:`link_session` marks the scheduled one as carried out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from dermatrack.errors import ConflictError, InputError
from dermatrack.services.common import (
    Record,
    Store,
    claim_row,
    get_patient,
    get_row,
    naming_existing,
    validate_input,
)
from dermatrack.store.models import (
    PlannedModality,
    ScheduledSession,
    TreatmentPlan,
    TreatmentSession,
)


class ScheduledIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=1, description="Session number in the series, from 1")
    date: dt.date


class PlannedModalityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    modality: str
    regions: list[str] = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    sessions: list[ScheduledIn] = Field(min_length=1)


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_id: str
    created_on: dt.date | None = Field(None, description="Default: today")
    notes: str | None = None
    modalities: list[PlannedModalityIn] = Field(min_length=1)


class ScheduledOut(Record):
    id: str
    number: int
    scheduled_on: dt.date
    session_id: str | None


class ScreeningNote(BaseModel):
    rule: str
    kind: str
    text: str
    mitigation: str | None
    source: str


class PlannedModalityOut(BaseModel):
    id: str
    modality: str
    regions: list[str]
    parameters: dict[str, Any]
    sessions: list[ScheduledOut]
    verdict: str | None = Field(None, description="Screening verdict when saved")
    cautions: list[ScreeningNote] = Field(default_factory=list)


class PlanOut(BaseModel):
    id: str
    patient_id: str
    created_on: dt.date
    status: str
    notes: str | None
    modalities: list[PlannedModalityOut]


def plan_from_recommendation(patient_id: str, recommendation: Any, region: str, *,
                             created_on: dt.date | None = None,
                             notes: str | None = None) -> PlanIn:
    """The plan of one recommendation of :func:`dermatrack.clinic.planning.plan`.

    The plan treats ``region`` with the recommendation's default parameters there and its
    proposed session dates; :func:`add_plan` screens and checks it as any other plan.

    Parameters
    ----------
    patient_id:
        The patient the recommendation was made for.
    recommendation:
        A ``Recommendation`` (``modality`` and ``sessions``, each session with ``n``,
        ``date`` and ``parameters``: region to parameter code to ``{"value": ...}``).
    region:
        One of the regions the recommendation has parameters for.

    Raises
    ------
    InputError
        ``region`` is not one the recommendation covers (field ``region``).
    """
    sessions = list(recommendation.sessions)
    defaults = sessions[0]["parameters"] if sessions else {}
    if region not in defaults:
        raise InputError(f"the {recommendation.modality} recommendation has no parameters "
                         f"for {region!r}; it covers {', '.join(sorted(defaults)) or 'none'}",
                         field="region")
    return PlanIn(
        patient_id=patient_id, created_on=created_on, notes=notes,
        modalities=[PlannedModalityIn(
            modality=recommendation.modality, regions=[region],
            parameters={code: entry["value"] for code, entry in defaults[region].items()},
            sessions=[ScheduledIn(n=s["n"], date=s["date"]) for s in sessions])])


def _check_item(item: PlannedModalityIn, where: str, profile: Any,
                vocabulary: Any) -> tuple[list[str], Any]:
    """Canonical regions and the screening of one planned modality; InputError if refused."""
    from dermatrack.clinic.charting import check_parameters
    from dermatrack.clinic.screening import screen_modality
    from dermatrack.services.charting import load_modality

    modality = load_modality(item.modality, field=f"{where}.modality")
    regions = [vocabulary.require("regions", region, field=f"{where}.regions[{i}]").code
               for i, region in enumerate(item.regions)]
    for region in dict.fromkeys(regions):
        for finding in check_parameters(modality, region, item.parameters):
            if finding.level == "error":
                raise InputError(finding.message,
                                 field=f"{where}.parameters.{finding.parameter}")
    numbers = [s.n for s in item.sessions]
    if numbers != list(range(1, len(numbers) + 1)):
        raise InputError(f"sessions must be numbered 1 to {len(numbers)} in order",
                         field=f"{where}.sessions")
    dates = [s.date for s in item.sessions]
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        raise InputError("session dates must be distinct and in order",
                         field=f"{where}.sessions")
    screening = screen_modality(profile, modality, dates[0])
    if screening.verdict == "contraindicated":
        rules = ", ".join(r.rule for r in screening.reasons if r.kind == "absolute")
        raise InputError(f"{item.modality} is contraindicated for this patient on "
                         f"{dates[0].isoformat()} ({rules})", field=f"{where}.modality")
    return regions, screening


def _plan_out(session: Any, plan: TreatmentPlan,
              screenings: dict[str, Any] | None = None) -> PlanOut:
    items = []
    for planned in session.scalars(select(PlannedModality)
                                   .where(PlannedModality.plan_id == plan.id)
                                   .order_by(PlannedModality.id)):
        scheduled = session.scalars(select(ScheduledSession)
                                    .where(ScheduledSession.planned_modality_id == planned.id)
                                    .order_by(ScheduledSession.number))
        screening = (screenings or {}).get(planned.id)
        items.append(PlannedModalityOut(
            id=planned.id, modality=planned.modality, regions=planned.regions,
            parameters=planned.parameters,
            sessions=[ScheduledOut.model_validate(s) for s in scheduled],
            verdict=None if screening is None else screening.verdict,
            cautions=[] if screening is None else [
                ScreeningNote(rule=r.rule, kind=r.kind, text=r.text, mitigation=r.mitigation,
                              source=r.source) for r in screening.reasons]))
    return PlanOut(id=plan.id, patient_id=plan.patient_id, created_on=plan.created_on,
                   status=plan.status, notes=plan.notes, modalities=items)


def add_plan(store: Store, data: PlanIn | dict[str, Any], *, actor: str) -> PlanOut:
    """Save a treatment plan after screening and range checks (module docstring)."""
    from dermatrack.clinic.intake import parse_patient
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services.patients import get_patient_record

    plan_in = validate_input(PlanIn, data)
    created_on = plan_in.created_on or dt.date.today()
    vocabulary = load_vocabulary()
    record = get_patient_record(store, plan_in.patient_id, actor=actor)
    checked = []
    for i, item in enumerate(plan_in.modalities):
        first = item.sessions[0].date
        profile = parse_patient(record.patient_json(on=first), on=first, vocabulary=vocabulary)
        checked.append(_check_item(item, f"modalities[{i}]", profile, vocabulary))
    with store.transaction(actor) as session:
        get_patient(session, plan_in.patient_id)
        plan = TreatmentPlan(patient_id=plan_in.patient_id, created_on=created_on,
                             notes=plan_in.notes)
        session.add(plan)
        session.flush()
        screenings = {}
        for item, (regions, screening) in zip(plan_in.modalities, checked, strict=True):
            planned = PlannedModality(plan_id=plan.id, modality=item.modality,
                                      regions=regions, parameters=item.parameters)
            session.add(planned)
            session.flush()
            session.add_all(ScheduledSession(planned_modality_id=planned.id, number=s.n,
                                             scheduled_on=s.date) for s in item.sessions)
            screenings[planned.id] = screening
        session.flush()
        return _plan_out(session, plan, screenings)


def list_plans(store: Store, patient_id: str) -> list[PlanOut]:
    """A patient's plans, oldest first."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return plans_of(session, patient_id)


def plans_of(session: Any, patient_id: str) -> list[PlanOut]:
    """A patient's plans, oldest first, read in the caller's session (a timeline's)."""
    plans = session.scalars(select(TreatmentPlan)
                            .where(TreatmentPlan.patient_id == patient_id)
                            .order_by(TreatmentPlan.created_on, TreatmentPlan.id))
    return [_plan_out(session, plan) for plan in plans]


LINK_RULE = "uq_scheduled_session_session_id"
PLAN_ACTIVE_RULE = "plan_active"
"""Sessions are linked to active plans only."""


def _refuse_second_link(session: Session, session_id: str) -> None:
    other = session.scalars(select(ScheduledSession.id)
                            .where(ScheduledSession.session_id == session_id)).first()
    if other is not None:
        raise ConflictError(f"session {session_id} already carries out scheduled session "
                            f"{other}", rule=LINK_RULE, field="session_id", existing=other)


def link_session(store: Store, scheduled_id: str, session_id: str, *,
                 actor: str) -> ScheduledOut:
    """Mark a scheduled session as carried out by a recorded treatment session.

    Only an active plan takes links; the link that carries out its last scheduled session
    completes the plan. The plan's row is claimed first (:func:`claim_row`), so a link and
    a status change, or the last two links, cannot interleave: no session is linked to a
    plan that is no longer active, and a plan is completed exactly once.
    """
    with naming_existing(store, LINK_RULE, lambda s: _refuse_second_link(s, session_id)), \
            store.transaction(actor) as session:
        scheduled = get_row(session, ScheduledSession, scheduled_id, field="scheduled_id")
        planned = session.get_one(PlannedModality, scheduled.planned_modality_id)
        plan_id = planned.plan_id
        if not claim_row(session, TreatmentPlan, plan_id, TreatmentPlan.status == "active"):
            plan = session.get_one(TreatmentPlan, plan_id)
            session.refresh(plan)
            raise ConflictError(f"plan {plan_id} is {plan.status}: it takes no more sessions",
                                rule=PLAN_ACTIVE_RULE, field="scheduled_id", existing=plan_id)
        plan = session.get_one(TreatmentPlan, plan_id)
        session.refresh(scheduled)
        treatment = get_row(session, TreatmentSession, session_id, field="session_id")
        if treatment.patient_id != plan.patient_id:
            raise InputError(f"session {session_id} is another patient's", field="session_id")
        if treatment.modality != planned.modality:
            raise InputError(f"session {session_id} was {treatment.modality}, the plan "
                             f"schedules {planned.modality}", field="session_id")
        if scheduled.session_id is not None:
            raise ConflictError(f"scheduled session {scheduled_id} is already linked to "
                                f"{scheduled.session_id}", rule="scheduled_session_linked_once",
                                field="scheduled_id", existing=scheduled.session_id)
        _refuse_second_link(session, session_id)
        scheduled.session_id = treatment.id
        session.flush()
        open_slots = session.scalars(
            select(ScheduledSession.id).join(PlannedModality)
            .where(PlannedModality.plan_id == plan.id, ScheduledSession.session_id.is_(None))
        ).first()
        if open_slots is None:
            plan.status = "completed"
            session.flush()
        return ScheduledOut.model_validate(scheduled)
