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

from dermatrack.store.base import Base, new_id, utc_now

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


class WebSession(Base):
    """A signed-in page session, kept on the server so that it can be ended.

    The browser's cookie holds a random token; the table holds its SHA-256 only (a copy of
    the database does not hand out live sessions). A session ends at sign-out
    (``ended_reason = 'signout'``), when idle longer than the app's idle timeout, or at its
    absolute expiry. Inserting a row (sign-in) and ending it (sign-out) are audited by the
    service layer's automatic trail; the ``last_seen_at`` touches are not. Created by
    Alembic revision ``0012``.
    """

    __tablename__ = "web_session"
    __audit_redact__ = ("token_hash",)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=lambda: new_id("S"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    ended_reason: Mapped[str | None] = mapped_column(String(20), default=None)
