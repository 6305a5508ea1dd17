"""Record commands: ``patient``, ``visit``, ``session``, ``event`` and ``score``.

Each ``add`` takes a JSON file (the same shape the web API takes), flags, or both (flags
override the file's keys), and prints the stored record; ``--json`` prints it as JSON
only. Changes are audited under ``--actor`` (default: ``$DERMATRACK_ACTOR``, else
``$USER``, else ``cli``). The
database is ``DERMATRACK_DATABASE_URL`` or ``$DERMATRACK_DATA_DIR/dermatrack.db``, created
or upgraded on first use.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dermatrack.cli._input import actor_name, read_json_object
from dermatrack.cli.output import console, emit_json, err_console, json_option
from dermatrack.errors import InputError

if TYPE_CHECKING:
    from dermatrack.services.common import Store

ACTOR_HELP = ("Who makes the change, for the audit trail (default: $DERMATRACK_ACTOR, else "
              "$USER, else 'cli').")


def _actor_option() -> Any:
    return typer.Option(None, "--actor", help=ACTOR_HELP)


def _merge(data: dict[str, Any], **flags: Any) -> dict[str, Any]:
    """``data`` with the flags that were given (not None, not empty) set over it."""
    merged = dict(data)
    merged.update({key: value for key, value in flags.items()
                   if value is not None and value != [] and value != {}})
    return merged


def _number(text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"expected a number, got {text!r}", field=field) from None
    return int(value) if value.is_integer() and "." not in text else value


def _pairs(items: list[str] | None, flag: str, field: str) -> dict[str, float]:
    """``["needle_depth=1.5"]`` -> ``{"needle_depth": 1.5}``."""
    result: dict[str, float] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{flag} takes KEY=VALUE, got {item!r}", field=field)
        result[key.strip()] = _number(value.strip(), f"{field}.{key.strip()}")
    return result


def _open() -> Store:
    from dermatrack.services.common import open_store

    return open_store()


def _print_record(title: str, record: dict[str, Any]) -> None:
    console.print(f"[bold]{title}[/bold]")
    for key, value in record.items():
        if value in (None, [], {}):
            continue
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        console.print(f"  {key}: {value}")


def _joined(items: list[str]) -> str:
    return "; ".join(items) if items else "-"


def _print_patient(data: dict[str, Any]) -> None:
    """A patient's chart for a terminal: facts, then visits, sessions, events and scores.

    Works on the JSON form so the screen and ``--json`` show the same record.
    """
    from rich.text import Text

    from dermatrack.cli.output import label_grid

    age = (f"born {data['date_of_birth']}" if data.get("date_of_birth")
           else f"{data['age_years']} y on {data['age_recorded_on']}"
           if data.get("age_years") is not None else "age not recorded")
    console.print(Text.assemble(("Patient ", "bold"), (data["id"], "bold"),
                                f"  {data.get('sex') or 'sex not recorded'}, Fitzpatrick "
                                f"{data.get('fitzpatrick') or '?'}, {age}"))
    identity = data.get("identity") or {}
    rows: list[tuple[str, str]] = []
    if identity:
        rows.append(("Identity", ", ".join(str(v) for v in identity.values() if v) or "-"))
    rows += [
        ("Registered", str(data["created_at"])[:10]),
        ("Concerns", _joined([f"{c['code']} ({c['region']}, severity {c['severity']})"
                              for c in data["concerns"]])),
        ("Conditions", _joined(data["conditions"])),
        ("Medications", _joined([m["code"] + (f" (last taken {m['last_taken']})"
                                              if m.get("last_taken") else "")
                                 + (", ongoing" if m.get("ongoing") else "")
                                 for m in data["medications"]])),
        ("Allergies", _joined(data["allergies"])),
        ("Consents", _joined([f"{c['kind']} v{c['version']} signed {str(c['signed_at'])[:10]}"
                              + (f", withdrawn {str(c['withdrawn_at'])[:10]}"
                                 if c.get("withdrawn_at") else "") + f" ({c['id']})"
                              for c in data["consents"]]))]
    if data.get("deleted_at"):
        rows.append(("Deleted", f"{str(data['deleted_at'])[:10]}: {data.get('delete_reason')}"))
    console.print(label_grid(rows, indent=2, label_style="bold"))
    sections = (("Visits", data["visits"], _visit_rows), ("Sessions", data["sessions"],
                _session_rows), ("Events", data["events"], _event_rows),
                ("Scores", data["scores"], _score_rows))
    for title, items, rows_of in sections:
        console.print(Text(f"{title} ({len(items)})", style="bold"))
        for item in items:
            head, *details = rows_of(item)
            console.print(Text("  " + head))
            if details:
                console.print(label_grid(details, indent=4, label_width=len("parameters")))


def _visit_rows(visit: dict[str, Any]) -> list[Any]:
    rows: list[Any] = [f"{visit['date']}  {visit['timepoint']}  ({visit['id']})"]
    if visit.get("notes"):
        rows.append(("notes", visit["notes"]))
    return rows


def _session_rows(session: dict[str, Any]) -> list[Any]:
    rows: list[Any] = [f"{session['date']}  {session['modality']} on "
                       f"{', '.join(session['regions'])} by {session['operator']}  "
                       f"({session['id']})"]
    if session["parameters"]:
        rows.append(("parameters", ", ".join(f"{k} {v:g}" if isinstance(v, (int, float))
                                             else f"{k} {v}"
                                             for k, v in session["parameters"].items())))
    if session["products"]:
        rows.append(("products", ", ".join(f"{p['name']} (lot {p['lot']})"
                                           for p in session["products"])))
    if session["immediate_reactions"]:
        rows.append(("reactions", ", ".join(session["immediate_reactions"])))
    rows += [(f["level"], f["message"]) for f in session["parameter_findings"]]
    if session.get("notes"):
        rows.append(("notes", session["notes"]))
    return rows


def _event_rows(event: dict[str, Any]) -> list[Any]:
    what = "expected reaction" if event["kind"] == "expected_reaction" else "adverse event"
    until = f" to {event['resolved_on']}" if event.get("resolved_on") else ", not resolved"
    rows: list[Any] = [f"{event['onset']}{until}  {what} {event['code']}  ({event['id']})",
                       ("why", event["reason"])]
    if event["kind"] == "adverse_event":
        rows.append(("grade", f"{event.get('grade')}, serious: "
                              f"{'yes' if event.get('serious') else 'no'}, relatedness: "
                              f"{event.get('relatedness') or 'not assessed'}"))
        rows += [(key, str(event[key])) for key in ("action", "outcome") if event.get(key)]
    return rows


def _score_rows(score: dict[str, Any]) -> list[Any]:
    total = "-" if score.get("total") is None else f"{score['total']:g}"
    label = f" ({score['label']})" if score.get("label") else ""
    rows: list[Any] = [f"{score.get('date') or ''}  {score.get('timepoint') or ''}  "
                       f"{score['instrument']} {score.get('version') or ''}: {total}{label}  "
                       f"({score['id']})"]
    rows.append(("rater", f"{score['rater']}, {'blinded' if score['blinded'] else 'unblinded'}"))
    if score["item_scores"]:
        rows.append(("items", ", ".join(f"{k} {v}" for k, v in score["item_scores"].items())))
    return rows


# --- patient -----------------------------------------------------------------------------

patient_app = typer.Typer(help="Register, look up, search and soft-delete patients; consents.",
                          no_args_is_help=True)


def _concern_flag(text: str, i: int) -> dict[str, Any]:
    parts = text.split(":")
    if len(parts) != 3:
        raise InputError(f"--concern takes CODE:REGION:SEVERITY, got {text!r}",
                         field=f"concerns[{i}]")
    return {"code": parts[0], "region": parts[1],
            "severity": _number(parts[2], f"concerns[{i}].severity")}


def _medication_flag(text: str) -> dict[str, Any]:
    code, _, last_taken = text.partition(":")
    return {"code": code, "last_taken": last_taken} if last_taken else {"code": code}


@patient_app.command("add")
def patient_add(
    file: Path | None = typer.Argument(None, help="PATIENT.json, optionally with "
                                        "'identity' {name, email, phone} and 'consents'."),
    name: str | None = typer.Option(None, "--name", help="Full name (kept apart)."),
    email: str | None = typer.Option(None, "--email"),
    phone: str | None = typer.Option(None, "--phone"),
    dob: str | None = typer.Option(None, "--dob", help="Date of birth, YYYY-MM-DD."),
    age: int | None = typer.Option(None, "--age", help="Age in years (if no --dob)."),
    sex: str | None = typer.Option(None, "--sex", help="female, male, other, unknown."),
    fitzpatrick: str | None = typer.Option(None, "--fitzpatrick", help="I to VI."),
    concern: list[str] | None = typer.Option(None, "--concern",
                                             help="CODE:REGION:SEVERITY (repeatable)."),
    condition: list[str] | None = typer.Option(None, "--condition", help="Repeatable."),
    medication: list[str] | None = typer.Option(None, "--medication",
                                                help="CODE or CODE:LAST_TAKEN (repeatable)."),
    allergy: list[str] | None = typer.Option(None, "--allergy", help="Repeatable."),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Register a patient; prints the new pseudonymous id (P-XXXXXX)."""
    from dermatrack.services import patients

    data = read_json_object(file)
    identity = _merge(data.get("identity") or {}, name=name, email=email, phone=phone)
    data = _merge(
        data, date_of_birth=dob, age=age, sex=sex, fitzpatrick=fitzpatrick,
        concerns=[_concern_flag(c, i) for i, c in enumerate(concern or [])],
        conditions=condition, medications=[_medication_flag(m) for m in medication or []],
        allergies=allergy, identity=identity or None)
    with _open() as store:
        record = patients.add_patient(store, data, actor=actor_name(actor))
    if record.likely_duplicates:
        err_console.print(f"warning: {record.id} has the same name and contact or birth "
                          f"date as {', '.join(record.likely_duplicates)}: check it is not "
                          "the same person registered twice")
    if as_json:
        emit_json(record.model_dump(mode="json"))
    else:
        console.print(f"registered patient [bold]{record.id}[/bold]")


