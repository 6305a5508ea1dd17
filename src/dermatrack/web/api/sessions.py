"""Treatment sessions: chart one (parameters checked against the knowledge base's ranges
for each region) and list a patient's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from dermatrack.services import charting
from dermatrack.services.charting import SessionFields, SessionIn, SessionOut
from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged
from dermatrack.web.params import for_patient

router = APIRouter(tags=["sessions"])


class SessionBody(SessionFields):
    """A session; the patient comes from the path."""

    # A patient_id given here is ignored (the path's wins); accepted as it always was.
    patient_id: str | None = None


@router.get("/patients/{patient_id}/sessions", response_model=list[SessionOut],
            responses=PAGE_HEADERS)
def list_sessions(request: Request, response: Response, patient_id: str,
                  store: StoreDep, page: PageQuery = Depends(),
                  principal: Principal = Depends(require("clinical"))) -> list[SessionOut]:
    """A patient's sessions by date, a page at a time."""
    read_patient(store, principal, patient_id, fields=("sessions",), purpose="api")
    return paged(request, response, charting.page_sessions(
        store, patient_id, cursor=page.cursor, limit=page.limit))


@router.post("/patients/{patient_id}/sessions", response_model=SessionOut,
             status_code=status.HTTP_201_CREATED)
def add_session(patient_id: str, body: SessionBody, store: StoreDep,
                principal: Principal = Depends(require("clinical"))) -> SessionOut:
    """Chart a session. A value outside the documented range is refused (422 naming
    ``parameters.<code>``) unless ``override_reason`` says why it was used."""
    return charting.add_session(store, for_patient(SessionIn, body, patient_id),
                                actor=principal.actor)
