"""Measurements (photo metrics and device readings) of a patient: clinicians only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from dermatrack.services import observations
from dermatrack.services.observations import ObservationOut
from dermatrack.web.deps import Principal, get_store, read_patient, require

router = APIRouter(tags=["measurements"])


@router.get("/patients/{patient_id}/measurements", response_model=list[ObservationOut])
def list_measurements(patient_id: str,
                      kind: str | None = Query(None, examples=["photo", "surface"]),
                      store=Depends(get_store),
                      principal: Principal = Depends(require("clinical"))):
    read_patient(store, principal, patient_id, fields=("measurements",), purpose="api")
    return observations.list_observations(store, patient_id=patient_id, kind=kind)
