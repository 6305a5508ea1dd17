"""Consent templates and documents signed on the screen.

Templates are managed by clinicians and admins (no patient data); signing and withdrawing
is for whoever handles demographics (reception and clinicians). A signed document cannot
be changed: there is no route to edit one, and the database refuses it too.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from dermatrack.services.consent import SignedConsentOut, TemplateIn, TemplateOut
from dermatrack.services.patients import PatientConsentOut
from dermatrack.web.deps import Principal, StoreDep, audit_read, require

router = APIRouter(tags=["consent"])


class SignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: str
    witness: str
    signature_png: str


@router.get("/consent-templates", response_model=list[TemplateOut])
def list_templates(store: StoreDep, active_only: bool = False,
                   _principal: Principal = Depends(require("demographics"))) -> list[TemplateOut]:
    from dermatrack.services import consent

    return consent.list_templates(store, active_only=active_only)


@router.post("/consent-templates", response_model=TemplateOut,
             status_code=status.HTTP_201_CREATED)
def add_template(body: TemplateIn, store: StoreDep,
                 principal: Principal = Depends(require("consent_templates"))) -> TemplateOut:
    """Add a template version (it replaces the active one of its kind and scope);
    409 when the version exists already."""
    from dermatrack.services import consent

    return consent.add_template(store, body, actor=principal.actor)


@router.post("/consent-templates/{template_id}/activate", response_model=TemplateOut)
def activate_template(template_id: str, store: StoreDep,
                      principal: Principal = Depends(require("consent_templates"))) -> TemplateOut:
    from dermatrack.services import consent

    return consent.activate_template(store, template_id, actor=principal.actor)


@router.post("/patients/{patient_id}/consents/sign", response_model=SignedConsentOut,
             status_code=status.HTTP_201_CREATED)
def sign(patient_id: str, body: SignBody, store: StoreDep,
         principal: Principal = Depends(require("demographics"))) -> SignedConsentOut:
    """Record a consent signed on the screen (``signature_png``: a PNG data URL)."""
    from dermatrack.services import consent

    return consent.sign(store, {**body.model_dump(), "patient_id": patient_id},
                        actor=principal.actor)


@router.get("/consents/{consent_id}", response_model=SignedConsentOut)
def get_signed(consent_id: str, store: StoreDep,
               principal: Principal = Depends(require("demographics"))) -> SignedConsentOut:
    """The signed document, with ``intact`` from a fresh check of its content hash."""
    from dermatrack.services import consent

    document = consent.get_signed(store, consent_id)
    audit_read(store, principal, "consent", consent_id, fields=("document",), purpose="api")
    return document


@router.get("/consents/{consent_id}/signature.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def signature(consent_id: str, store: StoreDep,
              principal: Principal = Depends(require("demographics"))) -> Response:
    from dermatrack.services import consent

    data = consent.signature_image(store, consent_id)
    audit_read(store, principal, "consent", consent_id, fields=("signature",), purpose="api")
    return Response(data, media_type="image/png",
                    headers={"Cache-Control": "private, no-store"})


@router.post("/consents/{consent_id}/withdraw", response_model=PatientConsentOut)
def withdraw(consent_id: str, store: StoreDep,
             principal: Principal = Depends(require("demographics"))) -> PatientConsentOut:
    """Withdraw a consent now (the document stays, with both times)."""
    from dermatrack.services import consent

    return consent.withdraw(store, consent_id, actor=principal.actor)
