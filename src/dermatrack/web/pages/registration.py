"""Reception's registration page: a new patient's identity and demographics only.

The front desk registers who the patient is (name, contacts, date of birth or age, sex)
and the consents signed; the clinical facts (skin type, concerns, history, medications)
are a clinician's to record, on the full intake form (``/patients/new``). The same split
holds in the API (``POST /api/patients``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from dermatrack.errors import InputError
from dermatrack.web.deps import Principal, StoreDep, require_page
from dermatrack.web.pages import checked_form, render

router = APIRouter(include_in_schema=False)

_FIELDS = ("name", "email", "phone", "age", "date_of_birth", "sex")


def registration_data(form: FormData) -> dict[str, Any]:
    """The form as the demographic part of ``PATIENT.json`` with identity and consents."""
    from dermatrack.web.pages.patients import intake_data

    data = intake_data(form)
    for key in ("fitzpatrick", "concerns", "conditions", "allergies", "medications"):
        data.pop(key, None)  # the form has none of these; a forged field is ignored
    return data


def _page(request: Request, principal: Principal, form: dict[str, Any],
          errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    from dermatrack.clinic.intake import SEXES

    return render(request, "register.html", principal, status_code=status_code,
                  sexes=SEXES, form=form, errors=errors)


@router.get("/patients/register")
def registration_page(request: Request,
                      principal: Principal = Depends(require_page("demographics"))
                      ) -> Response:
    return _page(request, principal, {"consents": set()}, {})


@router.post("/patients/register")
def registration_submit(request: Request, store: StoreDep,
                        principal: Principal = Depends(require_page("demographics")),
                        form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import patients

    try:
        record = patients.add_patient(store, registration_data(form), actor=principal.actor)
    except InputError as error:
        echo: dict[str, Any] = {key: str(form.get(key) or "") for key in _FIELDS}
        echo["consents"] = {k for k in ("treatment", "photography", "research")
                            if form.get(f"consent_{k}")}
        return _page(request, principal, echo, {error.field or "form": error.message},
                     status_code=422)
    return RedirectResponse(f"/patients/{record.id}", status_code=303)
