"""Parser and writer of the knowledge record format (the format of seed 000).

A record is a block of lines, one per field, in the order of :data:`FIELDS`::

    disease | Microneedling |
    signs | 1 | Mild redness. | 2 | Potential for mild itching. |
    |
    prognosis | Generally positive. |

* A **scalar** field is one line ``field | text |``. The text may itself contain ``" | "``:
  it runs from the first ``" | "`` to the line's last ``" |"``.
* A **list** field is ``field | 1 | item | 2 | item |`` followed by a line holding only
  ``|``. Whether a field is a list is decided by the syntax of its line (the text starts with
  a number and ``" | "``), not by the field's name.
* Records in one file are separated by blank lines. Unknown fields are kept, in order, and
  written back where they were.

Reserved sequences
------------------
The format has no escape mechanism, so some values cannot be written; :func:`format_record`
refuses them with :class:`~dermatrack.errors.InputError` instead of writing a file that
would read back differently:

* no value, list item or field name may contain a line break (``\\n``, ``\\r``) or NUL;
* a scalar text may not start with digits followed by ``" | "`` (that is how a list starts);
* a list item may not contain a ``|`` next to a space (``" |"`` or ``"| "``), since
  ``" | "`` separates items;
* a list must hold at least one item (write ``None`` for an absent field);
* a field name may not contain ``|`` nor start or end with whitespace.

The writer joins lines with ``\\n`` and never adds a final newline; the reader accepts a
final newline, CRLF line ends and trailing spaces, so ``format_record(parse_record(text))``
reproduces seed 000, which ends without one, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dermatrack.errors import InputError

FIELDS: tuple[str, ...] = (
    "disease",
    "summary",
    "name",
    "type",
    "classification",
    "symptoms",
    "signs",
    "causes",
    "detailed etiology pathogenesis",
    "investigations",
    "treatment options",
    "differentials",
    "prevention",
    "prognosis",
    "other important details",
)
"""The canonical fields, as written in record files, in the order the writer uses."""

LIST_FIELDS: tuple[str, ...] = (
    "symptoms",
    "signs",
    "causes",
    "investigations",
    "treatment options",
    "differentials",
    "prevention",
    "other important details",
)
"""Fields written as lists in seed 000 (a convention: the parser follows each line's syntax)."""

SCALAR_FIELDS: tuple[str, ...] = tuple(name for name in FIELDS if name not in LIST_FIELDS)
"""Fields written as one line of text in seed 000."""

SEPARATOR = " | "
LIST_END = "|"

_SNAKE = {name: name.replace(" ", "_") for name in FIELDS}
_BY_KEY = {key: name for name, key in _SNAKE.items()}
_LIST_START = re.compile(r"^(\d+) \| ")
_PIPE_NEXT_TO_SPACE = re.compile(r" \||\| ")

Value = str | list[str]


def snake_case(text: str) -> str:
    """Lower-case ``text`` and join its words with underscores (``"RF Microneedling"`` ->
    ``"rf_microneedling"``)."""
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))


def _canonical(name: str) -> str | None:
    """The canonical field a written name stands for (case, ``_`` and spacing ignored)."""
    key = "_".join(name.lower().replace("_", " ").split())
    return _BY_KEY.get(key)


@dataclass(frozen=True)
class ExtraField:
    """A field the format does not define, kept so that it can be written back.

    Attributes
    ----------
    value:
        The text of a scalar field or the items of a list field.
    after:
        The snake_case name of the canonical field it followed in the file, or ``None`` when
        it came before every canonical field.
    """

    value: Value
    after: str | None = None


