"""Charting pages: the session form (the modality's parameters with their ranges and
per-region defaults from the knowledge base) and the reaction / adverse-event form, which
says, as it is filled in, whether the reaction will be charted as an expected reaction or
as an adverse event, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from dermatrack.errors import InputError
from dermatrack.services.common import Store
from dermatrack.web.deps import Principal, StoreDep, audit_read, read_patient, require_page
from dermatrack.web.pages import checked_form, render

router = APIRouter(include_in_schema=False)


def parameter_table(modality: Any) -> list[dict[str, Any]]:
    """The modality's parameters with overall and per-region ranges and defaults."""
    from dermatrack.clinic.charting import region_default

    return [{"code": p.code, "label": p.label, "unit": p.unit, "min": p.min, "max": p.max,
             "default": p.default, "note": p.note, "source": p.source,
             "by_region": {region: {"min": r.min, "max": r.max,
                                    "default": region_default(p, region)}
                           for region, r in p.by_region.items()}}
            for p in modality.protocol.parameters]


def _number_or_text(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


def session_data(form: FormData, patient_id: str) -> dict[str, Any]:
    """The session form as the charting service's ``SessionIn``."""
    data: dict[str, Any] = {
        "patient_id": patient_id, "date": str(form.get("date") or ""),
        "operator": str(form.get("operator") or "").strip(),
        "modality": str(form.get("modality") or ""),
        "regions": [str(r) for r in form.getlist("regions")],
        "parameters": {key[len("param_"):]: _number_or_text(str(value).strip())
                       for key, value in form.multi_items()
                       if key.startswith("param_") and str(value).strip()},
        "products": [{"name": str(n).strip(), "lot": str(lot).strip()}
                     for n, lot in zip(form.getlist("product_name"),
                                       form.getlist("product_lot"), strict=False)
                     if str(n).strip() or str(lot).strip()],
        "immediate_reactions": [str(r) for r in form.getlist("immediate_reactions")],
        "lots": [{"lot_id": str(lot).strip(), "amount": str(amount).strip() or None,
                  "unit": str(unit).strip() or None}
                 for lot, amount, unit in zip(form.getlist("lot_id"), form.getlist("lot_amount"),
                                              form.getlist("lot_unit"), strict=False)
                 if str(lot).strip()],
    }
    for key in ("notes", "override_reason", "visit_id"):
        value = str(form.get(key) or "").strip()
        if value:
            data[key] = value
    return data


def _session_context(store: Store, principal: Principal, patient_id: str,
                     modality_code: str | None) -> dict[str, Any]:
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services import patients

    record = read_patient(store, principal, patient_id, fields=("sessions",),
                          purpose="session form", with_identity=True)
    modalities = load_modalities(load_vocabulary())
    modality = modalities.get(modality_code or "")
    vocabulary = load_vocabulary()
    return {"record": record, "modalities": sorted(modalities.values(), key=lambda m: m.name),
            "modality": modality,
            "parameters": parameter_table(modality) if modality else [],
            "regions": sorted(vocabulary.regions.values(), key=lambda t: t.label),
            "visits": patients.list_visits(store, patient_id),
            "catalogue_lots": _catalogue_lots(store),
            "today": dt.date.today().isoformat(), "errors": {}, "form": {}}


def _catalogue_lots(store: Store) -> list[tuple[Any, Any]]:
    """(product, lot) pairs of the catalogue not expired more than a year ago (a session
    charted late may have used a lot that has expired since)."""
    from dermatrack.services import products

    cutoff = dt.date.today() - dt.timedelta(days=365)
    return [(product, lot) for product in products.list_products(store)
            for lot in product.lots if lot.expiry >= cutoff]


@router.get("/patients/{patient_id}/sessions/new")
def session_page(request: Request, patient_id: str, store: StoreDep, modality: str | None = None,
                 principal: Principal = Depends(require_page("clinical"))) -> Response:
    context = _session_context(store, principal, patient_id, modality)
    context["form"] = {"operator": principal.username, "regions": set()}
    return render(request, "session_form.html", principal, **context)


@router.post("/patients/{patient_id}/sessions/new")
def session_submit(request: Request, patient_id: str, store: StoreDep,
                   principal: Principal = Depends(require_page("clinical")),
                   form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import charting

    data = session_data(form, patient_id)
    try:
        saved = charting.add_session(store, data, actor=principal.actor)
    except InputError as error:
        context = _session_context(store, principal, patient_id, data["modality"])
        context["errors"] = {error.field or "form": error.message}
        context["form"] = {**data, "regions": set(data["regions"]),
                           "product": (data["products"] or [{}])[0]}
        return render(request, "session_form.html", principal, status_code=422, **context)
    context = _session_context(store, principal, patient_id, saved.modality)
    return render(request, "session_form.html", principal, status_code=201, saved=saved,
                  **{**context, "form": {"operator": principal.username, "regions": set()}})


# --- reactions and adverse events -------------------------------------------------------

def event_data(form: FormData, patient_id: str) -> dict[str, Any]:
    """The event form as the charting service's ``EventIn``."""
    data: dict[str, Any] = {"patient_id": patient_id, "code": str(form.get("code") or ""),
                            "onset": str(form.get("onset") or "")}
    if form.get("session_id"):
        data["session_id"] = str(form.get("session_id"))
    status = str(form.get("status") or "present")
    seen = str(form.get("seen_on") or "").strip()
    if seen:
        data["resolved_on" if status == "resolved" else "still_present_on"] = seen
    if str(form.get("grade") or "").strip():
        grade = str(form.get("grade")).strip()
        data["grade"] = int(grade) if grade.isdigit() else grade
    for key in ("relatedness", "action", "outcome", "notes"):
        value = str(form.get(key) or "").strip()
        if value:
            data[key] = value
    data["seriousness_criteria"] = [str(c) for c in form.getlist("seriousness_criteria")]
    return data


def preview_event(data: dict[str, Any], sessions: list[Any], today: dt.date) -> dict[str, Any]:
    """How the charting service will classify the reaction, without storing it: the same
    :func:`~dermatrack.clinic.charting.classify_reaction` and the same reason text.

    Returns ``{"kind", "reason"}``; ``kind`` is None while the form is incomplete.
    """
    from dermatrack.clinic.charting import classify_reaction, unlinked_reaction
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()
    code = data.get("code")
    if not code or not data.get("onset"):
        return {"kind": None, "reason": "Choose the reaction and its onset."}
    term = vocabulary.expected_reactions.get(code) or vocabulary.adverse_events.get(code)
    session = next((s for s in sessions if s.id == data.get("session_id")), None)
    if session is None:
        found = unlinked_reaction(code, name=getattr(term, "label", None))
        return {"kind": "adverse_event", "reason": found.reason}
    try:
        onset = dt.date.fromisoformat(data["onset"])
        seen_until = dt.date.fromisoformat(data.get("resolved_on")
                                           or data.get("still_present_on") or today.isoformat())
    except ValueError:
        return {"kind": None, "reason": "Dates must be given as YYYY-MM-DD."}
    try:
        resolved = bool(data.get("resolved_on"))
        found = classify_reaction(load_modalities(load_vocabulary())[session.modality], code, onset,
                                  resolved_on=seen_until if resolved else None,
                                  still_present_on=None if resolved else seen_until, term=term)
    except InputError as error:
        return {"kind": None, "reason": error.message}
    kind = "expected_reaction" if found.kind == "expected" else "adverse_event"
    return {"kind": kind, "reason": found.reason}


def _event_context(store: Store, principal: Principal, patient_id: str) -> dict[str, Any]:
    from dermatrack.clinic import charting as rules
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services import charting

    record = read_patient(store, principal, patient_id, fields=("sessions", "events"),
                          purpose="event form", with_identity=True)
    vocabulary = load_vocabulary()
    return {"record": record, "sessions": charting.list_sessions(store, patient_id),
            "expected_codes": sorted(vocabulary.expected_reactions.values(),
                                     key=lambda t: t.label),
            "adverse_codes": sorted(vocabulary.adverse_events.values(), key=lambda t: t.label),
            "grades": rules.CTCAE_GRADES, "relatedness": rules.WHO_UMC_RELATEDNESS,
            "criteria": rules.SERIOUSNESS_CRITERIA, "outcomes": rules.OUTCOMES,
            "today": dt.date.today().isoformat(), "errors": {}, "form": {}}


@router.get("/patients/{patient_id}/events/new")
def event_page(request: Request, patient_id: str, store: StoreDep,
               principal: Principal = Depends(require_page("clinical"))) -> Response:
    context = _event_context(store, principal, patient_id)
    if context["sessions"]:
        context["form"] = {"session_id": context["sessions"][-1].id}
    return render(request, "event_form.html", principal, **context)


@router.post("/patients/{patient_id}/events/preview")
def event_preview(request: Request, patient_id: str, store: StoreDep,
                  principal: Principal = Depends(require_page("clinical")),
                  form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import charting

    # The preview reads the patient's sessions on every change of the form: audited too.
    audit_read(store, principal, "patient", patient_id, fields=("sessions",),
               purpose="event preview")
    preview = preview_event(event_data(form, patient_id),
                            charting.list_sessions(store, patient_id), dt.date.today())
    return render(request, "_event_preview.html", principal, preview=preview)


@router.post("/patients/{patient_id}/events/new")
def event_submit(request: Request, patient_id: str, store: StoreDep,
                 principal: Principal = Depends(require_page("clinical")),
                 form: FormData = Depends(checked_form)) -> Response:
    from dermatrack.services import charting

    data = event_data(form, patient_id)
    context = _event_context(store, principal, patient_id)
    try:
        saved = charting.add_event(store, data, actor=principal.actor)
    except InputError as error:
        context["errors"] = {error.field or "form": error.message}
        context["form"] = {**data, "status": form.get("status"),
                           "seen_on": form.get("seen_on"),
                           "seriousness_criteria": set(data["seriousness_criteria"])}
        return render(request, "event_form.html", principal, status_code=422, **context)
    return render(request, "event_form.html", principal, status_code=201, saved=saved,
                  **context)
