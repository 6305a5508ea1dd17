"""The store handle the services share: one transaction per service call.

:func:`open_store` opens the database named by the settings (creating or upgrading it to
the newest migration on first use) and returns a :class:`Store`. Every service function
takes the store as its first argument and the acting user as ``actor=``; it runs inside
``store.transaction(actor)``, so either all of its writes are stored, with their audit
rows, or none is.

Soft-deleted rows are left out of every ORM query made through the store (relationship
loads included); pass ``execution_options(include_deleted=True)`` to a query to see them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import CursorResult, Select, event, exc, update
from sqlalchemy.orm import InstrumentedAttribute, ORMExecuteState, Session, with_loader_criteria

from dermatrack.config import Settings, load_settings
from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services import audit
from dermatrack.services.paging import Order, Page, keyset_page
from dermatrack.store.db import make_engine, make_session_factory
from dermatrack.store.invariants import conflict_from
from dermatrack.store.migrations import ensure_current
from dermatrack.store.models import Base, Patient, SoftDelete, Visit

INCLUDE_DELETED = "include_deleted"
"""Execution option that lets a query see soft-deleted rows."""


ModelT = TypeVar("ModelT", bound=BaseModel)
RowT = TypeVar("RowT", bound=Base)


class StoreSession(Session):
    """Sessions of the service layer: audited, and blind to soft-deleted rows."""


#: The criterion hiding soft-deleted rows, built once (every ORM query of the store adds it).
_LIVE_ROWS_ONLY = with_loader_criteria(SoftDelete, lambda cls: cls.deleted_at.is_(None),
                                       include_aliases=True)


def _hide_deleted(state: ORMExecuteState) -> None:
    if state.is_select and not state.is_column_load \
            and not state.execution_options.get(INCLUDE_DELETED, False):
        state.statement = state.statement.options(_LIVE_ROWS_ONLY)


event.listen(StoreSession, "do_orm_execute", _hide_deleted)
audit.install(StoreSession)


HELD_ROWS = "held_rows"
"""Key of ``Session.info`` holding the rows a :meth:`Store.batch` keeps alive."""


def _hold(session: Session, instance: Any) -> None:
    session.info[HELD_ROWS].append(instance)


class Store:
    """A database (and its file store) opened for the service layer.

    Use as a context manager, or call :meth:`close` when done.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self._sessions = make_session_factory(self.engine, StoreSession)
        self._batch: Session | None = None

    @contextlib.contextmanager
    def batch(self, actor: str) -> Iterator[Session]:
        """One transaction for many service calls (bulk loading, e.g. the demo at scale).

        Inside it, every :meth:`transaction` and :meth:`reading` of this store uses the
        batch's session: each service call still validates and audits its rows, but they
        are committed together when the block ends, or all rolled back if it fails (the
        audit rows are written together at the end too, :func:`audit.deferred`). Not for
        concurrent use of one store from several threads.
        """
        if self._batch is not None:
            raise RuntimeError("a batch is already open on this store")
        with self.transaction(actor) as session:
            self._batch = session
            # The session holds its rows weakly; holding them for the batch lets the
            # checks of later calls (:func:`live_row`) find them without reading again.
            held = session.info[HELD_ROWS] = []
            event.listen(session, "loaded_as_persistent", _hold)
            event.listen(session, "pending_to_persistent", _hold)
            try:
                with audit.deferred(session):
                    yield session
            finally:
                event.remove(session, "loaded_as_persistent", _hold)
                event.remove(session, "pending_to_persistent", _hold)
                held.clear()
                self._batch = None

    @contextlib.contextmanager
    def transaction(self, actor: str) -> Iterator[Session]:
        """A session whose writes are committed together at the end, audited as ``actor``.

        Any exception rolls everything back. A database refusal of one of the invariants
        (:mod:`dermatrack.store.invariants`: another request won a race past the service's
        own check) becomes the same :class:`ConflictError`; any other constraint violation
        an :class:`InputError`.
        """
        actor = (actor or "").strip()
        if not actor:
            raise InputError("the actor (who makes the change) is required", field="actor")
        if self._batch is not None:
            if self._batch.info.get(audit.ACTOR_KEY) != actor:
                raise InputError("a batch records one actor's changes only", field="actor")
            yield self._batch
            return
        session = self._sessions(info={audit.ACTOR_KEY: actor})
        try:
            with session.begin():
                yield session
        except exc.IntegrityError as error:
            conflict = conflict_from(error)
            if conflict is not None:
                raise conflict from error
            raise InputError(f"rejected by the database: {error.orig}",
                             field="record") from error
        finally:
            session.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (any write in it fails for want of an actor); inside a
        :meth:`batch`, the batch's session, so that its uncommitted rows are seen."""
        if self._batch is not None:
            yield self._batch
            return
        session = self._sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc_info: Any) -> None:
        self.close()


