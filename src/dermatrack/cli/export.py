"""``dermatrack export``: the de-identified research dataset (CSV or Parquet), the record
as a FHIR R4 Bundle, or the photographs as DICOM files.

What is removed and how subjects and dates are protected is described in
:mod:`dermatrack.services.export` (CSV, Parquet) and :mod:`dermatrack.services.fhir`;
the DICOM files are described in :mod:`dermatrack.services.dicom`.
"""

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
from dermatrack.errors import InputError

FORMATS = ("csv", "parquet", "fhir", "dicom")


def export_command(
    format: str = typer.Option(..., "--format", help="csv, parquet, fhir or dicom."),
    out: Path = typer.Option(..., "--out", help="File to write (a folder for dicom)."),
    patient: str | None = typer.Option(None, "--patient",
                                       help="fhir, dicom: one patient only (P-XXXXXX)."),
    deidentified: bool = typer.Option(False, "--deidentified",
                                      help="fhir: re-keyed ids, shifted dates, no identity, "
                                           "free text, lots or photographs."),
    with_identity: bool = typer.Option(False, "--with-identity",
                                       help="fhir: include names and contacts (audited)."),
    transaction: bool = typer.Option(False, "--transaction",
                                     help="fhir: a transaction Bundle (PUT of each resource) "
                                          "instead of a collection."),
    actor: str | None = typer.Option(None, "--actor",
                                     help="Who exports, for the audit trail (fhir, dicom)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Write a de-identified long table (csv, parquet), the clinical record as a FHIR R4
    Bundle (fhir), or every photograph as a DICOM VL Photographic Image (dicom).

    CSV and Parquet are always de-identified: subjects get fresh random codes on every
    export and each patient's dates are shifted by a secret random offset. A FHIR bundle
    is pseudonymous by default (dermatrack's ids, no names), with identities only when
    asked for, or de-identified with --deidentified. DICOM files carry the pseudonymous
    patient id, never a name.

    CSV, Parquet and the FHIR bundle are written to a hidden partial file beside --out
    (.NAME.*.part, readable by its owner only) that replaces --out when complete; it is
    removed when the export fails or is stopped (Ctrl-C, SIGTERM, SIGHUP). The partial
    file of an export that was killed outright (SIGKILL, a power cut) is removed by the
    next export to the same file, which says so; one a running export is writing is left
    alone. A new export file is readable by its owner only; a replaced one keeps its
    permissions. Each DICOM file is written the same way (a stopped DICOM export can
    leave some of the files, each one whole).
    """
    from dermatrack.cli._input import actor_name
    from dermatrack.cli._signals import signals_raise

    if format not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}",
                         field="format")
    fhir_only = {"--deidentified": deidentified, "--with-identity": with_identity,
                 "--transaction": transaction}
    for flag, given in fhir_only.items():
        if given and format != "fhir":
            raise InputError(f"{flag} applies to --format fhir only", field=flag.strip("-"))
    if patient is not None and format in ("csv", "parquet"):
        raise InputError("--patient applies to fhir and dicom exports only "
                         "(the research table is the whole cohort)", field="patient")
    from dermatrack.services.common import open_store

    # SIGTERM and SIGHUP unwind like Ctrl-C, so that the export's partial file is removed.
    with signals_raise(), open_store() as store:
        if format == "fhir":
            from dermatrack.services.fhir import export_fhir

            result = export_fhir(store, out, actor=actor_name(actor), patient_id=patient,
                                 deidentified=deidentified, with_identity=with_identity,
                                 transaction=transaction)
        elif format == "dicom":
            from dermatrack.services.dicom import export_dicom

            result = export_dicom(store, out, actor=actor_name(actor), patient_id=patient)
        else:
            from dermatrack.services.export import export_dataset

            with progress_bar("patients") as bar:
                task = bar.add_task("Exporting patients", total=None)

                def tick(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                result = export_dataset(store, out, format=format,  # type: ignore[arg-type]
                                        progress=tick)
    # Names beside the file (csv, parquet, fhir), or relative to the folder (dicom).
    folder = Path(result["out"]) if format == "dicom" else Path(result["path"]).parent
    for name in result.get("stale_partials_removed", ()):  # on stderr
        err_console.print(f"Removed {folder / name}: a partial export "
                          "left by an export that was killed.", soft_wrap=True)
    if as_json:
        emit_json(result)
        return
    if format == "fhir":
        total = sum(result["resources"].values())
        kind = ("de-identified" if deidentified else
                "with identities" if with_identity else "pseudonymous")
        console.print(f"Wrote a FHIR R4 {result['type']} Bundle of {total} resources for "
                      f"{result['patients']} patients to {result['path']} ({kind}; every "
                      "resource validated).")
        if result["photos_dir"]:
            console.print(f"Photographs referenced by the Media resources: "
                          f"{result['photos_dir']}")
    elif format == "dicom":
        console.print(f"Wrote {result['photos']} DICOM VL Photographic Images to "
                      f"{result['out']}.")
    else:
        console.print(f"Wrote {result['rows']} rows for {result['subjects']} subjects to "
                      f"{result['path']} ({format}; de-identified: re-keyed subjects, "
                      "shifted dates, no identities, notes or photo metadata).")


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
