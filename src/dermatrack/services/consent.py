"""Consent documents: versioned templates, signatures drawn on the screen, and the check
that charting, photographs and cohort inclusion make (rules in
:mod:`dermatrack.clinic.consent`).

A template version's text never changes: a new wording is a new version, which becomes the
active one of its kind and scope (the previous one is retired in the same transaction; the
database allows one active version per kind and scope). Signing stores a ``consent`` row
(kind, version, scope, time) and its ``consent_signature`` (the template signed, the PNG
drawn by the patient, the witness and the SHA-256 of everything signed); neither can be
changed afterwards, by the services or by SQL, except that the consent may be withdrawn.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc, select
from sqlalchemy.orm import Session

from dermatrack.clinic.consent import (
    ANY_SCOPE,
    EXAMPLE_TEMPLATES,
    ConsentFact,
    content_digest,
    decide,
    signed_fields,
    text_digest,
)
from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services.common import Record, Store, get_patient, validate_input
from dermatrack.store.clinic_day import ConsentSignature, ConsentTemplate
from dermatrack.store.models import Consent

MAX_SIGNATURE_BYTES = 512 * 1024
"""Largest signature image accepted (a 1000 x 400 px PNG of strokes is 10-40 kB)."""
MIN_INK_PIXELS = 30
"""A signature needs at least this many drawn pixels: a blank canvas is refused."""


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["treatment", "photography", "research"]
    scope: str = Field(ANY_SCOPE, max_length=80,
                       description="A modality code, or 'any' for every treatment")
    version: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=20, max_length=50_000)
    active: bool = True


class TemplateOut(Record):
    id: str
    kind: str
    scope: str
    version: str
    title: str
    body: str
    body_sha256: str
    active: bool
    created_at: dt.datetime


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_id: str
    template_id: str
    witness: str = Field(min_length=1, max_length=120)
    signature_png: str = Field(description="The drawn signature: a PNG as base64 or a "
                                           "data: URL")


class SignedConsentOut(BaseModel):
    consent_id: str
    patient_id: str
    kind: str
    scope: str | None
    version: str
    template_id: str
    title: str
    body: str
    signed_at: dt.datetime
    withdrawn_at: dt.datetime | None
    witness: str
    signature_sha256: str
    content_sha256: str
    intact: bool = Field(description="The stored hash matches the stored document")


# --- templates ---------------------------------------------------------------------------

def _check_scope(kind: str, scope: str) -> str:
    if scope == ANY_SCOPE:
        return scope
    if kind != "treatment":
        raise InputError(f"a {kind} consent covers every treatment; its scope must be "
                         f"'{ANY_SCOPE}'", field="scope")
    from dermatrack.knowledge.vocabulary import load_vocabulary

    return load_vocabulary().require("modalities", scope, field="scope").code


def add_template(store: Store, data: TemplateIn | dict[str, Any], *,
                 actor: str) -> TemplateOut:
    """Add a template version; when ``active`` (default) it replaces the active one."""
    template_in = validate_input(TemplateIn, data)
    scope = _check_scope(template_in.kind, template_in.scope)
    with store.transaction(actor) as session:
        same = session.scalars(select(ConsentTemplate).where(
            ConsentTemplate.kind == template_in.kind, ConsentTemplate.scope == scope,
            ConsentTemplate.version == template_in.version)).first()
        if same is not None:
            raise ConflictError(f"{template_in.kind} consent ({scope}) version "
                                f"{template_in.version!r} exists already ({same.id}); "
                                "give the new wording a new version", field="version")
        if template_in.active:
            _retire(session, template_in.kind, scope)
        row = ConsentTemplate(kind=template_in.kind, scope=scope, version=template_in.version,
                              title=template_in.title, body=template_in.body,
                              body_sha256=text_digest(template_in.body),
                              active=template_in.active)
        session.add(row)
        _flush(session, "a template version of that kind and scope is active already")
        return TemplateOut.model_validate(row)


def _retire(session: Session, kind: str, scope: str) -> None:
    for row in session.scalars(select(ConsentTemplate).where(
            ConsentTemplate.kind == kind, ConsentTemplate.scope == scope,
            ConsentTemplate.active.is_(True))):
        row.active = False
    session.flush()


def _flush(session: Session, message: str) -> None:
    try:
        session.flush()
    except exc.IntegrityError as error:
        raise ConflictError(f"{message} ({error.orig})", field="record") from None


def activate_template(store: Store, template_id: str, *, actor: str) -> TemplateOut:
    """Make a version the active one of its kind and scope (the other is retired)."""
    with store.transaction(actor) as session:
        row = _template(session, template_id)
        if not row.active:
            _retire(session, row.kind, row.scope)
            row.active = True
            _flush(session, "another version became active at the same time")
        return TemplateOut.model_validate(row)


def _template(session: Session, template_id: str, field: str | None = None) -> ConsentTemplate:
    row = session.get(ConsentTemplate, template_id)
    if row is None:
        if field:
            raise InputError(f"no consent template {template_id!r}", field=field)
        raise NotFoundError(f"no consent template {template_id!r}")
    return row


def get_template(store: Store, template_id: str) -> TemplateOut:
    with store.reading() as session:
        return TemplateOut.model_validate(_template(session, template_id))


def list_templates(store: Store, *, kind: str | None = None,
                   active_only: bool = False) -> list[TemplateOut]:
    """Templates by kind, scope and newest first."""
    with store.reading() as session:
        query = select(ConsentTemplate).order_by(ConsentTemplate.kind, ConsentTemplate.scope,
                                                 ConsentTemplate.created_at.desc())
        if kind:
            query = query.where(ConsentTemplate.kind == kind)
        if active_only:
            query = query.where(ConsentTemplate.active.is_(True))
        return [TemplateOut.model_validate(row) for row in session.scalars(query)]


def load_examples(store: Store, *, actor: str) -> list[TemplateOut]:
    """Add the neutral example templates of kinds that have no active template yet."""
    active = {(t.kind, t.scope) for t in list_templates(store, active_only=True)}
    return [add_template(store, example, actor=actor) for example in EXAMPLE_TEMPLATES
            if (example["kind"], example["scope"]) not in active]


# --- signing -----------------------------------------------------------------------------

def decode_signature(value: str) -> bytes:
    """The PNG bytes of a drawn signature (base64 or a ``data:image/png;base64,`` URL),
    checked to be a PNG with ink on it."""
    import cv2
    import numpy as np

    text = value.strip()
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if header != "data:image/png;base64":
            raise InputError("the signature must be a PNG image", field="signature_png")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the signature is not valid base64", field="signature_png") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise InputError(f"the signature image is larger than {MAX_SIGNATURE_BYTES // 1024} kB",
                         field="signature_png")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InputError("the signature must be a PNG image", field="signature_png")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError("the signature PNG cannot be decoded", field="signature_png")
    if image.ndim == 3 and image.shape[2] == 4:
        ink = image[:, :, 3] > 64  # strokes on a transparent canvas
    else:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        ink = grey < 128  # dark strokes on a light canvas
    if int(ink.sum()) < MIN_INK_PIXELS:
        raise InputError("the signature is empty: sign in the box with a finger or stylus",
                         field="signature_png")
    return data


def sign(store: Store, data: SignIn | dict[str, Any], *, actor: str,
         now: dt.datetime | None = None) -> SignedConsentOut:
    """Record a consent signed on the screen against the active template version.

    Raises
    ------
    InputError
        Unknown patient or template, or an empty or invalid signature image.
    ConflictError
        The template version is retired (a newer one is in force).
    """
    sign_in = validate_input(SignIn, data)
    png = decode_signature(sign_in.signature_png)
    signed_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    with store.transaction(actor) as session:
        patient = get_patient(session, sign_in.patient_id)
        template = _template(session, sign_in.template_id, field="template_id")
        if not template.active:
            raise ConflictError(f"{template.title} version {template.version} has been "
                                "replaced; sign the active version", field="template_id")
        signature_sha256 = hashlib.sha256(png).hexdigest()
        digest = content_digest(signed_fields(
            patient_id=sign_in.patient_id, template_id=template.id, kind=template.kind,
            scope=template.scope, version=template.version, title=template.title,
            body_sha256=template.body_sha256, signed_at=signed_at, witness=sign_in.witness,
            signature_sha256=signature_sha256))
        consent = Consent(patient_id=sign_in.patient_id, kind=template.kind,
                          version=template.version, signed_at=signed_at,
                          scope=None if template.scope == ANY_SCOPE else template.scope)
        session.add(consent)
        session.flush()
        session.add(ConsentSignature(consent_id=consent.id, template_id=template.id,
                                     signed_at=signed_at, witness=sign_in.witness,
                                     signature_png=png, signature_sha256=signature_sha256,
                                     content_sha256=digest))
        session.flush()
        session.expire(patient, ["consents"])  # as patients.add_consent does
        return _signed_out(session, consent)


def _signed_out(session: Session, consent: Consent) -> SignedConsentOut:
    signature = session.get(ConsentSignature, consent.id)
    if signature is None:
        raise NotFoundError(f"consent {consent.id} was recorded without a signed document")
    template = session.get(ConsentTemplate, signature.template_id)
    assert template is not None
    expected = content_digest(signed_fields(
        patient_id=consent.patient_id, template_id=template.id, kind=template.kind,
        scope=template.scope, version=template.version, title=template.title,
        body_sha256=text_digest(template.body), signed_at=signature.signed_at,
        witness=signature.witness,
        signature_sha256=hashlib.sha256(signature.signature_png).hexdigest()))
    return SignedConsentOut(
        consent_id=consent.id, patient_id=consent.patient_id, kind=consent.kind,
        scope=consent.scope, version=consent.version, template_id=template.id,
        title=template.title, body=template.body, signed_at=signature.signed_at,
        withdrawn_at=consent.withdrawn_at, witness=signature.witness,
        signature_sha256=signature.signature_sha256, content_sha256=signature.content_sha256,
        intact=expected == signature.content_sha256)


def get_signed(store: Store, consent_id: str) -> SignedConsentOut:
    """The signed document of a consent, with a fresh check of its content hash."""
    with store.reading() as session:
        consent = session.get(Consent, consent_id)
        if consent is None:
            raise NotFoundError(f"no consent {consent_id!r}")
        return _signed_out(session, consent)


def signature_image(store: Store, consent_id: str) -> bytes:
    """The PNG the patient drew."""
    with store.reading() as session:
        signature = session.get(ConsentSignature, consent_id)
        if signature is None:
            raise NotFoundError(f"consent {consent_id!r} has no signature image")
        return signature.signature_png


def signed_consent_ids(store: Store, patient_id: str) -> set[str]:
    """Which of a patient's consents were signed on the screen (have a document)."""
    with store.reading() as session:
        return set(session.scalars(select(ConsentSignature.consent_id).join(
            Consent, Consent.id == ConsentSignature.consent_id).where(
            Consent.patient_id == patient_id)))


