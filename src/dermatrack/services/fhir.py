"""FHIR R4 export and import of the clinical record, and the reads of the FHIR API.

Export (:func:`export_fhir`) writes one ``Bundle`` (``collection``, or ``transaction`` with
``PUT`` requests that keep every id) holding, per patient, the resources of
:mod:`dermatrack.interop.fhir.mapping`, a ``DiagnosticReport`` (the progress report) and,
once, dermatrack's metric ``CodeSystem``. Every resource is validated with
``fhir.resources`` (R4B models) before the file is written. Photographs travel by
reference: each stored file is copied, byte for byte, into a folder beside the bundle
(``<name>-photos/``) and the ``Media`` resource names it and its SHA-256.

* By default the bundle is pseudonymous: dermatrack's ids, no names or contacts.
* ``with_identity`` adds names and contacts (and the reads are audited).
* ``deidentified`` re-keys every id, shifts each patient's dates by a secret random
  offset and leaves out identities, birth dates, free text, operators, raters, lot
  numbers, photographs and analysis settings (as the CSV export does).

Import (:func:`import_fhir`) checks the whole bundle first
(:func:`dermatrack.interop.fhir.reading.read_bundle`), then stores every record with its
original id in one transaction, audited: a bad bundle stores nothing. Records whose ids
are already stored are refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, select

from dermatrack.errors import InputError, NotFoundError
from dermatrack.interop.fhir import mapping
from dermatrack.interop.fhir.mapping import Context
from dermatrack.services.common import INCLUDE_DELETED, Store
from dermatrack.store.partial_files import replacing

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute

    from dermatrack.store.models import Base

NOMINAL_BASE = "https://dermatrack.org/fhir"
"""Base of the ``fullUrl`` of exported entries when no server base is given."""

#: The resource each table's rows travel as (named in import errors).
RESOURCE_OF_TABLE = {
    "patient": "Patient", "patient_identity": "Patient", "visit": "Encounter",
    "patient_condition": "Condition", "concern": "Condition",
    "expected_reaction": "Condition", "patient_medication": "MedicationStatement",
    "patient_allergy": "AllergyIntolerance", "consent": "Consent",
    "treatment_session": "Procedure", "treatment_plan": "CarePlan",
    "planned_modality": "CarePlan.activity", "scheduled_session": "CarePlan.activity",
    "adverse_event": "AdverseEvent", "scale_score": "QuestionnaireResponse",
    "photo": "Media", "observation": "Observation"}

# Tables in the order their rows are inserted (references point backwards only).
INSERT_ORDER = ("patient", "patient_identity", "visit", "patient_condition",
                "patient_medication", "patient_allergy", "consent", "concern",
                "treatment_session", "treatment_plan", "planned_modality", "scheduled_session",
                "expected_reaction", "adverse_event", "scale_score", "photo", "observation")


def _models() -> dict[str, type[Base]]:
    from dermatrack.store import models

    return {m.__tablename__: m for m in (
        models.Patient, models.PatientIdentity, models.Visit, models.PatientCondition,
        models.PatientMedication, models.PatientAllergy, models.Consent, models.Concern,
        models.TreatmentSession, models.TreatmentPlan, models.PlannedModality,
        models.ScheduledSession, models.ExpectedReaction, models.AdverseEvent,
        models.ScaleScore, models.Photo, models.Observation)}


def load_records(session: Any, patient_ids: Iterable[str] | None = None
                 ) -> dict[str, list[Any]]:
    """Every (not deleted) row of the clinical tables, of some patients or all."""
    from dermatrack.store.models import PlannedModality, ScheduledSession

    models = _models()
    wanted = None if patient_ids is None else set(patient_ids)
    rows: dict[str, list[Any]] = {}
    for table, model in models.items():
        if table in ("planned_modality", "scheduled_session", "patient_identity"):
            continue
        query = select(model)
        column = _attribute(model, "id" if table == "patient" else "patient_id")
        if wanted is not None:
            query = query.where(column.in_(wanted))
        rows[table] = list(session.scalars(query.order_by(_attribute(model, "id"))))
    plan_ids = [p.id for p in rows["treatment_plan"]]
    rows["planned_modality"] = list(session.scalars(
        select(PlannedModality).where(PlannedModality.plan_id.in_(plan_ids))
        .order_by(PlannedModality.id))) if plan_ids else []
    item_ids = [p.id for p in rows["planned_modality"]]
    rows["scheduled_session"] = list(session.scalars(
        select(ScheduledSession).where(ScheduledSession.planned_modality_id.in_(item_ids))
        .order_by(ScheduledSession.planned_modality_id, ScheduledSession.number))) \
        if item_ids else []
    rows["patient_identity"] = [p.identity for p in rows["patient"] if p.identity]
    return rows


def _progress_summary(store: Store | None, patient_id: str, deidentified: bool) -> str:
    """The progress report's conclusion: each whole-area series' change from baseline."""
    from dermatrack.metrics import metric_definition
    from dermatrack.services.outcomes import patient_timeline

    if store is None:
        return "Measurements and their changes from baseline."
    timeline = patient_timeline(store, patient_id)
    lines = []
    for series in timeline.series:
        last = next((p for p in reversed(series.points) if p.change is not None), None)
        if last is None:
            continue
        definition = metric_definition(series.kind, series.metric)
        label = definition.label if definition else series.metric
        unit = "" if series.unit == "1" else f" {series.unit}"
        verdict = f" ({last.verdict})" if last.verdict else ""
        lines.append(f"{label} ({series.region}): {last.change:+.4g}{unit} at "
                     f"{last.timepoint}{verdict}")
    if not lines:
        return "No follow-up measurement yet: no change from baseline to report."
    return "Change from baseline: " + "; ".join(lines) + "."


def build_resources(store: Store | None, rows: dict[str, list[Any]], ctx: Context, *,
                    media_url: Callable[[Any], tuple[str, int | None]] | None = None,
                    reports: bool = True) -> list[dict[str, Any]]:
    """The resources of ``rows`` (see :func:`load_records`), patient by patient."""
    from dermatrack.services.outcomes import age_on, baseline_dates

    visits = {v.id: v for v in rows["visit"]}
    baseline = baseline_dates(visits.values())
    identities = {i.patient_id: i for i in rows["patient_identity"]}
    items_of: dict[str, list[tuple[Any, list[Any]]]] = {}
    scheduled_of: dict[str, list[Any]] = {}
    for s in rows["scheduled_session"]:
        scheduled_of.setdefault(s.planned_modality_id, []).append(s)
    for item in rows["planned_modality"]:
        items_of.setdefault(item.plan_id, []).append((item, scheduled_of.get(item.id, [])))

    def date_of(visit_id: str | None) -> dt.date | None:
        return visits[visit_id].date if visit_id in visits else None

    out: list[dict[str, Any]] = []
    for patient in rows["patient"]:
        pid = patient.id

        def mine(table: str, pid: str = pid) -> list[Any]:
            return [r for r in rows[table] if r.patient_id == pid]

        out.append(mapping.patient_resource(ctx, patient, identities.get(pid),
                                            age_on(patient, baseline.get(pid))))
        phototype = mapping.phototype_resource(ctx, patient)
        if phototype:
            out.append(phototype)
        out += [mapping.encounter_resource(ctx, v) for v in mine("visit")]
        out += [mapping.condition_resource(ctx, r) for r in mine("patient_condition")]
        out += [mapping.concern_resource(ctx, r) for r in mine("concern")]
        out += [mapping.medication_resource(ctx, r) for r in mine("patient_medication")]
        out += [mapping.allergy_resource(ctx, r) for r in mine("patient_allergy")]
        out += [mapping.consent_resource(ctx, r) for r in mine("consent")]
        out += [mapping.procedure_resource(ctx, r) for r in mine("treatment_session")]
        out += [mapping.careplan_resource(ctx, p, items_of.get(p.id, []))
                for p in mine("treatment_plan")]
        out += [mapping.reaction_resource(ctx, r) for r in mine("expected_reaction")]
        out += [mapping.adverse_event_resource(ctx, r) for r in mine("adverse_event")]
        out += [mapping.questionnaire_response_resource(ctx, r, date_of(r.visit_id))
                for r in mine("scale_score")]
        if not ctx.deidentified and media_url is not None:
            for photo in mine("photo"):
                url, size = media_url(photo)
                out.append(mapping.media_resource(ctx, photo, url, size))
        observations = mine("observation")
        out += [mapping.observation_resource(ctx, r, date_of(r.visit_id))
                for r in observations]
        if reports and observations:
            out.append(mapping.progress_report_resource(
                ctx, pid, observations, visits,
                _progress_summary(store, pid, ctx.deidentified)))
    return out


def make_bundle(resources: list[dict[str, Any]], *, transaction: bool = False,
                base: str = NOMINAL_BASE, bundle_type: str | None = None) -> dict[str, Any]:
    entries = []
    for resource in resources:
        path = f"{resource['resourceType']}/{resource['id']}"
        entry: dict[str, Any] = {"fullUrl": f"{base}/{path}", "resource": resource}
        if transaction:
            entry["request"] = {"method": "PUT", "url": path}
        entries.append(entry)
    kind = bundle_type or ("transaction" if transaction else "collection")
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": kind,
                              "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                              "entry": entries}
    if kind == "searchset":
        bundle["total"] = len(entries)
        del bundle["timestamp"]
    return bundle


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Every resource and the envelope, with ``fhir.resources`` (InputError naming it)."""
    from dermatrack.interop.fhir.validate import validate_resource

    for index, entry in enumerate(bundle.get("entry") or []):
        validate_resource(entry["resource"], where=f"entry[{index}]")
    validate_resource({k: v for k, v in bundle.items() if k != "entry"}, where="Bundle")


