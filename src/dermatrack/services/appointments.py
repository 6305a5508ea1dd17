"""Appointments and recalls: the clinic's calendar and who is due.

An appointment is a patient, a local day and start time, a length, a practitioner, a room
and a kind (consultation, session, assessment). Its status moves forward only:
booked -> arrived -> done, or booked -> no-show / cancelled, or arrived -> cancelled. A
practitioner cannot hold two live (booked or arrived) appointments starting at the same
time, and a scheduled session of a plan can be booked once (the database enforces both).

:func:`book_plan` books a stored plan in one step: every scheduled session not yet done
or booked, and the plan's follow-up assessments (1, 3 and 6 months after the last session,
:func:`dermatrack.clinic.planning.assessment_schedule`; the baseline and per-session
assessments happen at the session appointments).

:func:`recall_list` lists who is due by a day: scheduled sessions not yet done nor booked,
and follow-up assessment timepoints (photographs and scores) without a visit or a booking.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services.common import Record, Store, get_patient, validate_input
from dermatrack.store.clinic_day import LIVE_STATUSES, Appointment
from dermatrack.store.models import (
    PatientIdentity,
    PlannedModality,
    ScheduledSession,
    TreatmentPlan,
    Visit,
)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "booked": ("arrived", "done", "no-show", "cancelled"),
    "arrived": ("done", "cancelled"),
    "done": (), "no-show": (), "cancelled": (),
}
"""Status changes allowed from each status."""

Kind = Literal["consultation", "session", "assessment"]
Status = Literal["booked", "arrived", "done", "no-show", "cancelled"]


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_id: str
    date: dt.date
    start: dt.time = Field(description="Local start time, HH:MM")
    minutes: int = Field(30, ge=5, le=480)
    practitioner: str = Field(min_length=1, max_length=120)
    room: str | None = Field(None, max_length=40)
    kind: Kind = "consultation"
    notes: str | None = None
    scheduled_session_id: str | None = None
    timepoint: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,39}$")


class AppointmentUpdate(BaseModel):
    """Fields to change; a reschedule (date, start, minutes, practitioner, room) is only
    possible while booked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Status | None = None
    date: dt.date | None = None
    start: dt.time | None = None
    minutes: int | None = Field(None, ge=5, le=480)
    practitioner: str | None = Field(None, min_length=1, max_length=120)
    room: str | None = Field(None, max_length=40)
    notes: str | None = None


class BookPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    plan_id: str
    start: dt.time = Field(description="Local start time of every booking, HH:MM")
    practitioner: str = Field(min_length=1, max_length=120)
    room: str | None = Field(None, max_length=40)
    minutes: int = Field(45, ge=5, le=480)
    assessment_minutes: int = Field(20, ge=5, le=480)
    assessments: bool = True


class AppointmentOut(Record):
    id: str
    patient_id: str
    date: dt.date
    start: dt.time
    minutes: int
    practitioner: str
    room: str | None
    kind: str
    status: str
    scheduled_session_id: str | None
    timepoint: str | None
    notes: str | None
    patient_name: str | None = None

    @property
    def end(self) -> dt.time:
        moment = dt.datetime.combine(self.date, self.start) + dt.timedelta(minutes=self.minutes)
        return moment.time()


class RecallOut(BaseModel):
    """A patient due for a session or an assessment."""

    patient_id: str
    patient_name: str | None = None
    kind: Literal["session", "assessment"]
    due: dt.date
    days_overdue: int = Field(description="Days past due on the reference day (0 if not)")
    what: str
    modality: str
    plan_id: str
    scheduled_session_id: str | None = None
    timepoint: str | None = None


def _flush(session: Session) -> None:
    try:
        session.flush()
    except exc.IntegrityError as error:
        raise ConflictError(f"the slot is taken or the session is booked already "
                            f"({error.orig})", field="start") from None


