"""Visits (scheduling): a patient's timepoints and dates. Reception sees no visit notes."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from dermatrack.services import patients
from dermatrack.services.patients import TIMEPOINT_PATTERN, VisitOut
from dermatrack.web.api import CONFLICT
from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged

router = APIRouter(tags=["visits"])


class VisitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timepoint: str = Field(pattern=TIMEPOINT_PATTERN.pattern, examples=["baseline", "m3"])
    date: dt.date
    notes: str | None = Field(None, description="Clinical notes (clinicians only)")


def _shown(principal: Principal, visit: VisitOut) -> VisitOut:
    return visit if principal.can("clinical") else visit.model_copy(update={"notes": None})


@router.get("/patients/{patient_id}/visits", response_model=list[VisitOut],
            responses=PAGE_HEADERS)
def list_visits(request: Request, response: Response, patient_id: str,
                store: StoreDep, page: PageQuery = Depends(),
                principal: Principal = Depends(require("scheduling"))) -> list[VisitOut]:
    """A patient's visits by date, a page at a time."""
    read_patient(store, principal, patient_id, fields=("visits",), purpose="api")
    found = patients.page_visits(store, patient_id, cursor=page.cursor, limit=page.limit)
    found.items = [_shown(principal, v) for v in found.items]
    return paged(request, response, found)


@router.post("/patients/{patient_id}/visits", response_model=VisitOut,
             status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def add_visit(patient_id: str, body: VisitBody, store: StoreDep,
              principal: Principal = Depends(require("scheduling"))) -> VisitOut:
    data = body.model_dump()
    if data["notes"] and not principal.can("clinical"):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"the {principal.role} role may not write clinical notes")
    visit = patients.add_visit(store, {**data, "patient_id": patient_id},
                               actor=principal.actor)
    return _shown(principal, visit)