def _audit_export(store: Store, actor: str, patient_ids: list[str], with_identity: bool
                  ) -> None:
    from dermatrack.services.audit import record_read

    with store.transaction(actor) as session:
        for pid in patient_ids:
            record_read(session, entity="patient", entity_id=pid,
                        fields=("fhir", "identity") if with_identity else ("fhir",),
                        purpose="fhir-export")


def export_fhir(store: Store, out: str | Path, *, actor: str, patient_id: str | None = None,
                deidentified: bool = False, with_identity: bool = False,
                transaction: bool = False) -> dict[str, Any]:
    """Write the FHIR Bundle to ``out`` (module docstring); return a summary.

    Raises
    ------
    InputError
        An unknown patient, identity asked for in a de-identified export, or a path that
        cannot be written.
    """
    from dermatrack.store.files import read_bytes

    if deidentified and with_identity:
        raise InputError("a de-identified export cannot include identities",
                         field="with_identity")
    path = Path(out)
    photos_dir = path.with_name(f"{path.stem}-photos")
    copies: list[tuple[str, Path]] = []

    def media_url(photo: Any) -> tuple[str, int | None]:
        suffix = Path(photo.stored_path).suffix
        target = photos_dir / f"{photo.sha256}{suffix}"
        copies.append((photo.stored_path, target))
        size = (store.settings.files_dir / photo.stored_path).stat().st_size \
            if (store.settings.files_dir / photo.stored_path).is_file() else None
        return f"{photos_dir.name}/{target.name}", size

    with store.reading() as session:
        if patient_id is not None:
            from dermatrack.services.common import get_patient

            get_patient(session, patient_id, field="patient")
        rows = load_records(session, None if patient_id is None else [patient_id])
        patient_ids = [p.id for p in rows["patient"]]
        ctx = mapping.deidentifying_context(patient_ids) if deidentified else \
            Context(with_identity=with_identity)
        resources = [mapping.metric_code_system()]
        resources += build_resources(store, rows, ctx, media_url=media_url)
    bundle = make_bundle(resources, transaction=transaction)
    validate_bundle(bundle)
    if not deidentified:
        _audit_export(store, actor, patient_ids, with_identity)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for relative, target in copies:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read_bytes(store.settings.files_dir, relative))
        # Whole or not at all, owner-only: a bundle can carry identities.
        with replacing(path) as replacement:
            replacement.partial.write_text(json.dumps(bundle, indent=1, ensure_ascii=False),
                                           encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}", field="out") from exc
    counts: dict[str, int] = {}
    for resource in resources:
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    return {"path": str(path), "type": bundle["type"], "patients": len(patient_ids),
            "deidentified": deidentified, "with_identity": with_identity,
            "photos_dir": str(photos_dir) if copies else None, "resources": counts,
            "stale_partials_removed": replacement.stale_removed}


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", field="file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})", field="file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name}: not JSON (line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg})", field="file") from None