def _check_free(session: Session, practitioner: str, date: dt.date, start: dt.time,
                minutes: int, *, ignore: str | None = None) -> None:
    """ConflictError when the practitioner has a live appointment overlapping the slot."""
    begin = dt.datetime.combine(date, start)
    end = begin + dt.timedelta(minutes=minutes)
    for other in session.scalars(select(Appointment).where(
            Appointment.practitioner == practitioner, Appointment.date == date,
            Appointment.status.in_(LIVE_STATUSES))):
        if other.id == ignore:
            continue
        other_begin = dt.datetime.combine(other.date, other.start)
        other_end = other_begin + dt.timedelta(minutes=other.minutes)
        if begin < other_end and other_begin < end:
            raise ConflictError(f"{practitioner} is booked {other_begin:%Y-%m-%d %H:%M}-"
                                f"{other_end:%H:%M} ({other.id}); choose another time",
                                field="start")


def _names(session: Session, patient_ids: set[str]) -> dict[str, str | None]:
    if not patient_ids:
        return {}
    return dict(session.execute(select(PatientIdentity.patient_id, PatientIdentity.name)
                                .where(PatientIdentity.patient_id.in_(patient_ids))).all())


def _out(row: Appointment, names: dict[str, str | None] | None = None) -> AppointmentOut:
    out = AppointmentOut.model_validate(row)
    if names is not None:
        out.patient_name = names.get(row.patient_id)
    return out


def _scheduled_of_patient(session: Session, scheduled_id: str, patient_id: str
                          ) -> ScheduledSession:
    scheduled = session.get(ScheduledSession, scheduled_id)
    if scheduled is None or scheduled.deleted_at is not None:
        raise InputError(f"no scheduled session {scheduled_id!r}", field="scheduled_session_id")
    planned = session.get(PlannedModality, scheduled.planned_modality_id)
    plan = session.get(TreatmentPlan, planned.plan_id) if planned else None
    if plan is None or plan.patient_id != patient_id:
        raise InputError(f"scheduled session {scheduled_id} is not patient {patient_id}'s",
                         field="scheduled_session_id")
    return scheduled


def add_appointment(store: Store, data: AppointmentIn | dict[str, Any], *,
                    actor: str) -> AppointmentOut:
    """Book an appointment (ConflictError when the practitioner is busy then)."""
    appointment_in = validate_input(AppointmentIn, data)
    with store.transaction(actor) as session:
        get_patient(session, appointment_in.patient_id)
        if appointment_in.scheduled_session_id:
            _scheduled_of_patient(session, appointment_in.scheduled_session_id,
                                  appointment_in.patient_id)
        _check_free(session, appointment_in.practitioner, appointment_in.date,
                    appointment_in.start, appointment_in.minutes)
        row = Appointment(**appointment_in.model_dump(), status="booked")
        session.add(row)
        _flush(session)
        return _out(row)


def update_appointment(store: Store, appointment_id: str,
                       data: AppointmentUpdate | dict[str, Any], *,
                       actor: str) -> AppointmentOut:
    """Change an appointment's status (forward only) or reschedule a booked one."""
    change = validate_input(AppointmentUpdate, data)
    with store.transaction(actor) as session:
        row = session.get(Appointment, appointment_id)
        if row is None:
            raise NotFoundError(f"no appointment {appointment_id!r}")
        moves = {k: v for k, v in change.model_dump(exclude_unset=True).items()
                 if k in ("date", "start", "minutes", "practitioner", "room")}
        if moves:
            if row.status != "booked":
                raise ConflictError(f"appointment {row.id} is {row.status}; only a booked "
                                    "appointment can be moved", field="status")
            for key, value in moves.items():
                setattr(row, key, value)
            _check_free(session, row.practitioner, row.date, row.start, row.minutes,
                        ignore=row.id)
        if change.status is not None and change.status != row.status:
            if change.status not in TRANSITIONS[row.status]:
                allowed = ", ".join(TRANSITIONS[row.status]) or "none"
                raise ConflictError(f"appointment {row.id} is {row.status}; it cannot become "
                                    f"{change.status} (allowed: {allowed})", field="status")
            row.status = change.status
        if "notes" in change.model_fields_set:
            row.notes = change.notes
        _flush(session)
        return _out(row)


