"""FHIR R4 resources back into the store's rows (the reverse of :mod:`.mapping`).

:func:`read_bundle` checks a whole Bundle before anything is stored: its structure (with
``fhir.resources``), the resource types, the codes (dermatrack's own coding, or a SNOMED
CT code that maps to exactly one dermatrack code), the references between resources and
the values the store requires. The first problem is an
:class:`~dermatrack.errors.InputError` naming the entry, the resource and the field, e.g.
``entry[4] Observation/O-1: valueQuantity.unit: ...``. It returns the rows to insert;
:mod:`dermatrack.services.fhir` stores them in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from dermatrack.errors import InputError
from dermatrack.interop.codes import (
    ID_SYSTEM,
    SNOMED,
    code_system,
    extension_url,
    from_snomed,
)
from dermatrack.interop.fhir.mapping import (
    CONSENT_SCOPE,
    CONSENT_SCOPES,
    METHOD_SYSTEM,
    METRIC_SYSTEM,
    PHOTO_METHOD_CODE,
)
from dermatrack.interop.fhir.validate import validate_resource

#: Resource types dermatrack stores; DiagnosticReport and CodeSystem are derived from the
#: rest and are checked but not stored.
IMPORTED = ("Patient", "Encounter", "Condition", "MedicationStatement",
            "AllergyIntolerance", "Consent", "CarePlan", "Procedure", "AdverseEvent",
            "Observation", "QuestionnaireResponse", "Media")
DERIVED = ("DiagnosticReport", "CodeSystem")


@dataclass
class Parsed:
    """Rows read from a bundle, by table, plus the photographs' files to store."""

    rows: dict[str, list[Any]] = field(default_factory=dict)
    #: photo id -> (url as written in the bundle, expected SHA-256)
    media: dict[str, tuple[str, str]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, row: Any) -> None:
        self.rows.setdefault(table, []).append(row)


