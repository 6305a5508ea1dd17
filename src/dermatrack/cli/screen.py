"""``dermatrack screen``: contraindication screening of a patient file.

Also holds what ``dermatrack plan`` shares with it: reading ``PATIENT.json``, the verdict
styles and the terminal view of fired rules.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dermatrack.cli._input import parse_date_option, read_text
from dermatrack.cli.output import json_option

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.console import RenderableType

    from dermatrack.clinic.intake import PatientProfile, PlausibilityWarning
    from dermatrack.clinic.screening import Reason, ScreeningResult

#: Rich style of each verdict.
VERDICT_STYLE = {"contraindicated": "bold red", "caution": "yellow", "suitable": "green"}


def load_patient_file(path: str, on: dt.date) -> PatientProfile:
    """Read and check ``PATIENT.json``; a missing, unreadable or invalid file is an InputError."""
    from dermatrack.clinic.intake import load_patient_json
    from dermatrack.knowledge.vocabulary import load_vocabulary

    file = Path(path)
    return load_patient_json(read_text(file, field="PATIENT.json"), source=file.name, on=on,
                             vocabulary=load_vocabulary())


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
        as_json: bool = json_option(),
    ) -> None:
        """Is each modality safe for this patient now: contraindicated, caution or suitable."""
        from dermatrack.cli.output import emit_json
        from dermatrack.clinic.screening import screen
        from dermatrack.knowledge.modalities import load_modalities
        from dermatrack.knowledge.vocabulary import load_vocabulary

        day = parse_date_option(on, "--on", dt.date.today())
        profile = load_patient_file(patient, day)
        result = screen(profile, load_modalities(load_vocabulary()), day, only=modality)
        if as_json:
            emit_json(result.to_dict())
            return
        _print_screening(result)


def print_warnings(warnings: Iterable[PlausibilityWarning]) -> None:
    """Plausibility warnings first, so that a contradictory fact is checked before use."""
    from rich.text import Text

    from dermatrack.cli.output import console

    for warning in warnings:
        console.print(Text.assemble(("check: ", "bold yellow"), warning.message,
                                    (f" ({warning.field})", "dim")))


def _print_screening(result: ScreeningResult) -> None:
    """Any plausibility warnings, a one-line-per-modality summary, then each fired rule."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from dermatrack.cli.output import console

    print_warnings(result.warnings)

    table = Table(title=f"Contraindication screening on {result.on.isoformat()}",
                  title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Modality", style="bold", overflow="fold")
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Rules that fire", overflow="fold")
    for item in result.results:
        # The modality's own code prefixes each of its rule ids; the summary drops it.
        rules = ", ".join(reason.rule.removeprefix(f"{item.modality}.")
                          for reason in item.reasons)
        table.add_row(item.modality, Text(item.verdict, style=VERDICT_STYLE[item.verdict]),
                      rules or "-")
    console.print(table)
    for item in result.results:
        if item.reasons:
            console.print(Text.assemble((item.modality, "bold"), ": ",
                                        (item.verdict, VERDICT_STYLE[item.verdict])))
            console.print(reasons_view(item.reasons))
            console.print()


def reasons_view(reasons: Iterable[Reason], *, indent: int = 2) -> RenderableType:
    """Fired rules for a terminal.

    Each rule is its id and kind, over an indented grid of why it applies, the facts that
    matched, the mitigation and the source; long text wraps within its own column.
    """
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    from dermatrack.cli.output import label_grid

    parts: list[RenderableType] = []
    for reason in reasons:
        style = VERDICT_STYLE["contraindicated" if reason.kind == "absolute" else "caution"]
        parts.append(Padding(Text.assemble((reason.rule, style), f" ({reason.kind})"),
                             (0, 0, 0, indent)))
        rows = [("why", reason.text), ("because", "; ".join(reason.matched))]
        if reason.mitigation:
            rows.append(("mitigation", reason.mitigation))
        rows.append(("source", reason.source))
        parts.append(label_grid(rows, indent=indent + 2, label_width=len("mitigation")))
    return Group(*parts)
