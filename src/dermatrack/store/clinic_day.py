"""Tables of the clinic's day (issue 16): appointments, consent documents, the product
catalogue with its lots, treatment maps.

Kept apart from :mod:`dermatrack.store.models` so that each area's schema reads in one
place; created by Alembic revision ``0016``, which also installs the database-level rules
these tables rely on:

* a product's lot numbers are unique (``uq_product_lot_product_id``);
* one active version per consent template kind and scope (a partial unique index);
* a consent template's text, and a signed consent's signature row, cannot be changed
  (triggers); a consent row may only gain its withdrawal time, once;
* a session may not use a lot that had expired on the session's day (trigger);
* a practitioner cannot hold two live appointments starting at the same time, and a
  scheduled session cannot be booked twice (partial unique indexes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dermatrack.store.base import Base, new_id, utc_now

APPOINTMENT_KINDS = ("consultation", "session", "assessment")
APPOINTMENT_STATUSES = ("booked", "arrived", "done", "no-show", "cancelled")
LIVE_STATUSES = ("booked", "arrived")
"""Statuses of an appointment that still holds its slot."""
PRODUCT_KINDS = ("filler", "neurotoxin", "biostimulator", "skin_booster", "peel", "topical",
                 "consumable", "other")
MARK_VIEWS = ("front", "left", "right")
"""Views of the face diagram: front and the two profiles."""
MARK_KINDS = ("zone", "pass", "injection", "test_spot")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_LIVE = f"status IN ({_sql_list(LIVE_STATUSES)})"


class Appointment(Base):
    """A booked slot: a patient, a day and local start time, who, where and what for."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_list(APPOINTMENT_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({_sql_list(APPOINTMENT_STATUSES)})", name="status"),
        CheckConstraint("minutes BETWEEN 5 AND 480", name="minutes"),
        Index("uq_appointment_practitioner_slot", "practitioner", "date", "start",
              unique=True, sqlite_where=text(_LIVE), postgresql_where=text(_LIVE)),
        Index("uq_appointment_scheduled_session", "scheduled_session_id", unique=True,
              sqlite_where=text("status != 'cancelled' AND scheduled_session_id IS NOT NULL"),
              postgresql_where=text(
                  "status != 'cancelled' AND scheduled_session_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("AP"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    # The clinic's local wall-clock day and time (appointments are not instants).
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    start: Mapped[dt.time] = mapped_column(Time)
    minutes: Mapped[int] = mapped_column(Integer)
    practitioner: Mapped[str] = mapped_column(String(120))
    room: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="booked")
    scheduled_session_id: Mapped[str | None] = mapped_column(
        ForeignKey("scheduled_session.id"))
    timepoint: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ConsentTemplate(Base):
    """One version of a consent form's text, for a consent kind and scope.

    ``scope`` is a modality code for a treatment-specific form, or ``any``.
    """

    __tablename__ = "consent_template"
    __table_args__ = (
        CheckConstraint("kind IN ('treatment', 'photography', 'research')", name="kind"),
        UniqueConstraint("kind", "scope", "version", name="uq_consent_template_version"),
        Index("uq_consent_template_active", "kind", "scope", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("CT"))
    kind: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ConsentSignature(Base):
    """The signed document behind a consent row: never updated nor deleted."""

    __tablename__ = "consent_signature"
    __audit_redact__ = ("signature_png",)

    consent_id: Mapped[str] = mapped_column(ForeignKey("consent.id"), primary_key=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("consent_template.id"), index=True)
    signed_at: Mapped[dt.datetime]
    witness: Mapped[str] = mapped_column(String(120))
    signature_png: Mapped[bytes] = mapped_column(LargeBinary)
    signature_sha256: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the canonical JSON of everything signed (see services.consent).
    content_sha256: Mapped[str] = mapped_column(String(64))


class Product(Base):
    """A product of the catalogue: name, manufacturer and kind."""

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_list(PRODUCT_KINDS)})", name="kind"),
        UniqueConstraint("name", "manufacturer", name="uq_product_name"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("PR"))
    name: Mapped[str] = mapped_column(String(200))
    manufacturer: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class ProductLot(Base):
    """A stock lot (batch) of a product, with its expiry date."""

    __tablename__ = "product_lot"
    __table_args__ = (UniqueConstraint("product_id", "lot_number",
                                       name="uq_product_lot_product_id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("LT"))
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"))
    lot_number: Mapped[str] = mapped_column(String(80), index=True)
    expiry: Mapped[dt.date] = mapped_column(Date)
    received_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class SessionProduct(Base):
    """A lot used in a treatment session, with the amount."""

    __tablename__ = "session_product"
    __table_args__ = (CheckConstraint("amount IS NULL OR amount > 0", name="amount"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("SP"))
    session_id: Mapped[str] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    lot_id: Mapped[str] = mapped_column(ForeignKey("product_lot.id"), index=True)
    amount: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(20))


class TreatmentMark(Base):
    """A mark on the face diagram: a zone, a pass, an injection point or a test spot.

    ``points`` are ``[x, y]`` pairs relative to the diagram view (0 left/top, 1
    right/bottom): one point for an injection or test spot, a polygon for a zone, a
    polyline for a pass.
    """

    __tablename__ = "treatment_mark"
    __table_args__ = (
        CheckConstraint(f"view IN ({_sql_list(MARK_VIEWS)})", name="view"),
        CheckConstraint(f"kind IN ({_sql_list(MARK_KINDS)})", name="kind"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("TM"))
    session_id: Mapped[str] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    view: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[list[Any]] = mapped_column()
    lot_id: Mapped[str | None] = mapped_column(ForeignKey("product_lot.id"))
    amount: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