def import_fhir(store: Store, path: str | Path, *, actor: str) -> dict[str, Any]:
    """Store the records of a FHIR Bundle file (module docstring); return counts.

    Raises
    ------
    InputError
        Malformed JSON, a resource that does not validate, a foreign resource type or
        code, a missing reference, a photograph file missing or not matching its digest,
        or a record already stored. Nothing is stored then.
    """
    from dermatrack.interop.fhir.reading import read_bundle
    from dermatrack.store.files import put_bytes, sha256_hex

    path = Path(path)
    parsed = read_bundle(read_json(path))
    files: dict[str, bytes] = {}
    for photo_id, (url, digest) in parsed.media.items():
        source = (path.parent / url).resolve()
        if not source.is_relative_to(path.parent.resolve()) or not source.is_file():
            raise InputError(f"Media/{photo_id}: content.url {url!r}: the photograph's file "
                             "is not beside the bundle", field="content.url")
        data = source.read_bytes()
        if sha256_hex(data) != digest:
            raise InputError(f"Media/{photo_id}: content.url {url!r}: the file does not "
                             "match its SHA-256", field="content.url")
        files[photo_id] = data

    models = _models()
    with store.transaction(actor) as session:
        _check_new(session, parsed.rows, models)
        _check_references(session, parsed.rows)
        for photo in parsed.rows.get("photo", []):
            suffix = ".png" if files[photo.id][:4] == b"\x89PNG" else ".jpg"
            _digest, relative = put_bytes(store.settings.files_dir, files[photo.id], suffix)
            photo.stored_path = relative.as_posix()
        fitzpatrick = dict(parsed.rows.get("fitzpatrick", []))
        for table in INSERT_ORDER:
            for row in parsed.rows.get(table, []):
                if table == "patient" and row.id in fitzpatrick:
                    row.fitzpatrick = fitzpatrick.pop(row.id)
                session.add(row)
            session.flush()
        if fitzpatrick:
            from dermatrack.store.models import Patient

            for pid, value in fitzpatrick.items():
                patient = session.get(Patient, pid)
                if patient is None:
                    raise InputError(f"Observation (Fitzpatrick) refers to an unknown "
                                     f"patient {pid}", field="subject")
                patient.fitzpatrick = value
    counts = {t: len(parsed.rows[t]) for t in INSERT_ORDER if parsed.rows.get(t)}
    return {"path": str(path), "stored": counts, "skipped": parsed.skipped}


