"""Exceptions shared by every layer.

Adapters turn these into the user-facing form: the CLI prints the message on one line of
stderr and exits with code 2; the web layer answers 422 with the field named.
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


class NotFoundError(DermatrackError):
    """A record that was asked for by id or code does not exist."""


class ConflictError(InputError):
    """The input is well formed but conflicts with what is stored: a duplicate lot
    number, a double booking, a signed consent that would be changed, a missing or
    withdrawn consent. The CLI exits 2 as for any :class:`InputError`; the web layer
    answers 409."""