def claim_row(session: Session, model: type[Any], row_id: str, condition: Any) -> bool:
    """Lock row ``row_id`` of ``model`` for this transaction if ``condition`` still holds.

    A state change checked in Python (``withdrawn_at`` is empty, the slot is not linked yet)
    is a race: two transactions can both see the old state and both write. A conditional
    ``UPDATE`` that changes nothing takes the row's write lock (PostgreSQL) or the
    database's (SQLite) and re-evaluates the condition on the latest committed state, so of
    simultaneous claims exactly one returns True; the others wait for it, then see the new
    state. Call before loading the row, then change it through the ORM (audited).
    """
    result = session.execute(update(model).where(model.id == row_id, condition)
                             .values(id=model.id).execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)  # what an UPDATE returns; it has the rowcount
    return result.rowcount == 1


@contextlib.contextmanager
def naming_existing(store: Store, rule: str,
                    check: Callable[[Session], None]) -> Iterator[None]:
    """When the database refuses invariant ``rule`` (another request stored the same record
    between the service's check and its write), run the service's own ``check`` again in a
    fresh read so that the error names the record that is already there."""
    try:
        yield
    except ConflictError as error:
        if error.rule != rule or error.existing is not None:
            raise
        with store.reading() as session:
            check(session)
        raise


def open_store(settings: Settings | None = None) -> Store:
    """Open the database of ``settings`` (default: from the environment), creating or
    upgrading it to the newest migration when needed."""
    store = Store(settings or load_settings())
    try:
        ensure_current(store.engine)
    except Exception:
        store.close()
        raise
    return store


def validate_input(model: type[ModelT], data: Any) -> ModelT:
    """Build a pydantic input model, turning its first validation error into an
    :class:`InputError` that names the field (``products[1].lot``)."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                        for part in first["loc"]).lstrip(".")
        raise InputError(first["msg"], field=where or model.__name__) from None


class Record(BaseModel):
    """Base of the service layer's output models (built from ORM rows)."""

    model_config = ConfigDict(from_attributes=True)


class DeletedInfo(BaseModel):
    deleted_at: dt.datetime
    deleted_by: str
    delete_reason: str


def live_row(session: Session, model: type[RowT], row_id: Any) -> RowT | None:
    """The row of ``model`` with this primary key, None if there is none or it is
    soft-deleted. A row the session already holds is not read again (a batch of service
    calls checks the same patient and visit many times)."""
    if not isinstance(row_id, str):
        return None
    row = session.get(model, row_id)
    if row is None or getattr(row, "deleted_at", None) is not None:
        return None
    return row


def get_patient(session: Session, patient_id: str, *, field: str = "patient_id") -> Patient:
    """The patient with this id, or :class:`InputError` naming ``field``."""
    patient = live_row(session, Patient, patient_id)
    if patient is None:
        raise InputError(f"no patient {patient_id!r}", field=field)
    return patient


def patient_page(store: Any, patient_id: str, query: Select,
                 columns: Sequence[InstrumentedAttribute], convert: Any, *,
                 cursor: str | None, limit: int | None, order: Order = "asc",
                 key: Any = None, tuples: bool = False) -> Page[Any]:
    """One page of one patient's rows (404 when the patient is unknown), converted to
    the service's output model by ``convert`` (``key`` and ``tuples`` as for
    :func:`keyset_page`)."""
    with store.reading() as session:
        get_patient(session, patient_id)
        page = keyset_page(session, query, columns, cursor=cursor, limit=limit, order=order,
                           key=key, tuples=tuples)
        return Page(items=[convert(row) for row in page.items], next=page.next)


def get_visit(session: Session, visit_id: str, patient_id: str, *,
              field: str = "visit_id") -> Visit:
    """The visit with this id, which must belong to the patient."""
    visit = live_row(session, Visit, visit_id)
    if visit is None:
        raise InputError(f"no visit {visit_id!r}", field=field)
    if visit.patient_id != patient_id:
        raise InputError(f"visit {visit_id} belongs to another patient, not {patient_id}",
                         field=field)
    return visit


def get_row(session: Session, model: type[RowT], row_id: str, *,
            field: str | None = None) -> RowT:
    """A row of ``model`` by id (soft-deleted rows count as missing).

    Raises :class:`InputError` naming ``field`` when the id came in a record being added,
    :class:`NotFoundError` when it was asked for directly (``field`` None).
    """
    row = live_row(session, model, row_id)
    if row is None:
        message = f"no {model.__tablename__.replace('_', ' ')} {row_id!r}"
        if field is None:
            raise NotFoundError(message)
        raise InputError(message, field=field)
    return row


def soft_delete(row: SoftDelete, *, actor: str, reason: str, field: str = "reason") -> None:
    """Hide ``row``: mark it deleted by ``actor`` now, for ``reason`` (required)."""
    reason = (reason or "").strip()
    if not reason:
        raise InputError("a reason is required to delete a record", field=field)
    row.deleted_at = dt.datetime.now(dt.UTC)
    row.deleted_by = actor
    row.delete_reason = reason
