"""``dermatrack plan``: ranked treatment options and a proposed course for a patient file."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer

from dermatrack.cli.output import JSON_OPTION_HELP

if TYPE_CHECKING:
    from dermatrack.clinic.planning import Plan


def register(app: typer.Typer) -> None:
    """Add the top-level ``plan`` command to ``app``."""

    @app.command("plan")
    def plan_command(
        patient: str = typer.Argument(..., metavar="PATIENT.json",
                                      help="Patient file with concerns (code, region, "
                                           "severity 1-4) and screening facts."),
        start: str | None = typer.Option(None, "--start",
                                         help="Date of the first session YYYY-MM-DD "
                                              "(default: the screening date)."),
        on: str | None = typer.Option(None, "--on",
                                      help="Screening date YYYY-MM-DD (default today)."),
        as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
    ) -> None:
        """Rank the modalities that address the patient's concerns and propose a series."""
        from dermatrack.cli.output import emit_json
        from dermatrack.cli.screen import load_patient_file, parse_date_option
        from dermatrack.clinic.planning import plan
        from dermatrack.knowledge.modalities import load_modalities

        day = parse_date_option(on, "--on", dt.date.today())
        first = parse_date_option(start, "--start", day)
        profile = load_patient_file(patient, day)
        result = plan(profile, load_modalities(), start=first, on=day)
        if as_json:
            emit_json(result.to_dict())
            return
        _print_plan(result)


def _print_plan(result: Plan) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dermatrack.cli.output import console
    from dermatrack.cli.screen import VERDICT_STYLE, reasons_markup

    table = Table(title=f"Treatment options (screened {result.on.isoformat()}, "
                        f"first session {result.start.isoformat()})", show_lines=True)
    for column in ("#", "Modality", "Score", "Verdict", "Addresses", "Sessions",
                   "Mitigations and combinations"):
        table.add_column(column)
    for rank, item in enumerate(result.recommended, start=1):
        addresses = "\n".join(f"{a['concern']} ({a['region']}, severity {a['severity']})"
                              for a in item.addresses)
        sessions = "\n".join(f"{s['n']}: {s['date']}" for s in item.sessions)
        notes = [f"[yellow]{escape(m['rule'])}[/]: {escape(m['mitigation'] or '')}"
                 for m in item.mitigations]
        notes += [f"with {escape(c['with'])}: {escape(c['note'])}" for c in item.combinations]
        table.add_row(str(rank), item.modality, f"{item.score:.1f}",
                      f"[{VERDICT_STYLE[item.verdict]}]{item.verdict}[/]", addresses, sessions,
                      "\n".join(notes) or "-")
    if result.recommended:
        console.print(table)
    else:
        console.print("No modality that addresses these concerns can be recommended.")
    if result.excluded:
        excluded = Table(title="Left out", show_lines=True)
        excluded.add_column("Modality", style="bold")
        excluded.add_column("Addresses")
        excluded.add_column("Why")
        for left_out in result.excluded:
            why = reasons_markup(left_out.reasons, escape)
            why += "".join(f"\nnot for {escape(r['region'])}: {escape(r['text'])}"
                           for r in left_out.region_exclusions)
            if left_out.eligible_from is not None:
                why += f"\n[green]possible from {left_out.eligible_from.isoformat()}[/]"
            excluded.add_row(left_out.modality, ", ".join(left_out.addresses), why.strip())
        console.print(excluded)
    for item in result.recommended:
        follow_up = ", ".join(f"{a['timepoint']} {a['date']}" for a in item.assessments
                              if not a["timepoint"].startswith("session_"))
        console.print(f"[bold]{item.name}[/]: assessments {follow_up}; "
                      f"downtime {item.downtime_days['min']:g}-{item.downtime_days['max']:g} days")
