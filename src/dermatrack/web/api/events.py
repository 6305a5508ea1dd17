"""Reactions and adverse events after treatment.

``POST`` charts the reaction; the answer's ``kind`` says whether it was recorded as an
expected reaction (within the modality's usual duration) or as an adverse event, and
``reason`` says why.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dermatrack.services import charting
from dermatrack.services.charting import EventIn, EventOut
from dermatrack.web.deps import Principal, get_store, read_patient, require

router = APIRouter(tags=["events"])


@router.get("/patients/{patient_id}/events", response_model=list[EventOut])
def list_events(patient_id: str, store=Depends(get_store),
                principal: Principal = Depends(require("clinical"))):
    read_patient(store, principal, patient_id, fields=("events",), purpose="api")
    return charting.list_events(store, patient_id)


@router.post("/patients/{patient_id}/events", response_model=EventOut,
             status_code=status.HTTP_201_CREATED)
def add_event(patient_id: str, body: EventIn, store=Depends(get_store),
              principal: Principal = Depends(require("clinical"))):
    data = body.model_dump(exclude_unset=True) | {"patient_id": patient_id}
    return charting.add_event(store, data, actor=principal.actor)
