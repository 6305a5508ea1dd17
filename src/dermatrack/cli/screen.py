"""``dermatrack screen``: contraindication screening of a patient file.

Also holds the two input helpers ``dermatrack plan`` shares: reading ``PATIENT.json`` and
parsing a ``--on``/``--start`` date, both turning every failure into an ``InputError``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dermatrack.cli.output import JSON_OPTION_HELP
from dermatrack.errors import InputError

if TYPE_CHECKING:
    from dermatrack.clinic.intake import PatientProfile
    from dermatrack.clinic.screening import ScreeningResult

#: Rich style of each verdict.
VERDICT_STYLE = {"contraindicated": "bold red", "caution": "yellow", "suitable": "green"}


def parse_date_option(value: str | None, option: str, default: dt.date) -> dt.date:
    """A ``YYYY-MM-DD`` command-line date, ``default`` when not given."""
    if value is None:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date as YYYY-MM-DD", field=option) from None


def load_patient_file(path: str, on: dt.date) -> PatientProfile:
    """Read and check ``PATIENT.json``; a missing, unreadable or invalid file is an InputError."""
    from dermatrack.clinic.intake import load_patient_json

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}", field="PATIENT.json") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a patient file",
                         field="PATIENT.json") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text", field="PATIENT.json") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", field="PATIENT.json") from None
    return load_patient_json(text, source=file.name, on=on)


def register(app: typer.Typer) -> None:
    """Add the top-level ``screen`` command to ``app``."""

    @app.command("screen")
    def screen_command(
        patient: str = typer.Argument(..., metavar="PATIENT.json",
                                      help="Patient file: age, fitzpatrick, concerns, "
                                           "conditions, medications, allergies."),
        modality: str | None = typer.Option(None, "--modality",
                                            help="Screen only this modality code."),
        on: str | None = typer.Option(None, "--on",
                                      help="Screening date YYYY-MM-DD (default today); "
                                           "medication windows are judged at it."),
        as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
    ) -> None:
        """Is each modality safe for this patient now: contraindicated, caution or suitable."""
        from dermatrack.cli.output import emit_json
        from dermatrack.clinic.screening import screen
        from dermatrack.knowledge.modalities import load_modalities

        day = parse_date_option(on, "--on", dt.date.today())
        profile = load_patient_file(patient, day)
        result = screen(profile, load_modalities(), day, only=modality)
        if as_json:
            emit_json(result.to_dict())
            return
        _print_screening(result)


def _print_screening(result: ScreeningResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dermatrack.cli.output import console

    table = Table(title=f"Contraindication screening on {result.on.isoformat()}",
                  show_lines=True)
    table.add_column("Modality", style="bold")
    table.add_column("Verdict")
    table.add_column("Reasons (rule, why, what to do, source)", overflow="fold")
    for item in result.results:
        table.add_row(item.modality, f"[{VERDICT_STYLE[item.verdict]}]{item.verdict}[/]",
                      reasons_markup(item.reasons, escape) or "no rule applies")
    console.print(table)


def reasons_markup(reasons, escape) -> str:  # noqa: ANN001 - Reason objects, rich's escape
    """Fired rules as Rich markup lines: rule and kind, the matched facts, mitigation, source."""
    lines = []
    for reason in reasons:
        style = VERDICT_STYLE["contraindicated" if reason.kind == "absolute" else "caution"]
        lines.append(f"[{style}]{escape(reason.rule)}[/] ({reason.kind}): {escape(reason.text)}")
        lines.append(f"  because: {escape('; '.join(reason.matched))}")
        if reason.mitigation:
            lines.append(f"  mitigation: {escape(reason.mitigation)}")
        lines.append(f"  source: {escape(reason.source)}")
    return "\n".join(lines)
