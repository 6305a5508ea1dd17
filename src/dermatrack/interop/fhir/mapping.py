"""The clinical record as FHIR R4 resources (JSON dicts), one function per record kind.

The functions take the store's rows (read in one session by
:mod:`dermatrack.services.fhir`) and a :class:`Context` that says whether the bundle is
de-identified; they return plain JSON dicts that validate as ``fhir.resources.R4B``
models (checked by :func:`dermatrack.interop.fhir.validate.validate_resource`). Which
field goes where is in ``docs/interoperability.md``; the reverse mapping is
:mod:`dermatrack.interop.fhir.reading`.

Codes: every coded field carries dermatrack's own coding (system
``https://dermatrack.org/fhir/CodeSystem/<kind>``), and beside it the SNOMED CT coding of
``codes.yaml`` or the vocabulary when one exists. Units are UCUM (:mod:`dermatrack.metrics`).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from dermatrack.interop.codes import (
    ID_SYSTEM,
    SNOMED,
    UCUM,
    code_system,
    extension_url,
    snomed,
)

FHIR_VERSION = "4.3.0"
"""FHIR version of the resources (R4B: wire-compatible with R4 for these resources)."""

METRIC_SYSTEM = code_system("metric")
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
AE_CAUSALITY = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

#: Consent kinds as FHIR consent scopes (terminology.hl7.org CodeSystem consentscope).
CONSENT_SCOPES = {"treatment": "treatment", "photography": "patient-privacy",
                  "research": "research"}
#: LOINC 59284-0 "Consent Document", the category FHIR's own Consent examples use.
CONSENT_LOINC = ("59284-0", "Consent Document")

#: CTCAE grade to the coarser FHIR AdverseEvent severity (grades 3-5 are all "severe").
SEVERITY_OF_GRADE = {1: "mild", 2: "moderate", 3: "severe", 4: "severe", 5: "severe"}


@dataclass
class Context:
    """How the resources are written.

    ``deidentified``: ids re-keyed (fresh random ids on every export, kept nowhere), each
    patient's dates shifted by a secret random number of days, and names, contacts,
    birth dates, notes, operators', raters' and product lot data, photographs and
    analysis settings left out (as in :mod:`dermatrack.services.export`).
    ``with_identity``: the patient's name and contacts are included (never when
    de-identified).
    """

    deidentified: bool = False
    with_identity: bool = False
    subjects: dict[str, str] = field(default_factory=dict)
    shifts: dict[str, dt.timedelta] = field(default_factory=dict)
    _ids: dict[str, str] = field(default_factory=dict)

    def rid(self, record_id: str) -> str:
        """The id a record has in the bundle."""
        if not self.deidentified:
            return record_id
        if record_id in self.subjects:
            return self.subjects[record_id]
        if record_id not in self._ids:
            from dermatrack.store.models import new_id

            prefix = record_id.split("-", 1)[0]
            self._ids[record_id] = new_id(prefix)
        return self._ids[record_id]

    def ref(self, resource_type: str, record_id: str | None) -> dict[str, str] | None:
        if record_id is None:
            return None
        return {"reference": f"{resource_type}/{self.rid(record_id)}"}

    def date(self, patient_id: str, day: dt.date | None) -> str | None:
        if day is None:
            return None
        return (day + self.shifts.get(patient_id, dt.timedelta(0))).isoformat()

    def instant(self, patient_id: str, at: dt.datetime | None) -> str | None:
        if at is None:
            return None
        return (at.astimezone(dt.UTC) + self.shifts.get(patient_id, dt.timedelta(0))
                ).isoformat()

    def text(self, value: str | None) -> str | None:
        """Free text: left out of de-identified bundles."""
        return None if self.deidentified else value


def deidentifying_context(patient_ids: list[str]) -> Context:
    """A context with fresh subject codes and date shifts for these patients."""
    from dermatrack.services.export import _date_shifts, _subject_codes

    return Context(deidentified=True,
                   subjects=_subject_codes(sorted(patient_ids,
                                                  key=lambda _: secrets.randbits(32))),
                   shifts=_date_shifts(patient_ids))


# --- small builders ------------------------------------------------------------------------

def _clean(value: Any) -> Any:
    """Drop None values and empty lists/dicts, recursively (FHIR allows no empty elements)."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return [v for v in items if v is not None and v != [] and v != {}]
    return value


