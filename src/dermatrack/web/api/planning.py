"""Treatment planning: ranked modalities for a stored patient's concerns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.params import IsoDate

router = APIRouter(tags=["planning"])


class PlanOut(BaseModel):
    """``dermatrack plan --json``'s shape: ``recommended`` best first, ``excluded`` with
    the reasons."""

    on: dt.date
    start: dt.date
    recommended: list[dict[str, Any]]
    excluded: list[dict[str, Any]]
    warnings: list[dict[str, str]] = []


def plan_record(patient_json: dict[str, Any], on: dt.date, start: dt.date) -> PlanOut:
    from dermatrack.clinic.intake import parse_patient
    from dermatrack.clinic.planning import plan
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    profile = parse_patient(patient_json, on=on, vocabulary=load_vocabulary())
    modalities = load_modalities(load_vocabulary())
    return PlanOut.model_validate(plan(profile, modalities, start=start, on=on).to_dict())


@router.get("/patients/{patient_id}/plan", response_model=PlanOut)
def plan_patient(patient_id: str,
                 store: StoreDep,
                 on: IsoDate | None = Query(None, description="Screening date; default today"),
                 start: IsoDate | None = Query(None, description="First session; default on"),
                 principal: Principal = Depends(require("clinical"))) -> PlanOut:
    day = on or dt.date.today()
    record = read_patient(store, principal, patient_id, fields=("plan",), purpose="api")
    return plan_record(record.patient_json(day), day, start or day)
