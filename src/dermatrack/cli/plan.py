"""``dermatrack plan``: ranked treatment options and a proposed course for a patient file."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer

from dermatrack.cli._input import parse_date_option
from dermatrack.cli.output import json_option

if TYPE_CHECKING:
    from rich.console import RenderableType

    from dermatrack.clinic.planning import Plan, Recommendation


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
        as_json: bool = json_option(),
    ) -> None:
        """Rank the modalities that address the patient's concerns and propose a series."""
        from dermatrack.cli.output import emit_json
        from dermatrack.cli.screen import load_patient_file
        from dermatrack.clinic.planning import plan
        from dermatrack.knowledge.modalities import load_modalities
        from dermatrack.knowledge.vocabulary import load_vocabulary

        day = parse_date_option(on, "--on", dt.date.today())
        first = parse_date_option(start, "--start", day)
        profile = load_patient_file(patient, day)
        result = plan(profile, load_modalities(load_vocabulary()), start=first, on=day)
        if as_json:
            emit_json(result.to_dict())
            return
        _print_plan(result)


def _print_plan(result: Plan) -> None:
    """A ranking table, then one panel per recommended modality, then those left out.

    The panels hold what does not fit a table column at 80 characters: the session dates
    and default parameters, mitigations, combinations, pre- and post-care.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from dermatrack.cli.output import console
    from dermatrack.cli.screen import print_warnings

    print_warnings(result.warnings)
    from dermatrack.cli.screen import VERDICT_STYLE, reasons_view

    if not result.recommended:
        console.print("No modality that addresses these concerns can be recommended.")
    else:
        table = Table(title=f"Treatment options (screened {result.on.isoformat()}, first "
                            f"session {result.start.isoformat()})", title_justify="left",
                      box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("Modality", style="bold", overflow="fold",
                         min_width=len("hydroxylapatite"))
        table.add_column("Score", justify="right", no_wrap=True)
        table.add_column("Verdict", no_wrap=True)
        # Each concern stays on one line; the modality names wrap instead.
        table.add_column("Addresses (region, severity)", no_wrap=True)
        for rank, item in enumerate(result.recommended, start=1):
            addresses = "\n".join(f"{a['concern']} ({a['region']}, {a['severity']})"
                                  for a in item.addresses)
            table.add_row(str(rank), item.name, f"{item.score:.1f}",
                          Text(item.verdict, style=VERDICT_STYLE[item.verdict]),
                          Text(addresses))
        console.print(table)
        for rank, item in enumerate(result.recommended, start=1):
            console.print(_recommendation_panel(rank, item))
    if result.excluded:
        console.print(Text("Left out", style="bold"))
        for left_out in result.excluded:
            console.print(Text.assemble("  ", (left_out.modality, "bold"), " (addresses ",
                                        ", ".join(left_out.addresses), ")"))
            console.print(reasons_view(left_out.reasons, indent=4))
            for ban in left_out.region_exclusions:
                console.print(Text(f"    not for {ban['region']}: {ban['text']}"))
            if left_out.eligible_from is not None:
                console.print(Text(f"    possible from {left_out.eligible_from.isoformat()}",
                                   style="green"))


def _recommendation_panel(rank: int, item: Recommendation) -> RenderableType:
    """One recommended modality's course as a titled panel of labelled lines."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from dermatrack.cli.output import label_grid
    from dermatrack.cli.screen import VERDICT_STYLE

    rows: list[tuple[str | Text, str | RenderableType]] = [
        ("Code", item.modality),
        ("Sessions", ", ".join(f"{s['n']}: {s['date']}" for s in item.sessions))]
    first = item.sessions[0]["parameters"] if item.sessions else {}
    rows += [("Parameters", f"{region}: " + ", ".join(
        _parameter_text(name, p["value"], p["unit"]) for name, p in parameters.items()))
        for region, parameters in first.items()]
    if item.maintenance:
        rows.append(("Maintenance", item.maintenance))
    low, high = item.downtime_days["min"], item.downtime_days["max"]
    rows.append(("Downtime", f"{low:g} days" if low == high else f"{low:g}-{high:g} days"))
    rows.append(("Assessments", ", ".join(
        f"{a['timepoint']} {a['date']}" for a in item.assessments
        if not a["timepoint"].startswith("session_")) + " and at each session"))
    rows += [(Text("Mitigation", style="yellow"),
              f"{m['mitigation'] or ''} ({m['rule']})") for m in item.mitigations]
    rows += [("Combine with", f"{c['with']}: {c['note']}") for c in item.combinations]
    rows += [(Text("Not for", style="red"), f"{ban['region']}: {ban['text']}")
             for ban in item.region_exclusions]
    for label, steps in (("Pre-care", item.pre_care), ("Post-care", item.post_care)):
        if steps:
            bullets = Table.grid(padding=(0, 1))
            bullets.add_column(no_wrap=True)
            bullets.add_column(overflow="fold")
            for step in steps:
                bullets.add_row("-", Text(step))
            rows.append((label, bullets))
    title = Text.assemble(f"{rank}. ", (item.name, "bold"), ", ",
                          (item.verdict, VERDICT_STYLE[item.verdict]),
                          f", score {item.score:.1f}")
    return Panel(label_grid(rows, label_style="bold"), title=title, title_align="left")


def _parameter_text(name: str, value: float, unit: str) -> str:
    """``needle_depth 1.5 mm``; a unit the name already says (``passes``) is left out.

    A no-break space joins the value to its unit so that a line never splits them.
    """
    if unit in name.split("_"):
        return f"{name} {value:g}"
    return f"{name} {value:g}\u00a0{unit}"
