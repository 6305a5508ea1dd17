"""Reading what the user hands a command: files, JSON files, dates and the acting user.

Every failure becomes an :class:`~dermatrack.errors.InputError` that names the file (and the
line where there is one), so each command group reports a missing, unreadable, binary or
malformed file in the same words.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from dermatrack.errors import InputError


def read_bytes(path: Path, *, field: str = "file") -> bytes:
    """The bytes of ``path``; a missing file, a directory or an OS error is bad input."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no such file: {path}", field=field) from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, expected a file", field=field) from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field=field) from None


def decode_text(raw: bytes, path: Path, *, field: str = "file") -> str:
    """``raw`` as UTF-8 text without a byte-order mark; binary data names its line."""
    if b"\x00" in raw:
        raise InputError(f"{path}: binary data (NUL byte); expected text", field=field,
                         line=raw.count(b"\n", 0, raw.index(b"\x00")) + 1)
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})", field=field,
                         line=raw.count(b"\n", 0, exc.start) + 1) from None


def read_text(path: Path, *, field: str = "file") -> str:
    """The UTF-8 text of ``path`` (see :func:`read_bytes` and :func:`decode_text`)."""
    return decode_text(read_bytes(path, field=field), path, field=field)


def read_json(path: Path, *, field: str = "file") -> Any:
    """The JSON value in ``path``; a syntax error names its line and column."""
    try:
        return json.loads(read_text(path, field=field))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name}: not valid JSON ({exc.msg}, column {exc.colno})",
                         field=field, line=exc.lineno) from None


def read_json_object(path: Path | None, *, field: str = "FILE") -> dict[str, Any]:
    """The JSON object in ``path``; ``{}`` when no file is given."""
    if path is None:
        return {}
    data = read_json(path, field=field)
    if not isinstance(data, dict):
        raise InputError(f"{path.name} must hold a JSON object", field=field)
    return data


def parse_date_option(value: str | None, option: str, default: dt.date) -> dt.date:
    """A ``YYYY-MM-DD`` command-line date, ``default`` when not given."""
    if value is None:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date as YYYY-MM-DD", field=option) from None


def actor_name(actor: str | None) -> str:
    """Who makes a change, for the audit trail.

    ``--actor`` when given, else ``$DERMATRACK_ACTOR``, else the login name (``$USER``),
    else ``cli``.
    """
    return actor or os.environ.get("DERMATRACK_ACTOR") or os.environ.get("USER") or "cli"


def check_scale(mm_per_px: float | None) -> None:
    """Refuse a ``--mm-per-px`` that is not a pixel size a photograph can have."""
    if mm_per_px is not None and not (0 < mm_per_px < 10):
        raise InputError("must be a positive pixel size in mm, below 10",
                         field="--mm-per-px")