def _label(kind: str, code: str) -> str | None:
    from dermatrack.knowledge.vocabulary import load_vocabulary

    terms = getattr(load_vocabulary(), kind, None)
    term = terms.get(code) if isinstance(terms, dict) else None
    return term.label if term is not None else None


def concept(kind: str, code: str, *, snomed_table: str | None = None,
            display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept: dermatrack's coding, preceded by SNOMED CT's when mapped."""
    display = display or _label(kind, code)
    codings: list[dict[str, Any]] = []
    sct = snomed(snomed_table, code) if snomed_table else None
    if sct is not None:
        codings.append({"system": SNOMED, "code": sct["code"], "display": sct["display"]})
    codings.append({"system": code_system(kind), "code": code, "display": display})
    return _clean({"coding": codings, "text": display or code})


def body_site(region: str) -> dict[str, Any]:
    return concept("regions", region, snomed_table="body_sites")


def ext(name: str, **value: Any) -> dict[str, Any]:
    """An extension ``{url, value[x]}`` (one keyword: ``valueString=...``)."""
    return {"url": extension_url(name), **value}


def typed_value(value: Any) -> dict[str, Any]:
    """A JSON value as the matching ``value[x]`` (nested values as JSON text)."""
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    if isinstance(value, str):
        return {"valueString": value}
    return {"extension": [ext("json", valueString=json.dumps(value, sort_keys=True))]}


def parameter_extensions(name: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Session or plan parameters: one complex extension per parameter (name, value)."""
    out = []
    for key in sorted(parameters):
        value = parameters[key]
        inner: list[dict[str, Any]] = [{"url": "name", "valueCode": key}]
        if value is None:
            inner.append({"url": "null", "valueBoolean": True})
        else:
            typed = typed_value(value)
            if "extension" in typed:
                inner.append({"url": "json", "valueString": json.dumps(value, sort_keys=True)})
            else:
                inner.append({"url": "value", **typed})
        out.append({"url": extension_url(name), "extension": inner})
    return out


def json_extension(name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return ext(name, valueString=json.dumps(value, sort_keys=True))


def identifier(ctx: Context, record_id: str) -> list[dict[str, str]]:
    return [{"system": ID_SYSTEM, "value": ctx.rid(record_id)}]


def meta(ctx: Context, patient_id: str, created_at: dt.datetime | None
         ) -> dict[str, str | None] | None:
    if created_at is None or ctx.deidentified:
        return None
    return {"lastUpdated": ctx.instant(patient_id, created_at)}


def _notes(ctx: Context, *texts: str | None) -> list[dict[str, str]]:
    return [{"text": t} for t in texts if t and not ctx.deidentified]


# --- resources -----------------------------------------------------------------------------

def patient_resource(ctx: Context, patient: Any, identity: Any | None,
                     age_at_baseline: int | None = None) -> dict[str, Any]:
    extensions = []
    if ctx.deidentified:
        if age_at_baseline is not None:
            extensions.append(ext("age-at-baseline", valueInteger=age_at_baseline))
    elif patient.age_years is not None:
        extensions.append(ext("recorded-age", extension=[
            {"url": "years", "valueInteger": patient.age_years},
            {"url": "recordedOn", "valueDate": patient.age_recorded_on.isoformat()}
            if patient.age_recorded_on else None]))
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": ctx.rid(patient.id),
        "meta": meta(ctx, patient.id, patient.created_at),
        "identifier": identifier(ctx, patient.id),
        "extension": _clean(extensions),
        "gender": patient.sex,
        "birthDate": None if ctx.deidentified else (
            patient.date_of_birth.isoformat() if patient.date_of_birth else None),
    }
    if ctx.with_identity and not ctx.deidentified and identity is not None:
        resource["name"] = [{"text": identity.name}] if identity.name else None
        resource["telecom"] = [t for t in (
            {"system": "email", "value": identity.email} if identity.email else None,
            {"system": "phone", "value": identity.phone} if identity.phone else None) if t]
    return _clean(resource)


def phototype_resource(ctx: Context, patient: Any) -> dict[str, Any] | None:
    """The Fitzpatrick skin type as an Observation valued with its SNOMED CT finding."""
    from dermatrack.knowledge.vocabulary import load_vocabulary

    if patient.fitzpatrick is None:
        return None
    term = load_vocabulary().skin_types.get(patient.fitzpatrick)
    codings: list[dict[str, Any]] = []
    if term is not None and term.snomed:
        codings.append({"system": SNOMED, "code": term.snomed,
                        "display": f"Fitzpatrick skin type {patient.fitzpatrick}"})
    codings.append({"system": code_system("skin_types"), "code": patient.fitzpatrick,
                    "display": term.label if term else None})
    return _clean({
        "resourceType": "Observation", "id": ctx.rid(f"FZ-{patient.id.split('-', 1)[1]}"),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam"}]}],
        "code": {"coding": [{"system": code_system("profile"), "code": "fitzpatrick",
                             "display": "Fitzpatrick skin phototype"}],
                 "text": "Fitzpatrick skin phototype"},
        "subject": ctx.ref("Patient", patient.id),
        "valueCodeableConcept": {"coding": codings,
                                 "text": f"Fitzpatrick {patient.fitzpatrick}"},
    })


def condition_resource(ctx: Context, row: Any) -> dict[str, Any]:
    return _clean({
        "resourceType": "Condition", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id),
        "category": [{"coding": [{"system": code_system("record-kind"),
                                  "code": "history", "display": "Medical history"}]}],
        "code": concept("conditions", row.code),
        "subject": ctx.ref("Patient", row.patient_id),
    })


