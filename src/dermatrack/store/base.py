"""The declarative base every table shares, and the helpers of ids and timestamps.

Kept apart from :mod:`dermatrack.store.models` so that the table modules
(:mod:`~dermatrack.store.models`, :mod:`~dermatrack.store.accounts`,
:mod:`~dermatrack.store.clinic_day`) all build on it without importing one another;
:mod:`dermatrack.store.models` imports the other two, so ``Base.metadata`` holds every table
once it is imported.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Crockford's base-32 alphabet: no I, L, O or U, so ids survive being read aloud or copied
# by hand (https://www.crockford.com/base32.html).
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PATIENT_ID_LENGTH = 6
RECORD_ID_LENGTH = 10

# Constraint names must be stable for Alembic to alter them (SQLite batch mode included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



def new_id(prefix: str, length: int = RECORD_ID_LENGTH) -> str:
    """A random id such as ``V-7K2M9QX4BD`` (50 bits of randomness for length 10)."""
    # One random byte per character; 256 is a multiple of 32, so ``& 31`` stays uniform.
    return f"{prefix}-" + "".join(ID_ALPHABET[byte & 31]
                                  for byte in secrets.token_bytes(length))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zone type and returns naive values; PostgreSQL's ``timestamptz``
    returns aware ones. Both come back as aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: dermatrack stores timestamps in UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}

    # Columns whose values must not be copied into the audit trail (names, contacts).
    __audit_redact__: tuple[str, ...] = ()


class SoftDelete:
    """Columns of a row that is hidden instead of deleted."""

    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    deleted_by: Mapped[str | None] = mapped_column(String(120), default=None)
    delete_reason: Mapped[str | None] = mapped_column(Text, default=None)
