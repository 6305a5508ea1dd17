"""Patients: registration, lookup, search, visits and soft delete.

The clinical part of a new patient is the ``PATIENT.json`` shape of issue 3, checked by
:func:`dermatrack.clinic.intake.parse_patient` (vocabulary codes, ranges, dates). Two
optional keys are the store's own: ``identity`` (name, email, phone; kept in
``patient_identity`` only) and ``consents``. Each patient gets a random pseudonymous id
``P-XXXXXX`` (Crockford base 32, about a billion possibilities; a collision is retried).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, union
from sqlalchemy.orm import Session, contains_eager

from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services.audit import LIST_READ_ID, record_read
from dermatrack.services.common import (
    INCLUDE_DELETED,
    Record,
    Store,
    claim_row,
    get_patient,
    get_row,
    live_row,
    naming_existing,
    patient_page,
    soft_delete,
    validate_input,
)
from dermatrack.services.paging import Page, keyset_page
from dermatrack.store.models import (
    PATIENT_ID_LENGTH,
    Concern,
    Consent,
    Patient,
    PatientAllergy,
    PatientCondition,
    PatientIdentity,
    PatientMedication,
    Visit,
    name_key,
    new_id,
    search_key,
)

CONSENT_KINDS = ("treatment", "photography", "research")
TIMEPOINT_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
"""Visit timepoint labels: ``baseline``, ``session_1``, ``m1``, ``m3``, ``m6``, ..."""

_STORE_KEYS = ("identity", "consents")

CLINICAL_KEYS = ("fitzpatrick", "concerns", "conditions", "medications", "allergies")
"""Fields of a new patient that are clinical facts (screening and planning rely on them):
only a role with the clinical right may record them. The rest (identity, age or date of
birth, sex, consents) are the demographics that reception registers."""


def clinical_keys_given(data: PatientIn | dict[str, Any]) -> list[str]:
    """The :data:`CLINICAL_KEYS` that ``data`` gives a value (an empty list is no value)."""
    values = data.model_dump() if isinstance(data, BaseModel) else dict(data or {})
    return [key for key in CLINICAL_KEYS if values.get(key) not in (None, [], "", {})]


# --- inputs ------------------------------------------------------------------------------

class IdentityIn(BaseModel):
    """Who the patient is; stored apart from all clinical data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=50, pattern=r"^\+?[0-9 ()./-]{3,}$")


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["treatment", "photography", "research"]
    version: str = Field(min_length=1, max_length=40)
    signed_at: dt.datetime
    withdrawn_at: dt.datetime | None = None


class PatientIn(BaseModel):
    """A new patient: ``PATIENT.json`` plus the optional ``identity`` and ``consents``.

    The clinical fields are typed loosely here and checked in full by the clinic core,
    whose messages name the offending path (``concerns[0].severity``).
    """

    model_config = ConfigDict(extra="forbid")

    age: Any = None
    date_of_birth: Any = None
    sex: Any = None
    fitzpatrick: Any = None
    concerns: Any = None
    conditions: Any = None
    medications: Any = None
    allergies: Any = None
    identity: IdentityIn | None = None
    consents: list[ConsentIn] = Field(default_factory=list)

    def clinical(self) -> dict[str, Any]:
        """The ``PATIENT.json`` part, as given."""
        return {key: value for key, value in self.model_dump(exclude=set(_STORE_KEYS)).items()
                if value is not None}


class ConsentAdd(ConsentIn):
    """A consent given after registration."""

    patient_id: str


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: str
    timepoint: str = Field(pattern=TIMEPOINT_PATTERN.pattern)
    date: dt.date
    notes: str | None = None


# --- outputs -----------------------------------------------------------------------------

class IdentityOut(Record):
    name: str | None
    email: str | None
    phone: str | None


class ConcernOut(Record):
    id: str
    code: str
    region: str | None
    severity: int | None


class MedicationOut(Record):
    code: str
    last_taken: dt.date | None
    ongoing: bool
    started: dt.date | None = None


class ConsentOut(Record):
    id: str
    kind: str
    version: str
    signed_at: dt.datetime
    withdrawn_at: dt.datetime | None
    scope: str | None = None  # the modality a treatment consent covers (None: all)