def _attribute(model: type[Base], name: str) -> InstrumentedAttribute[Any]:
    """The mapped attribute ``name`` of ``model`` (``Visit.id``), found by name: the
    tables differ in which column links a row to its patient."""
    return inspect(model).attrs[name].class_attribute


def _check_new(session: Any, rows: dict[str, list[Any]],
               models: dict[str, type[Base]]) -> None:
    for table, items in rows.items():
        if table not in models:
            continue
        model = models[table]
        key = _attribute(model, "patient_id" if table == "patient_identity" else "id")
        ids = [r.patient_id if table == "patient_identity" else r.id for r in items]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise InputError(f"{RESOURCE_OF_TABLE[table]}/{dup} appears twice in the bundle",
                             field="id")
        found = session.scalars(select(key).where(key.in_(ids))
                                .execution_options(**{INCLUDE_DELETED: True})).all()
        if found:
            raise InputError(f"{RESOURCE_OF_TABLE[table]}/{found[0]} is already stored; "
                             "nothing was imported", field="id")


def _check_references(session: Any, rows: dict[str, list[Any]]) -> None:
    from dermatrack.store.models import Patient, TreatmentSession, Visit

    patients = {r.id for r in rows.get("patient", [])}
    visits = {r.id: r.patient_id for r in rows.get("visit", [])}
    sessions = {r.id: r.patient_id for r in rows.get("treatment_session", [])}

    def known(model: type, ident: str, cache: dict[str, str]) -> str | None:
        if ident not in cache:
            row = session.get(model, ident)
            if row is None:
                return None
            cache[ident] = row.patient_id if hasattr(row, "patient_id") else row.id
        return cache[ident]

    for table, items in rows.items():
        for row in items:
            if table == "fitzpatrick":
                continue
            pid = getattr(row, "patient_id", None)
            if pid is not None and pid not in patients:
                if session.get(Patient, pid) is None:
                    raise InputError(f"{RESOURCE_OF_TABLE[table]}/{getattr(row, 'id', pid)}: "
                                     f"subject Patient/{pid} is neither in the bundle nor "
                                     "stored", field="subject")
                patients.add(pid)
            for attr, model, cache, name in (("visit_id", Visit, visits, "Encounter"),
                                             ("session_id", TreatmentSession, sessions,
                                              "Procedure")):
                ident = getattr(row, attr, None)
                if ident is None or table == "scheduled_session":
                    continue
                owner = known(model, ident, cache)
                if owner is None:
                    raise InputError(f"{RESOURCE_OF_TABLE[table]}/{row.id}: {name}/{ident} is "
                                     "neither in the bundle nor stored", field=attr)
                if owner != pid:
                    raise InputError(f"{RESOURCE_OF_TABLE[table]}/{row.id}: {name}/{ident} "
                                     f"belongs to another patient, not {pid}", field=attr)


