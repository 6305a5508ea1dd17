"""Patient pages: the list with search, the intake form (screening re-run as fields
change), the patient chart, and visit scheduling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from dermatrack.errors import InputError
from dermatrack.services.common import Store
from dermatrack.services.patients import PatientOut
from dermatrack.web.deps import Principal, StoreDep, require_page
from dermatrack.web.pages import checked_form, render
from dermatrack.web.paging import PageQuery

router = APIRouter(include_in_schema=False)

CONSENT_VERSION = "web-1"
"""Version recorded for consents ticked on the intake form."""


def vocabulary_choices() -> dict[str, Any]:
    """The controlled vocabulary the intake form offers, as (code, label) lists."""
    from dermatrack.clinic.intake import FITZPATRICK_TYPES, SEXES
    from dermatrack.knowledge.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()

    def pairs(kind: str) -> list[tuple[str, str]]:
        return sorted(((t.code, t.label) for t in vocabulary.terms(kind).values()),
                      key=lambda pair: pair[1].lower())

    return {"concerns": pairs("concerns"), "regions": pairs("regions"),
            "conditions": pairs("conditions"), "medications": pairs("medications"),
            "skin_types": FITZPATRICK_TYPES, "sexes": SEXES}


def _text(form: FormData, key: str) -> str | None:
    value = str(form.get(key) or "").strip()
    return value or None


def intake_data(form: FormData) -> dict[str, Any]:
    """The intake form as ``PATIENT.json`` plus ``identity`` and ``consents``.

    Values are passed on as typed, so that the services' checks (and their field names)
    judge them; only empty fields are dropped.
    """
    data: dict[str, Any] = {}
    age = _text(form, "age")
    if age is not None:
        data["age"] = int(age) if age.isdigit() else age
    for key in ("date_of_birth", "sex", "fitzpatrick"):
        if (value := _text(form, key)) is not None:
            data[key] = value
    concerns = []
    for code, region, severity in zip(form.getlist("concern_code"),
                                      form.getlist("concern_region"),
                                      form.getlist("concern_severity"), strict=False):
        if not str(code).strip():
            continue
        severity = str(severity).strip()
        concerns.append({"code": str(code).strip(), "region": str(region).strip() or None,
                         "severity": int(severity) if severity.isdigit() else severity or None})
    data["concerns"] = concerns
    data["conditions"] = [str(c) for c in form.getlist("conditions") if str(c).strip()]
    data["allergies"] = [str(c) for c in form.getlist("allergies") if str(c).strip()]
    medications = []
    started_values = form.getlist("medication_started")
    for i, (code, last_taken) in enumerate(zip(form.getlist("medication_code"),
                                               form.getlist("medication_last_taken"),
                                               strict=False)):
        if str(code).strip():
            medication: dict[str, Any] = {"code": str(code).strip()}
            if str(last_taken).strip():
                medication["last_taken"] = str(last_taken).strip()
            started = str(started_values[i]).strip() if i < len(started_values) else ""
            if started:
                medication["started"] = started
            medications.append(medication)
    data["medications"] = medications
    identity = {key: _text(form, key) for key in ("name", "email", "phone")}
    if any(identity.values()):
        data["identity"] = identity
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    data["consents"] = [{"kind": kind, "version": CONSENT_VERSION, "signed_at": now}
                        for kind in ("treatment", "photography", "research")
                        if form.get(f"consent_{kind}")]
    return data


def intake_echo(form: FormData) -> dict[str, Any]:
    """What was typed, to fill the form again after an error."""
    echo: dict[str, Any] = {
        key: str(form.get(key) or "")
        for key in ("name", "email", "phone", "age", "date_of_birth", "sex", "fitzpatrick")}
    echo["concerns"] = [
        {"code": c, "region": r, "severity": s} for c, r, s in zip(
            form.getlist("concern_code"), form.getlist("concern_region"),
            form.getlist("concern_severity"), strict=False) if str(c).strip()]
    started = form.getlist("medication_started")
    echo["medications"] = [
        {"code": c, "last_taken": t, "started": started[i] if i < len(started) else ""}
        for i, (c, t) in enumerate(zip(
            form.getlist("medication_code"), form.getlist("medication_last_taken"),
            strict=False)) if str(c).strip()]
    echo["conditions"] = set(form.getlist("conditions"))
    echo["allergies"] = set(form.getlist("allergies"))
    echo["consents"] = {k for k in ("treatment", "photography", "research")
                        if form.get(f"consent_{k}")}
    return echo


@router.get("/patients")
def patient_list(request: Request, store: StoreDep, q: str | None = Query(None, max_length=200),
                 page: PageQuery = Depends(),
                 principal: Principal = Depends(require_page("demographics"))) -> Response:
    """A page of patients (newest first, or those matching ``q``), with a link to the
    next; the page's read is audited as one row naming the ids shown."""
    from dermatrack.services import patients
    from dermatrack.web.api.patients import list_items

    found = patients.list_patients(store, search=q, actor=principal.actor, with_identity=True,
                                   cursor=page.cursor, limit=page.limit)
    template = "_patient_rows.html" if request.headers.get("X-Partial") else "patients.html"
    return render(request, template, principal, patients=list_items(principal, found.items),
                  q=q or "", cursor=page.cursor, next_cursor=found.next)


