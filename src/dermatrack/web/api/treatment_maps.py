"""Treatment maps: marks on the face diagram for a session (clinicians)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from dermatrack.services.treatment_maps import MarkIn, MarkOut
from dermatrack.web.deps import Principal, StoreDep, read_patient, require

router = APIRouter(tags=["treatment maps"])


class MarksBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marks: list[MarkIn] = Field(min_length=1)


@router.post("/sessions/{session_id}/marks", response_model=list[MarkOut],
             status_code=status.HTTP_201_CREATED)
def add_marks(session_id: str, body: MarksBody, store: StoreDep,
              principal: Principal = Depends(require("clinical"))) -> list[MarkOut]:
    """Add marks (coordinates relative to the diagram view, 0 to 1) to a session's map."""
    from dermatrack.services import treatment_maps

    return treatment_maps.add_marks(store, {"session_id": session_id,
                                            "marks": [m.model_dump() for m in body.marks]},
                                    actor=principal.actor)


@router.get("/patients/{patient_id}/marks", response_model=list[MarkOut])
def list_marks(patient_id: str, store: StoreDep, session_id: str | None = None,
               principal: Principal = Depends(require("clinical"))) -> list[MarkOut]:
    from dermatrack.services import treatment_maps

    read_patient(store, principal, patient_id, fields=("treatment_map",), purpose="api")
    return treatment_maps.list_marks(store, patient_id, session_id=session_id)