def concern_resource(ctx: Context, row: Any) -> dict[str, Any]:
    return _clean({
        "resourceType": "Condition", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id),
        "category": [{"coding": [
            {"system": CONDITION_CATEGORY, "code": "problem-list-item"},
            {"system": code_system("record-kind"), "code": "concern",
             "display": "Aesthetic concern"}]}],
        "code": concept("concerns", row.code),
        "bodySite": [body_site(row.region)] if row.region else None,
        "severity": {"coding": [{"system": code_system("concern-severity"),
                                 "code": str(row.severity)}],
                     "text": f"severity {row.severity} of 4"} if row.severity else None,
        "subject": ctx.ref("Patient", row.patient_id),
    })


def reaction_resource(ctx: Context, row: Any) -> dict[str, Any]:
    """An expected reaction (normal response to treatment) as a Condition whose evidence
    is the session that caused it."""
    return _clean({
        "resourceType": "Condition", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id),
        "category": [{"coding": [{"system": code_system("record-kind"),
                                  "code": "expected-reaction",
                                  "display": "Expected reaction to treatment"}]}],
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "resolved" if row.resolved_on else "active"}]},
        "code": concept("expected_reactions", row.code),
        "subject": ctx.ref("Patient", row.patient_id),
        "onsetDateTime": ctx.date(row.patient_id, row.onset),
        "abatementDateTime": ctx.date(row.patient_id, row.resolved_on),
        "evidence": [{"detail": [ctx.ref("Procedure", row.session_id)]}],
        "note": _notes(ctx, row.notes),
    })


def medication_resource(ctx: Context, row: Any) -> dict[str, Any]:
    return _clean({
        "resourceType": "MedicationStatement", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id),
        "status": "active" if row.ongoing else "completed",
        "medicationCodeableConcept": concept("medications", row.code),
        "subject": ctx.ref("Patient", row.patient_id),
        "effectivePeriod": {"end": ctx.date(row.patient_id, row.last_taken)}
        if row.last_taken else None,
    })


def allergy_resource(ctx: Context, row: Any) -> dict[str, Any]:
    return _clean({
        "resourceType": "AllergyIntolerance", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id),
        "code": concept("conditions", row.code),
        "patient": ctx.ref("Patient", row.patient_id),
    })


