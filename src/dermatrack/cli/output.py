"""Output conventions shared by every command.

* ``--json`` prints only JSON on stdout (``emit_json``), nothing else.
* Human output goes through one Rich console on stdout.
* Bad input raises :class:`dermatrack.errors.InputError`; ``main`` turns it into a
  one-line message on stderr and exit code 2.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

JSON_OPTION_HELP = "Print only JSON on stdout."


def progress_bar(unit: str = "") -> Any:
    """The progress bar of long commands, on stderr: description, bar, done/total, rate
    (``unit`` per second, e.g. ``photos``; steps per second when empty), time elapsed and
    time left."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    per_second = f" {unit}/s" if unit else "/s"

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("–" + per_second if not speed else f"{speed:,.2f}{per_second}",
                        style="progress.data.speed")

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), Rate(), TimeElapsedColumn(), "left",
                    TimeRemainingColumn(), console=err_console)


def json_option() -> Any:
    """The ``--json`` flag every command that returns data takes (default off)."""
    return typer.Option(False, "--json", help=JSON_OPTION_HELP)


def _default(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) by null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_json(data: Any, *, indent: int | None = 2) -> str:
    """Serialise ``data`` as strict JSON (dates as ISO strings, NaN as null)."""
    return json.dumps(_finite(json.loads(json.dumps(data, default=_default))), indent=indent,
                      ensure_ascii=False, allow_nan=False)


def emit_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout, followed by a newline."""
    sys.stdout.write(to_json(data) + "\n")
    sys.stdout.flush()


def label_grid(rows: Iterable[tuple[str | Text, str | RenderableType]], *, indent: int = 0,
               label_style: str = "dim", label_width: int | None = None) -> RenderableType:
    """Labelled lines for a terminal: labels in one column, values wrapping in the next.

    A long value wraps under its own column instead of under the label, which keeps
    notes readable at 80 characters. ``label_width`` lines up several grids.
    """
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(style=label_style, no_wrap=True, min_width=label_width)
    grid.add_column(overflow="fold")
    for label, value in rows:
        # Plain strings become Text so that brackets in notes are not read as markup.
        grid.add_row(label, Text(value) if isinstance(value, str) else value)
    return Padding(grid, (0, 0, 0, indent)) if indent else grid
