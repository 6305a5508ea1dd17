"""Clinician scale scores (GAIS, Glogau, ...) at a patient's visits."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response, status

from dermatrack.services import scores
from dermatrack.services.scores import ScoreFields, ScoreIn, ScoreOut
from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged
from dermatrack.web.params import for_patient

router = APIRouter(tags=["scores"])


class ScoreBody(ScoreFields):
    """A score; the patient comes from the path."""

    # A patient_id given here is ignored (the path's wins); accepted as it always was.
    patient_id: str | None = None


@router.get("/patients/{patient_id}/scores", response_model=list[ScoreOut],
            responses=PAGE_HEADERS)
def list_scores(request: Request, response: Response, patient_id: str,
                store: StoreDep, instrument: str | None = Query(None, max_length=80),
                page: PageQuery = Depends(),
                principal: Principal = Depends(require("clinical"))) -> list[ScoreOut]:
    """A patient's scores by visit date, a page at a time."""
    read_patient(store, principal, patient_id, fields=("scores",), purpose="api")
    return paged(request, response, scores.page_scores(
        store, patient_id, instrument=instrument, cursor=page.cursor, limit=page.limit))


@router.post("/patients/{patient_id}/scores", response_model=ScoreOut,
             status_code=status.HTTP_201_CREATED)
def add_score(patient_id: str, body: ScoreBody, store: StoreDep,
              principal: Principal = Depends(require("clinical"))) -> ScoreOut:
    return scores.add_score(store, for_patient(ScoreIn, body, patient_id),
                            actor=principal.actor)
