"""Measurements (photo metrics and device readings) of a patient: clinicians only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from dermatrack.services import observations
from dermatrack.services.observations import ObservationOut
from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged

router = APIRouter(tags=["measurements"])


@router.get("/patients/{patient_id}/measurements", response_model=list[ObservationOut],
            responses=PAGE_HEADERS)
def list_measurements(request: Request, response: Response, patient_id: str,
                      store: StoreDep, kind: str | None = Query(None, max_length=40,
                                               examples=["photo", "surface"]),
                      page: PageQuery = Depends(),
                      principal: Principal = Depends(require("clinical"))) -> list[ObservationOut]:
    """A patient's observations, oldest first, a page at a time."""
    read_patient(store, principal, patient_id, fields=("measurements",), purpose="api")
    return paged(request, response, observations.page_observations(
        store, patient_id=patient_id, kind=kind, cursor=page.cursor, limit=page.limit))