def list_appointments(store: Store, *, start: dt.date, end: dt.date | None = None,
                      practitioner: str | None = None, patient_id: str | None = None,
                      include_cancelled: bool = True, with_names: bool = False,
                      actor: str = "") -> list[AppointmentOut]:
    """Appointments from ``start`` to ``end`` (inclusive; default one day), by time.

    Without ``patient_id`` the range is at most three months (a calendar's view).

    With ``with_names`` each carries the patient's name, and the read is audited (so
    ``actor`` is required then).
    """
    from dermatrack.services.audit import record_read

    end = end or start
    if end < start:
        raise InputError("the end is before the start", field="end")
    if patient_id is None and (end - start).days > 92:
        raise InputError("ask for at most three months at a time (or one patient's)",
                         field="end")
    with store.transaction(actor) if with_names else store.reading() as session:
        query = (select(Appointment).where(Appointment.date >= start, Appointment.date <= end)
                 .order_by(Appointment.date, Appointment.start, Appointment.practitioner))
        if practitioner:
            query = query.where(Appointment.practitioner == practitioner)
        if patient_id:
            query = query.where(Appointment.patient_id == patient_id)
        if not include_cancelled:
            query = query.where(Appointment.status != "cancelled")
        rows = list(session.scalars(query))
        names = None
        if with_names:
            ids = {r.patient_id for r in rows}
            names = _names(session, ids)
            for pid in sorted(ids):
                record_read(session, entity="patient_identity", entity_id=pid,
                            fields=("name",), purpose="calendar")
        return [_out(r, names) for r in rows]


def _plan_items(session: Session, plan: TreatmentPlan
                ) -> list[tuple[PlannedModality, list[ScheduledSession]]]:
    items = []
    for planned in session.scalars(select(PlannedModality).where(
            PlannedModality.plan_id == plan.id).order_by(PlannedModality.id)):
        scheduled = list(session.scalars(select(ScheduledSession).where(
            ScheduledSession.planned_modality_id == planned.id)
            .order_by(ScheduledSession.number)))
        items.append((planned, scheduled))
    return items


def _follow_ups(scheduled: list[ScheduledSession]) -> list[tuple[str, dt.date]]:
    """The follow-up assessment timepoints after the last scheduled session."""
    from dermatrack.clinic.planning import assessment_schedule

    dates = [s.scheduled_on for s in scheduled]
    if not dates:
        return []
    return [(entry["timepoint"], dt.date.fromisoformat(entry["date"]))
            for entry in assessment_schedule(dates) if entry["timepoint"].startswith("month_")]


def book_plan(store: Store, data: BookPlanIn | dict[str, Any], *,
              actor: str) -> list[AppointmentOut]:
    """Book a plan's open sessions and follow-up assessments in one step (module
    docstring). Nothing is booked when any slot is taken."""
    book = validate_input(BookPlanIn, data)
    with store.transaction(actor) as session:
        plan = session.get(TreatmentPlan, book.plan_id)
        if plan is None or plan.deleted_at is not None:
            raise InputError(f"no treatment plan {book.plan_id!r}", field="plan_id")
        booked_sessions = set(session.scalars(select(Appointment.scheduled_session_id).where(
            Appointment.patient_id == plan.patient_id, Appointment.status != "cancelled",
            Appointment.scheduled_session_id.is_not(None))))
        booked_timepoints = set(session.scalars(select(Appointment.timepoint).where(
            Appointment.patient_id == plan.patient_id, Appointment.status != "cancelled",
            Appointment.timepoint.is_not(None))))
        visited = set(session.scalars(select(Visit.timepoint).where(
            Visit.patient_id == plan.patient_id)))
        rows = []
        for planned, scheduled in _plan_items(session, plan):
            for item in scheduled:
                if item.session_id is not None or item.id in booked_sessions:
                    continue
                rows.append(Appointment(
                    patient_id=plan.patient_id, date=item.scheduled_on, start=book.start,
                    minutes=book.minutes, practitioner=book.practitioner, room=book.room,
                    kind="session", status="booked", scheduled_session_id=item.id,
                    timepoint=f"session_{item.number}",
                    notes=f"{planned.modality} session {item.number} of {len(scheduled)}"))
            if book.assessments:
                for timepoint, day in _follow_ups(scheduled):
                    if timepoint in visited or timepoint in booked_timepoints:
                        continue
                    booked_timepoints.add(timepoint)
                    rows.append(Appointment(
                        patient_id=plan.patient_id, date=day, start=book.start,
                        minutes=book.assessment_minutes, practitioner=book.practitioner,
                        room=book.room, kind="assessment", status="booked",
                        timepoint=timepoint,
                        notes=f"{timepoint.replace('_', ' ')} assessment after "
                              f"{planned.modality}: photographs and scores"))
        if not rows:
            raise ConflictError(f"plan {plan.id} has nothing left to book", field="plan_id")
        for row in rows:
            _check_free(session, row.practitioner, row.date, row.start, row.minutes)
            session.add(row)
            _flush(session)
        return [_out(r) for r in rows]