@dataclass
class Record:
    """One knowledge record.

    Attributes
    ----------
    values:
        Every canonical field by snake_case name (``"treatment_options"``): a ``str`` for a
        scalar, a ``list[str]`` for a list, ``None`` when absent. Missing keys are filled with
        ``None``.
    extra:
        Unknown fields by their name as written, in file order.

    Canonical fields read as attributes too: ``record.treatment_options``.
    """

    values: dict[str, Value | None] = field(default_factory=dict)
    extra: dict[str, ExtraField] = field(default_factory=dict)
    final_newline: bool = field(default=False, compare=False)
    """The file ended with a newline after this record (the last one): written back by
    :func:`format_records`, so that formatting what was parsed gives the same bytes."""

    def __post_init__(self) -> None:
        unknown = [key for key in self.values if key not in _BY_KEY]
        if unknown:
            raise InputError(f"unknown record field {unknown[0]!r}; put it in 'extra'",
                             field=unknown[0])
        self.values = {key: self.values.get(key) for key in _BY_KEY}

    def __getattr__(self, name: str) -> Value | None:
        # Only called when normal lookup fails; the guard keeps copy and pickle, which
        # probe attributes before ``values`` exists, away from recursion.
        if name in _BY_KEY and "values" in self.__dict__:
            return self.__dict__["values"].get(name)
        raise AttributeError(name)

    def get(self, name: str) -> Value | None:
        """The value of a canonical field, by snake_case or written name."""
        canonical = _canonical(name)
        if canonical is None:
            raise KeyError(name)
        return self.values[_SNAKE[canonical]]

    @property
    def title(self) -> str | None:
        """The record's ``name``, else its ``disease`` (scalars only)."""
        for key in ("name", "disease"):
            value = self.values[key]
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    @property
    def code(self) -> str | None:
        """snake_case of :attr:`title` (``"microneedling"``), ``None`` without a title."""
        title = self.title
        return (snake_case(title) or None) if title else None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: snake_case keys in field order, ``null`` when absent, and ``"extra"``
        mapping each unknown field to ``{"value": ..., "after": ...}``."""
        data: dict[str, Any] = {key: _copy(value) for key, value in self.values.items()}
        data["extra"] = {name: {"value": _copy(extra.value), "after": extra.after}
                         for name, extra in self.extra.items()}
        if self.final_newline:
            data["final_newline"] = True
        return data

    @classmethod
    def from_json(cls, data: Any) -> Record:
        """Build a record from :meth:`to_json`'s shape.

        Keys may be snake_case or written names. An ``"extra"`` entry may be a bare value
        (placed after the last field) or ``{"value": ..., "after": field}``.

        Raises
        ------
        InputError
            When ``data`` is not an object, a key is unknown or a value is not a string, a
            list of strings or null.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"a record must be a JSON object, not {_json_type(data)}")
        values: dict[str, Value | None] = {}
        extra: dict[str, ExtraField] = {}
        final_newline = False
        for key, value in data.items():
            if key == "extra":
                extra = _extra_from_json(value)
                continue
            if key == "final_newline":
                if not isinstance(value, bool):
                    raise InputError(f"expected true or false, got {_json_type(value)}",
                                     field="final_newline")
                final_newline = value
                continue
            canonical = _canonical(str(key))
            if canonical is None:
                raise InputError(f"unknown key {key!r}; unknown fields belong under 'extra'",
                                 field=str(key))
            values[_SNAKE[canonical]] = _value_from_json(value, str(key), allow_null=True)
        return cls(values=values, extra=extra, final_newline=final_newline)


def _copy(value: Value | None) -> Value | None:
    return list(value) if isinstance(value, list) else value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _value_from_json(value: Any, key: str, *, allow_null: bool) -> Value | None:
    if value is None and allow_null:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InputError(f"expected a string, a list of strings or null, got {_json_type(value)}",
                     field=key)


def _extra_from_json(data: Any) -> dict[str, ExtraField]:
    if not isinstance(data, Mapping):
        raise InputError(f"expected an object, got {_json_type(data)}", field="extra")
    extra: dict[str, ExtraField] = {}
    for name, entry in data.items():
        where = f"extra.{name}"
        if isinstance(entry, Mapping):
            if set(entry) - {"value", "after"} or "value" not in entry:
                raise InputError("expected {\"value\": ..., \"after\": field}", field=where)
            value = _value_from_json(entry["value"], where, allow_null=False)
            after = entry.get("after")
            if after is not None:
                canonical = _canonical(str(after))
                if canonical is None:
                    raise InputError(f"'after' names no known field: {after!r}", field=where)
                after = _SNAKE[canonical]
        else:
            value = _value_from_json(entry, where, allow_null=False)
            after = _SNAKE[FIELDS[-1]]
        assert value is not None
        extra[str(name)] = ExtraField(value=value, after=after)
    return extra


# --------------------------------------------------------------------------------------
# Reading


