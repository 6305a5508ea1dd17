"""Exceptions shared by every layer.

Adapters turn these into the user-facing form: the CLI prints the message on one line of
stderr and exits with code 2; the web layer answers 422 with the field named (409 for a
:class:`ConflictError`).
"""

from __future__ import annotations


class DermatrackError(Exception):
    """Base class for every error dermatrack raises on purpose."""


class InputError(DermatrackError):
    """The user's input is wrong; the message names what was wrong and where.

    Parameters
    ----------
    message:
        One line, saying what was expected.
    field:
        The offending field, key or column, when there is one (used by the web layer to
        place the message beside the field).
    line:
        1-based line number in a text input, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConflictError(InputError):
    """The input breaks a rule about records already stored ("one visit per timepoint per
    patient"), whether the service's own check or the database's constraint caught it.

    A kind of :class:`InputError` (the CLI exits 2), answered 409 Conflict by the web layer.

    Parameters
    ----------
    message:
        One line naming the rule and the record that is already there.
    rule:
        The invariant's name (``uq_visit_patient_timepoint``, ...), as listed in
        docs/architecture.md, when the refusal is one of them; other conflicts (a lot
        recorded twice, a double booking, a missing or withdrawn consent) name the record
        in the message.
    existing:
        The id of the record already stored, when known.
    """

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None,
                 existing: str | None = None):
        super().__init__(message, field=field)
        self.rule = rule
        self.existing = existing


class NotFoundError(DermatrackError):
    """A record that was asked for by id or code does not exist."""