def consent_resource(ctx: Context, row: Any) -> dict[str, Any]:
    scope = CONSENT_SCOPES[row.kind]
    return _clean({
        "resourceType": "Consent", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id),
        "status": "inactive" if row.withdrawn_at else "active",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": scope}], "text": row.kind},
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": CONSENT_LOINC[0],
                         "display": CONSENT_LOINC[1]}]},
            {"coding": [{"system": code_system("consent-kind"), "code": row.kind}]}],
        "patient": ctx.ref("Patient", row.patient_id),
        "dateTime": ctx.instant(row.patient_id, row.signed_at),
        "policy": [{"uri": f"{code_system('consent-form')}/{row.kind}|{row.version}"}],
        "extension": [ext("consent-form-version", valueString=row.version)],
        "provision": {"type": "permit", "period": {
            "start": ctx.instant(row.patient_id, row.signed_at),
            "end": ctx.instant(row.patient_id, row.withdrawn_at)}},
    })


def encounter_resource(ctx: Context, visit: Any) -> dict[str, Any]:
    day = ctx.date(visit.patient_id, visit.date)
    return _clean({
        "resourceType": "Encounter", "id": ctx.rid(visit.id),
        "identifier": identifier(ctx, visit.id),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"coding": [{"system": code_system("timepoint"), "code": visit.timepoint}],
                  "text": visit.timepoint}],
        "subject": ctx.ref("Patient", visit.patient_id),
        "period": {"start": day, "end": day},
        "extension": [ext("note", valueString=visit.notes)]
        if visit.notes and not ctx.deidentified else None,
    })


def _product_extensions(ctx: Context, products: list[Any]) -> list[dict[str, Any]]:
    out = []
    for product in products or []:
        product = dict(product)
        inner = [{"url": "name", "valueString": product.pop("name", None)}]
        lot = product.pop("lot", None)
        if lot and not ctx.deidentified:
            inner.append({"url": "lot", "valueString": lot})
        expiry = product.pop("expiry", None)
        if expiry and not ctx.deidentified:
            inner.append({"url": "expiry", "valueDate": str(expiry)})
        if product and not ctx.deidentified:  # fields added later travel as JSON
            inner.append({"url": "json", "valueString": json.dumps(product, sort_keys=True)})
        out.append({"url": extension_url("product"), "extension": _clean(inner)})
    return out


def procedure_resource(ctx: Context, row: Any) -> dict[str, Any]:
    extensions = [*parameter_extensions("procedure-parameter", row.parameters or {}),
                  *_product_extensions(ctx, row.products),
                  # Findings may quote an operator's override reason (free text).
                  None if ctx.deidentified else
                  json_extension("parameter-findings", row.parameter_findings or None)]
    return _clean({
        "resourceType": "Procedure", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id),
        "status": "completed",
        "code": concept("modalities", row.modality, snomed_table="procedures",
                        display=_modality_label(row.modality)),
        "subject": ctx.ref("Patient", row.patient_id),
        "encounter": ctx.ref("Encounter", row.visit_id),
        "performedDateTime": ctx.date(row.patient_id, row.date),
        "performer": None if ctx.deidentified else [{"actor": {"display": row.operator}}],
        "bodySite": [body_site(r) for r in row.regions or []],
        "complication": [concept("expected_reactions", r) if isinstance(r, str)
                         else {"text": json.dumps(r, sort_keys=True)}
                         for r in row.immediate_reactions or []],
        "note": _notes(ctx, row.notes),
        "extension": _clean(extensions),
    })


def _modality_label(code: str) -> str | None:
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    modality = load_modalities(load_vocabulary()).get(code)
    return getattr(modality, "name", None) if modality is not None else None