class PatientOut(Record):
    id: str
    date_of_birth: dt.date | None
    age_years: int | None = Field(description="Age when registered, if no birth date given")
    age_recorded_on: dt.date | None
    sex: str | None
    fitzpatrick: str | None
    concerns: list[ConcernOut]
    conditions: list[str]
    medications: list[MedicationOut]
    allergies: list[str]
    consents: list[ConsentOut]
    created_at: dt.datetime
    deleted_at: dt.datetime | None = None
    delete_reason: str | None = None
    identity: IdentityOut | None = None
    likely_duplicates: list[str] = Field(
        default_factory=list,
        description="On registration: patients already stored with the same name and the "
                    "same email, phone or date of birth (registered all the same)")

    def age_on(self, day: dt.date) -> int | None:
        """Whole years on ``day``, from the birth date or the age recorded at intake."""
        if self.date_of_birth is not None:
            born = self.date_of_birth
            return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        if self.age_years is not None and self.age_recorded_on is not None:
            return self.age_years + _whole_years(self.age_recorded_on, day)
        return None

    def patient_json(self, on: dt.date | None = None) -> dict[str, Any]:
        """The clinical record in the ``PATIENT.json`` shape, for screening and planning."""
        from dermatrack.clinic.intake import patient_json

        on = on or dt.date.today()
        return patient_json(age=self.age_on(on), date_of_birth=self.date_of_birth, sex=self.sex,
                            fitzpatrick=self.fitzpatrick, concerns=self.concerns,
                            conditions=self.conditions, medications=self.medications,
                            allergies=self.allergies)


class PatientConsentOut(ConsentOut):
    patient_id: str


class PatientSummary(Record):
    id: str
    sex: str | None
    fitzpatrick: str | None
    date_of_birth: dt.date | None
    age_years: int | None
    created_at: dt.datetime
    identity: IdentityOut | None = None


class VisitOut(Record):
    id: str
    patient_id: str
    timepoint: str
    date: dt.date
    notes: str | None


