"""Rules about stored records that the database enforces, and how its refusals read.

The services check each rule before writing, to give a precise message; but two requests
that check at the same moment both pass the check, so the rule must hold in the database
as well (a unique index, a check constraint, a conditional update). When the database
refuses a write, :func:`conflict_from` turns its error into the same
:class:`~dermatrack.errors.ConflictError` the service would have raised (409 on the API,
exit 2 on the CLI), never a 500.

Every invariant is listed in :data:`INVARIANTS` and in docs/architecture.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import exc

from dermatrack.errors import ConflictError

__all__ = ["INVARIANTS", "Invariant", "conflict_from"]


@dataclass(frozen=True)
class Invariant:
    """One rule: the constraint's name, its table and columns, and the rule in words."""

    name: str
    table: str
    columns: tuple[str, ...]
    rule: str
    field: str | None = None


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("uq_visit_patient_timepoint", "visit", ("patient_id", "timepoint"),
              "a patient has one visit per timepoint", "timepoint"),
    Invariant("uq_account_username", "account", ("username",),
              "usernames are unique", "username"),
    Invariant("uq_scheduled_session_session_id", "scheduled_session", ("session_id",),
              "a treatment session carries out at most one scheduled session", "session_id"),
    Invariant("ck_consent_withdrawn_after_signed", "consent", ("withdrawn_at",),
              "a consent is withdrawn after it is signed", "withdrawn_at"),
    Invariant("ck_treatment_plan_status", "treatment_plan", ("status",),
              "a plan's status is active, completed or cancelled", "status"),
)

_BY_NAME = {invariant.name: invariant for invariant in INVARIANTS}
# SQLite names the columns of a failed unique index ("UNIQUE constraint failed: visit.a,
# visit.b") and the name of a failed check ("CHECK constraint failed: ck_...").
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


def _invariant(error: exc.IntegrityError) -> Invariant | None:
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)  # psycopg
    if name:
        return _BY_NAME.get(name)
    text = str(error.orig)
    if match := _SQLITE_CHECK.search(text):
        return _BY_NAME.get(match.group(1))
    if match := _SQLITE_UNIQUE.search(text):
        pairs = [part.strip().split(".", 1) for part in match.group(1).split(",")]
        for invariant in INVARIANTS:
            if [[invariant.table, column] for column in invariant.columns] == pairs:
                return invariant
    return None


def conflict_from(error: exc.IntegrityError) -> ConflictError | None:
    """The :class:`ConflictError` for a database refusal of a known invariant, else None."""
    invariant = _invariant(error)
    if invariant is None:
        return None
    return ConflictError(f"{invariant.rule} (refused by the database)", rule=invariant.name,
                         field=invariant.field)
