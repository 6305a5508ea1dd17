"""Accounts of the web app: who may sign in, and with which role.

Kept apart from the clinical tables (no soft delete: an account is deactivated, never
removed, so that audit rows naming it stay meaningful). The password hash is an argon2id
string (:mod:`dermatrack.services.accounts`) and is redacted from the audit trail like
patient names are. Created by Alembic revision ``0003``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from dermatrack.store.models import Base, new_id, utc_now

ROLES = ("clinician", "reception", "researcher", "admin")
"""Roles of issue 7: clinician (all patient work), reception (demographics and
scheduling), researcher (de-identified cohort data), admin (users and the audit log)."""


class User(Base):
    """A person who signs in to the web app."""

    __tablename__ = "account"
    __audit_redact__ = ("password_hash",)
    __table_args__ = (
        CheckConstraint("role IN ('clinician', 'reception', 'researcher', 'admin')",
                        name="role"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("U"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