# --- the FHIR API's reads ------------------------------------------------------------------

SEARCHABLE = ("Patient", "Encounter", "Condition", "MedicationStatement",
              "AllergyIntolerance", "Consent", "CarePlan", "Procedure", "AdverseEvent",
              "Observation", "QuestionnaireResponse", "Media", "DiagnosticReport",
              "CodeSystem")


def _resource_date(resource: dict[str, Any]) -> str | None:
    for key in ("effectiveDateTime", "performedDateTime", "date", "authored", "onsetDateTime",
                "createdDateTime", "dateTime", "created", "recordedDate"):
        if resource.get(key):
            return str(resource[key])[:10]
    period = resource.get("period") or resource.get("effectivePeriod")
    if period and period.get("start"):
        return str(period["start"])[:10]
    return None


def _date_matches(value: str | None, tests: list[str]) -> bool:
    """FHIR date search on day precision: ``eq`` (default), ``ge``, ``le``, ``gt``, ``lt``."""
    if value is None:
        return False
    for test in tests:
        prefix, day = (test[:2], test[2:]) if test[:2] in ("eq", "ge", "le", "gt", "lt",
                                                          "ne") else ("eq", test)
        try:
            dt.date.fromisoformat(day[:10])
        except ValueError:
            raise InputError(f"date={test!r}: expected [eq|ge|le|gt|lt|ne]YYYY-MM-DD",
                             field="date") from None
        day = day[:10]
        ok = {"eq": value == day, "ne": value != day, "ge": value >= day, "le": value <= day,
              "gt": value > day, "lt": value < day}[prefix]
        if not ok:
            return False
    return True


