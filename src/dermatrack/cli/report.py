"""``dermatrack report``: progress reports of a patient and of the cohort (HTML or PDF).

``report patient ID`` and ``report cohort [--modality CODE]`` write one standalone HTML
file (images embedded) or, with ``--pdf``, a PDF. Without ``--out`` the file is named
after the report in the current directory.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dermatrack.cli.output import JSON_OPTION_HELP, console, emit_json
from dermatrack.errors import InputError

report_app = typer.Typer(name="report", help="Patient progress and cohort reports (HTML/PDF).",
                         no_args_is_help=True)


def _write(out: Path, data: bytes | str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            out.write_text(data, encoding="utf-8")
        else:
            out.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}", field="out") from exc


def _done(out: Path, as_json: bool, **fields: object) -> None:
    if as_json:
        emit_json({"path": str(out), **fields})
    else:
        console.print(f"Wrote {out}")


@report_app.command("patient")
def patient_command(
    patient_id: str = typer.Argument(..., help="Pseudonymous patient id (P-XXXXXX)."),
    pdf: bool = typer.Option(False, "--pdf", help="Write a PDF instead of HTML."),
    out: Path | None = typer.Option(None, "--out", help="File to write."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Aligned before/after photographs, trajectories, scales, plan, sessions and events."""
    # The chart read is recorded in the audit trail as $DERMATRACK_ACTOR, else the login
    # name (the report service reads and records it in one transaction).
    from dermatrack.cli._input import actor_name
    from dermatrack.errors import NotFoundError
    from dermatrack.services.common import open_store
    from dermatrack.services.reports import patient_report_html, patient_report_pdf

    out = out or Path(f"report-{patient_id}.{'pdf' if pdf else 'html'}")
    with open_store() as store:
        try:
            if pdf:
                data: bytes | str = patient_report_pdf(store, patient_id,
                                                       actor=actor_name(None),
                                                       purpose="cli report pdf")
            else:
                data = patient_report_html(store, patient_id, actor=actor_name(None),
                                           purpose="cli report html")
        except InputError as exc:
            if exc.field == "patient_id":
                raise NotFoundError(f"no patient {patient_id!r}") from None
            raise
    _write(out, data)
    _done(out, as_json, patient_id=patient_id, format="pdf" if pdf else "html")


@report_app.command("sheet")
def sheet_command(
    patient_id: str = typer.Argument(..., help="Pseudonymous patient id (P-XXXXXX)."),
    pdf: bool = typer.Option(False, "--pdf", help="Write a PDF instead of HTML."),
    out: Path | None = typer.Option(None, "--out", help="File to write."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """The patient sheet: each visit's face with the features found in colour, per-region
    figures and their change since baseline in plain words, clinic percentiles."""
    from dermatrack.cli._input import actor_name
    from dermatrack.errors import NotFoundError
    from dermatrack.services.common import open_store
    from dermatrack.services.reports import patient_sheet_html, patient_sheet_pdf

    out = out or Path(f"sheet-{patient_id}.{'pdf' if pdf else 'html'}")
    with open_store() as store:
        try:
            data: bytes | str = (
                patient_sheet_pdf(store, patient_id, actor=actor_name(None),
                                  purpose="cli sheet pdf") if pdf
                else patient_sheet_html(store, patient_id, actor=actor_name(None),
                                        purpose="cli sheet html"))
        except InputError as exc:
            if exc.field == "patient_id":
                raise NotFoundError(f"no patient {patient_id!r}") from None
            raise
    _write(out, data)
    _done(out, as_json, patient_id=patient_id, format="pdf" if pdf else "html")


@report_app.command("cohort")
def cohort_command(
    modality: str | None = typer.Option(None, "--modality", help="Only this modality."),
    pdf: bool = typer.Option(False, "--pdf", help="Write a PDF instead of HTML."),
    out: Path | None = typer.Option(None, "--out", help="File to write."),
    deidentified: bool = typer.Option(
        False, "--deidentified", help="No patient ids: the report researchers may see."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Forest plot and tables by modality and Fitzpatrick group, responders, safety, PIH."""
    from dermatrack.services.common import open_store

    out = out or Path(f"cohort-report{'-' + modality if modality else ''}."
                      f"{'pdf' if pdf else 'html'}")
    with open_store() as store:
        from dermatrack.services.reports import cohort_report_html, cohort_report_pdf

        if pdf:
            data: bytes | str = cohort_report_pdf(store, modality=modality,
                                                    deidentified=deidentified)
        else:
            data = cohort_report_html(store, modality=modality, deidentified=deidentified)
    _write(out, data)
    _done(out, as_json, modality=modality, format="pdf" if pdf else "html")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
