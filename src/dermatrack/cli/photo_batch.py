"""``dermatrack photo batch INPUT... --out results.parquet``: many photographs as one job,
on local worker processes or a Dask cluster (:mod:`dermatrack.services.batch`)."""

from __future__ import annotations

from pathlib import Path

import typer

from dermatrack.cli.output import (
    JSON_OPTION_HELP,
    console,
    emit_json,
    err_console,
    progress_bar,
)


def batch_cmd(
    inputs: list[Path] = typer.Argument(..., help="Photographs, folders (searched "
                                        "recursively) or list files (.txt/.csv/.lst: one "
                                        "path a line, or CSV with path[,patient_id,visit_id])."),
    out: Path = typer.Option(..., "--out", help="Results: a Parquet file (or JSON lines "
                             "with --jsonl). An existing one is resumed."),
    jsonl: bool = typer.Option(False, "--jsonl", help="Write JSON lines instead of Parquet."),
    store: bool = typer.Option(False, "--store", help="Also import each photograph and its "
                               "metrics into the clinic (needs a patient per photo)."),
    patient: str | None = typer.Option(None, "--patient", help="Patient of every photo "
                                       "without one in the list file (with --store)."),
    visit: str | None = typer.Option(None, "--visit", help="Visit of every photo without "
                                     "one in the list file (with --store)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Local worker processes."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address "
                                         "(tcp://HOST:8786) to run on instead of local "
                                         "processes."),
    mm_per_px: float | None = typer.Option(None, "--mm-per-px", help="Pixel size in mm."),
    no_face: bool = typer.Option(False, "--no-face", help="Analyse as one region (close-up)."),
    no_chart: bool = typer.Option(False, "--no-chart", help="Skip the ColorChecker search "
                                  "(photographs taken without a chart)."),
    per_task: int = typer.Option(1, "--per-task", min=1, help="Photos per Dask task."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Analyse many photographs as one resumable job; rows stream to --out as each finishes.

    An unreadable photograph becomes an error row and the batch goes on; a rerun skips
    photographs already analysed (same content hash), so a killed batch resumes.
    """
    from dermatrack.cli._input import check_scale
    from dermatrack.config import load_settings
    from dermatrack.services.batch import BatchOptions, collect_inputs, run_batch

    check_scale(mm_per_px)
    items = collect_inputs(inputs, patient_id=patient, visit_id=visit)
    options = BatchOptions(mm_per_px=mm_per_px, use_face=not no_face, store=store,
                           calibrate=not no_chart)
    if store:
        from dermatrack.services.common import open_store

        settings = load_settings()
        with open_store(settings):  # create or upgrade the database once, here
            pass
        options.data_dir = str(settings.data_dir.resolve())
        options.database_url = settings.database_url
    with progress_bar("photos") as bar:
        task = bar.add_task("Analysing photographs", total=len(items) or 1)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done)

        summary = run_batch(items, out, options=options, jsonl=jsonl, workers=workers,
                            scheduler=scheduler, progress=tick, per_task=per_task)
    result = summary.to_dict()
    if as_json:
        emit_json(result)
        return
    rate = result["photos_per_second"]
    console.print(f"Wrote {out}: {summary.analysed} analysed, {summary.skipped} already done, "
                  f"{summary.errors} errors, {summary.rows} rows in {summary.seconds:.1f} s"
                  + (f" ({rate:.2f} photos/s)" if rate else ""))
    for path in summary.error_paths[:10]:
        err_console.print(f"error: {path} (see its error row)")


def register(app: typer.Typer) -> None:
    from dermatrack.cli.photo import photo_app

    photo_app.command("batch")(batch_cmd)