def _code_matches(resource: dict[str, Any], wanted: str) -> bool:
    """FHIR token search: ``code`` or ``system|code`` against any coding of the resource's
    main concept (any of ``code``, ``medicationCodeableConcept``, ``event``)."""
    system, _, code = wanted.rpartition("|")
    concept = (resource.get("code") or resource.get("medicationCodeableConcept")
               or resource.get("event") or {})
    for coding in concept.get("coding") or []:
        if coding.get("code") == code and (not system or coding.get("system") == system):
            return True
    return False


def _subject_of(resource: dict[str, Any]) -> str | None:
    if resource["resourceType"] == "Patient":
        return resource["id"]
    ref = resource.get("subject") or resource.get("patient") or {}
    text = ref.get("reference") if isinstance(ref, dict) else None
    return text.split("/")[-1] if text else None


def api_resources(store: Store, *, patient_id: str | None, deidentified: bool,
                  with_identity: bool, photo_url: Callable[[Any], str] | None,
                  reports: bool = True) -> list[dict[str, Any]]:
    """Every resource the API may serve for one patient (or all), built as exported."""
    with store.reading() as session:
        if patient_id is not None:
            from dermatrack.services.common import get_patient

            try:
                get_patient(session, patient_id)
            except InputError:
                raise NotFoundError(f"no patient {patient_id!r}") from None
        rows = load_records(session, None if patient_id is None else [patient_id])
        ctx = mapping.deidentifying_context([p.id for p in rows["patient"]]) \
            if deidentified else Context(with_identity=with_identity)
        media = None if photo_url is None else (lambda photo: (photo_url(photo), None))
        return [mapping.metric_code_system(),
                *build_resources(store, rows, ctx, media_url=media, reports=reports)]


#: Tables that may hold the record behind a resource of each type (read by id).
_TABLES_OF_TYPE = {
    "Encounter": ("visit",), "Condition": ("patient_condition", "concern",
                                            "expected_reaction"),
    "MedicationStatement": ("patient_medication",), "AllergyIntolerance": ("patient_allergy",),
    "Consent": ("consent",), "CarePlan": ("treatment_plan",),
    "Procedure": ("treatment_session",), "AdverseEvent": ("adverse_event",),
    "Observation": ("observation",), "QuestionnaireResponse": ("scale_score",),
    "Media": ("photo",)}


def patient_of(store: Store, resource_type: str, resource_id: str) -> str | None:
    """The patient a resource read by id belongs to, or None when there is no such record
    (so that a read builds one patient's resources, not the whole clinic's)."""
    if resource_type == "Patient":
        return resource_id
    if resource_type in ("DiagnosticReport", "Observation") and \
            resource_id.startswith(("DR-", "FZ-")):
        return "P-" + resource_id.split("-", 1)[1]
    models = _models()
    with store.reading() as session:
        for table in _TABLES_OF_TYPE.get(resource_type, ()):
            model = models[table]  # soft-deleted rows are hidden (services.common)
            patient_id = session.scalars(select(_attribute(model, "patient_id"))
                                         .where(_attribute(model, "id") == resource_id)).first()
            if patient_id is not None:
                return patient_id
    return None


def search(resources: list[dict[str, Any]], resource_type: str, *,
           patient: str | None = None, code: str | None = None,
           dates: list[str] | None = None) -> list[dict[str, Any]]:
    """The resources of one type matching the FHIR search parameters given."""
    found = []
    for resource in resources:
        if resource["resourceType"] != resource_type:
            continue
        if patient is not None and _subject_of(resource) != patient.split("/")[-1]:
            continue
        if code is not None and not any(_code_matches(resource, c) for c in code.split(",")):
            continue
        if dates and not _date_matches(_resource_date(resource), dates):
            continue
        found.append(resource)
    return found


def patients_of(resources: list[dict[str, Any]]) -> list[str]:
    return sorted({s for r in resources if (s := _subject_of(r))})

