"""The clinic's day on the command line: ``appointment``, ``recall``, ``product`` and
``consent`` (templates and signed documents)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dermatrack.cli._input import actor_name
from dermatrack.cli.output import console, emit_json, json_option
from dermatrack.errors import InputError

if TYPE_CHECKING:
    from dermatrack.services.common import Store

ACTOR_HELP = ("Who makes the change, for the audit trail (default: $DERMATRACK_ACTOR, else "
              "$USER, else 'cli').")

appointment_app = typer.Typer(help="Book, list and update appointments; book a plan.",
                              no_args_is_help=True)
recall_app = typer.Typer(help="Who is due for a session or an assessment; who received a "
                              "lot.", no_args_is_help=True)
product_app = typer.Typer(help="The product catalogue and its stock lots.",
                          no_args_is_help=True)
consent_app = typer.Typer(help="Consent templates (versioned) and signed consent documents.",
                          no_args_is_help=True)


def _actor() -> Any:
    return typer.Option(None, "--actor", help=ACTOR_HELP)


def _open() -> Store:
    from dermatrack.services.common import open_store

    return open_store()


def _date(value: str | None, option: str, default: dt.date | None = None) -> dt.date:
    if value is None:
        if default is None:
            raise InputError(f"{option} is required", field=option.lstrip("-"))
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} takes a date YYYY-MM-DD, got {value!r}",
                         field=option.lstrip("-")) from None


def _appointment_line(a: Any) -> str:
    who = a.patient_name or a.patient_id
    room = f" room {a.room}" if a.room else ""
    extra = f" ({a.timepoint})" if a.timepoint else ""
    return (f"{a.id}  {a.date} {a.start:%H:%M} {a.minutes:>3} min  {a.kind:<12} "
            f"{a.status:<9} {a.practitioner}{room}  {who}{extra}")


# --- appointment -------------------------------------------------------------------------

@appointment_app.command("add")
def appointment_add(
    patient_id: str = typer.Argument(..., help="P-XXXXXX"),
    date: str = typer.Option(..., "--date", help="Day YYYY-MM-DD."),
    start: str = typer.Option(..., "--start", help="Local start time HH:MM."),
    practitioner: str = typer.Option(..., "--practitioner", help="Who sees the patient."),
    kind: str = typer.Option("consultation", "--kind",
                             help="consultation, session or assessment."),
    minutes: int = typer.Option(30, "--minutes", help="Length in minutes (5-480)."),
    room: str | None = typer.Option(None, "--room"),
    notes: str | None = typer.Option(None, "--notes"),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Book an appointment; exits 2 when the practitioner is busy then."""
    from dermatrack.services import appointments

    data = {"patient_id": patient_id, "date": date, "start": start,
            "practitioner": practitioner, "kind": kind, "minutes": minutes, "room": room,
            "notes": notes}
    with _open() as store:
        saved = appointments.add_appointment(store, {k: v for k, v in data.items()
                                                     if v is not None},
                                             actor=actor_name(actor))
    if as_json:
        emit_json(saved.model_dump(mode="json"))
    else:
        console.print(f"booked [bold]{saved.id}[/bold]: {_appointment_line(saved)}")


