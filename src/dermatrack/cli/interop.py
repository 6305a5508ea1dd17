"""``dermatrack import fhir``, ``dermatrack push dicom`` and ``dermatrack pull dicom``:
exchange with other systems (FHIR R4 bundles, DICOMweb servers).

The exports themselves are ``dermatrack export --format fhir|dicom`` (:mod:`.export`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from dermatrack.cli.output import JSON_OPTION_HELP, console, emit_json, err_console

import_app = typer.Typer(name="import", help="Import records from other systems.",
                         no_args_is_help=True)
push_app = typer.Typer(name="push", help="Send data to another system.", no_args_is_help=True)
pull_app = typer.Typer(name="pull", help="Fetch data from another system.",
                       no_args_is_help=True)

ACTOR_HELP = ("Who makes the change, for the audit trail (default: $DERMATRACK_ACTOR, else "
              "$USER, else 'cli').")


@import_app.command("fhir")
def import_fhir_cmd(
    file: Path = typer.Argument(..., help="FHIR R4 Bundle (JSON), e.g. from "
                                          "'dermatrack export --format fhir'."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Store the records of a FHIR Bundle, keeping their ids.

    The whole bundle is checked first (structure with fhir.resources, codes, references,
    photograph files and digests); any problem is reported naming the entry, resource
    and field, and nothing is stored.
    """
    from dermatrack.cli._input import actor_name
    from dermatrack.services.common import open_store
    from dermatrack.services.fhir import import_fhir

    with open_store() as store:
        result = import_fhir(store, file, actor=actor_name(actor))
    if as_json:
        emit_json(result)
        return
    stored = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in
                       result["stored"].items()) or "nothing"
    console.print(f"Imported from {file}: {stored}.")
    if result["skipped"]:
        skipped = ", ".join(f"{n} {kind}" for kind, n in result["skipped"].items())
        console.print(f"Derived resources read but not stored: {skipped}.")


@push_app.command("dicom")
def push_dicom_cmd(
    url: str = typer.Option(..., "--url", help="DICOMweb base URL (STOW-RS), e.g. "
                                               "http://pacs:8042/dicom-web"),
    patient: str | None = typer.Option(None, "--patient", help="One patient only."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Send the photographs as DICOM VL Photographic Images to a DICOMweb server."""
    from dermatrack.cli._input import actor_name
    from dermatrack.services.common import open_store
    from dermatrack.services.dicom import push_dicom

    with open_store() as store:
        result = push_dicom(store, url, actor=actor_name(actor), patient_id=patient)
    if as_json:
        emit_json(result)
        return
    console.print(f"Sent {result['sent']} photographs to {url} (STOW-RS).")


@pull_app.command("dicom")
def pull_dicom_cmd(
    url: str = typer.Option(..., "--url", help="DICOMweb base URL (QIDO-RS, WADO-RS)."),
    out: Path = typer.Option(Path("dicom-pull"), "--out",
                             help="Folder for the retrieved files."),
    patient: str | None = typer.Option(None, "--patient", help="One patient only."),
    store_them: bool = typer.Option(False, "--import",
                                    help="Also import each photograph into the clinic (one "
                                         "already stored with the same pixels is skipped)."),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Find a server's photographs (QIDO-RS) and retrieve them (WADO-RS).

    Each file is written whole or not at all, readable by its owner only when new, like
    the files of 'dermatrack export'.
    """
    from dermatrack.cli._input import actor_name
    from dermatrack.cli._signals import signals_raise
    from dermatrack.services.dicom import pull_dicom

    # SIGTERM and SIGHUP unwind like Ctrl-C, so that a partial file is removed.
    with signals_raise():
        if store_them:
            from dermatrack.services.common import open_store

            with open_store() as store:
                result = pull_dicom(url, out, patient_id=patient, store=store,
                                    actor=actor_name(actor))
        else:
            result = pull_dicom(url, out, patient_id=patient)
    for name in result["stale_partials_removed"]:  # on stderr
        err_console.print(f"Removed {out / name}: a partial file left by a pull that was "
                          "killed.", soft_wrap=True)
    for item in result["refused"]:
        err_console.print(f"Refused instance {item['sop_instance_uid']!r} from {url}: "
                          f"{item['reason']}.", soft_wrap=True)
    if as_json:
        emit_json(result)
        return
    console.print(f"Retrieved {result['pulled']} photographs from {url} into {out}.")
    if store_them:
        console.print(f"Imported {result['imported']}; {result['already_stored']} were "
                      "already stored.")


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(push_app, name="push")
    app.add_typer(pull_app, name="pull")