def careplan_resource(ctx: Context, plan: Any, items: list[tuple[Any, list[Any]]]
                      ) -> dict[str, Any]:
    activities = []
    for item, scheduled in items:
        done = [s for s in scheduled if s.session_id]
        status = ("completed" if scheduled and len(done) == len(scheduled)
                  else "in-progress" if done else "scheduled")
        sessions = [{"url": extension_url("scheduled-session"), "extension": _clean([
            {"url": "id", "valueString": ctx.rid(s.id)},
            {"url": "number", "valueInteger": s.number},
            {"url": "date", "valueDate": ctx.date(plan.patient_id, s.scheduled_on)},
            {"url": "procedure", "valueReference": ctx.ref("Procedure", s.session_id)}
            if s.session_id else None])}
            for s in scheduled]
        activities.append(_clean({
            "id": ctx.rid(item.id),
            "outcomeReference": [ctx.ref("Procedure", s.session_id) for s in done],
            "detail": {
                "code": concept("modalities", item.modality, snomed_table="procedures",
                                display=_modality_label(item.modality)),
                "status": status,
                "extension": [
                    *[ext("body-site", valueCodeableConcept=body_site(r))
                      for r in item.regions or []],
                    *parameter_extensions("procedure-parameter", item.parameters or {}),
                    *sessions],
            }}))
    status = plan.status if plan.status in ("draft", "active", "on-hold", "revoked",
                                            "completed") else "unknown"
    return _clean({
        "resourceType": "CarePlan", "id": ctx.rid(plan.id),
        "identifier": identifier(ctx, plan.id),
        "status": status, "intent": "plan",
        "extension": [ext("plan-status", valueCode=plan.status)],
        "title": "Treatment plan",
        "subject": ctx.ref("Patient", plan.patient_id),
        "created": ctx.date(plan.patient_id, plan.created_on),
        "activity": activities,
        "note": _notes(ctx, plan.notes),
    })


def adverse_event_resource(ctx: Context, row: Any) -> dict[str, Any]:
    from dermatrack.clinic import charting

    causality = None
    if row.relatedness:
        causality = [{"assessment": {"coding": [{
            "system": AE_CAUSALITY, "code": row.relatedness,
            "display": charting.WHO_UMC_RELATEDNESS.get(row.relatedness)}]}}]
    extensions = [ext("ctcae-grade", valueInteger=row.grade),
                  ext("resolved-on", valueDate=ctx.date(row.patient_id, row.resolved_on))
                  if row.resolved_on else None]
    if not ctx.deidentified:
        extensions += [ext("action", valueString=row.action) if row.action else None,
                       ext("classification-reason", valueString=row.classification_reason)
                       if row.classification_reason else None,
                       ext("note", valueString=row.notes) if row.notes else None]
    return _clean({
        "resourceType": "AdverseEvent", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id)[0],
        "actuality": "actual",
        "event": concept("adverse_events", row.term),
        "subject": ctx.ref("Patient", row.patient_id),
        "date": ctx.date(row.patient_id, row.onset),
        "seriousness": {"coding": [{"system": AE_SERIOUSNESS,
                                    "code": "serious" if row.serious else "non-serious"}]},
        "severity": {"coding": [{"system": AE_SEVERITY,
                                 "code": SEVERITY_OF_GRADE[row.grade]}],
                     "text": f"CTCAE grade {row.grade}"},
        "outcome": {"coding": [{"system": AE_OUTCOME, "code": row.outcome}]}
        if row.outcome else None,
        "suspectEntity": [{"instance": ctx.ref("Procedure", row.session_id),
                           "causality": causality}] if row.session_id else None,
        "extension": _clean(extensions),
    })


def metric_code(kind: str, metric: str) -> str:
    """Code of a metric in dermatrack's metric CodeSystem: ``<kind>:<metric>``."""
    return f"{kind}:{metric}"


#: The code system of dermatrack's measurement methods; a photo observation's method is
#: coded there with the version that measured it (``Coding.version``), so that a
#: de-identified bundle, which drops the analysis settings, still says which code made
#: each figure.
METHOD_SYSTEM = code_system("method")
PHOTO_METHOD_CODE = "photo-analysis"


def method_concept(text: str, version: Any) -> dict[str, Any]:
    """``Observation.method``: the method's text, and for a figure measured by a
    versioned photo method its coding with the version."""
    if not isinstance(version, str) or not version:
        return {"text": text}
    return {"coding": [{"system": METHOD_SYSTEM, "code": PHOTO_METHOD_CODE,
                        "version": version, "display": "dermatrack photo analysis"}],
            "text": text}


