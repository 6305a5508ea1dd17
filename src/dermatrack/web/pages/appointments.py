"""The clinic's calendar (day and week), a patient's appointments with booking from a
stored plan, and the recall list. Reception and clinicians (``scheduling``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from dermatrack.errors import InputError
from dermatrack.services.common import Store
from dermatrack.web.deps import Principal, StoreDep, read_patient, require_page
from dermatrack.web.pages import checked_form, render

router = APIRouter(include_in_schema=False)

DAY_START, DAY_END = 8, 20
"""Hours shown on the day calendar (local time)."""


def _day(value: str | None) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"not a date: {value!r} (YYYY-MM-DD)", field="day") from None


def _text(form: FormData, key: str) -> str | None:
    value = str(form.get(key) or "").strip()
    return value or None


@router.get("/appointments")
def calendar(request: Request, store: StoreDep, day: str | None = None, view: str = "day",
             practitioner: str | None = None,
             principal: Principal = Depends(require_page("scheduling"))) -> Response:
    """The day (or week, ``view=week``) of the clinic; a clinician sees their own by
    default (``practitioner=`` empty for everyone)."""
    from dermatrack.services import appointments

    shown = _day(day)
    if practitioner is None and principal.can("clinical"):
        practitioner = principal.username
    start = shown - dt.timedelta(days=shown.weekday()) if view == "week" else shown
    end = start + dt.timedelta(days=6) if view == "week" else shown
    rows = appointments.list_appointments(store, start=start, end=end,
                                          practitioner=practitioner or None,
                                          with_names=True, actor=principal.actor)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    by_day: dict[dt.date, list[Any]] = {d: [] for d in days}
    for row in rows:
        by_day[row.date].append(row)
    step = dt.timedelta(days=7 if view == "week" else 1)
    return render(request, "appointments.html", principal, view=view, shown=shown,
                  days=days, by_day=by_day, practitioner=practitioner or "",
                  previous=(shown - step).isoformat(), following=(shown + step).isoformat(),
                  today=dt.date.today(), hours=list(range(DAY_START, DAY_END)),
                  statuses=appointments.TRANSITIONS)


@router.post("/appointments/{appointment_id}/status")
def change_status(request: Request, appointment_id: str, store: StoreDep,
                  principal: Principal = Depends(require_page("scheduling")),
                  form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import appointments

    saved = appointments.update_appointment(store, appointment_id,
                                            {"status": _text(form, "status")},
                                            actor=principal.actor)
    back = _text(form, "back") or f"/appointments?day={saved.date.isoformat()}"
    return RedirectResponse(back if back.startswith("/") else "/appointments", status_code=303)


def _patient_context(store: Store, principal: Principal, patient_id: str) -> dict[str, Any]:
    from dermatrack.services import appointments, plans

    record = read_patient(store, principal, patient_id, fields=("appointments", "plans"),
                          purpose="appointments", with_identity=True)
    today = dt.date.today()
    return {"record": record,
            "appointments": appointments.list_appointments(
                store, start=today - dt.timedelta(days=365), end=today + dt.timedelta(days=730),
                patient_id=patient_id),
            "plans": plans.list_plans(store, patient_id), "today": today.isoformat(),
            "errors": {}, "form": {"practitioner": principal.username}}


@router.get("/patients/{patient_id}/appointments")
def patient_appointments(request: Request, patient_id: str, store: StoreDep,
                         principal: Principal = Depends(require_page("scheduling"))) -> Response:
    return render(request, "patient_appointments.html", principal,
                  **_patient_context(store, principal, patient_id))


@router.post("/patients/{patient_id}/appointments")
def book(request: Request, patient_id: str, store: StoreDep,
         principal: Principal = Depends(require_page("scheduling")),
         form: FormData = Depends(checked_form)) -> Response:
    """Book one appointment, or (``plan_id`` given) every open session of a plan."""
    from dermatrack.services import appointments

    data = {key: _text(form, key) for key in ("date", "start", "practitioner", "room",
                                               "kind", "notes", "minutes")}
    data = {k: v for k, v in data.items() if v is not None}
    plan_id = _text(form, "plan_id")
    try:
        if plan_id:
            booked = appointments.book_plan(
                store, {**{k: v for k, v in data.items() if k in ("start", "practitioner",
                                                                   "room")},
                        "plan_id": plan_id}, actor=principal.actor)
            message = f"Booked {len(booked)} appointments from the plan."
        else:
            saved = appointments.add_appointment(store, {**data, "patient_id": patient_id},
                                                 actor=principal.actor)
            message = f"Booked {saved.kind} on {saved.date} at {saved.start:%H:%M}."
    except InputError as error:
        context = _patient_context(store, principal, patient_id)
        context["errors"] = {error.field or "form": error.message}
        context["form"] = data
        return render(request, "patient_appointments.html", principal,
                      status_code=409 if error.__class__.__name__ == "ConflictError" else 422,
                      **context)
    context = _patient_context(store, principal, patient_id)
    return render(request, "patient_appointments.html", principal, status_code=201,
                  message=message, **context)


@router.get("/recalls")
def recall_page(request: Request, store: StoreDep, due_by: str | None = None,
                principal: Principal = Depends(require_page("scheduling"))) -> Response:
    """Who is due for a session or a follow-up assessment (photographs) by a day."""
    from dermatrack.services import appointments

    day = _day(due_by) if due_by else dt.date.today() + dt.timedelta(days=14)
    rows = appointments.recall_list(store, due_by=day, with_names=True, actor=principal.actor)
    return render(request, "recalls.html", principal, rows=rows, due_by=day.isoformat())