@patient_app.command("show")
def patient_show(
    patient_id: str = typer.Argument(..., help="P-XXXXXX"),
    with_identity: bool = typer.Option(False, "--with-identity",
                                       help="Include name and contacts (audited as a read)."),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Show a patient's clinical record, visits, sessions, events and scores (the read is
    recorded in the audit trail, as on the web)."""
    from dermatrack.services.chart import read_chart

    with _open() as store:
        chart = read_chart(
            store, patient_id, actor=actor_name(actor), with_identity=with_identity,
            parts=("visits", "sessions", "events", "scores"),
            fields=("profile", "history", "visits", "sessions", "events", "scores"),
            purpose="cli")
    data = chart.patient.model_dump(mode="json",
                                    exclude=None if with_identity else {"identity"})
    data["visits"] = [v.model_dump(mode="json") for v in chart.visits]
    data["sessions"] = [s.model_dump(mode="json") for s in chart.sessions]
    data["events"] = [e.model_dump(mode="json") for e in chart.events]
    data["scores"] = [s.model_dump(mode="json") for s in chart.scores]
    if as_json:
        emit_json(data)
        return
    _print_patient(data)


@patient_app.command("list")
def patient_list(
    search: str | None = typer.Option(None, "--search",
                                      help="Start of the id, or part of name, email, phone."),
    with_identity: bool = typer.Option(False, "--with-identity",
                                       help="Include names and contacts (audited)."),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="Patients per page."),
    cursor: str | None = typer.Option(None, "--cursor",
                                      help="Start after the page that printed this cursor."),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """List patients (not deleted), newest first, a page at a time.

    The next page's cursor is printed after the table (on stderr with --json).
    """
    from rich.table import Table

    from dermatrack.services import patients

    with _open() as store:
        page = patients.list_patients(store, search=search, actor=actor_name(actor),
                                      with_identity=with_identity, cursor=cursor, limit=limit)
    rows = page.items
    more = (f"more: dermatrack patient list --cursor {page.next}"
            + (f" --search {search!r}" if search else "")) if page.next else None
    if as_json:
        emit_json([row.model_dump(mode="json",
                                  exclude=None if with_identity else {"identity"})
                   for row in rows])
        if more:
            print(more, file=sys.stderr)
        return
    table = Table("id", "sex", "fitzpatrick", "born / age", "registered",
                  *(["name"] if with_identity else []))
    for row in rows:
        born = (row.date_of_birth.isoformat() if row.date_of_birth
                else f"{row.age_years} y" if row.age_years is not None else "")
        name = [row.identity.name or "" if row.identity else ""] if with_identity else []
        table.add_row(row.id, row.sex or "", row.fitzpatrick or "", born,
                      row.created_at.date().isoformat(), *name)
    console.print(table)
    if more:
        console.print(more)


@patient_app.command("delete")
def patient_delete(
    patient_id: str = typer.Argument(..., help="P-XXXXXX"),
    reason: str = typer.Option(..., "--reason", help="Why (required; kept with the record)."),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Soft-delete a patient: hidden from lists and lookups, never erased."""
    from dermatrack.services import patients

    with _open() as store:
        record = patients.delete_patient(store, patient_id, reason=reason,
                                         actor=actor_name(actor))
    if as_json:
        emit_json(record.model_dump(mode="json", exclude={"identity"}))
    else:
        console.print(f"deleted patient {record.id} ({record.delete_reason})")