@router.get("/patients/new")
def intake_page(request: Request, principal: Principal = Depends(require_page("clinical"))
                ) -> Response:
    return render(request, "intake.html", principal, choices=vocabulary_choices(),
                  form={"concerns": [], "medications": [], "conditions": set(),
                        "allergies": set(), "consents": set()}, errors={})


@router.post("/patients/new/screening")
def intake_screening(request: Request,
                     principal: Principal = Depends(require_page("clinical")),
                     form: FormData = Depends(checked_form)) -> Response:
    """The live screening panel of the intake form (nothing is stored)."""
    from dermatrack.web.api.screening import screen_record

    data = intake_data(form)
    data.pop("identity", None)
    data.pop("consents", None)
    try:
        result = screen_record(data, dt.date.today())
    except InputError as error:
        return render(request, "_screening.html", principal, result=None, incomplete=error)
    return render(request, "_screening.html", principal, result=result, incomplete=None)


@router.post("/patients/new")
def intake_submit(request: Request, store: StoreDep,
                  principal: Principal = Depends(require_page("clinical")),
                  form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import patients

    try:
        record = patients.add_patient(store, intake_data(form), actor=principal.actor)
    except InputError as error:
        return render(request, "intake.html", principal, status_code=422,
                      choices=vocabulary_choices(), form=intake_echo(form),
                      errors={error.field or "form": error.message})
    return RedirectResponse(f"/patients/{record.id}", status_code=303)


def _plan(record: PatientOut) -> tuple[Any, str | None]:
    from dermatrack.web.api.planning import plan_record

    today = dt.date.today()
    try:
        return plan_record(record.patient_json(today), today, today), None
    except InputError as error:
        return None, error.message


def chart_context(store: Store, principal: Principal, patient_id: str) -> dict[str, Any]:
    """Everything the chart shows that the principal may see: read through the chart
    service, which records the read in the same transaction."""
    from dermatrack.services.chart import CHART_PARTS, read_chart

    clinical = principal.can("clinical")
    fields = ("profile", "history", "screening", "plan", "sessions", "events", "scores",
              "photos", "timeline") if clinical else ("demographics", "visits")
    chart = read_chart(store, patient_id, actor=principal.actor,
                       parts=CHART_PARTS if clinical else ("visits",), fields=fields,
                       purpose="chart", with_identity=True)
    record = chart.patient
    context: dict[str, Any] = {"record": record, "visits": chart.visits,
                               "today": dt.date.today().isoformat(), "errors": {}}
    if clinical:
        from dermatrack.services import treatment_maps
        from dermatrack.services.outcomes import load_mdc
        from dermatrack.services.outcomes.timeline import timeline_of
        from dermatrack.web.api.screening import screen_record

        today = dt.date.today()
        try:
            context["screening"], context["screening_incomplete"] = screen_record(
                record.patient_json(today), today), None
        except InputError as error:  # registered by reception: no skin type yet
            context["screening"], context["screening_incomplete"] = None, error
        context.update(
            sessions=chart.sessions, events=chart.events, scores=chart.scores,
            photos=[p.photo for p in chart.photos],
            timeline=timeline_of(chart, load_mdc(store.settings)))
        marks = chart.marks
        context["treatment_marks"] = marks
        context["treatment_diagrams"] = treatment_maps.diagrams(marks) if marks else {}
        context["plan"], context["plan_note"] = _plan(record)
    return context


@router.get("/patients/{patient_id}")
def chart(request: Request, patient_id: str, store: StoreDep,
          principal: Principal = Depends(require_page("demographics"))) -> Response:
    """The patient chart; reception sees the demographic part and the visits."""
    return render(request, "chart.html", principal,
                  **chart_context(store, principal, patient_id))


@router.post("/patients/{patient_id}/visits")
def add_visit(request: Request, patient_id: str, store: StoreDep,
              principal: Principal = Depends(require_page("scheduling")),
              form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import patients

    data = {"patient_id": patient_id, "timepoint": _text(form, "timepoint") or "",
            "date": _text(form, "date") or ""}
    notes = _text(form, "notes")
    if principal.can("clinical") and notes:
        data["notes"] = notes
    try:
        patients.add_visit(store, data, actor=principal.actor)
    except InputError as error:
        context = chart_context(store, principal, patient_id)
        context["errors"] = {error.field or "visit": error.message}
        return render(request, "chart.html", principal, status_code=422, **context)
    return RedirectResponse(f"/patients/{patient_id}#visits", status_code=303)
