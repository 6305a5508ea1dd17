"""``dermatrack export``: the de-identified research dataset (CSV or Parquet).

What is removed and how subjects and dates are protected is described in
:mod:`dermatrack.services.export`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dermatrack.cli.output import JSON_OPTION_HELP, console, emit_json
from dermatrack.errors import InputError

FORMATS = ("csv", "parquet")


def export_command(
    format: str = typer.Option(..., "--format", help="csv or parquet."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Write a de-identified long table of every measurement, score, session and event.

    Subjects get fresh random codes on every export and each patient's dates are shifted
    by a secret random offset; names, contacts, birth dates, notes and photo metadata
    are left out.
    """
    if format not in FORMATS:
        raise InputError(f"--format must be csv or parquet, not {format!r}", field="format")
    from dermatrack.services.common import open_store
    from dermatrack.services.export import export_dataset

    with open_store() as store:
        result = export_dataset(store, out, format=format)  # type: ignore[arg-type]
    if as_json:
        emit_json(result)
        return
    console.print(f"Wrote {result['rows']} rows for {result['subjects']} subjects to "
                  f"{result['path']} ({format}; de-identified: re-keyed subjects, shifted "
                  "dates, no identities, notes or photo metadata).")


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
