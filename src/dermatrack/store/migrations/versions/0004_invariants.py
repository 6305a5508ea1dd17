"""Invariants enforced by the database: one visit per timepoint per patient, a treatment
session carrying out at most one scheduled session, consent dates in order, plan statuses.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Before the constraints are added, rows that already break them are reported (a warning on
stderr naming each record) and resolved without deleting anything:

* a second (third, ...) live visit of a patient at the same timepoint keeps all of its
  data and is *flagged*: its timepoint becomes ``<timepoint>_dupN`` and its notes say which
  visit was kept (the earliest by date, then id), so a clinician can review it. Outcomes
  then read one baseline, the one recorded first.
* a treatment session linked to several scheduled sessions stays linked to the earliest
  one; the later links are cleared (the link is bookkeeping, not clinical data).
Each change is written to the audit trail as actor ``migration 0004``.

A consent withdrawn before it was signed cannot be corrected by a program: the upgrade
stops and names the rows, to be fixed by hand (the services never stored such a row).
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTOR = "migration 0004"
TIMEPOINT_MAX = 40
_log = logging.getLogger("dermatrack.migrations")
_LIVE = sa.text("deleted_at IS NULL")
_LINKED = sa.text("deleted_at IS NULL AND session_id IS NOT NULL")


_AUDIT = sa.table("audit_event", sa.column("at", sa.DateTime(timezone=True)),
                  sa.column("actor", sa.String), sa.column("action", sa.String),
                  sa.column("entity", sa.String), sa.column("entity_id", sa.String),
                  sa.column("changes", sa.JSON))


def _audit(connection, entity: str, entity_id: str, changes: dict) -> None:
    connection.execute(_AUDIT.insert().values(
        at=dt.datetime.now(dt.UTC), actor=ACTOR, action="update", entity=entity,
        entity_id=entity_id, changes=changes))


def _flag_duplicate_visits(connection) -> None:
    rows = connection.execute(sa.text(
        "SELECT id, patient_id, timepoint, date, notes FROM visit WHERE deleted_at IS NULL "
        "ORDER BY patient_id, timepoint, date, id")).fetchall()
    taken = {(r.patient_id, r.timepoint) for r in rows}
    kept: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (row.patient_id, row.timepoint)
        if key not in kept:
            kept[key] = row.id
            continue
        n = 2
        while True:
            suffix = f"_dup{n}"
            flagged = row.timepoint[:TIMEPOINT_MAX - len(suffix)] + suffix
            if (row.patient_id, flagged) not in taken:
                break
            n += 1
        taken.add((row.patient_id, flagged))
        note = (f"Flagged by {ACTOR}: a second live '{row.timepoint}' visit of this patient; "
                f"{kept[key]} was kept as the '{row.timepoint}' visit. Review, then merge or "
                f"delete this one.")
        notes = f"{row.notes}\n{note}" if row.notes else note
        connection.execute(sa.text("UPDATE visit SET timepoint = :t, notes = :n WHERE id = :id"),
                           {"t": flagged, "n": notes, "id": row.id})
        _audit(connection, "visit", row.id, {"timepoint": [row.timepoint, flagged]})
        _log.warning("visit %s of patient %s: a duplicate '%s' visit (kept %s), flagged as "
                     "'%s'", row.id, row.patient_id, row.timepoint, kept[key], flagged)


def _unlink_duplicate_schedule_links(connection) -> None:
    rows = connection.execute(sa.text(
        "SELECT id, session_id FROM scheduled_session WHERE deleted_at IS NULL AND "
        "session_id IS NOT NULL ORDER BY session_id, scheduled_on, id")).fetchall()
    seen: dict[str, str] = {}
    for row in rows:
        if row.session_id not in seen:
            seen[row.session_id] = row.id
            continue
        connection.execute(sa.text("UPDATE scheduled_session SET session_id = NULL "
                                   "WHERE id = :id"), {"id": row.id})
        _audit(connection, "scheduled_session", row.id, {"session_id": [row.session_id, None]})
        _log.warning("scheduled session %s: its session %s already carries out %s; the "
                     "second link was cleared", row.id, row.session_id, seen[row.session_id])


def _refuse_consents_withdrawn_before_signed(connection) -> None:
    bad = connection.execute(sa.text(
        "SELECT id FROM consent WHERE withdrawn_at IS NOT NULL AND withdrawn_at < signed_at"
    )).scalars().all()
    if bad:
        raise RuntimeError(f"migration 0004 stopped: consents withdrawn before they were "
                           f"signed ({', '.join(bad)}); correct their dates, then upgrade "
                           f"again")


#: (name, table, condition) of the check constraints added here. On PostgreSQL they are
#: constraints ``ck_<table>_<name>``; on SQLite, which can add a constraint only by
#: rebuilding the table (impossible here with foreign keys enforced inside the migration's
#: transaction), triggers that refuse the same rows with the same message.
CHECKS = (
    ("withdrawn_after_signed", "consent", "withdrawn_at IS NULL OR withdrawn_at >= signed_at",
     ("withdrawn_at", "signed_at")),
    ("status", "treatment_plan", "status IN ('active', 'completed', 'cancelled')",
     ("status",)),
)


def _sqlite_check_triggers(name: str, table: str, condition: str,
                           columns: tuple[str, ...]) -> None:
    constraint = f"ck_{table}_{name}"
    new_row = condition
    for column in columns:
        new_row = new_row.replace(column, f"NEW.{column}")
    for when in ("insert", "update"):
        op.execute(f"CREATE TRIGGER {constraint}_{when} BEFORE {when.upper()} ON {table} "
                   f"WHEN NOT ({new_row}) BEGIN "
                   f"SELECT RAISE(ABORT, 'CHECK constraint failed: {constraint}'); END")


def upgrade() -> None:
    connection = op.get_bind()
    _refuse_consents_withdrawn_before_signed(connection)
    _flag_duplicate_visits(connection)
    _unlink_duplicate_schedule_links(connection)

    op.create_index("uq_visit_patient_timepoint", "visit", ["patient_id", "timepoint"],
                    unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.create_index("uq_scheduled_session_session_id", "scheduled_session", ["session_id"],
                    unique=True, sqlite_where=_LINKED, postgresql_where=_LINKED)
    for name, table, condition, columns in CHECKS:
        if connection.dialect.name == "sqlite":
            _sqlite_check_triggers(name, table, condition, columns)
        else:
            op.create_check_constraint(name, table, condition)


def downgrade() -> None:
    connection = op.get_bind()
    for name, table, _condition, _columns in CHECKS:
        if connection.dialect.name == "sqlite":
            for when in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS ck_{table}_{name}_{when}")
        else:
            op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.drop_index("uq_scheduled_session_session_id", "scheduled_session")
    op.drop_index("uq_visit_patient_timepoint", "visit")