def _whole_years(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _patient_out(patient: Patient, *, with_identity: bool) -> PatientOut:
    identity = (IdentityOut.model_validate(patient.identity)
                if with_identity and patient.identity is not None else None)
    return PatientOut(
        id=patient.id, date_of_birth=patient.date_of_birth, age_years=patient.age_years,
        age_recorded_on=patient.age_recorded_on, sex=patient.sex,
        fitzpatrick=patient.fitzpatrick,
        concerns=[ConcernOut.model_validate(c) for c in patient.concerns],
        conditions=[c.code for c in patient.conditions],
        medications=[MedicationOut.model_validate(m) for m in patient.medications],
        allergies=[a.code for a in patient.allergies],
        consents=[ConsentOut.model_validate(c) for c in patient.consents],
        created_at=patient.created_at, deleted_at=patient.deleted_at,
        delete_reason=patient.delete_reason, identity=identity)


def _unused_patient_id(session: Session) -> str:
    for _ in range(20):
        candidate = new_id("P", PATIENT_ID_LENGTH)
        taken = session.scalars(select(Patient.id).where(Patient.id == candidate)
                                .execution_options(**{INCLUDE_DELETED: True})).first()
        if taken is None:
            return candidate
    raise RuntimeError("could not draw an unused patient id in 20 tries")


# --- services ----------------------------------------------------------------------------

class _NoClinicalFacts:
    """A new patient's profile with demographics only (no skin type, concerns, history)."""

    fitzpatrick = None
    concerns: tuple = ()
    conditions: tuple = ()
    medications: tuple = ()
    allergies: tuple = ()

    def __init__(self, demographics):
        self.age = demographics.age
        self.date_of_birth = demographics.date_of_birth
        self.sex = demographics.sex


def add_patient(store: Store, data: PatientIn | dict[str, Any], *, actor: str,
                today: dt.date | None = None) -> PatientOut:
    """Register a patient; return the stored record (with the identity given, if any).

    Parameters
    ----------
    data:
        ``PATIENT.json`` with optional ``identity`` and ``consents``.
    today:
        The registration day (dates may not lie after it; an age is recorded as of it).

    Raises
    ------
    InputError
        Naming the first offending field; nothing is stored then.
    """
    from dermatrack.clinic.intake import Demographics, parse_demographics, parse_patient
    from dermatrack.knowledge.vocabulary import load_vocabulary

    patient_in = validate_input(PatientIn, data)
    today = today or dt.date.today()
    profile: Any
    if clinical_keys_given(patient_in):
        profile = parse_patient(patient_in.clinical(), on=today, vocabulary=load_vocabulary())
    else:
        # Registered by reception: demographics only; a clinician adds the clinical facts
        # (the skin type first: screening needs it).
        demographics: Demographics = parse_demographics(patient_in.clinical(), on=today)
        profile = _NoClinicalFacts(demographics)
    for i, consent in enumerate(patient_in.consents):
        if consent.withdrawn_at is not None and consent.withdrawn_at < consent.signed_at:
            raise InputError("withdrawn before it was signed",
                             field=f"consents[{i}].withdrawn_at")
    with store.transaction(actor) as session:
        patient = Patient(
            id=_unused_patient_id(session), date_of_birth=profile.date_of_birth,
            age_years=None if profile.date_of_birth else profile.age,
            age_recorded_on=None if profile.date_of_birth else today,
            sex=profile.sex, fitzpatrick=profile.fitzpatrick)
        session.add(patient)
        session.flush()  # the parent row first: the children's foreign keys point at it
        if patient_in.identity is not None:
            session.add(PatientIdentity(patient_id=patient.id,
                                        **patient_in.identity.model_dump()))
        session.add_all(Concern(patient_id=patient.id, code=c.code, region=c.region,
                                severity=c.severity) for c in profile.concerns)
        session.add_all(PatientCondition(patient_id=patient.id, code=code)
                        for code in profile.conditions)
        session.add_all(PatientMedication(patient_id=patient.id, code=m.code,
                                          last_taken=m.last_taken, ongoing=m.ongoing,
                                          started=m.started)
                        for m in profile.medications)
        session.add_all(PatientAllergy(patient_id=patient.id, code=code)
                        for code in profile.allergies)
        session.add_all(Consent(patient_id=patient.id, **c.model_dump())
                        for c in patient_in.consents)
        session.flush()
        session.refresh(patient)
        out = _patient_out(patient, with_identity=True)
        out.likely_duplicates = _likely_duplicates(session, patient, patient_in.identity)
        return out


def _likely_duplicates(session: Any, patient: Patient, identity: Any) -> list[str]:
    """Other patients with the same name (case and spacing aside) and the same email,
    phone (digits) or date of birth: most likely the same person registered twice.

    Only the identities of the same name are read (the indexed ``name_key``), so that a
    registration costs the same in a register of forty thousand as of forty.
    """
    key = name_key(identity.name) if identity is not None else None
    if key is None:
        return []
    digits = "".join(ch for ch in (identity.phone or "") if ch.isdigit())
    found = []
    for other, row in session.execute(
            select(PatientIdentity, Patient).join(Patient)
            .where(PatientIdentity.name_key == key, PatientIdentity.patient_id != patient.id,
                   Patient.deleted_at.is_(None))):
        same_email = bool(identity.email) and search_key(other.email) == search_key(
            identity.email)
        same_phone = bool(digits) and digits == "".join(
            ch for ch in (other.phone or "") if ch.isdigit())
        same_birth = (patient.date_of_birth is not None
                      and row.date_of_birth == patient.date_of_birth)
        if same_email or same_phone or same_birth:
            found.append(other.patient_id)
    return sorted(found)


def get_patient_record(store: Store, patient_id: str, *, actor: str,
                       with_identity: bool = False, read_fields: tuple[str, ...] = (),
                       purpose: str | None = None) -> PatientOut:
    """One patient's record; identity details only when asked, and then the read is
    recorded in the audit trail. ``read_fields`` (``"sessions"``, ``"photos"``, ...) name
    the parts of the chart the caller is about to show: their read is recorded in the same
    transaction, as one row."""
    with store.transaction(actor) as session:
        return patient_record_of(session, patient_id, with_identity=with_identity,
                                 read_fields=read_fields, purpose=purpose)


def patient_record_of(session: Session, patient_id: str, *, with_identity: bool = False,
                      read_fields: tuple[str, ...] = (), purpose: str | None = None
                      ) -> PatientOut:
    """:func:`get_patient_record` in the caller's transaction (which records the reads:
    it must be a :meth:`~dermatrack.services.common.Store.transaction` when
    ``with_identity`` or ``read_fields`` are given)."""
    # The patient and its collections are read on first use only: a session that holds
    # them already (a batch of service calls on one patient) reads nothing again.
    patient = live_row(session, Patient, patient_id)
    if patient is None:
        raise NotFoundError(f"no patient {patient_id!r}")
    if with_identity:
        record_read(session, entity="patient_identity", entity_id=patient_id,
                    fields=("name", "email", "phone"))
    if read_fields:
        record_read(session, entity="patient", entity_id=patient_id, fields=read_fields,
                    purpose=purpose)
    return _patient_out(patient, with_identity=with_identity)


def list_patients(store: Store, *, search: str | None = None, actor: str,
                  with_identity: bool = False, cursor: str | None = None,
                  limit: int | None = None) -> Page[PatientSummary]:
    """One page of patients (not deleted), newest first (keyset pagination:
    :mod:`dermatrack.services.paging`).

    ``search`` matches the start of the pseudonymous id, or any part of the name, email
    or phone (case-insensitive; ``%`` and ``_`` are matched literally). A page that shows
    or was found by identity details is recorded in the audit trail as one read naming the
    ids shown.
    """
    with store.transaction(actor) as session:
        # The identity comes with the patient in the same query (one query per page).
        query = (select(Patient).outerjoin(PatientIdentity)
                 .options(contains_eager(Patient.identity)))
        text = (search or "").strip()
        if text:
            # The typed text is matched literally: % and _ are not wildcards. The ids that
            # match are found first, each table read once on its own (the identities in
            # their prepared search column), and only those patients are then ordered:
            # a search that matches few patients no longer joins every patient to its
            # identity along the page's order (docs/web-operations.md, "Load").
            by_identity = select(PatientIdentity.patient_id).where(
                PatientIdentity.search_text.contains(search_key(text), autoescape=True))
            by_id = select(Patient.id).where(  # ids are upper case
                Patient.id.startswith(text.upper(), autoescape=True))
            query = query.where(Patient.id.in_(union(by_id, by_identity)))
        page = keyset_page(session, query, (Patient.created_at, Patient.id), cursor=cursor,
                           limit=limit, order="desc")
        results = []
        for patient in page.items:
            identity = (IdentityOut.model_validate(patient.identity)
                        if with_identity and patient.identity is not None else None)
            results.append(PatientSummary(
                id=patient.id, sex=patient.sex, fitzpatrick=patient.fitzpatrick,
                date_of_birth=patient.date_of_birth, age_years=patient.age_years,
                created_at=patient.created_at, identity=identity))
        if (text or with_identity) and results:
            record_read(session, entity="patient_identity", entity_id=LIST_READ_ID,
                        fields=("name", "email", "phone") if with_identity else (),
                        purpose="search" if text else "list", ids=[r.id for r in results])
        return Page(items=results, next=page.next)


def record_cohort_read(store: Store, *, actor: str, purpose: str,
                       modality: str | None = None) -> list[str]:
    """Record that ``actor`` read the cohort (every patient not deleted) as one audit row
    (entity ``cohort``, id the modality or ``all``) naming the patients' ids; return them.
    :func:`~dermatrack.services.audit.history` finds the row when asked about any of
    them."""
    with store.transaction(actor) as session:
        ids = list(session.scalars(select(Patient.id).order_by(Patient.id)))
        record_read(session, entity="cohort", entity_id=(modality or "all")[:40],
                    fields=("cohort", f"patients={len(ids)}"), purpose=purpose, ids=ids)
        return ids


def delete_patient(store: Store, patient_id: str, *, reason: str, actor: str) -> PatientOut:
    """Soft-delete a patient: hidden from lists and lookups, kept with the reason."""
    with store.transaction(actor) as session:
        patient = session.scalars(select(Patient).where(Patient.id == patient_id)).one_or_none()
        if patient is None:
            raise NotFoundError(f"no patient {patient_id!r}")
        soft_delete(patient, actor=actor, reason=reason)
        session.flush()
        return _patient_out(patient, with_identity=False)


VISIT_RULE = "uq_visit_patient_timepoint"


def _refuse_second_visit(session: Session, visit_in: VisitIn) -> None:
    existing = session.scalars(select(Visit).where(
        Visit.patient_id == visit_in.patient_id,
        Visit.timepoint == visit_in.timepoint)).first()
    if existing is not None:
        raise ConflictError(f"patient {visit_in.patient_id} already has a "
                            f"{visit_in.timepoint} visit ({existing.id})", rule=VISIT_RULE,
                            field="timepoint", existing=existing.id)


def add_visit(store: Store, data: VisitIn | dict[str, Any], *, actor: str) -> VisitOut:
    """Record a visit or assessment at a timepoint; one visit per timepoint per patient
    (held by the database too: of simultaneous requests for one timepoint, one is stored
    and the others get a :class:`ConflictError` naming it)."""
    visit_in = validate_input(VisitIn, data)
    with naming_existing(store, VISIT_RULE, lambda s: _refuse_second_visit(s, visit_in)), \
            store.transaction(actor) as session:
        get_patient(session, visit_in.patient_id)
        _refuse_second_visit(session, visit_in)
        visit = Visit(**visit_in.model_dump())
        session.add(visit)
        session.flush()
        return VisitOut.model_validate(visit)


def page_visits(store: Store, patient_id: str, *, cursor: str | None = None,
                limit: int | None = None) -> Page[VisitOut]:
    """A page of a patient's visits by date (:func:`list_visits` reads them all)."""
    return patient_page(store, patient_id, select(Visit).where(Visit.patient_id == patient_id),
                        (Visit.date, Visit.id), VisitOut.model_validate, cursor=cursor,
                        limit=limit)


def list_visits(store: Store, patient_id: str) -> list[VisitOut]:
    """A patient's visits by date."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return visits_of(session, patient_id)


def visits_of(session: Session, patient_id: str) -> list[VisitOut]:
    """:func:`list_visits`, read in the caller's transaction."""
    visits = session.scalars(select(Visit).where(Visit.patient_id == patient_id)
                             .order_by(Visit.date, Visit.id))
    return [VisitOut.model_validate(v) for v in visits]


def add_consent(store: Store, data: ConsentAdd | dict[str, Any], *,
                actor: str) -> PatientConsentOut:
    """Record a consent (treatment, photography, research) a patient has signed."""
    consent_in = validate_input(ConsentAdd, data)
    if consent_in.withdrawn_at is not None and consent_in.withdrawn_at < consent_in.signed_at:
        raise InputError("withdrawn before it was signed", field="withdrawn_at")
    with store.transaction(actor) as session:
        patient = get_patient(session, consent_in.patient_id)
        row = Consent(**consent_in.model_dump())
        session.add(row)
        session.flush()
        # A session that holds the patient (a batch) reads its consents again when next
        # asked, with this one.
        session.expire(patient, ["consents"])
        return PatientConsentOut.model_validate(row)


def withdraw_consent(store: Store, consent_id: str, *, actor: str,
                     at: dt.datetime | None = None) -> PatientConsentOut:
    """Mark a consent withdrawn (default: now). The consent row stays, with both dates."""
    at = at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise InputError("give the withdrawal time with its UTC offset", field="withdrawn_at")
    with store.transaction(actor) as session:
        claim_row(session, Consent, consent_id, Consent.withdrawn_at.is_(None))
        row = get_row(session, Consent, consent_id)
        session.refresh(row)
        if row.withdrawn_at is not None:
            raise ConflictError(f"consent {consent_id} was already withdrawn on "
                                f"{row.withdrawn_at.date().isoformat()}",
                                rule="consent_withdrawn_once", field="consent_id",
                                existing=consent_id)
        if at < row.signed_at:
            raise InputError("withdrawn before it was signed", field="withdrawn_at")
        row.withdrawn_at = at
        session.flush()
        return PatientConsentOut.model_validate(row)


def has_consent(session: Session, patient_id: str, kind: str,
                at: dt.datetime | None = None) -> bool:
    """Whether the patient had signed, and not withdrawn, a consent of ``kind`` at ``at``
    (default: now). For use inside a service's transaction (photos need ``photography``)."""
    if kind not in CONSENT_KINDS:
        raise InputError(f"unknown consent kind {kind!r}; expected one of "
                         f"{', '.join(CONSENT_KINDS)}", field="kind")
    at = at or dt.datetime.now(dt.UTC)
    rows = session.scalars(select(Consent).where(Consent.patient_id == patient_id,
                                                 Consent.kind == kind))
    return any(row.signed_at <= at and (row.withdrawn_at is None or row.withdrawn_at > at)
               for row in rows)
