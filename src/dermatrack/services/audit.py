"""The audit trail: who inserted, changed, soft-deleted or read which row, and when.

One mechanism covers every table: :func:`install` hooks the service layer's session class
so that each flush writes ``audit_event`` rows for the rows it inserts or changes, in the
same transaction (an audit row cannot exist without its change, nor a change without its
row). The services therefore never write audit rows by hand, except for reads, which no
flush sees: call :func:`record_read`.

Values are copied into the trail as JSON (dates as ISO strings). Columns a model lists in
``__audit_redact__`` (the name and contacts of ``patient_identity``) have their changes
recorded without the values, so that names and contact details stay in one table only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Text, and_, cast, event, insert, inspect, or_, select
from sqlalchemy.orm import Session

from dermatrack.errors import DermatrackError
from dermatrack.services.paging import Page, keyset_page
from dermatrack.store.models import AuditEvent, Base, SoftDelete, utc_now

ACTOR_KEY = "actor"
"""Key of ``Session.info`` holding the actor of the transaction."""

DEFERRED_KEY = "deferred_audit"
"""Key of ``Session.info`` holding the audit rows of a :func:`deferred` block."""
DEFERRED_CHUNK = 5000

ACTIONS = ("insert", "update", "soft_delete", "restore", "read", "signin_failed")


class AuditError(DermatrackError):
    """A write that could not be audited (no actor) or that would rewrite history."""


_TEMPORAL = (dt.date, dt.datetime, dt.time)


def _json_value(value: Any) -> Any:
    if isinstance(value, _TEMPORAL):
        return value.isoformat()
    return value


def _entity_id(obj: Base) -> str:
    # The identity key is not set yet for rows inserted by the flush under way.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return "/".join(str(part) for part in key)


def _columns(obj: Base) -> Iterable[str]:
    return (attr.key for attr in inspect(obj).mapper.column_attrs)


def _inserted(values: Iterable[tuple[str, Any]], redact: tuple[str, ...]) -> dict[str, Any]:
    """The ``changes`` of an insert: each non-null value, redacted columns without it."""
    # Inline, not through _json_value: a bulk insert builds this for every row it writes.
    changes: dict[str, Any] = {}
    for key, value in values:
        if value is None:
            continue
        if key in redact:
            changes[key] = [None, None]
        elif isinstance(value, _TEMPORAL):
            changes[key] = [None, value.isoformat()]
        else:
            changes[key] = [None, value]
    return changes


def _insert_changes(obj: Base) -> dict[str, Any]:
    return _inserted(((key, getattr(obj, key)) for key in _columns(obj)),
                     type(obj).__audit_redact__)


def _update_changes(obj: Base) -> dict[str, Any]:
    redact = type(obj).__audit_redact__
    state = inspect(obj)
    changes = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before == after:
            continue
        changes[key] = ([None, None] if key in redact
                        else [_json_value(before), _json_value(after)])
    return changes


def _update_action(obj: Base, changes: dict[str, Any]) -> str:
    if isinstance(obj, SoftDelete) and "deleted_at" in changes:
        return "soft_delete" if obj.deleted_at is not None else "restore"
    return "update"


def _before_flush(session: Session, _context, _instances) -> None:
    if session.deleted:
        table = type(next(iter(session.deleted))).__tablename__
        raise AuditError(f"{table} rows are never deleted outright; soft-delete them "
                         "with a reason")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditError("audit events are never changed")
    writes = [obj for obj in (*session.new, *session.dirty)
              if not isinstance(obj, AuditEvent)]
    if writes and not session.info.get(ACTOR_KEY):
        raise AuditError("a write needs an actor: open the transaction with "
                         "Store.transaction(actor)")


def _after_flush(session: Session, _context) -> None:
    actor = session.info.get(ACTOR_KEY)
    at = utc_now()
    rows = []
    for obj in session.new:
        if not isinstance(obj, AuditEvent):
            rows.append({"action": "insert", "entity": type(obj).__tablename__,
                         "entity_id": _entity_id(obj), "changes": _insert_changes(obj)})
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) or not session.is_modified(obj,
                                                                  include_collections=False):
            continue
        changes = _update_changes(obj)
        if changes:
            rows.append({"action": _update_action(obj, changes),
                         "entity": type(obj).__tablename__,
                         "entity_id": _entity_id(obj), "changes": changes})
    if rows:
        _write(session, [{"at": at, "actor": actor, **row} for row in rows])


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    held = session.info.get(DEFERRED_KEY)
    if held is not None:
        held.extend(rows)
    else:
        session.connection().execute(insert(AuditEvent), rows)


@contextlib.contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Hold the audit rows of the block's flushes and write them together when it ends.

    For :meth:`dermatrack.services.common.Store.batch`: the rows are written in the same
    transaction as the changes they record (before it commits), in statements of
    :data:`DEFERRED_CHUNK` rows instead of one per service call. If the block fails they
    are dropped with the rolled-back changes.
    """
    held: list[dict[str, Any]] = []
    session.info[DEFERRED_KEY] = held
    try:
        yield
        session.flush()
    finally:
        del session.info[DEFERRED_KEY]
    connection = session.connection()
    for start in range(0, len(held), DEFERRED_CHUNK):
        connection.execute(insert(AuditEvent), held[start:start + DEFERRED_CHUNK])


