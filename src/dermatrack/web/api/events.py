"""Reactions and adverse events after treatment.

``POST`` charts the reaction; the answer's ``kind`` says whether it was recorded as an
expected reaction (within the modality's usual duration) or as an adverse event, and
``reason`` says why.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from dermatrack.services import charting
from dermatrack.services.charting import EventIn, EventOut
from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged

router = APIRouter(tags=["events"])


@router.get("/patients/{patient_id}/events", response_model=list[EventOut],
            responses=PAGE_HEADERS)
def list_events(request: Request, response: Response, patient_id: str,
                store: StoreDep, page: PageQuery = Depends(),
                principal: Principal = Depends(require("clinical"))) -> list[EventOut]:
    """A patient's reactions and adverse events by onset, a page at a time."""
    read_patient(store, principal, patient_id, fields=("events",), purpose="api")
    return paged(request, response, charting.page_events(
        store, patient_id, cursor=page.cursor, limit=page.limit))


@router.post("/patients/{patient_id}/events", response_model=EventOut,
             status_code=status.HTTP_201_CREATED)
def add_event(patient_id: str, body: EventIn, store: StoreDep,
              principal: Principal = Depends(require("clinical"))) -> EventOut:
    # the body is an EventIn validated already; the path names its patient
    return charting.add_event(store, body.model_copy(update={"patient_id": patient_id}),
                              actor=principal.actor)
