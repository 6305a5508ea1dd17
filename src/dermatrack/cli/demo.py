"""``dermatrack demo``: build a synthetic clinic and show the whole system working.

It records N synthetic patients across all modalities and Fitzpatrick types (intake,
consent, screening, plan, sessions, reactions and adverse events, scale scores, device
readings, photographs at baseline and follow-ups), analyses every photograph, writes
``DIR/reports/index.html`` and prints efficacy and safety by modality, and the true
simulated change beside the estimated one. See :mod:`dermatrack.demo.build`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dermatrack.cli.output import (
    JSON_OPTION_HELP,
    console,
    emit_json,
    err_console,
    progress_bar,
)

SYNTHETIC_BANNER = ("SYNTHETIC DATA: every patient, photograph and measurement in this demo "
                    "clinic is generated; none describes a real person.")


def _progress_callback(progress: Any) -> Any:
    tasks: dict[str, Any] = {}

    def tick(stage: str, total: int | None) -> None:
        if total is not None:
            tasks[stage] = progress.add_task(stage, total=total)
        else:
            progress.advance(tasks[stage])

    return tick


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _rate(proportion: dict[str, Any]) -> str:
    if proportion.get("rate") is None:
        return "–"
    return (f"{proportion['successes']}/{proportion['n']} {100 * proportion['rate']:.0f}% "
            f"({100 * proportion['ci_low']:.0f}–{100 * proportion['ci_high']:.0f})")


def _summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    responders = {row["modality"]: row for row in summary.get("responders", {}).get(
        "modality", [])}
    rows = []
    for modality, safety in summary.get("safety", {}).items():
        if modality == "all":
            continue
        rows.append({"modality": modality, "patients": safety["n_patients"],
                     "sessions": safety["n_sessions"],
                     "responders": responders.get(modality),
                     "adverse_events": safety["any_event"]["n_events"],
                     "ae_per_patient": safety["any_event"]["per_patient"],
                     "ae_per_session": safety["any_event"]["per_session"]})
    return rows


def _shown_url(url: str) -> str:
    """A database URL as it may be printed (no password)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def demo_command(
    patients: int = typer.Option(40, "--patients", min=1, help="Number of synthetic patients."),
    out: Path = typer.Option(Path("demo"), "--out", help="Directory of the demo clinic."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice."),
    quick: bool = typer.Option(False, "--quick",
                               help="Smaller photographs and fewer repeatability captures."),
    workers: int = typer.Option(2, "--workers", min=1,
                                help="Processes that render and analyse photographs (with "
                                "--no-photos: that simulate the device readings)."),
    no_photos: bool = typer.Option(
        False, "--no-photos", help="Render no photograph: draw photo observations from the "
        "simulated truth and load patients in batches (thousands in minutes)."),
    database: str | None = typer.Option(
        None, "--database", help="An empty database to load into (e.g. postgresql+psycopg://...) "
        "instead of DIR/dermatrack.db."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Build a synthetic demo clinic in DIR, analyse it and write its reports.

    It also creates demo web accounts, one per role (demo-clinician,
    demo-reception, demo-researcher, demo-admin), with random passwords
    printed once at the end of the summary: sign in with them to
    `dermatrack serve --data DIR`.
    """
    from dermatrack.demo.build import build_demo

    err_console.print(SYNTHETIC_BANNER)
    with progress_bar() as bar:
        result = build_demo(out, n_patients=patients, seed=seed, quick=quick,
                            workers=workers, progress=_progress_callback(bar),
                            photos=not no_photos, database_url=database)
    rows = _summary_rows(result.summary)
    if as_json:
        emit_json({"synthetic": True, "out": str(result.out),
                   "database": _shown_url(database) if database
                   else str(result.out / "dermatrack.db"),
                   "reports": str(result.index), "patients": result.patients,
                   "treated": result.treated, "by_modality": rows,
                   "true_vs_estimated": result.true_vs_estimated,
                   "pih_by_fitzpatrick": result.summary.get("pih", {}),
                   "demo_accounts": [{"username": a.username, "role": a.role,
                                      "password": a.password} for a in result.accounts]})
        return
    _print(result, rows)


#: Width of the printed tables when stdout is not a terminal (Rich would use 80).
PIPE_WIDTH = 130


def _print(result: Any, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    # A pipe or file gets wide tables: Rich would fold them at 80 columns.
    out = console if console.is_terminal else Console(highlight=False, width=PIPE_WIDTH)

    console.print(f"[bold]{SYNTHETIC_BANNER}[/bold]")
    table = Table(title="Efficacy and safety by modality (synthetic demo data)",
                  title_justify="left")
    for name in ("Modality", "Patients", "Sessions", "Responders (95% CI)", "AEs",
                 "Patients with AE (95% CI)", "Sessions with AE (95% CI)"):
        table.add_column(name, justify="left" if name == "Modality" else "right",
                         overflow="fold")
    for row in rows:
        table.add_row(row["modality"], str(row["patients"]), str(row["sessions"]),
                      _rate(row["responders"]) if row["responders"] else "–",
                      str(row["adverse_events"]), _rate(row["ae_per_patient"]),
                      _rate(row["ae_per_session"]))
    out.print(table)
    check = Table(title="TRUE simulated vs ESTIMATED mean change, baseline to month 3 "
                        "(phantom patients)", title_justify="left")
    for name in ("Modality", "Metric", "n", "TRUE change", "ESTIMATED change", "95% CI"):
        check.add_column(name, justify="left" if name in ("Modality", "Metric") else "right",
                         overflow="fold")
    for row in result.true_vs_estimated:
        interval = ("–" if row["ci_low"] is None
                    else f"{_fmt(row['ci_low'])} to {_fmt(row['ci_high'])}")
        check.add_row(row["modality"], row["metric"], str(row["n"]),
                      _fmt(row["true_mean_change"]), _fmt(row["estimated_mean_change"]),
                      interval)
    out.print(check)
    console.print(f"Clinic: {result.out / 'dermatrack.db'} (open it with "
                  f"DERMATRACK_DATA_DIR={result.out})")
    console.print(f"Reports: {result.index}")
    accounts = Table(title=f"Demo web accounts (synthetic clinic only; sign in to "
                           f"`dermatrack serve --data {result.out}`)", title_justify="left")
    for name in ("Username", "Role", "Password"):
        accounts.add_column(name, no_wrap=True)
    for account in result.accounts:
        accounts.add_row(account.username, account.role, account.password)
    out.print(accounts)
    console.print("These are demo accounts with random passwords shown only now; "
                  "they guard synthetic data and nothing else.")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