class _Entry:
    """One resource being read, so that every error names it."""

    def __init__(self, index: int, resource: dict[str, Any]):
        self.index = index
        self.r = resource
        self.type = resource.get("resourceType")
        self.id = resource.get("id")
        self.name = f"entry[{index}] {self.type}/{self.id}"

    def fail(self, where: str, message: str) -> InputError:
        return InputError(f"{self.name}: {where}: {message}",
                          field=f"entry[{self.index}].resource.{where}")

    def get(self, key: str, *, required: bool = False) -> Any:
        value = self.r.get(key)
        if required and value in (None, "", [], {}):
            raise self.fail(key, "is required by dermatrack")
        return value

    def record_id(self) -> str:
        if not self.id:
            raise self.fail("id", "is required (dermatrack keeps each record's id)")
        if len(self.id) > 16:
            raise self.fail("id", f"{self.id!r} is longer than the 16 characters of a "
                                  "dermatrack id")
        return self.id

    def ref(self, key: str, target: str, value: Any = None, *, required: bool = False
            ) -> str | None:
        ref = value if value is not None else self.r.get(key)
        if not ref:
            if required:
                raise self.fail(key, f"a reference to a {target} is required")
            return None
        text = ref.get("reference") if isinstance(ref, dict) else None
        if not text or "/" not in text:
            raise self.fail(key, f"must reference a {target} as '{target}/<id>'")
        kind, ident = text.rstrip("/").split("/")[-2:]
        if kind != target:
            raise self.fail(key, f"references a {kind}, not a {target}")
        return ident

    def date(self, key: str, value: Any = None, *, required: bool = False) -> dt.date | None:
        text = value if value is not None else self.r.get(key)
        if text is None:
            if required:
                raise self.fail(key, "a date is required")
            return None
        try:
            return dt.date.fromisoformat(str(text)[:10])
        except ValueError:
            raise self.fail(key, f"{text!r} is not a date (YYYY-MM-DD)") from None

    def instant(self, key: str, value: Any = None, *, required: bool = False
                ) -> dt.datetime | None:
        text = value if value is not None else self.r.get(key)
        if text is None:
            if required:
                raise self.fail(key, "a date and time is required")
            return None
        try:
            moment = dt.datetime.fromisoformat(str(text))
        except ValueError:
            raise self.fail(key, f"{text!r} is not a date-time") from None
        if moment.tzinfo is None:
            if len(str(text)) <= 10:
                moment = moment.replace(tzinfo=dt.UTC)
            else:
                raise self.fail(key, f"{text!r} has no time zone")
        return moment.astimezone(dt.UTC)

    def code(self, key: str, kind: str, concept: Any = None, *, snomed_table: str | None = None,
             required: bool = True) -> str | None:
        """The dermatrack code of a CodeableConcept (own coding, else a mapped SNOMED)."""
        concept = concept if concept is not None else self.r.get(key)
        if not concept:
            if required:
                raise self.fail(key, "a code is required")
            return None
        codings = concept.get("coding") or []
        for coding in codings:
            if coding.get("system") == code_system(kind) and coding.get("code"):
                return _check_vocabulary(self, key, kind, coding["code"])
        for coding in codings:
            if coding.get("system") == SNOMED and snomed_table and coding.get("code"):
                mapped = (_phototype(coding["code"]) if snomed_table == "skin_types"
                          else from_snomed(snomed_table, coding["code"]))
                if mapped:
                    return mapped
        systems = ", ".join(sorted({str(c.get("system")) for c in codings})) or "none"
        raise self.fail(f"{key}.coding", f"no code dermatrack knows (systems: {systems}; "
                        f"expected {code_system(kind)}"
                        + (" or a mapped SNOMED CT code" if snomed_table else "") + ")")

    def extensions(self, source: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return (source if source is not None else self.r).get("extension") or []

    def ext(self, name: str, source: dict[str, Any] | None = None) -> dict[str, Any] | None:
        for item in self.extensions(source):
            if item.get("url") == extension_url(name):
                return item
        return None

    def ext_json(self, name: str, source: dict[str, Any] | None = None) -> Any:
        item = self.ext(name, source)
        if item is None:
            return None
        try:
            return json.loads(item.get("valueString", ""))
        except json.JSONDecodeError:
            raise self.fail(f"extension({name})", "is not valid JSON") from None


def _check_vocabulary(entry: _Entry, key: str, kind: str, code: str) -> str:
    from dermatrack.knowledge.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    if kind in ("regions", "concerns", "conditions", "medications", "expected_reactions",
                "adverse_events", "skin_types"):
        try:
            vocab.require(kind, code, field=key)
        except InputError as error:
            if not (kind == "regions" and code == "whole"):
                raise entry.fail(key, error.message) from None
    if kind == "modalities":
        from dermatrack.knowledge.modalities import load_modalities
        from dermatrack.knowledge.vocabulary import load_vocabulary

        if code not in load_modalities(load_vocabulary()):
            raise entry.fail(key, f"unknown modality {code!r}")
    return code


def _phototype(sct: str) -> str | None:
    from dermatrack.knowledge.vocabulary import load_vocabulary

    found = [c for c, t in load_vocabulary().skin_types.items() if t.snomed == sct]
    return found[0] if len(found) == 1 else None


def _typed(entry: _Entry, where: str, item: dict[str, Any]) -> Any:
    for key in ("valueBoolean", "valueInteger", "valueDecimal", "valueString", "valueCode"):
        if key in item:
            return item[key]
    raise entry.fail(where, "has no value")


def _parameters(entry: _Entry, name: str, source: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in entry.extensions(source):
        if item.get("url") != extension_url(name):
            continue
        parts = {p.get("url"): p for p in item.get("extension") or []}
        key = (parts.get("name") or {}).get("valueCode")
        if not key:
            raise entry.fail(f"extension({name})", "a parameter has no name")
        if "null" in parts:
            out[key] = None
        elif "json" in parts:
            out[key] = json.loads(parts["json"]["valueString"])
        elif "value" in parts:
            out[key] = _typed(entry, f"extension({name}).{key}", parts["value"])
        else:
            raise entry.fail(f"extension({name}).{key}", "has no value")
    return out


def _category(entry: _Entry) -> str | None:
    for category in entry.get("category") or []:
        for coding in category.get("coding") or []:
            if coding.get("system") == code_system("record-kind"):
                return coding.get("code")
    return None


# --- one reader per resource type -----------------------------------------------------------

def _patient(e: _Entry, out: Parsed) -> None:
    from dermatrack.clinic.intake import SEXES
    from dermatrack.store.models import Patient, PatientIdentity

    pid = e.record_id()
    sex = e.get("gender")
    if sex is not None and sex not in SEXES:
        raise e.fail("gender", f"{sex!r} is not one of {', '.join(SEXES)}")
    age = e.ext("recorded-age")
    years = recorded_on = None
    if age is not None:
        parts = {p.get("url"): p for p in age.get("extension") or []}
        years = (parts.get("years") or {}).get("valueInteger")
        recorded_on = e.date("extension(recorded-age).recordedOn",
                             (parts.get("recordedOn") or {}).get("valueDate"))
    created = e.instant("meta.lastUpdated", (e.get("meta") or {}).get("lastUpdated"))
    out.add("patient", Patient(id=pid, date_of_birth=e.date("birthDate"), age_years=years,
                               age_recorded_on=recorded_on, sex=sex,
                               **({"created_at": created} if created else {})))
    names = e.get("name") or []
    telecom = e.get("telecom") or []
    name = next((n.get("text") or " ".join([*(n.get("given") or []), n.get("family") or ""])
                 .strip() for n in names), None)
    email = next((t.get("value") for t in telecom if t.get("system") == "email"), None)
    phone = next((t.get("value") for t in telecom if t.get("system") == "phone"), None)
    if name or email or phone:
        out.add("patient_identity", PatientIdentity(patient_id=pid, name=name or None,
                                                    email=email, phone=phone))


def _encounter(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import Visit

    types = e.get("type", required=True)
    timepoint = None
    for concept in types:
        for coding in concept.get("coding") or []:
            if coding.get("system") == code_system("timepoint"):
                timepoint = coding.get("code")
    if not timepoint:
        raise e.fail("type", f"a timepoint coded in {code_system('timepoint')} is required")
    period = e.get("period", required=True)
    note = e.ext("note")
    out.add("visit", Visit(id=e.record_id(), patient_id=e.ref("subject", "Patient",
                                                              required=True),
                           timepoint=timepoint,
                           date=e.date("period.start", period.get("start"), required=True),
                           notes=note.get("valueString") if note else None))


def _note(e: _Entry) -> str | None:
    notes = [n.get("text") for n in e.get("note") or [] if n.get("text")]
    return "\n\n".join(notes) if notes else None


def _condition(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import Concern, ExpectedReaction, PatientCondition

    kind = _category(e)
    patient_id = e.ref("subject", "Patient", required=True)
    if kind == "history":
        out.add("patient_condition", PatientCondition(
            id=e.record_id(), patient_id=patient_id, code=e.code("code", "conditions")))
    elif kind == "concern":
        sites = e.get("bodySite") or []
        severity = None
        if e.get("severity"):
            codes = [c.get("code") for c in e.get("severity").get("coding") or []
                     if c.get("system") == code_system("concern-severity")]
            if not codes or not str(codes[0]).isdigit():
                raise e.fail("severity", f"a severity 1-4 coded in "
                                         f"{code_system('concern-severity')} is required")
            severity = int(codes[0])
        out.add("concern", Concern(
            id=e.record_id(), patient_id=patient_id, code=e.code("code", "concerns"),
            region=e.code("bodySite[0]", "regions", sites[0], snomed_table="body_sites")
            if sites else None, severity=severity))
    elif kind == "expected-reaction":
        evidence = [d for ev in e.get("evidence") or [] for d in ev.get("detail") or []]
        if not evidence:
            raise e.fail("evidence", "the session (Procedure) that caused the reaction is "
                                     "required")
        out.add("expected_reaction", ExpectedReaction(
            id=e.record_id(), patient_id=patient_id,
            session_id=e.ref("evidence[0].detail[0]", "Procedure", evidence[0]),
            code=e.code("code", "expected_reactions"),
            onset=e.date("onsetDateTime", required=True),
            resolved_on=e.date("abatementDateTime"), notes=_note(e)))
    else:
        raise e.fail("category", f"a category coded in {code_system('record-kind')} "
                                 "(history, concern or expected-reaction) is required")


def _medication(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import PatientMedication

    status = e.get("status")
    period = e.get("effectivePeriod") or {}
    out.add("patient_medication", PatientMedication(
        id=e.record_id(), patient_id=e.ref("subject", "Patient", required=True),
        code=e.code("medicationCodeableConcept", "medications"),
        last_taken=e.date("effectivePeriod.end", period.get("end")),
        ongoing=status == "active"))


def _allergy(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import PatientAllergy

    out.add("patient_allergy", PatientAllergy(
        id=e.record_id(), patient_id=e.ref("patient", "Patient", required=True),
        code=e.code("code", "conditions")))


def _consent(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import Consent

    kind = None
    for category in e.get("category") or []:
        for coding in category.get("coding") or []:
            if coding.get("system") == code_system("consent-kind"):
                kind = coding.get("code")
    if kind is None:
        scopes = {v: k for k, v in CONSENT_SCOPES.items()}
        codes = [c.get("code") for c in (e.get("scope") or {}).get("coding") or []
                 if c.get("system") == CONSENT_SCOPE]
        kind = scopes.get(codes[0]) if codes else None
    if kind not in CONSENT_SCOPES:
        raise e.fail("category", "the consent kind (treatment, photography or research) is "
                                 "required")
    version = e.ext("consent-form-version")
    if version is None or not version.get("valueString"):
        raise e.fail("extension(consent-form-version)", "the consent form's version is "
                                                          "required")
    period = (e.get("provision") or {}).get("period") or {}
    out.add("consent", Consent(
        id=e.record_id(), patient_id=e.ref("patient", "Patient", required=True), kind=kind,
        version=version["valueString"], signed_at=e.instant("dateTime", required=True),
        withdrawn_at=e.instant("provision.period.end", period.get("end"))))


def _careplan(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import PlannedModality, ScheduledSession, TreatmentPlan

    plan_id = e.record_id()
    status = e.ext("plan-status")
    created = e.date("created", required=True)
    out.add("treatment_plan", TreatmentPlan(
        id=plan_id, patient_id=e.ref("subject", "Patient", required=True), created_on=created,
        status=status.get("valueCode") if status else e.get("status"), notes=_note(e)))
    for index, activity in enumerate(e.get("activity") or []):
        where = f"activity[{index}]"
        detail = activity.get("detail") or {}
        if not activity.get("id"):
            raise e.fail(f"{where}.id", "the planned modality's id is required")
        regions = [e.code(f"{where}.detail.extension(body-site)", "regions",
                          item.get("valueCodeableConcept"), snomed_table="body_sites")
                   for item in e.extensions(detail)
                   if item.get("url") == extension_url("body-site")]
        out.add("planned_modality", PlannedModality(
            id=activity["id"], plan_id=plan_id,
            modality=e.code(f"{where}.detail.code", "modalities", detail.get("code"),
                            snomed_table="procedures"),
            regions=regions, parameters=_parameters(e, "procedure-parameter", detail)))
        for item in e.extensions(detail):
            if item.get("url") != extension_url("scheduled-session"):
                continue
            parts = {p.get("url"): p for p in item.get("extension") or []}
            swhere = f"{where}.detail.extension(scheduled-session)"
            if not (parts.get("id") and parts.get("number") and parts.get("date")):
                raise e.fail(swhere, "id, number and date are required")
            done = parts.get("procedure")
            out.add("scheduled_session", ScheduledSession(
                id=parts["id"]["valueString"], planned_modality_id=activity["id"],
                number=parts["number"]["valueInteger"],
                scheduled_on=e.date(f"{swhere}.date", parts["date"]["valueDate"]),
                session_id=e.ref(f"{swhere}.procedure", "Procedure", done["valueReference"])
                if done else None))


def _procedure(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import TreatmentSession

    performers = e.get("performer") or []
    operator = next(((p.get("actor") or {}).get("display") for p in performers), None)
    if not operator:
        raise e.fail("performer[0].actor.display", "the operator is required")
    products = []
    for item in e.extensions():
        if item.get("url") != extension_url("product"):
            continue
        parts = {p.get("url"): p for p in item.get("extension") or []}
        product = dict(json.loads(parts["json"]["valueString"])) if "json" in parts else {}
        product["name"] = (parts.get("name") or {}).get("valueString")
        if "lot" in parts:
            product["lot"] = parts["lot"]["valueString"]
        if "expiry" in parts:
            product["expiry"] = parts["expiry"]["valueDate"]
        products.append({k: product[k] for k in sorted(product, key=_product_order)})
    reactions = []
    for index, concept in enumerate(e.get("complication") or []):
        if concept.get("coding"):
            reactions.append(e.code(f"complication[{index}]", "expected_reactions", concept))
        else:
            reactions.append(json.loads(concept.get("text") or "null"))
    sites = e.get("bodySite") or []
    out.add("treatment_session", TreatmentSession(
        id=e.record_id(), patient_id=e.ref("subject", "Patient", required=True),
        visit_id=e.ref("encounter", "Encounter"),
        date=e.date("performedDateTime", required=True), operator=operator,
        modality=e.code("code", "modalities", snomed_table="procedures"),
        regions=[e.code(f"bodySite[{i}]", "regions", s, snomed_table="body_sites")
                 for i, s in enumerate(sites)],
        parameters=_parameters(e, "procedure-parameter"), products=products,
        immediate_reactions=reactions,
        parameter_findings=e.ext_json("parameter-findings") or [], notes=_note(e)))


def _product_order(key: str) -> tuple[int, str]:
    order = {"name": 0, "lot": 1, "expiry": 2}
    return (order.get(key, 3), key)


def _adverse_event(e: _Entry, out: Parsed) -> None:
    from dermatrack.clinic import charting
    from dermatrack.store.models import AdverseEvent

    grade = e.ext("ctcae-grade")
    if grade is None or not isinstance(grade.get("valueInteger"), int) \
            or not 1 <= grade["valueInteger"] <= 5:
        raise e.fail("extension(ctcae-grade)", "a CTCAE grade 1-5 is required")
    serious = [c.get("code") for c in (e.get("seriousness") or {}).get("coding") or []]
    if not serious or serious[0] not in ("serious", "non-serious"):
        raise e.fail("seriousness", "serious or non-serious is required")
    outcome = next((c.get("code") for c in (e.get("outcome") or {}).get("coding") or []),
                   None)
    if outcome is not None and outcome not in charting.OUTCOMES:
        raise e.fail("outcome", f"{outcome!r} is not one of {', '.join(charting.OUTCOMES)}")
    suspects = e.get("suspectEntity") or []
    session_id = relatedness = None
    if suspects:
        session_id = e.ref("suspectEntity[0].instance", "Procedure",
                           suspects[0].get("instance"))
        for causality in suspects[0].get("causality") or []:
            for coding in (causality.get("assessment") or {}).get("coding") or []:
                relatedness = coding.get("code")
        if relatedness is not None and relatedness not in charting.WHO_UMC_RELATEDNESS:
            raise e.fail("suspectEntity[0].causality[0].assessment",
                         f"{relatedness!r} is not a WHO-UMC causality code")

    def text(name: str) -> str | None:
        item = e.ext(name)
        return item.get("valueString") if item else None

    resolved = e.ext("resolved-on")
    if not e.id:
        raise e.fail("id", "is required")
    out.add("adverse_event", AdverseEvent(
        id=e.record_id(), patient_id=e.ref("subject", "Patient", required=True),
        session_id=session_id, term=e.code("event", "adverse_events"),
        onset=e.date("date", required=True), grade=grade["valueInteger"],
        serious=serious[0] == "serious", relatedness=relatedness, action=text("action"),
        outcome=outcome,
        resolved_on=e.date("extension(resolved-on)", resolved.get("valueDate"))
        if resolved else None,
        classification_reason=text("classification-reason"), notes=text("note")))


def _observation(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import Observation

    codings = (e.get("code", required=True)).get("coding") or []
    if any(c.get("system") == code_system("profile") and c.get("code") == "fitzpatrick"
           for c in codings):
        patient_id = e.ref("subject", "Patient", required=True)
        out.rows.setdefault("fitzpatrick", []).append(
            (patient_id, e.code("valueCodeableConcept", "skin_types",
                                snomed_table="skin_types")))
        return
    metric = next((c.get("code") for c in codings if c.get("system") == METRIC_SYSTEM), None)
    if not metric or ":" not in metric:
        raise e.fail("code.coding", f"a metric coded in {METRIC_SYSTEM} as "
                                    "'<kind>:<metric>' is required")
    kind, _, code = metric.partition(":")
    quantity = e.get("valueQuantity")
    if quantity is None and e.get("dataAbsentReason") is None:
        raise e.fail("valueQuantity", "a value (or a dataAbsentReason) is required")
    unit = (quantity or {}).get("unit")
    if quantity is not None and not unit:
        raise e.fail("valueQuantity.unit", "the unit is required")
    if quantity is None:
        unit = _absent_unit(e)
    value = (quantity or {}).get("value")
    method_concept = e.get("method") or {}
    method = method_concept.get("text")
    if not method:
        raise e.fail("method.text", "the method is required")
    settings = e.ext_json("analysis-settings")
    version = next((c.get("version") for c in method_concept.get("coding") or []
                    if c.get("system") == METHOD_SYSTEM and c.get("code") == PHOTO_METHOD_CODE
                    and isinstance(c.get("version"), str)), None)
    if version is not None and not (settings or {}).get("method_version"):
        # The analysis settings did not come (a server dropped the extension, or another
        # system wrote the bundle); the version that measured the figure still decides
        # what it may be compared with.
        settings = {**(settings or {}), "method_version": version}
    site = e.get("bodySite", required=True)
    source = e.ext("source-sha256")
    created = e.instant("meta.lastUpdated", (e.get("meta") or {}).get("lastUpdated"))
    out.add("observation", Observation(
        id=e.record_id(), patient_id=e.ref("subject", "Patient", required=True),
        visit_id=e.ref("encounter", "Encounter"),
        region=e.code("bodySite", "regions", site, snomed_table="body_sites"),
        kind=kind, metric=code, value=None if value is None else float(value), unit=unit,
        device=(e.get("device") or {}).get("display"), method=method,
        source_sha256=source.get("valueString") if source else None,
        settings=settings,
        **({"created_at": created} if created else {})))


def _absent_unit(e: _Entry) -> str:
    from dermatrack.metrics import metric_definition

    codings = e.get("code").get("coding") or []
    metric = next(c.get("code") for c in codings if c.get("system") == METRIC_SYSTEM)
    kind, _, code = metric.partition(":")
    unit = e.ext("unit")
    if unit is not None:
        return unit["valueString"]
    definition = metric_definition(kind, code)
    if definition is None:
        raise e.fail("valueQuantity", "an observation without a value of an unknown metric "
                                      "needs extension(unit)")
    return definition.unit


def _questionnaire_response(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import ScaleScore

    instrument = e.ext("instrument")
    questionnaire = e.get("questionnaire", required=True)
    prefix = f"{code_system('instrument')}/"
    if not str(questionnaire).startswith(prefix):
        raise e.fail("questionnaire", f"must be a dermatrack instrument ({prefix}<code>)")
    name, _, version = str(questionnaire)[len(prefix):].partition("|")
    items: dict[str, Any] = {}
    total = None
    for index, item in enumerate(e.get("item") or []):
        answers = item.get("answer") or []
        if not answers:
            raise e.fail(f"item[{index}].answer", "an answer is required")
        value = _typed(e, f"item[{index}].answer[0]", answers[0])
        if item.get("linkId") == "total":
            total = float(value)
        elif str(item.get("linkId", "")).startswith("item:"):
            items[item["linkId"][5:]] = value
        else:
            raise e.fail(f"item[{index}].linkId", "must be 'total' or 'item:<item code>'")
    blinded = e.ext("blinded-rater")
    rater = (e.get("author") or {}).get("display")
    if not rater:
        raise e.fail("author.display", "the rater is required")
    out.add("scale_score", ScaleScore(
        id=e.record_id(), patient_id=e.ref("subject", "Patient", required=True),
        visit_id=e.ref("encounter", "Encounter", required=True),
        instrument=instrument.get("valueCode") if instrument else name,
        version=version or None, item_scores=items, total=total, rater=rater,
        blinded=bool(blinded and blinded.get("valueBoolean"))))


def _media(e: _Entry, out: Parsed) -> None:
    from dermatrack.store.models import Photo

    content = e.get("content", required=True)
    sha = e.ext("sha256", content)
    if sha is None or len(sha.get("valueString", "")) != 64:
        raise e.fail("content.extension(sha256)", "the photograph's SHA-256 is required")
    if not content.get("url"):
        raise e.fail("content.url", "the photograph's file is required (by reference)")
    view = None
    for coding in (e.get("view") or {}).get("coding") or []:
        if coding.get("system") == code_system("views"):
            view = coding.get("code")
    scale = e.ext("mm-per-pixel")
    created = e.instant("meta.lastUpdated", (e.get("meta") or {}).get("lastUpdated"))
    for key in ("width", "height"):
        if not isinstance(e.get(key), int) or e.get(key) < 1:
            raise e.fail(key, "a positive number of pixels is required")
    photo_id = e.record_id()
    out.media[photo_id] = (content["url"], sha["valueString"])
    out.add("photo", Photo(
        id=photo_id, patient_id=e.ref("subject", "Patient", required=True),
        visit_id=e.ref("encounter", "Encounter"), sha256=sha["valueString"],
        stored_path="", width=e.get("width"), height=e.get("height"),
        taken_at=e.instant("createdDateTime"),
        region=e.code("bodySite", "regions", snomed_table="body_sites", required=False),
        view=view, mm_per_px=float(scale["valueDecimal"]) if scale else None,
        **({"created_at": created} if created else {})))


_READERS = {"Patient": _patient, "Encounter": _encounter, "Condition": _condition,
            "MedicationStatement": _medication, "AllergyIntolerance": _allergy,
            "Consent": _consent, "CarePlan": _careplan, "Procedure": _procedure,
            "AdverseEvent": _adverse_event, "Observation": _observation,
            "QuestionnaireResponse": _questionnaire_response, "Media": _media}


def read_bundle(bundle: Any) -> Parsed:
    """Check a Bundle and read the rows it holds (module docstring). Stores nothing."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise InputError(f"not a FHIR Bundle (resourceType is {found!r})",
                         field="resourceType")
    if bundle.get("type") not in ("collection", "transaction", "batch", "searchset"):
        raise InputError(f"Bundle.type {bundle.get('type')!r}: dermatrack imports collection "
                         "and transaction bundles", field="type")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise InputError("Bundle.entry must be a list", field="entry")
    envelope = {k: v for k, v in bundle.items() if k != "entry"}
    validate_resource(envelope, where="Bundle")
    out = Parsed()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise InputError(f"entry[{index}]: has no resource", field=f"entry[{index}]")
        resource = entry["resource"]
        validate_resource(resource, where=f"entry[{index}]")
        kind = resource["resourceType"]
        if kind in DERIVED:
            out.skipped[kind] = out.skipped.get(kind, 0) + 1
            continue
        reader = _READERS.get(kind)
        if reader is None:
            raise InputError(f"entry[{index}] {kind}/{resource.get('id')}: dermatrack does not "
                             f"import {kind} resources (it imports {', '.join(IMPORTED)})",
                             field=f"entry[{index}].resource.resourceType")
        reader(_Entry(index, resource), out)
    return out


__all__ = ["DERIVED", "ID_SYSTEM", "IMPORTED", "Parsed", "read_bundle"]
