"""Tables of the clinical record (SQLAlchemy 2 declarative models).

Design rules the schema follows:

* Patients are known by a random pseudonymous id (``P-`` and six characters). Names and
  contact details live only in ``patient_identity``; no clinical table holds them, and the
  audit trail records which identity fields changed but not their values.
* Clinical rows are never deleted: :class:`SoftDelete` adds ``deleted_at``, ``deleted_by``
  and ``delete_reason``, and ordinary queries leave deleted rows out
  (:mod:`dermatrack.services.common` installs the filter).
* Every insert, update and soft delete writes an ``audit_event`` row in the same
  transaction (:mod:`dermatrack.services.audit`).
* Record ids are strings with a prefix saying what they name (``V-`` visit, ``S-``
  treatment session, ...), so an id pasted into a command cannot be taken for another kind.

The schema is created and changed only by the Alembic revisions in ``migrations/``; a
change here needs a new revision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from dermatrack.store.base import (  # noqa: F401  (re-exported: the tables' shared base)
    ID_ALPHABET,
    NAMING_CONVENTION,
    PATIENT_ID_LENGTH,
    RECORD_ID_LENGTH,
    Base,
    SoftDelete,
    UTCDateTime,
    new_id,
    utc_now,
)

PLAN_STATUSES = ("active", "completed", "cancelled")
"""A treatment plan is active until its sessions are done (completed) or it is stopped."""


def _live(condition: str = "") -> dict[str, Any]:
    """Keyword arguments of a partial index over rows that are not soft-deleted: a deleted
    row does not count against a uniqueness rule (SQLite and PostgreSQL alike)."""
    where = text("deleted_at IS NULL" + (f" AND {condition}" if condition else ""))
    return {"unique": True, "sqlite_where": where, "postgresql_where": where}


class Patient(SoftDelete, Base):
    __tablename__ = "patient"
    __table_args__ = (Index("ix_patient_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    # When only an age was given (PATIENT.json allows either), the age and the day it held.
    age_years: Mapped[int | None] = mapped_column(Integer)
    age_recorded_on: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(16))
    fitzpatrick: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)

    identity: Mapped[PatientIdentity | None] = relationship(back_populates="patient")
    conditions: Mapped[list[PatientCondition]] = relationship(order_by="PatientCondition.code")
    medications: Mapped[list[PatientMedication]] = relationship(
        order_by="PatientMedication.code")
    allergies: Mapped[list[PatientAllergy]] = relationship(order_by="PatientAllergy.code")
    concerns: Mapped[list[Concern]] = relationship(order_by="Concern.id")
    consents: Mapped[list[Consent]] = relationship(order_by="Consent.signed_at")


class PatientIdentity(Base):
    """Name and contact details: the only table that says who a patient is."""

    __tablename__ = "patient_identity"
    __audit_redact__ = ("name", "email", "phone", "name_key", "search_text")

    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    # Added by revisions 0018 and 0019 and kept by the model whenever a field is set:
    # ``name_key``, the name with case and spacing aside (:func:`name_key`), indexed so
    # that registering a patient finds likely duplicates without reading every identity;
    # ``search_text``, the three fields in that form in one column (:func:`search_key`),
    # so that a search compares one prepared string a row instead of lower-casing three.
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)
    search_text: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(back_populates="identity")

    @validates("name", "email", "phone")
    def _keep_keys(self, field: str, value: str | None) -> str | None:
        fields = {"name": self.name, "email": self.email, "phone": self.phone, field: value}
        self.name_key = name_key(fields["name"])
        self.search_text = search_text(fields["name"], fields["email"], fields["phone"])
        return value


def search_key(text: str | None) -> str | None:
    """Text with case and spacing aside (``"  ada  MOSS"`` -> ``"ada moss"``)."""
    key = " ".join((text or "").casefold().split())
    return key or None


name_key = search_key
"""The compared form of a name (likely duplicates, searches)."""

SEARCH_SEPARATOR = "\x1f"
"""Between the fields of ``search_text`` (a control character nobody types), so that a
search never matches across two fields."""


def search_text(name: str | None, email: str | None, phone: str | None) -> str | None:
    """The name, email and phone as :func:`search_key` gives them, in one string."""
    parts = [key for key in map(search_key, (name, email, phone)) if key]
    return SEARCH_SEPARATOR.join(parts) or None


class PatientCondition(SoftDelete, Base):
    __tablename__ = "patient_condition"

    id: Mapped[str] = mapped_column(String(16), primary_key=True,
                                    default=lambda: new_id("PC"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))


class PatientMedication(SoftDelete, Base):
    __tablename__ = "patient_medication"

    id: Mapped[str] = mapped_column(String(16), primary_key=True,
                                    default=lambda: new_id("PM"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    last_taken: Mapped[dt.date | None] = mapped_column(Date)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)
    started: Mapped[dt.date | None] = mapped_column(Date)  # migration 0011


class PatientAllergy(SoftDelete, Base):
    __tablename__ = "patient_allergy"

    id: Mapped[str] = mapped_column(String(16), primary_key=True,
                                    default=lambda: new_id("PA"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))


class Consent(SoftDelete, Base):
    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint("kind IN ('treatment', 'photography', 'research')", name="kind"),
        CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= signed_at",
                        name="withdrawn_after_signed"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("C"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[dt.datetime]
    withdrawn_at: Mapped[dt.datetime | None]
    # Revision 0016: the modality a treatment consent covers (None: every treatment).
    scope: Mapped[str | None] = mapped_column(String(80))


class Concern(SoftDelete, Base):
    __tablename__ = "concern"
    __table_args__ = (CheckConstraint("severity BETWEEN 1 AND 4", name="severity"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("CN"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    region: Mapped[str | None] = mapped_column(String(80))
    severity: Mapped[int | None] = mapped_column(Integer)


class TreatmentPlan(SoftDelete, Base):
    __tablename__ = "treatment_plan"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'completed', 'cancelled')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("TP"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    created_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    notes: Mapped[str | None] = mapped_column(Text)


class PlannedModality(SoftDelete, Base):
    __tablename__ = "planned_modality"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("PL"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("treatment_plan.id"), index=True)
    modality: Mapped[str] = mapped_column(String(80))
    regions: Mapped[list[Any]] = mapped_column(default=list)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ScheduledSession(SoftDelete, Base):
    __tablename__ = "scheduled_session"
    __table_args__ = (
        Index("uq_scheduled_session_session_id", "session_id",
              **_live("session_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("SS"))
    planned_modality_id: Mapped[str] = mapped_column(ForeignKey("planned_modality.id"),
                                                     index=True)
    number: Mapped[int] = mapped_column(Integer)
    scheduled_on: Mapped[dt.date] = mapped_column(Date)
    # The session that carried it out, once done.
    session_id: Mapped[str | None] = mapped_column(ForeignKey("treatment_session.id"))


class Visit(SoftDelete, Base):
    """A visit or assessment at a named timepoint (baseline, session_1, m1, m3, m6, ...)."""

    __tablename__ = "visit"
    __table_args__ = (Index("uq_visit_patient_timepoint", "patient_id", "timepoint", **_live()),
                      Index("ix_visit_patient_date", "patient_id", "date", "id"))

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("V"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    timepoint: Mapped[str] = mapped_column(String(40))
    date: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class TreatmentSession(SoftDelete, Base):
    """One treatment as performed: who, what, where, with which settings and products."""

    __tablename__ = "treatment_session"
    __table_args__ = (Index("ix_treatment_session_patient_date", "patient_id", "date", "id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("S"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visit.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    operator: Mapped[str] = mapped_column(String(120))
    modality: Mapped[str] = mapped_column(String(80))
    regions: Mapped[list[Any]] = mapped_column(default=list)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # [{"name": ..., "lot": ...}] so that a recalled batch can be traced to patients.
    products: Mapped[list[Any]] = mapped_column(default=list)
    immediate_reactions: Mapped[list[Any]] = mapped_column(default=list)
    # What the knowledge base's ranges said about the parameters when it was recorded.
    parameter_findings: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(Text)


class ExpectedReaction(SoftDelete, Base):
    """A normal response to treatment (erythema, oedema, ...) within its usual duration."""

    __tablename__ = "expected_reaction"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("ER"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    onset: Mapped[dt.date] = mapped_column(Date)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class AdverseEvent(SoftDelete, Base):
    """An adverse event graded on the CTCAE scale with WHO-UMC relatedness."""

    __tablename__ = "adverse_event"
    __table_args__ = (CheckConstraint("grade BETWEEN 1 AND 5", name="grade"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("AE"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("treatment_session.id"),
                                                   index=True)
    term: Mapped[str] = mapped_column(String(120))
    onset: Mapped[dt.date] = mapped_column(Date)
    grade: Mapped[int] = mapped_column(Integer)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    relatedness: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(80))
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    # Why it is an adverse event: e.g. an expected reaction that outlasted its duration.
    classification_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class ScaleScore(SoftDelete, Base):
    __tablename__ = "scale_score"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("SC"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visit.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(80))
    version: Mapped[str | None] = mapped_column(String(40))
    item_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total: Mapped[float | None] = mapped_column(Float)
    rater: Mapped[str] = mapped_column(String(120))
    blinded: Mapped[bool] = mapped_column(Boolean, default=False)


class Observation(SoftDelete, Base):
    """One measured value: photo metrics and device readings alike, so that outcomes
    treat every measurement the same way."""

    __tablename__ = "observation"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("O"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visit.id"), index=True)
    region: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    metric: Mapped[str] = mapped_column(String(80))
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40))
    device: Mapped[str | None] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(200))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    # Added by revision 0002: the analysis settings that produced the value.
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)

    __table_args__ = (Index("ix_observation_patient_metric", "patient_id", "kind", "metric"),
                      Index("ix_observation_patient_created", "patient_id", "created_at", "id"))


class Photo(SoftDelete, Base):
    __tablename__ = "photo"
    __table_args__ = (
        Index("ix_photo_patient_created", "patient_id", "created_at", "id"),
        CheckConstraint("view IS NULL OR view IN ('front', 'left_45', 'right_45', 'left_90', "
                        "'right_90', 'closeup')", name="view"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("PH"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visit.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_path: Mapped[str] = mapped_column(String(300))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    # Added by revision 0017 (DICOM and FHIR exchange): the anatomic region shown (region
    # vocabulary code), the view and the pixel size in mm, when known. The view is one of
    # the standard views (revision 0016's check: front, left_45, ..., closeup).
    region: Mapped[str | None] = mapped_column(String(80), default=None)
    view: Mapped[str | None] = mapped_column(String(40), default=None)
    mm_per_px: Mapped[float | None] = mapped_column(Float, default=None)


class PhotoDerivative(Base):
    """What is computed once from a stored photograph, so pages and reports read it
    instead of recomputing it: ``display`` (a screen-sized copy, the colour masks of
    wrinkles, spots, redness and pores on its grid, the face landmarks) and
    ``alignment`` (the transform of the photo onto a baseline photo, ``baseline_id``).
    Files named in ``data`` live in the content-addressed file store."""

    __tablename__ = "photo_derivative"

    id: Mapped[str] = mapped_column(String(16), primary_key=True,
                                    default=lambda: new_id("PD"))
    photo_id: Mapped[str] = mapped_column(ForeignKey("photo.id"), index=True)
    baseline_id: Mapped[str | None] = mapped_column(ForeignKey("photo.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class AuditEvent(Base):
    """Who did what to which row, when; never updated or deleted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # insert | update | soft_delete | read
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    # {field: [before, after]}; for redacted tables only the field names, values null.
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),
                      Index("ix_audit_event_actor", "actor"))


CLINICAL_TABLES = tuple(
    mapper.class_ for mapper in Base.registry.mappers
    if issubclass(mapper.class_, SoftDelete)
)
"""Every model with soft delete (all the clinical tables)."""

from dermatrack.store import accounts as _accounts  # noqa: E402,F401  (web app accounts, issue 7)
from dermatrack.store import clinic_day as _clinic_day  # noqa: E402,F401  (issue 16)