@patient_app.command("consent")
def patient_consent(
    patient_id: str = typer.Argument(..., help="P-XXXXXX"),
    kind: str = typer.Option(..., "--kind", help="treatment, photography or research."),
    version: str = typer.Option(..., "--version", help="Version of the consent form."),
    signed_at: str | None = typer.Option(None, "--signed-at",
                                         help="ISO date-time with offset (default: now)."),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Record a consent the patient has signed; prints its id (C-...)."""
    import datetime as dt

    from dermatrack.services import patients

    data = {"patient_id": patient_id, "kind": kind, "version": version,
            "signed_at": signed_at or dt.datetime.now(dt.UTC).isoformat()}
    with _open() as store:
        consent = patients.add_consent(store, data, actor=actor_name(actor))
    if as_json:
        emit_json(consent.model_dump(mode="json"))
    else:
        console.print(f"consent [bold]{consent.id}[/bold]: {consent.kind} "
                      f"(version {consent.version}) signed {consent.signed_at:%Y-%m-%d}")


@patient_app.command("withdraw-consent")
def patient_withdraw_consent(
    consent_id: str = typer.Argument(..., help="C-..."),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Mark a consent withdrawn now (it stays on record with both dates)."""
    from dermatrack.services import patients

    with _open() as store:
        consent = patients.withdraw_consent(store, consent_id, actor=actor_name(actor))
    if as_json:
        emit_json(consent.model_dump(mode="json"))
    else:
        console.print(f"consent {consent.id} ({consent.kind}) withdrawn")


# --- visit -------------------------------------------------------------------------------

visit_app = typer.Typer(help="Visits and assessments at timepoints (baseline, session_1, "
                             "m1, m3, m6, ...), to which scores and measurements belong.",
                        no_args_is_help=True)


@visit_app.command("add")
def visit_add(
    patient_id: str = typer.Argument(..., help="P-XXXXXX"),
    timepoint: str = typer.Option(..., "--timepoint", help="baseline, session_1, m1, ..."),
    date: str = typer.Option(..., "--date", help="YYYY-MM-DD"),
    notes: str | None = typer.Option(None, "--notes"),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Record a visit of a patient at a timepoint; prints the visit id (V-...)."""
    from dermatrack.services import patients

    with _open() as store:
        visit = patients.add_visit(store, _merge({}, patient_id=patient_id,
                                                 timepoint=timepoint, date=date, notes=notes),
                                   actor=actor_name(actor))
    if as_json:
        emit_json(visit.model_dump(mode="json"))
    else:
        console.print(f"visit [bold]{visit.id}[/bold]: {visit.timepoint} on {visit.date}")


@visit_app.command("list")
def visit_list(
    patient_id: str = typer.Argument(..., help="P-XXXXXX"),
    as_json: bool = json_option(),
) -> None:
    """A patient's visits by date."""
    from dermatrack.services import patients

    with _open() as store:
        visits = patients.list_visits(store, patient_id)
    if as_json:
        emit_json([v.model_dump(mode="json") for v in visits])
    else:
        for visit in visits:
            console.print(f"{visit.id}  {visit.date}  {visit.timepoint}")


# --- session -----------------------------------------------------------------------------

session_app = typer.Typer(help="Treatment sessions, with parameters checked against the "
                               "knowledge base's ranges per region.", no_args_is_help=True)


def _product_flag(text: str, i: int) -> dict[str, str]:
    name, sep, lot = text.rpartition(":")
    if not sep:
        raise InputError(f"--product takes NAME:LOT, got {text!r}", field=f"products[{i}]")
    return {"name": name, "lot": lot}


def _lot_flag(text: str, i: int) -> dict[str, Any]:
    lot_id, _, rest = text.partition(":")
    amount, _, unit = rest.partition(":")
    if not lot_id.strip():
        raise InputError(f"--lot takes LT-...[:AMOUNT[:UNIT]], got {text!r}",
                         field=f"lots[{i}].lot_id")
    used: dict[str, Any] = {"lot_id": lot_id.strip()}
    if amount.strip():
        used["amount"] = _number(amount.strip(), f"lots[{i}].amount")
    if unit.strip():
        used["unit"] = unit.strip()
    return used


@session_app.command("add")
def session_add(
    file: Path | None = typer.Argument(None, help="SESSION.json: patient_id, date, operator, "
                                       "modality, regions, parameters, products [{name, lot}], "
                                       "immediate_reactions, notes, visit_id."),
    patient_id: str | None = typer.Option(None, "--patient"),
    date: str | None = typer.Option(None, "--date", help="YYYY-MM-DD"),
    operator: str | None = typer.Option(None, "--operator"),
    modality: str | None = typer.Option(None, "--modality"),
    region: list[str] | None = typer.Option(None, "--region", help="Repeatable."),
    param: list[str] | None = typer.Option(None, "--param", help="CODE=VALUE (repeatable)."),
    product: list[str] | None = typer.Option(None, "--product", help="NAME:LOT (repeatable)."),
    lot: list[str] | None = typer.Option(None, "--lot", help="Catalogue lot used: LT-...[:AMOUNT"
                                                            "[:UNIT]] (repeatable; traced by "
                                                            "`recall lot`)."),
    reaction: list[str] | None = typer.Option(None, "--reaction",
                                              help="Immediate reaction code (repeatable)."),
    notes: str | None = typer.Option(None, "--notes"),
    visit_id: str | None = typer.Option(None, "--visit"),
    override_reason: str | None = typer.Option(
        None, "--override-reason", help="Record out-of-range parameters anyway, saying why."),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Record a treatment session; prints its id (S-...) and any parameter notes."""
    from dermatrack.services import charting

    data = read_json_object(file)
    parameters = {**(data.get("parameters") or {}), **_pairs(param, "--param", "parameters")}
    data = _merge(data, patient_id=patient_id, date=date, operator=operator,
                  modality=modality, regions=region, parameters=parameters,
                  products=[_product_flag(p, i) for i, p in enumerate(product or [])],
                  lots=[_lot_flag(item, i) for i, item in enumerate(lot or [])],
                  immediate_reactions=reaction, notes=notes, visit_id=visit_id,
                  override_reason=override_reason)
    if region and "region" in data:
        del data["region"]
    with _open() as store:
        record = charting.add_session(store, data, actor=actor_name(actor))
    if as_json:
        emit_json(record.model_dump(mode="json"))
        return
    console.print(f"session [bold]{record.id}[/bold]: {record.modality} on "
                  f"{', '.join(record.regions)}, {record.date}")
    for finding in record.parameter_findings:
        console.print(f"  {finding.level}: {finding.message}")


# --- event -------------------------------------------------------------------------------

event_app = typer.Typer(help="Reactions after a session: charted as an expected reaction "
                             "or an adverse event (CTCAE grade, WHO-UMC relatedness).",
                        no_args_is_help=True)


@event_app.command("add")
def event_add(
    file: Path | None = typer.Argument(None, help="EVENT.json: session_id (or patient_id), "
                                       "code, onset, resolved_on | still_present_on, grade, "
                                       "relatedness, seriousness_criteria, action, outcome."),
    session_id: str | None = typer.Option(None, "--session"),
    patient_id: str | None = typer.Option(None, "--patient",
                                          help="For an adverse event outside a session."),
    code: str | None = typer.Option(None, "--code", help="Reaction or adverse event code."),
    onset: str | None = typer.Option(None, "--onset", help="YYYY-MM-DD"),
    resolved_on: str | None = typer.Option(None, "--resolved-on", help="YYYY-MM-DD"),
    still_present_on: str | None = typer.Option(None, "--still-present-on",
                                                help="YYYY-MM-DD (default: today)"),
    grade: int | None = typer.Option(None, "--grade", help="CTCAE grade 1-5."),
    relatedness: str | None = typer.Option(
        None, "--relatedness", help="certain, probably-likely, possible, unlikely, "
                                    "conditional-classified, unassessable-unclassifiable."),
    criterion: list[str] | None = typer.Option(None, "--serious-criterion",
                                               help="ICH E2A criterion (repeatable)."),
    action: str | None = typer.Option(None, "--action", help="What was done."),
    outcome: str | None = typer.Option(None, "--outcome"),
    notes: str | None = typer.Option(None, "--notes"),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Chart a reaction; says whether it was recorded as expected or as an adverse event."""
    from dermatrack.services import charting

    data = _merge(read_json_object(file), session_id=session_id, patient_id=patient_id,
                  code=code, onset=onset, resolved_on=resolved_on,
                  still_present_on=still_present_on, grade=grade, relatedness=relatedness,
                  seriousness_criteria=criterion, action=action, outcome=outcome, notes=notes)
    with _open() as store:
        record = charting.add_event(store, data, actor=actor_name(actor))
    if as_json:
        emit_json(record.model_dump(mode="json"))
        return
    what = "expected reaction" if record.kind == "expected_reaction" else "adverse event"
    console.print(f"{what} [bold]{record.id}[/bold]: {record.code} ({record.reason})")
    if record.kind == "adverse_event":
        console.print(f"  grade {record.grade}, serious: {'yes' if record.serious else 'no'}, "
                      f"relatedness: {record.relatedness or 'not assessed'}, "
                      f"outcome: {record.outcome}")


# --- score -------------------------------------------------------------------------------

score_app = typer.Typer(help="Clinician scale scores at a visit (GAIS, Glogau, Goodman and "
                             "Baron, Vancouver Scar Scale, ...).", no_args_is_help=True)


@score_app.command("add")
def score_add(
    file: Path | None = typer.Argument(None, help="SCORE.json: patient_id, visit_id, "
                                       "instrument, version, item_scores, total, rater, "
                                       "blinded."),
    patient_id: str | None = typer.Option(None, "--patient"),
    visit_id: str | None = typer.Option(None, "--visit"),
    instrument: str | None = typer.Option(None, "--instrument"),
    version: str | None = typer.Option(None, "--version"),
    item: list[str] | None = typer.Option(None, "--item", help="ITEM=SCORE (repeatable)."),
    total: float | None = typer.Option(None, "--total"),
    rater: str | None = typer.Option(None, "--rater"),
    blinded: bool | None = typer.Option(None, "--blinded/--unblinded",
                                        help="Was the rater blinded?"),
    actor: str | None = _actor_option(),
    as_json: bool = json_option(),
) -> None:
    """Record a checked scale score; prints its id (SC-...) and total."""
    from dermatrack.services import scores

    data = read_json_object(file)
    items = {**(data.get("item_scores") or {}), **_pairs(item, "--item", "item_scores")}
    data = _merge(data, patient_id=patient_id, visit_id=visit_id, instrument=instrument,
                  version=version, item_scores=items, total=total, rater=rater,
                  blinded=blinded)
    with _open() as store:
        record = scores.add_score(store, data, actor=actor_name(actor))
    if as_json:
        emit_json(record.model_dump(mode="json"))
        return
    label = f" ({record.label})" if record.label else ""
    console.print(f"score [bold]{record.id}[/bold]: {record.instrument} {record.version} "
                  f"total {record.total:g}{label} at {record.timepoint}")


def register(app: typer.Typer) -> None:
    """Add the record groups to the root app."""
    app.add_typer(patient_app, name="patient")
    app.add_typer(visit_app, name="visit")
    app.add_typer(session_app, name="session")
    app.add_typer(event_app, name="event")
    app.add_typer(score_app, name="score")
