"""Appointments, booking a plan, and the recall list (reception and clinicians)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, status

from dermatrack.services.appointments import (
    AppointmentIn,
    AppointmentOut,
    AppointmentUpdate,
    RecallOut,
)
from dermatrack.web.deps import Principal, StoreDep, require

router = APIRouter(tags=["appointments"])


@router.post("/appointments", response_model=AppointmentOut,
             status_code=status.HTTP_201_CREATED)
def add_appointment(body: AppointmentIn, store: StoreDep,
                    principal: Principal = Depends(require("scheduling"))) -> AppointmentOut:
    """Book an appointment; 409 when the practitioner is busy at that time."""
    from dermatrack.services import appointments

    return appointments.add_appointment(store, body, actor=principal.actor)


@router.get("/appointments", response_model=list[AppointmentOut])
def list_appointments(start: dt.date, store: StoreDep, end: dt.date | None = None,
                      practitioner: str | None = None, patient_id: str | None = None,
                      principal: Principal = Depends(require("scheduling"))
                      ) -> list[AppointmentOut]:
    """Appointments from ``start`` to ``end`` (inclusive), with the patients' names."""
    from dermatrack.services import appointments

    return appointments.list_appointments(store, start=start, end=end,
                                          practitioner=practitioner, patient_id=patient_id,
                                          with_names=True, actor=principal.actor)


@router.patch("/appointments/{appointment_id}", response_model=AppointmentOut)
def update_appointment(appointment_id: str, body: AppointmentUpdate, store: StoreDep,
                       principal: Principal = Depends(require("scheduling"))) -> AppointmentOut:
    """Change the status (booked, arrived, done, no-show, cancelled: forward only) or
    reschedule a booked appointment; 409 for a change the status does not allow."""
    from dermatrack.services import appointments

    return appointments.update_appointment(store, appointment_id, body,
                                           actor=principal.actor)


@router.post("/plans/{plan_id}/book", response_model=list[AppointmentOut],
             status_code=status.HTTP_201_CREATED)
def book_plan(plan_id: str, body: dict, store: StoreDep,
              principal: Principal = Depends(require("scheduling"))) -> list[AppointmentOut]:
    """Book a plan's open sessions and its follow-up assessments in one step
    (body: ``start``, ``practitioner``, optional ``room``, ``minutes``)."""
    from dermatrack.services import appointments

    return appointments.book_plan(store, {**body, "plan_id": plan_id}, actor=principal.actor)


@router.get("/recalls", response_model=list[RecallOut])
def recalls(due_by: dt.date, store: StoreDep,
            principal: Principal = Depends(require("scheduling"))) -> list[RecallOut]:
    """Patients due by ``due_by`` for a session or a follow-up assessment not yet booked."""
    from dermatrack.services import appointments

    return appointments.recall_list(store, due_by=due_by, with_names=True,
                                    actor=principal.actor)



