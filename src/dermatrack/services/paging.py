"""Keyset (cursor) pagination for every list the services return.

A page is read with ``ORDER BY k1, k2, ..., id LIMIT limit + 1``; the cursor of the next
page is the sort key of the last row shown, and the next query starts strictly after it
(``WHERE (k1, k2, ..., id) > cursor``). Unlike ``OFFSET``, the cost of a page does not grow
with its depth, and rows inserted meanwhile neither repeat nor vanish from later pages.
The last key is always the primary key, so keys are unique and the order total.

Cursors are opaque to clients: URL-safe base64 of the JSON list of key values. A cursor is
not a secret nor a permission (a client could write one by hand); it only says where to
start. A malformed one is an :class:`~dermatrack.errors.InputError` on ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Select, TypeDecorator, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from dermatrack.errors import InputError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "check_limit", "decode_cursor",
           "encode_cursor", "keyset_page"]

DEFAULT_LIMIT = 50
"""Rows per page when the caller does not say."""
MAX_LIMIT = 500
"""Most rows one page may ask for: bounds the work and the audit row of one request."""

T = TypeVar("T")
Order = Literal["asc", "desc"]


@dataclass
class Page(Generic[T]):
    """Rows of one page and the cursor of the next (``None`` on the last page)."""

    items: list[T]
    next: str | None


def check_limit(limit: int | None) -> int:
    """The page size, or :class:`InputError` on ``limit`` outside 1..MAX_LIMIT."""
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
    return limit


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    """The opaque cursor of a sort key."""
    raw = json.dumps([_json_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _typed(value: Any, column: InstrumentedAttribute) -> Any:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):  # UTCDateTime: the type it stores
        column_type = column_type.impl_instance
    python_type = column_type.python_type
    if python_type is dt.datetime:
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    if python_type is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if python_type is float and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return float(value)
    if python_type is str and isinstance(value, str):
        return value
    raise ValueError(f"not a {python_type.__name__}")


def decode_cursor(cursor: str, columns: Sequence[InstrumentedAttribute]) -> list[Any]:
    """The sort key a cursor holds, typed like ``columns``; :class:`InputError` when it is
    not a cursor of this list."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong length")
        return [_typed(v, c) for v, c in zip(values, columns, strict=True)]
    except (ValueError, TypeError, UnicodeError, binascii.Error, json.JSONDecodeError) as err:
        raise InputError("not a cursor of this list: pass the 'next' value of the previous "
                         "page unchanged", field="cursor") from err


def _after(columns: Sequence[InstrumentedAttribute], values: Sequence[Any], order: Order):
    """``(c1, c2, ...) > (v1, v2, ...)`` (or ``<`` for descending), spelt out so that it is
    plain SQL on every backend and NULL-free keys compare as tuples do."""
    clauses = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        beyond = column > values[i] if order == "asc" else column < values[i]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def keyset_page(session: Session, query: Select, columns: Sequence[InstrumentedAttribute], *,
                cursor: str | None, limit: int | None, order: Order = "asc",
                key: Any = None, tuples: bool = False) -> Page[Any]:
    """One page of ``query`` (a ``select`` of ORM rows) ordered by ``columns``.

    Parameters
    ----------
    columns:
        The sort key, ending with the primary key (unique). Columns must not be NULL.
    cursor, limit:
        Where to start (the previous page's ``next``) and how many rows (default
        :data:`DEFAULT_LIMIT`, at most :data:`MAX_LIMIT`).
    order:
        ``"asc"`` or ``"desc"`` for every column.
    key:
        Function of a row giving its sort key values (default: the columns' attributes of
        the row, for a ``select`` of one entity).
    tuples:
        The query selects several entities: rows are tuples (give ``key`` then).
    """
    limit = check_limit(limit)
    if cursor:
        query = query.where(_after(columns, decode_cursor(cursor, columns), order))
    ordering = [c.asc() if order == "asc" else c.desc() for c in columns]
    query = query.order_by(*ordering).limit(limit + 1)
    rows = list(session.execute(query).all() if tuples else session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    if key is None:
        def key(row: Any) -> list[Any]:
            return [getattr(row, c.key) for c in columns]
    next_cursor = encode_cursor(key(rows[-1])) if more and rows else None
    return Page(items=rows, next=next_cursor)