# --- the check ---------------------------------------------------------------------------

def consent_facts(session: Session, patient_id: str) -> list[ConsentFact]:
    return [ConsentFact(id=c.id, kind=c.kind, scope=c.scope, signed_at=c.signed_at,
                        withdrawn_at=c.withdrawn_at)
            for c in session.scalars(select(Consent).where(Consent.patient_id == patient_id))]


def require(session: Session, patient_id: str, act: str, *, modality: str | None = None,
            at: dt.datetime | None = None) -> str:
    """The id of the consent that allows ``act`` for the patient now (inside a service's
    transaction); :class:`ConflictError` naming the patient and the reason otherwise."""
    decision = decide(act, consent_facts(session, patient_id),
                      at=at or dt.datetime.now(dt.UTC), modality=modality)
    if not decision.allowed:
        raise ConflictError(f"patient {patient_id}: {decision.reason}", field="consent")
    return decision.consent_id or ""


def consenting_patients(session: Session, act: str, *,
                        at: dt.datetime | None = None) -> set[str]:
    """Patients whose consents allow ``act`` (``photo`` or ``cohort``) now."""
    at = at or dt.datetime.now(dt.UTC)
    facts: dict[str, list[ConsentFact]] = {}
    for c in session.scalars(select(Consent)):
        facts.setdefault(c.patient_id, []).append(ConsentFact(
            id=c.id, kind=c.kind, scope=c.scope, signed_at=c.signed_at,
            withdrawn_at=c.withdrawn_at))
    return {pid for pid, rows in facts.items() if decide(act, rows, at=at).allowed}


def withdraw(store: Store, consent_id: str, *, actor: str,
             at: dt.datetime | None = None) -> Any:
    """Withdraw a consent (signed on screen or on paper); see
    :func:`dermatrack.services.patients.withdraw_consent`."""
    from dermatrack.services.patients import withdraw_consent

    return withdraw_consent(store, consent_id, actor=actor, at=at)