def recall_list(store: Store, *, due_by: dt.date, today: dt.date | None = None,
                with_names: bool = False, actor: str = "") -> list[RecallOut]:
    """Patients due by ``due_by`` for a session or a follow-up assessment that is neither
    done nor booked (module docstring), most overdue first."""
    from dermatrack.services.audit import record_read

    today = today or dt.date.today()
    with store.transaction(actor) if with_names else store.reading() as session:
        live = list(session.execute(select(Appointment.patient_id,
                                           Appointment.scheduled_session_id,
                                           Appointment.timepoint)
                                    .where(Appointment.status.in_(
                                        ("booked", "arrived", "done")))))
        booked_sessions = {r.scheduled_session_id for r in live if r.scheduled_session_id}
        booked_timepoints = {(r.patient_id, r.timepoint) for r in live if r.timepoint}
        visited = {(row.patient_id, row.timepoint)
                   for row in session.execute(select(Visit.patient_id, Visit.timepoint))}
        due: list[RecallOut] = []
        for plan in session.scalars(select(TreatmentPlan).where(
                TreatmentPlan.status == "active")):
            for planned, scheduled in _plan_items(session, plan):
                for item in scheduled:
                    if item.session_id is None and item.id not in booked_sessions \
                            and item.scheduled_on <= due_by:
                        due.append(RecallOut(
                            patient_id=plan.patient_id, kind="session",
                            due=item.scheduled_on,
                            days_overdue=max(0, (today - item.scheduled_on).days),
                            what=f"{planned.modality} session {item.number} of "
                                 f"{len(scheduled)}",
                            modality=planned.modality, plan_id=plan.id,
                            scheduled_session_id=item.id))
                for timepoint, day in _follow_ups(scheduled):
                    key = (plan.patient_id, timepoint)
                    if day <= due_by and key not in visited and key not in booked_timepoints:
                        due.append(RecallOut(
                            patient_id=plan.patient_id, kind="assessment", due=day,
                            days_overdue=max(0, (today - day).days),
                            what=f"{timepoint.replace('_', ' ')} assessment (photographs "
                                 "and scores)",
                            modality=planned.modality, plan_id=plan.id, timepoint=timepoint))
        if with_names:
            ids = {r.patient_id for r in due}
            names = _names(session, ids)
            for r in due:
                r.patient_name = names.get(r.patient_id)
            for pid in sorted(ids):
                record_read(session, entity="patient_identity", entity_id=pid,
                            fields=("name",), purpose="recall list")
        return sorted(due, key=lambda r: (r.due, r.patient_id, r.what))


def get_appointment(store: Store, appointment_id: str) -> AppointmentOut:
    with store.reading() as session:
        row = session.get(Appointment, appointment_id)
        if row is None:
            raise NotFoundError(f"no appointment {appointment_id!r}")
        return _out(row)