def insert_audited(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert many rows of ``model`` in one statement, audited as a flush would audit them.

    The bulk twin of the flush hook (:func:`install`) for services that write thousands of
    rows of one table (a visit's measurements): one ``INSERT ... VALUES`` for the rows and
    one for their ``insert`` audit rows, in the caller's transaction, without building an
    ORM object per row. Each row carries every column it sets, its primary key included
    (Python-side defaults are not applied here); the audit rows hold the same non-null
    values, redacted columns without them (:func:`_inserted`, as for a flush).

    Raises
    ------
    AuditError
        The transaction has no actor.
    """
    if not rows:
        return
    actor = session.info.get(ACTOR_KEY)
    if not actor:
        raise AuditError("a write needs an actor: open the transaction with "
                         "Store.transaction(actor)")
    session.flush()  # rows this one refers to may still be pending in the session
    mapper = inspect(model)
    keys = [str(column.key) for column in mapper.primary_key]
    redact = model.__audit_redact__
    at = utc_now()
    audit_rows = [{"at": at, "actor": actor, "action": "insert",
                   "entity": model.__tablename__,
                   "entity_id": "/".join(str(row[key]) for key in keys),
                   "changes": _inserted(row.items(), redact)}
                  for row in rows]
    session.connection().execute(insert(model), rows)
    _write(session, audit_rows)


def install(session_class: type[Session]) -> None:
    """Audit every flush of sessions of ``session_class`` (done once, by ``common``)."""
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_flush", _after_flush)


LIST_READ_ID = "list"
"""``entity_id`` of the one audit row of a list page; the ids shown are in ``changes``."""


def record_signin_failure(session: Session, *, username: str) -> None:
    """Record a sign-in refused for a wrong username or password (``signin_failed``).

    The row names the account tried (``account``/``username``, cut to the column's 40
    characters); the actor is the transaction's, ``anonymous@address``. Successful
    sign-ins and sign-outs are the inserts and updates of ``web_session``.
    """
    actor = session.info.get(ACTOR_KEY)
    if not actor:
        raise AuditError("recording a failed sign-in needs an actor")
    session.add(AuditEvent(at=utc_now(), actor=actor[:120], action="signin_failed",
                           entity="account", entity_id=username[:40],
                           changes={"reason": "wrong username or password"}))
    session.flush()


def record_read(session: Session, *, entity: str, entity_id: str,
                fields: Iterable[str] = (), purpose: str | None = None,
                ids: Iterable[str] | None = None) -> None:
    """Record that the transaction's actor read a row (identity details, a chart, ...).

    Parameters
    ----------
    session:
        A session opened by ``Store.transaction(actor)``.
    entity, entity_id:
        Table name and row id, as in the other audit rows.
    fields:
        The fields shown, when not the whole row.
    purpose:
        Why, when the caller knows (``"report"``, ``"export"``).
    ids:
        For a page of a list (``entity_id`` :data:`LIST_READ_ID`): the ids of the rows
        shown, so that one row records the whole page and :func:`history` still finds the
        read when asked about one of them.
    """
    actor = session.info.get(ACTOR_KEY)
    if not actor:
        raise AuditError("recording a read needs an actor")
    changes: dict[str, Any] = {"fields": sorted(fields)}
    if purpose:
        changes["purpose"] = purpose
    if ids is not None:
        changes["ids"] = list(ids)
    session.add(AuditEvent(at=utc_now(), actor=actor, action="read", entity=entity,
                           entity_id=entity_id, changes=changes))
    session.flush()


class AuditEntry(BaseModel):
    """One audit row (see :func:`history`)."""

    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    changes: dict[str, Any]


def _filtered(query: Any, *, entity: str | None, entity_id: str | None, actor: str | None,
              action: str | None, since: dt.date | None, until: dt.date | None) -> Any:
    from dermatrack.errors import InputError

    if action is not None and action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}",
                         field="action")
    if entity is not None:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        # A list page or a cohort read names the rows it showed in ``changes.ids``.
        shown_in_list = and_(AuditEvent.action == "read",
                             AuditEvent.entity_id != entity_id,
                             cast(AuditEvent.changes, Text).contains(f'"{entity_id}"',
                                                                     autoescape=True))
        query = query.where(or_(AuditEvent.entity_id == entity_id, shown_in_list))
    if actor is not None:
        query = query.where(or_(AuditEvent.actor == actor,
                                AuditEvent.actor.startswith(f"{actor}@", autoescape=True)))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.at >= _midnight_utc(since))
    if until is not None:
        query = query.where(AuditEvent.at < _midnight_utc(until + dt.timedelta(days=1)))
    return query


def history(session: Session, *, entity: str | None = None, entity_id: str | None = None,
            actor: str | None = None, action: str | None = None,
            since: dt.date | None = None, until: dt.date | None = None,
            newest_first: bool = False, limit: int | None = None) -> list[AuditEntry]:
    """Audit rows matching every filter given (all filtering done by the database).

    Parameters
    ----------
    entity, entity_id:
        One table (``patient_identity``), one row id (list pages that showed the row
        are found too).
    actor:
        A username (``alice`` finds ``alice@10.0.0.5``, the web app's ``user@address``)
        or a whole actor string.
    action:
        One of :data:`ACTIONS`.
    since, until:
        First and last day (UTC), both included.
    newest_first:
        Order newest first instead of oldest first (the order of writing).
    limit:
        At most this many rows (the first ones in the chosen order).

    Raises
    ------
    InputError
        An unknown ``action`` (field ``action``) or a ``limit`` below 1 (``limit``).
    """
    from dermatrack.errors import InputError

    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}", field="limit")
    query = _filtered(select(AuditEvent), entity=entity, entity_id=entity_id, actor=actor,
                      action=action, since=since, until=until)
    query = query.order_by(AuditEvent.id.desc() if newest_first else AuditEvent.id)
    if limit is not None:
        query = query.limit(limit)
    return [AuditEntry.model_validate(row) for row in session.scalars(query)]


def history_page(session: Session, *, cursor: str | None = None, limit: int | None = None,
                 **filters: Any) -> Page[AuditEntry]:
    """One page of :func:`history`, newest first (keyset on the row number); ``filters``
    are :func:`history`'s."""
    query = _filtered(select(AuditEvent), **{
        name: filters.get(name) for name in ("entity", "entity_id", "actor", "action",
                                             "since", "until")})
    page = keyset_page(session, query, (AuditEvent.id,), cursor=cursor, limit=limit,
                       order="desc")
    return Page(items=[AuditEntry.model_validate(row) for row in page.items], next=page.next)


def _midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