def observation_resource(ctx: Context, row: Any, visit_date: dt.date | None
                         ) -> dict[str, Any]:
    from dermatrack.metrics import metric_definition, ucum_unit

    definition = metric_definition(row.kind, row.metric)
    display = definition.label if definition else row.metric
    settings = row.settings or {}
    value = None
    absent = None
    if row.value is None:
        absent = {"coding": [{"system": DATA_ABSENT, "code": "error",
                              "display": "Error"}], "text": "not measurable"}
    else:
        value = {"value": row.value, "unit": row.unit, "system": UCUM,
                 "code": ucum_unit(row.unit)}
    calibration = None
    if any(k in settings for k in ("calibrated", "mm_per_px", "scale_source")):
        calibration = ext("calibration", extension=_clean([
            {"url": "calibrated", "valueBoolean": bool(settings.get("calibrated"))},
            {"url": "deltaE2000Mean", "valueDecimal": settings["delta_e2000_mean"]}
            if isinstance(settings.get("delta_e2000_mean"), (int, float)) else None,
            {"url": "mmPerPixel", "valueDecimal": settings["mm_per_px"]}
            if isinstance(settings.get("mm_per_px"), (int, float)) else None,
            {"url": "scaleSource", "valueString": settings["scale_source"]}
            if settings.get("scale_source") else None]))
    photo_id = settings.get("photo_id")
    extensions = [calibration]
    if not ctx.deidentified:
        extensions += [json_extension("analysis-settings", row.settings),
                       ext("source-sha256", valueString=row.source_sha256)
                       if row.source_sha256 else None]
    return _clean({
        "resourceType": "Observation", "id": ctx.rid(row.id),
        "meta": meta(ctx, row.patient_id, row.created_at),
        "identifier": identifier(ctx, row.id),
        "status": "final",
        "category": [{"coding": [
            {"system": OBSERVATION_CATEGORY,
             "code": "imaging" if row.kind == "photo" else "exam"},
            {"system": code_system("observation-kind"), "code": row.kind}]}],
        "code": {"coding": [{"system": METRIC_SYSTEM,
                             "code": metric_code(row.kind, row.metric),
                             "display": display}], "text": display},
        "subject": ctx.ref("Patient", row.patient_id),
        "encounter": ctx.ref("Encounter", row.visit_id),
        "effectiveDateTime": ctx.date(row.patient_id, visit_date),
        "valueQuantity": value,
        "dataAbsentReason": absent,
        "bodySite": body_site(row.region) if row.region != "whole" else concept(
            "regions", "whole", display="Whole image or measured area"),
        "method": method_concept(row.method, settings.get("method_version")),
        "device": {"display": row.device} if row.device else None,
        "derivedFrom": [ctx.ref("Media", photo_id)] if photo_id and not ctx.deidentified
        else None,
        "extension": _clean(extensions),
    })


def questionnaire_response_resource(ctx: Context, row: Any, visit_date: dt.date | None
                                    ) -> dict[str, Any]:
    items = []
    for key in sorted(row.item_scores or {}):
        value = row.item_scores[key]
        answer = typed_value(value)
        if "extension" in answer:
            answer = {"valueString": json.dumps(value, sort_keys=True)}
        items.append({"linkId": f"item:{key}", "answer": [answer]})
    if row.total is not None:
        items.append({"linkId": "total", "text": "Total score",
                      "answer": [{"valueDecimal": row.total}]})
    questionnaire = f"{code_system('instrument')}/{row.instrument}"
    if row.version:
        questionnaire += f"|{row.version}"
    return _clean({
        "resourceType": "QuestionnaireResponse", "id": ctx.rid(row.id),
        "identifier": identifier(ctx, row.id)[0],
        "questionnaire": questionnaire,
        "status": "completed",
        "subject": ctx.ref("Patient", row.patient_id),
        "encounter": ctx.ref("Encounter", row.visit_id),
        "authored": ctx.date(row.patient_id, visit_date),
        "author": None if ctx.deidentified else {"display": row.rater},
        "extension": [ext("instrument", valueCode=row.instrument),
                      ext("blinded-rater", valueBoolean=bool(row.blinded))],
        "item": items,
    })


