"""Treatment sessions: chart one (parameters checked against the knowledge base's ranges
for each region) and list a patient's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from dermatrack.services import charting
from dermatrack.services.charting import SessionIn, SessionOut
from dermatrack.web.deps import Principal, get_store, read_patient, require

router = APIRouter(tags=["sessions"])


class SessionBody(SessionIn):
    """A session; the patient comes from the path."""

    patient_id: str | None = None


@router.get("/patients/{patient_id}/sessions", response_model=list[SessionOut])
def list_sessions(patient_id: str, store=Depends(get_store),
                  principal: Principal = Depends(require("clinical"))):
    read_patient(store, principal, patient_id, fields=("sessions",), purpose="api")
    return charting.list_sessions(store, patient_id)


@router.post("/patients/{patient_id}/sessions", response_model=SessionOut,
             status_code=status.HTTP_201_CREATED)
def add_session(patient_id: str, body: SessionBody, store=Depends(get_store),
                principal: Principal = Depends(require("clinical"))):
    """Chart a session. A value outside the documented range is refused (422 naming
    ``parameters.<code>``) unless ``override_reason`` says why it was used."""
    data = body.model_dump(exclude_unset=True) | {"patient_id": patient_id}
    return charting.add_session(store, data, actor=principal.actor)
