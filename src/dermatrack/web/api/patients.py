"""Patients: search and list, register, read one.

A clinician gets the whole record; reception gets the demographic part only
(:class:`PatientDemographics`: identity, age, sex, consents), never concerns, history or
skin type. Researchers use the de-identified cohort (``/api/cohort``) instead.

Registration is split like the records: reception registers identity and demographics;
the clinical facts (:data:`~dermatrack.services.patients.CLINICAL_KEYS`: skin type,
concerns, conditions, medications, allergies) need the clinical right, and a request by
reception that holds any of them is refused whole (403 naming them), nothing stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from dermatrack.services import patients
from dermatrack.services.common import Record
from dermatrack.services.paging import Page
from dermatrack.services.patients import (
    ConsentOut,
    IdentityOut,
    PatientIn,
    PatientOut,
    PatientSummary,
)
from dermatrack.web.deps import Principal, StoreDep, read_patient, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged

router = APIRouter(tags=["patients"])


class PatientDemographics(Record):
    """What reception sees of a patient."""

    id: str
    date_of_birth: dt.date | None
    age_years: int | None
    sex: str | None
    consents: list[ConsentOut]
    created_at: dt.datetime
    identity: IdentityOut | None = None


class PatientListItem(Record):
    """A row of the patient list; ``fitzpatrick`` only for clinicians."""

    id: str
    sex: str | None
    date_of_birth: dt.date | None
    age_years: int | None
    created_at: dt.datetime
    fitzpatrick: str | None = None
    identity: IdentityOut | None = None


def shown_to(principal: Principal, record: PatientOut) -> PatientOut | PatientDemographics:
    """The record trimmed to what the principal's role may see."""
    if principal.can("clinical"):
        return record
    return PatientDemographics.model_validate(record.model_dump())


def list_items(principal: Principal, rows: list[PatientSummary]) -> list[PatientListItem]:
    clinical = principal.can("clinical")
    return [PatientListItem(**row.model_dump(exclude={"fitzpatrick"}),
                            fitzpatrick=row.fitzpatrick if clinical else None)
            for row in rows]


@router.get("/patients", response_model=list[PatientListItem], responses=PAGE_HEADERS)
def list_patients(request: Request, response: Response,
                  store: StoreDep, q: str | None = Query(None, max_length=200,
                                        description="Start of the id, or part of the name, "
                                                    "email or phone"),
                  page: PageQuery = Depends(),
                  principal: Principal = Depends(require("demographics"))) -> list[PatientListItem]:
    """Patients, newest first, with their names, a page at a time (the page's read is
    audited as one row naming the ids shown)."""
    rows = patients.list_patients(store, search=q, actor=principal.actor, with_identity=True,
                                  cursor=page.cursor, limit=page.limit)
    return paged(request, response, Page(list_items(principal, rows.items), rows.next))


@router.post("/patients", status_code=status.HTTP_201_CREATED,
             response_model=PatientOut | PatientDemographics)
def add_patient(body: PatientIn, store: StoreDep,
                principal: Principal = Depends(require("demographics"))
                ) -> PatientOut | PatientDemographics:
    """Register a patient (``PATIENT.json`` plus ``identity`` and ``consents``).

    Every field is checked before anything is stored; a bad value is a 422 naming it.
    Skin type, concerns, conditions, medications and allergies need the clinical right
    (403 for reception, naming them).
    """
    check_may_register(principal, body)
    return shown_to(principal, patients.add_patient(store, body, actor=principal.actor))


def check_may_register(principal: Principal,
                       data: PatientIn | dict[str, Any]) -> None:
    """403 when ``principal`` may not record the clinical facts ``data`` holds."""
    given = patients.clinical_keys_given(data)
    if given and not principal.can("clinical"):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"the {principal.role} role may not record clinical facts "
                            f"({', '.join(given)}); a clinician adds them")


@router.get("/patients/{patient_id}", response_model=PatientOut | PatientDemographics)
def get_patient(patient_id: str, store: StoreDep,
                principal: Principal = Depends(require("demographics"))
                ) -> PatientOut | PatientDemographics:
    fields = ("profile", "history") if principal.can("clinical") else ("demographics",)
    record = read_patient(store, principal, patient_id, fields=fields, purpose="api",
                          with_identity=True)
    return shown_to(principal, record)