def media_resource(ctx: Context, photo: Any, url: str, size: int | None) -> dict[str, Any]:
    """A photograph by reference: the file's relative URL and SHA-256, never its pixels."""
    from dermatrack.interop.codes import views

    return _clean({
        "resourceType": "Media", "id": ctx.rid(photo.id),
        "meta": meta(ctx, photo.patient_id, photo.created_at),
        "identifier": identifier(ctx, photo.id),
        "status": "completed",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/media-type",
                             "code": "image", "display": "Image"}]},
        "modality": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                                 "code": "XC", "display": "External-camera Photography"}]},
        "view": {"coding": [{"system": code_system("views"), "code": photo.view,
                             "display": views().get(photo.view)}]} if photo.view else None,
        "subject": ctx.ref("Patient", photo.patient_id),
        "encounter": ctx.ref("Encounter", photo.visit_id),
        "createdDateTime": ctx.instant(photo.patient_id, photo.taken_at),
        "bodySite": body_site(photo.region) if photo.region else None,
        "width": photo.width, "height": photo.height,
        "extension": [ext("mm-per-pixel", valueDecimal=photo.mm_per_px)]
        if photo.mm_per_px is not None else None,
        "content": {"contentType": "image/png" if photo.stored_path.endswith(".png")
                    else "image/jpeg", "url": url, "size": size,
                    "title": photo.sha256,
                    "extension": [ext("sha256", valueString=photo.sha256)]},
    })


def progress_report_resource(ctx: Context, patient_id: str, observations: list[Any],
                             visits: dict[str, Any], summary: str) -> dict[str, Any]:
    """The progress report: which observations it rests on and its summary."""
    dates = sorted(v.date for v in visits.values() if v.patient_id == patient_id)
    return _clean({
        "resourceType": "DiagnosticReport",
        "id": ctx.rid(f"DR-{patient_id.split('-', 1)[1]}"),
        "status": "final",
        "code": {"coding": [{"system": code_system("report"), "code": "progress",
                             "display": "Skin rejuvenation progress report"}],
                 "text": "Progress report"},
        "subject": ctx.ref("Patient", patient_id),
        "effectivePeriod": {"start": ctx.date(patient_id, dates[0]),
                            "end": ctx.date(patient_id, dates[-1])} if dates else None,
        "result": [ctx.ref("Observation", o.id) for o in observations],
        "conclusion": summary,
    })


def metric_code_system() -> dict[str, Any]:
    """dermatrack's metric CodeSystem: every metric with its definition, unit and source."""
    from dermatrack import __version__
    from dermatrack.metrics import all_metrics

    concepts = []
    for d in sorted(all_metrics(), key=lambda d: (d.kind, d.code)):
        concepts.append(_clean({
            "code": metric_code(d.kind, d.code), "display": d.label,
            "definition": " ".join(p for p in (d.description, f"Source: {d.source}."
                                                if d.source else "") if p) or d.label,
            "property": [{"code": "unit", "valueString": d.unit},
                         {"code": "ucum", "valueCode": d.ucum},
                         {"code": "kind", "valueCode": d.kind},
                         {"code": "direction", "valueCode": d.direction}
                         if d.direction else None]}))
    return {
        "resourceType": "CodeSystem", "id": "dermatrack-metric",
        "url": METRIC_SYSTEM, "version": __version__, "name": "DermatrackMetric",
        "title": "dermatrack skin and device metrics", "status": "active",
        "content": "complete", "caseSensitive": True,
        "description": "Photo and device metrics measured by dermatrack; code is "
                       "<observation kind>:<metric>.",
        "property": [
            {"code": "unit", "type": "string", "description": "unit as stored"},
            {"code": "ucum", "type": "code", "description": "UCUM code of the unit"},
            {"code": "kind", "type": "code", "description": "observation kind"},
            {"code": "direction", "type": "code",
             "description": "lower or higher: the direction of improvement"}],
        "count": len(concepts),
        "concept": concepts,
    }
