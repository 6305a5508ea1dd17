"""Plain-text table helpers shared by the device parsers: comment headers and CSV rows.

Text in, cells out; no file access.
"""

from __future__ import annotations

import csv
import io
import math
import re

from dermatrack.errors import InputError

#: A ``# key: value`` (or ``# key = value``) comment line.
HEADER_LINE = re.compile(r"^\s*#\s*([A-Za-z_][\w ]*?)\s*[:=]\s*(.*?)\s*$")


def split_comment_header(text: str) -> tuple[dict[str, tuple[str, int]], str, int]:
    """Split leading ``# key: value`` comment lines from a CSV text.

    Returns
    -------
    (fields, body, first_body_line)
        ``fields`` maps lower-case keys to (value, 1-based line); ``body`` is the rest of the
        text; ``first_body_line`` is the 1-based line number where ``body`` starts.
    """
    lines = text.splitlines()
    fields: dict[str, tuple[str, int]] = {}
    index = 0
    while index < len(lines) and (not lines[index].strip()
                                  or lines[index].lstrip().startswith("#")):
        match = HEADER_LINE.match(lines[index])
        if match:
            fields[match.group(1).strip().lower().replace(" ", "_")] = (match.group(2),
                                                                      index + 1)
        index += 1
    return fields, "\n".join(lines[index:]), index + 1


def csv_rows(body: str, first_line: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header cells and (line, cells) of each non-blank data row of a CSV text.

    The delimiter (comma, semicolon or tab) is detected from the header row.
    """
    lines = body.splitlines()
    if not lines or not lines[0].strip():
        raise InputError("the file has no header row", line=first_line)
    head = lines[0]
    delimiter = max(",;\t", key=head.count) if any(c in head for c in ",;\t") else ","
    reader = csv.reader(io.StringIO(body), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for cells in reader:
        line = first_line + reader.line_num - 1
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        rows.append((line, [c.strip() for c in cells]))
    return header or [], rows


def cell_number(cell: str, column: str, line: int) -> float:
    """A table cell as a finite number; otherwise InputError naming the column and line."""
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"{cell!r} is not a number", field=column, line=line) from None
    if not math.isfinite(value):
        raise InputError(f"{cell!r} is not a finite number", field=column, line=line)
    return value