@appointment_app.command("list")
def appointment_list(
    day: str | None = typer.Option(None, "--day", help="First day YYYY-MM-DD (default today)."),
    days: int = typer.Option(1, "--days", help="How many days (7 for a week)."),
    practitioner: str | None = typer.Option(None, "--practitioner"),
    patient_id: str | None = typer.Option(None, "--patient"),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """The appointments of a day or a range of days, by time, with the patients' names
    (the read is recorded in the audit trail)."""
    from dermatrack.services import appointments

    if days < 1:
        raise InputError("--days must be at least 1", field="days")
    first = _date(day, "--day", dt.date.today())
    with _open() as store:
        rows = appointments.list_appointments(
            store, start=first, end=first + dt.timedelta(days=days - 1),
            practitioner=practitioner, patient_id=patient_id, with_names=True,
            actor=actor_name(actor))
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        console.print("no appointments")
    for row in rows:
        console.print(_appointment_line(row), markup=False, soft_wrap=True)


@appointment_app.command("update")
def appointment_update(
    appointment_id: str = typer.Argument(..., help="AP-..."),
    status: str | None = typer.Option(None, "--status",
                                      help="arrived, done, no-show or cancelled."),
    date: str | None = typer.Option(None, "--date", help="Move to this day (booked only)."),
    start: str | None = typer.Option(None, "--start", help="Move to this time HH:MM."),
    practitioner: str | None = typer.Option(None, "--practitioner"),
    room: str | None = typer.Option(None, "--room"),
    notes: str | None = typer.Option(None, "--notes"),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Change an appointment's status (forward only) or move a booked one."""
    from dermatrack.services import appointments

    data = {k: v for k, v in {"status": status, "date": date, "start": start,
                              "practitioner": practitioner, "room": room,
                              "notes": notes}.items() if v is not None}
    if not data:
        raise InputError("nothing to change: give --status, --date, --start, ...",
                         field="status")
    with _open() as store:
        saved = appointments.update_appointment(store, appointment_id, data,
                                                actor=actor_name(actor))
    if as_json:
        emit_json(saved.model_dump(mode="json"))
    else:
        console.print(_appointment_line(saved), markup=False, soft_wrap=True)


@appointment_app.command("book-plan")
def appointment_book_plan(
    plan_id: str = typer.Argument(..., help="TP-..."),
    start: str = typer.Option(..., "--start", help="Local start time HH:MM of each booking."),
    practitioner: str = typer.Option(..., "--practitioner"),
    room: str | None = typer.Option(None, "--room"),
    minutes: int = typer.Option(45, "--minutes", help="Length of a session appointment."),
    no_assessments: bool = typer.Option(False, "--no-assessments",
                                        help="Book the sessions only."),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Book a plan's open sessions and follow-up assessments (1, 3, 6 months) at once."""
    from dermatrack.services import appointments

    data = {"plan_id": plan_id, "start": start, "practitioner": practitioner,
            "minutes": minutes, "assessments": not no_assessments}
    if room:
        data["room"] = room
    with _open() as store:
        rows = appointments.book_plan(store, data, actor=actor_name(actor))
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    console.print(f"booked {len(rows)} appointments")
    for row in rows:
        console.print(_appointment_line(row), markup=False, soft_wrap=True)


# --- recall ------------------------------------------------------------------------------

@recall_app.command("list")
def recall_list(
    due_by: str = typer.Option(..., "--due-by", help="Due on or before YYYY-MM-DD."),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Patients due for a session or a follow-up assessment (photographs) that is neither
    done nor booked, most overdue first."""
    from dermatrack.services import appointments

    day = _date(due_by, "--due-by")
    with _open() as store:
        rows = appointments.recall_list(store, due_by=day, with_names=True,
                                        actor=actor_name(actor))
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        console.print(f"nobody is due by {day}")
    for r in rows:
        late = f"  {r.days_overdue} days overdue" if r.days_overdue else ""
        console.print(f"{r.due}  {r.patient_id}  {r.patient_name or '':<24} {r.what}{late}",
                      markup=False, soft_wrap=True)


@recall_app.command("lot")
def recall_lot(
    lot: str = typer.Argument(..., help="The lot (batch) number of the advisory."),
    product_id: str | None = typer.Option(None, "--product", help="PR-... when several "
                                                                  "products share the number."),
    csv_path: Path | None = typer.Option(None, "--csv", help="Also write the list as CSV."),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Every patient, session and date a lot was used for, with contacts (audited)."""
    from dermatrack.services import products

    with _open() as store:
        rows = products.recall(store, lot, product_id=product_id, actor=actor_name(actor))
    if csv_path is not None:
        try:
            csv_path.write_text(products.recall_csv(rows), encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {csv_path}: {error.strerror}", field="csv") from None
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    patients = len({r.patient_id for r in rows})
    console.print(f"lot {lot}: {patients} patients, {len(rows)} sessions")
    for r in rows:
        amount = f"{r.amount:g} {r.unit or ''}".strip() if r.amount is not None else ""
        console.print(f"{r.date}  {r.patient_id}  {r.name or '':<24} {r.phone or '':<16} "
                      f"{r.product} lot {r.lot_number}  {r.session_id}  {amount}",
                      markup=False, soft_wrap=True)


# --- product -----------------------------------------------------------------------------

@product_app.command("add")
def product_add(
    name: str = typer.Argument(...),
    manufacturer: str = typer.Option(..., "--manufacturer"),
    kind: str = typer.Option(..., "--kind", help="filler, neurotoxin, biostimulator, "
                                                 "skin_booster, peel, topical, consumable, "
                                                 "other."),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Add a product to the catalogue; prints its id (PR-...)."""
    from dermatrack.services import products

    with _open() as store:
        saved = products.add_product(store, {"name": name, "manufacturer": manufacturer,
                                             "kind": kind}, actor=actor_name(actor))
    if as_json:
        emit_json(saved.model_dump(mode="json"))
    else:
        console.print(f"product [bold]{saved.id}[/bold]: {saved.name} ({saved.manufacturer})")


@product_app.command("lot-add")
def product_lot_add(
    product_id: str = typer.Argument(..., help="PR-..."),
    lot: str = typer.Option(..., "--lot", help="Lot (batch) number."),
    expiry: str = typer.Option(..., "--expiry", help="Expiry date YYYY-MM-DD."),
    received: str | None = typer.Option(None, "--received", help="Received on YYYY-MM-DD."),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Add a stock lot; exits 2 when the product has that lot number already."""
    from dermatrack.services import products

    data = {"product_id": product_id, "lot_number": lot, "expiry": expiry}
    if received:
        data["received_on"] = received
    with _open() as store:
        saved = products.add_lot(store, data, actor=actor_name(actor))
    if as_json:
        emit_json(saved.model_dump(mode="json"))
    else:
        console.print(f"lot [bold]{saved.id}[/bold]: {saved.lot_number}, expires {saved.expiry}")


@product_app.command("list")
def product_list(as_json: bool = json_option()) -> None:
    """The catalogue with each product's lots."""
    from dermatrack.services import products

    with _open() as store:
        rows = products.list_products(store)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    for p in rows:
        lots = ", ".join(f"{lot.lot_number} ({lot.id}, exp. {lot.expiry})" for lot in p.lots)
        console.print(f"{p.id}  {p.name} · {p.manufacturer} · {p.kind}: {lots or 'no lots'}",
                      markup=False, soft_wrap=True)


# --- consent -----------------------------------------------------------------------------

@consent_app.command("template-add")
def consent_template_add(
    text_file: Path = typer.Argument(..., help="The form's text (UTF-8)."),
    kind: str = typer.Option(..., "--kind", help="treatment, photography or research."),
    version: str = typer.Option(..., "--version"),
    title: str = typer.Option(..., "--title"),
    scope: str = typer.Option("any", "--scope", help="A modality code, or 'any'."),
    actor: str | None = _actor(),
    as_json: bool = json_option(),
) -> None:
    """Add a template version; it replaces the one in force for its kind and scope."""
    from dermatrack.cli._input import read_text
    from dermatrack.services import consent

    body = read_text(text_file, field="text_file")
    with _open() as store:
        saved = consent.add_template(store, {"kind": kind, "scope": scope, "version": version,
                                             "title": title, "body": body},
                                     actor=actor_name(actor))
    if as_json:
        emit_json(saved.model_dump(mode="json"))
    else:
        console.print(f"template [bold]{saved.id}[/bold]: {saved.title} version "
                      f"{saved.version} in force")


@consent_app.command("load-examples")
def consent_load_examples(actor: str | None = _actor(), as_json: bool = json_option()) -> None:
    """Add the neutral example templates for kinds that have none in force."""
    from dermatrack.services import consent

    with _open() as store:
        added = consent.load_examples(store, actor=actor_name(actor))
    if as_json:
        emit_json([t.model_dump(mode="json") for t in added])
    else:
        console.print(f"loaded {len(added)} example templates")


@consent_app.command("template-list")
def consent_template_list(as_json: bool = json_option()) -> None:
    """Every template version, the ones in force marked."""
    from dermatrack.services import consent

    with _open() as store:
        rows = consent.list_templates(store)
    if as_json:
        emit_json([t.model_dump(mode="json") for t in rows])
        return
    for t in rows:
        console.print(f"{t.id}  {t.kind:<11} {t.scope:<20} {t.version:<12} "
                      f"{'in force' if t.active else 'retired ':<8}  {t.title}",
                      markup=False, soft_wrap=True)


@consent_app.command("show")
def consent_show(consent_id: str = typer.Argument(..., help="C-..."),
                 as_json: bool = json_option()) -> None:
    """A signed consent document, with a fresh check of its content hash."""
    from dermatrack.services import consent

    with _open() as store:
        document = consent.get_signed(store, consent_id)
    if as_json:
        emit_json(document.model_dump(mode="json"))
        return
    console.print(f"[bold]{document.title}[/bold] version {document.version} · "
                  f"{document.patient_id} · signed {document.signed_at:%Y-%m-%d %H:%M} UTC · "
                  f"witness {document.witness}")
    console.print(f"content sha256 {document.content_sha256} "
                  f"({'intact' if document.intact else 'DOES NOT MATCH'})",
                      markup=False, soft_wrap=True)
    if document.withdrawn_at:
        console.print(f"withdrawn {document.withdrawn_at:%Y-%m-%d %H:%M} UTC")


def register(app: typer.Typer) -> None:
    """Add the clinic's-day groups to the root app."""
    app.add_typer(appointment_app, name="appointment")
    app.add_typer(recall_app, name="recall")
    app.add_typer(product_app, name="product")
    app.add_typer(consent_app, name="consent")