def _decode(text: str | bytes, source: str) -> str:
    """Text from ``text``, refusing binary data with the line where it starts."""
    if isinstance(text, bytes):
        raw = text
        if b"\x00" in raw:
            line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
            raise InputError(f"{source}: binary data (NUL byte); expected UTF-8 text", line=line)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise InputError(f"{source}: binary data (not UTF-8 text at byte {exc.start})",
                             line=line) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{source}: binary data (NUL character); expected text", line=line)
    return text.removeprefix("\ufeff")


@dataclass
class _OpenList:
    name: str
    items: list[str]
    line: int


class _RecordBuilder:
    """Collects the fields of one record while lines are read."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.values: dict[str, Value | None] = {}
        self.extra: dict[str, ExtraField] = {}
        self.seen: dict[str, int] = {}
        self.last_canonical: str | None = None

    def add(self, written: str, value: Value, line: int) -> None:
        canonical = _canonical(written)
        key = _SNAKE[canonical] if canonical else written
        if key in self.seen:
            raise InputError(f"{self.source}: field {written!r} repeats (first on line "
                             f"{self.seen[key]}); expected each field once per record",
                             line=line, field=written)
        self.seen[key] = line
        if canonical:
            self.values[key] = value
            self.last_canonical = key
        else:
            self.extra[written] = ExtraField(value=value, after=self.last_canonical)

    def build(self) -> Record:
        return Record(values=self.values, extra=self.extra)


def _split_list(name: str, body: str, line: int, source: str) -> list[str]:
    """Items of a list written ``1 | item | 2 | item``, checking the numbering."""
    tokens = body.split(SEPARATOR)
    if len(tokens) % 2:
        raise InputError(f"{source}: list {name!r} ends with item number {tokens[-1]!r} but "
                         "no text; expected 'N | item |'", line=line, field=name)
    items = []
    for index in range(0, len(tokens), 2):
        expected = index // 2 + 1
        number = tokens[index].strip()
        if number != str(expected):
            found = repr(number) if number else "an empty number"
            raise InputError(f"{source}: list {name!r} numbering out of sequence: expected "
                             f"item {expected}, found {found}", line=line, field=name)
        items.append(tokens[index + 1])
    return items


def parse_records(text: str | bytes, *, source: str = "<text>") -> list[Record]:
    """Parse every record in ``text`` (records separated by blank lines).

    The whole input is read before anything is returned, so a fault anywhere yields no
    records at all.

    Parameters
    ----------
    text:
        The file's content; bytes must be UTF-8.
    source:
        Name used in error messages (usually the file name).

    Returns
    -------
    list of Record
        At least one.

    Raises
    ------
    InputError
        With the 1-based line number and what was expected: for an empty input, binary
        data, a line that is neither ``field | value |`` nor ``|``, numbering out of
        sequence, an unterminated list or a repeated field.
    """
    text = _decode(text, source)
    lines = text.split("\n")
    records: list[Record] = []
    current: _RecordBuilder | None = None
    open_list: _OpenList | None = None

    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r").rstrip(" \t")
        if open_list is not None:
            if line == LIST_END:
                assert current is not None
                current.add(open_list.name, open_list.items, open_list.line)
                open_list = None
                continue
            found = "a blank line" if not line else repr(_shorten(line))
            raise InputError(f"{source}: list {open_list.name!r} (line {open_list.line}) is "
                             f"not closed: expected a line holding only '|', found {found}",
                             line=number, field=open_list.name)
        if not line:
            if current is not None:
                records.append(current.build())
                current = None
            continue
        if line == LIST_END:
            raise InputError(f"{source}: a lone '|' with no list open; expected "
                             "'field | value |'", line=number)
        name, body = _split_field_line(line, number, source)
        if current is None:
            current = _RecordBuilder(source)
        if _LIST_START.match(body):
            open_list = _OpenList(name, _split_list(name, body, number, source), number)
        else:
            current.add(name, body, number)

    if open_list is not None:
        raise InputError(f"{source}: list {open_list.name!r} (line {open_list.line}) is not "
                         "closed: expected a line holding only '|', found the end of the file",
                         line=len(lines), field=open_list.name)
    if current is not None:
        records.append(current.build())
    if not records:
        raise InputError(f"{source}: empty file; expected at least one 'field | value |' line",
                         line=1)
    if text.endswith("\n") and not text.endswith("\n\n"):
        records[-1].final_newline = True
    return records


def _split_field_line(line: str, number: int, source: str) -> tuple[str, str]:
    """``("field", "value")`` from ``field | value |``: the value runs from the first
    ``" | "`` to the closing ``" |"``."""
    expected = f"{source}: expected 'field | value |' or a lone '|', found {_shorten(line)!r}"
    if not line.endswith(" |"):
        raise InputError(f"{expected} (no closing ' |')", line=number)
    start = line.find(SEPARATOR)
    # The separator must end before the closing " |" begins (they may not share a space).
    if start < 0 or start + len(SEPARATOR) > len(line) - 2:
        raise InputError(f"{expected} (no ' | ' between field name and value)", line=number)
    name = line[:start].strip()
    if not name:
        raise InputError(f"{expected} (no field name)", line=number)
    return name, line[start + len(SEPARATOR):-2]


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def parse_record(text: str | bytes, *, source: str = "<text>") -> Record:
    """Parse exactly one record; see :func:`parse_records`.

    Raises
    ------
    InputError
        As :func:`parse_records`, and when the input holds more than one record.
    """
    records = parse_records(text, source=source)
    if len(records) != 1:
        raise InputError(f"{source}: expected one record, found {len(records)}")
    return records[0]


# --------------------------------------------------------------------------------------
# Writing


def _check_text(text: str, where: str) -> None:
    for bad, label in (("\n", "a line break"), ("\r", "a carriage return"), ("\x00", "NUL")):
        if bad in text:
            raise InputError(f"cannot be written: contains {label}", field=where)


def _field_lines(name: str, value: Value) -> list[str]:
    if isinstance(value, str):
        _check_text(value, name)
        if _LIST_START.match(value):
            raise InputError("cannot be written: a text starting with a number and ' | ' "
                             "reads back as a list", field=name)
        return [f"{name}{SEPARATOR}{value} |"]
    if not value:
        raise InputError("cannot be written: an empty list (use null for an absent field)",
                         field=name)
    parts = []
    for position, item in enumerate(value, start=1):
        where = f"{name}[{position}]"
        if not isinstance(item, str):
            raise InputError("list items must be strings", field=where)
        _check_text(item, where)
        if _PIPE_NEXT_TO_SPACE.search(item):
            raise InputError("cannot be written: a list item may not hold '|' next to a "
                             "space", field=where)
        parts.append(f"{position}{SEPARATOR}{item}")
    return [f"{name}{SEPARATOR}{SEPARATOR.join(parts)} |", LIST_END]


def _check_name(name: str) -> None:
    if not name or name != name.strip() or "|" in name:
        raise InputError("cannot be written: a field name may not be empty, hold '|' or "
                         "start or end with spaces", field=name)
    _check_text(name, name)


def format_record(record: Record) -> str:
    """The text of one record, fields in canonical order, unknown fields where they were.

    Lines are joined with ``\\n``; no final newline is added.

    Raises
    ------
    InputError
        When a value holds a reserved sequence (see the module docstring).
    """
    extras_after: dict[str | None, list[tuple[str, ExtraField]]] = {}
    for name, extra in record.extra.items():
        _check_name(name)
        if _canonical(name) is not None:
            raise InputError("an extra field may not reuse a canonical field's name",
                             field=name)
        extras_after.setdefault(extra.after, []).append((name, extra))
    unplaced = sorted(str(anchor) for anchor in extras_after
                      if anchor is not None and anchor not in _BY_KEY)
    if unplaced:
        raise InputError(f"'after' names no known field: {unplaced[0]!r}", field="extra")

    lines: list[str] = []
    for name, extra in extras_after.get(None, []):
        lines += _field_lines(name, extra.value)
    for written in FIELDS:
        key = _SNAKE[written]
        value = record.values.get(key)
        if value is not None:
            lines += _field_lines(written, value)
        for name, extra in extras_after.get(key, []):
            lines += _field_lines(name, extra.value)
    if not lines:
        raise InputError("cannot write a record with no fields")
    return "\n".join(lines)


def format_records(records: Iterable[Record]) -> str:
    """Several records separated by one blank line; a final newline only when the last
    record was read from a file ending with one (:attr:`Record.final_newline`)."""
    records = list(records)
    texts = [format_record(record) for record in records]
    if not texts:
        raise InputError("no records to write")
    return "\n\n".join(texts) + ("\n" if records[-1].final_newline else "")
