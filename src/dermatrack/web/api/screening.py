"""Contraindication screening of a stored patient, or of an intake form not yet saved.

``POST /api/screening`` takes the ``PATIENT.json`` shape and stores nothing: the intake
form calls it as fields change, so that a contraindication shows before the patient is
registered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel

from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.params import IsoDate

router = APIRouter(tags=["screening"])


class ReasonOut(BaseModel):
    rule: str
    kind: str
    text: str
    mitigation: str | None
    source: str
    matched: list[str]


class ModalityScreeningOut(BaseModel):
    modality: str
    verdict: str
    reasons: list[ReasonOut]


class WarningOut(BaseModel):
    field: str
    message: str


class ScreeningOut(BaseModel):
    on: dt.date
    results: list[ModalityScreeningOut]
    warnings: list[WarningOut] = []


def screen_record(patient_json: dict[str, Any], on: dt.date) -> ScreeningOut:
    """Screen a ``PATIENT.json`` mapping against every modality at ``on``."""
    from dermatrack.clinic.intake import parse_patient
    from dermatrack.clinic.screening import screen
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    profile = parse_patient(patient_json, on=on, vocabulary=load_vocabulary(),
                            ignore_keys=("identity", "consents"))
    modalities = load_modalities(load_vocabulary())
    return ScreeningOut.model_validate(screen(profile, modalities, on).to_dict())


@router.get("/patients/{patient_id}/screening", response_model=ScreeningOut)
def screen_patient(patient_id: str,
                   store: StoreDep, on: IsoDate | None = Query(None, description="Default: today"),
                   principal: Principal = Depends(require("clinical"))) -> ScreeningOut:
    """Verdicts for every modality, with the rules that fired and their sources."""
    day = on or dt.date.today()
    record = read_patient(store, principal, patient_id, fields=("screening",), purpose="api")
    return screen_record(record.patient_json(day), day)


@router.post("/screening", response_model=ScreeningOut)
def screen_intake(patient: dict[str, Any] = Body(..., examples=[{
                      "age": 34, "fitzpatrick": "IV", "conditions": ["pregnancy"]}]),
                  on: IsoDate | None = Query(None, description="Default: today"),
                  _: Principal = Depends(require("clinical"))) -> ScreeningOut:
    """Screen an intake form's data without storing it."""
    return screen_record(patient, on or dt.date.today())
