"""Server-side page sessions: started at sign-in, ended at sign-out, idle timeout.

A session is a random token in the browser's cookie and a ``web_session`` row holding the
token's SHA-256 (:class:`~dermatrack.store.accounts.WebSession`). A request's session is
valid only while its row is not ended, was used within ``idle_s`` seconds and is before
its absolute expiry; so signing out (or an administrator ending a session) takes effect on
the next request, whatever the browser keeps. Starting and ending a session are audited
(an ``insert`` and an ``update`` of ``web_session``); the touch that records each use is
written without an audit row, at most once a minute per session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from dermatrack.services.common import Store
from dermatrack.store.accounts import WebSession
from dermatrack.store.models import utc_now

TOUCH_EVERY_S = 60
"""Least interval between two writes of a session's ``last_seen_at`` (seconds)."""


@dataclass(frozen=True)
class ActiveSession:
    id: str
    username: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(store: Store, username: str, client: str, *, lifetime_s: int) -> str:
    """A new session of ``username`` signed in from ``client``; returns its token."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with store.transaction(f"{username}@{client}") as session:
        session.add(WebSession(token_hash=token_hash(token), username=username,
                               client=client[:64], created_at=now, last_seen_at=now,
                               expires_at=now + dt.timedelta(seconds=lifetime_s)))
    return token


def _end(store: Store, row_id: str, reason: str, actor: str) -> None:
    with store.transaction(actor) as session:
        row = session.get(WebSession, row_id)
        if row is not None and row.ended_at is None:
            row.ended_at = utc_now()
            row.ended_reason = reason


def active_session(store: Store, token: str | None, *, idle_s: int,
                   now: dt.datetime | None = None) -> ActiveSession | None:
    """The live session of ``token``, or None (unknown, ended, idle too long, expired).

    A session found idle or expired is ended on the spot, with that reason.
    """
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    now = now or utc_now()
    with store.reading() as session:
        row = session.scalars(select(WebSession).where(
            WebSession.token_hash == token_hash(token))).first()
        if row is None or row.ended_at is not None:
            return None
        found = ActiveSession(id=row.id, username=row.username)
        last_seen, expires = row.last_seen_at, row.expires_at
    reason = ("expired" if now >= expires
              else "idle" if (now - last_seen).total_seconds() > idle_s else None)
    if reason is not None:
        _end(store, found.id, reason, actor=f"dermatrack-sessions ({reason})")
        return None
    if (now - last_seen).total_seconds() >= TOUCH_EVERY_S:
        # A plain UPDATE statement: the audit trail records sign-in and sign-out, not
        # every page view of a session.
        with store.engine.begin() as connection:
            connection.execute(update(WebSession).where(WebSession.id == found.id)
                               .values(last_seen_at=now))
    return found


def end_session(store: Store, token: str | None, *, actor: str,
                reason: str = "signout") -> bool:
    """End the session of ``token``; False when there was no live one."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return False
    with store.reading() as session:
        row_id = session.scalars(select(WebSession.id).where(
            WebSession.token_hash == token_hash(token),
            WebSession.ended_at.is_(None))).first()
    if row_id is None:
        return False
    _end(store, row_id, reason, actor)
    return True
