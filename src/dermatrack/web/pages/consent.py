"""Consent pages: the clinic's templates, signing on the screen, the signed document.

Signing shows the active template's text to the patient with a signature box (a canvas
drawn on with a finger or stylus through pointer events); the page posts the drawing as a
PNG to ``/api/patients/{id}/consents/sign`` and opens the signed document, which shows
the text signed, the signature, the time, the witness and whether the content hash still
matches.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from dermatrack.errors import InputError
from dermatrack.services.common import Store
from dermatrack.web.deps import Principal, StoreDep, audit_read, read_patient, require_page
from dermatrack.web.pages import checked_form, render

router = APIRouter(include_in_schema=False)


def _templates_context(store: Store) -> dict[str, Any]:
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services import consent

    return {"templates": consent.list_templates(store), "errors": {}, "form": {},
            "modalities": sorted(load_modalities(load_vocabulary()).values(), key=lambda m: m.name)}


@router.get("/consent/templates")
def templates_page(request: Request, store: StoreDep,
                   principal: Principal = Depends(require_page("consent_templates"))) -> Response:
    return render(request, "consent_templates.html", principal, **_templates_context(store))


@router.post("/consent/templates")
def add_template(request: Request, store: StoreDep,
                 principal: Principal = Depends(require_page("consent_templates")),
                 form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import consent

    if form.get("examples"):
        added = consent.load_examples(store, actor=principal.actor)
        return render(request, "consent_templates.html", principal, status_code=201,
                      message=f"Loaded {len(added)} example templates.",
                      **_templates_context(store))
    data = {key: str(form.get(key) or "").strip()
            for key in ("kind", "scope", "version", "title", "body")}
    data["scope"] = data["scope"] or "any"
    try:
        saved = consent.add_template(store, data, actor=principal.actor)
    except InputError as error:
        context = _templates_context(store)
        context.update(errors={error.field or "form": error.message}, form=data)
        return render(request, "consent_templates.html", principal, status_code=422,
                      **context)
    return render(request, "consent_templates.html", principal, status_code=201,
                  message=f"{saved.title} version {saved.version} is now in force.",
                  **_templates_context(store))


@router.post("/consent/templates/{template_id}/activate")
def activate(request: Request, template_id: str, store: StoreDep,
             principal: Principal = Depends(require_page("consent_templates")),
             _form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import consent

    consent.activate_template(store, template_id, actor=principal.actor)
    return RedirectResponse("/consent/templates", status_code=303)


@router.get("/patients/{patient_id}/consent")
def patient_consents(request: Request, patient_id: str, store: StoreDep,
                     principal: Principal = Depends(require_page("demographics"))) -> Response:
    """The patient's consents and the forms in force, to sign."""
    from dermatrack.services import consent

    record = read_patient(store, principal, patient_id, fields=("consents",),
                          purpose="consent", with_identity=True)
    return render(request, "patient_consent.html", principal, record=record,
                  active=consent.list_templates(store, active_only=True),
                  signed=consent.signed_consent_ids(store, patient_id))


@router.get("/patients/{patient_id}/consent/sign/{template_id}")
def sign_page(request: Request, patient_id: str, template_id: str, store: StoreDep,
              principal: Principal = Depends(require_page("demographics"))) -> Response:
    from dermatrack.services import consent

    record = read_patient(store, principal, patient_id, fields=("consents",),
                          purpose="consent signing", with_identity=True)
    template = consent.get_template(store, template_id)
    if not template.active:
        raise InputError(f"{template.title} version {template.version} is no longer in "
                         "force; sign the current version", field="template_id")
    return render(request, "consent_sign.html", principal, record=record, form_template=template)


@router.get("/consents/{consent_id}")
def signed_page(request: Request, consent_id: str, store: StoreDep,
                principal: Principal = Depends(require_page("demographics"))) -> Response:
    from dermatrack.services import consent

    document = consent.get_signed(store, consent_id)
    record = read_patient(store, principal, document.patient_id, fields=("consents",),
                          purpose="signed consent", with_identity=True)
    audit_read(store, principal, "consent", consent_id, fields=("document",),
               purpose="signed consent")
    return render(request, "consent_signed.html", principal, document=document,
                  record=record)


@router.post("/consents/{consent_id}/withdraw")
def withdraw(request: Request, consent_id: str, store: StoreDep,
             principal: Principal = Depends(require_page("demographics")),
             _form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import consent

    consent.withdraw(store, consent_id, actor=principal.actor)
    return RedirectResponse(f"/consents/{consent_id}", status_code=303)
