"""FHIR R4 export and import: every resource type validates, the round trip gives back
the same records, de-identification, and clear errors with nothing stored for bad bundles."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json

import pytest
from sqlalchemy import func, inspect, select

from dermatrack.errors import InputError

from .clinic import ACTOR, EMAIL, NAME, PHONE

EXPECTED_TYPES = {"Patient", "Encounter", "Condition", "MedicationStatement",
                  "AllergyIntolerance", "Consent", "CarePlan", "Procedure", "AdverseEvent",
                  "Observation", "QuestionnaireResponse", "Media", "DiagnosticReport",
                  "CodeSystem"}


def snapshot(store) -> dict[str, list[dict]]:
    """Every row of every clinical table (all columns), sorted by key, deleted or not."""
    from dermatrack.services.fhir import _models

    out = {}
    with store.reading() as session:
        for table, model in _models().items():
            columns = [c.key for c in inspect(model).column_attrs]
            rows = session.scalars(select(model).execution_options(include_deleted=True))
            out[table] = sorted(({c: getattr(r, c) for c in columns} for r in rows),
                                key=lambda r: json.dumps(r, default=str, sort_keys=True))
    return out


def export(store, tmp_path, name="bundle.json", **options):
    from dermatrack.services.fhir import export_fhir

    path = tmp_path / "exchange" / name
    result = export_fhir(store, path, actor=ACTOR, **options)
    return path, json.loads(path.read_text()), result


def resources(bundle, kind=None):
    return [e["resource"] for e in bundle["entry"]
            if kind is None or e["resource"]["resourceType"] == kind]


def test_every_exported_resource_type_validates_with_fhir_resources(store, clinic, tmp_path):
    from fhir.resources.R4B import get_fhir_model_class

    from dermatrack.metrics import metric_definition

    _, bundle, result = export(store, tmp_path)
    assert {r["resourceType"] for r in resources(bundle)} == EXPECTED_TYPES
    assert set(result["resources"]) == EXPECTED_TYPES
    get_fhir_model_class("Bundle").model_validate(bundle)  # the whole bundle, nested
    for resource in resources(bundle):
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert model.id == resource["id"]

    # Codes checked by hand (fhir.resources does not check bindings).
    [procedure] = resources(bundle, "Procedure")
    sites = {c["code"] for s in procedure["bodySite"] for c in s["coding"]
             if c["system"] == "http://snomed.info/sct"}
    assert sites == {"60819002", "30291003"}  # cheek, chin
    length = next(o for o in resources(bundle, "Observation")
                  if o["code"]["coding"][0]["code"] == "photo:wrinkles.length_mm")
    definition = metric_definition("photo", "wrinkles.length_mm")
    assert length["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert length["valueQuantity"]["code"] == definition.ucum == "mm"
    assert length["encounter"]["reference"].startswith("Encounter/V-")
    calibration = next(x for x in length["extension"] if x["url"].endswith("/calibration"))
    assert {"url": "calibrated", "valueBoolean": True} in calibration["extension"]
    [code_system] = resources(bundle, "CodeSystem")
    concept = next(c for c in code_system["concept"]
                   if c["code"] == "photo:wrinkles.length_mm")
    assert concept["display"] == definition.label
    assert {"code": "ucum", "valueCode": "mm"} in concept["property"]
    phototype = next(o for o in resources(bundle, "Observation")
                     if o["code"]["coding"][0]["code"] == "fitzpatrick"
                     and o["subject"]["reference"] == f"Patient/{clinic.patient_ids[0]}")
    assert phototype["valueCodeableConcept"]["coding"][0]["code"] == "403231003"  # type IV
    event = next(a for a in resources(bundle, "AdverseEvent")
                 if a.get("suspectEntity"))
    assert event["suspectEntity"][0]["causality"][0]["assessment"]["coding"][0]["code"] \
        == "possible"
    # Pseudonymous by default: no name or contact anywhere.
    text = json.dumps(bundle)
    assert NAME not in text and EMAIL not in text and PHONE not in text


def test_round_trip_gives_back_the_same_records(store, clinic, other_store, tmp_path):
    from dermatrack.services.fhir import import_fhir
    from dermatrack.store.models import AuditEvent

    path, bundle, _ = export(store, tmp_path, with_identity=True)
    assert NAME in json.dumps(bundle)
    result = import_fhir(other_store, path, actor="importer")
    assert result["stored"]["observation"] == 7 and result["stored"]["photo"] == 1
    before, after = snapshot(store), snapshot(other_store)
    for table in before:
        assert after[table] == before[table], table
    # The photograph's bytes came along and match their digest.
    from dermatrack.services.photos import photo_file

    assert photo_file(other_store, clinic.photo_id).read_bytes() == \
        photo_file(store, clinic.photo_id).read_bytes()
    with other_store.reading() as session:  # every imported row is in the audit trail
        inserts = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.actor == "importer", AuditEvent.action == "insert"))
    assert inserts >= sum(result["stored"].values())


def test_transaction_bundle_keeps_ids_and_imports(store, clinic, other_store, tmp_path):
    from dermatrack.services.fhir import import_fhir

    path, bundle, _ = export(store, tmp_path, transaction=True)
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {"method": "PUT",
                                    "url": f"{resource['resourceType']}/{resource['id']}"}
    import_fhir(other_store, path, actor="importer")
    assert snapshot(other_store)["observation"] == snapshot(store)["observation"]


def test_one_patient_only(store, clinic, tmp_path):
    _, bundle, result = export(store, tmp_path, patient_id=clinic.patient_ids[1])
    assert result["patients"] == 1
    subjects = {json.dumps(r.get("subject") or r.get("patient")) for r in resources(bundle)
                if r["resourceType"] not in ("Patient", "CodeSystem")}
    assert subjects == {json.dumps({"reference": f"Patient/{clinic.patient_ids[1]}"})}
    with pytest.raises(InputError) as error:
        export(store, tmp_path, patient_id="P-NOSUCH")
    assert error.value.field == "patient"


def test_deidentified_bundle(store, clinic, tmp_path):
    _, bundle, _ = export(store, tmp_path, deidentified=True)
    text = json.dumps(bundle)
    for secret in (NAME, EMAIL, PHONE, "1979-05-02", "HS-2291", "Dr Okafor", "Dr Blind",
                   "tolerated well", "baseline note", *clinic.patient_ids,
                   *clinic.visits.values(), clinic.session_id, clinic.photo_id):
        assert secret not in text, secret
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert "Media" not in kinds and "Patient" in kinds
    # Each patient's dates move together: the intervals between visits are kept.
    patient = next(p for p in resources(bundle, "Patient")
                   if any(x["url"].endswith("age-at-baseline") and x["valueInteger"] == 46
                          for x in p.get("extension", [])))
    encounters = sorted(dt.date.fromisoformat(e["period"]["start"])
                        for e in resources(bundle, "Encounter")
                        if e["subject"]["reference"] == f"Patient/{patient['id']}")
    assert [(b - a).days for a, b in itertools.pairwise(encounters)] == [31, 59]
    from dermatrack.services.fhir import validate_bundle

    validate_bundle(bundle)


def test_a_photo_figure_keeps_the_version_that_measured_it_without_its_settings(
        store, clinic, other_store, tmp_path):
    """The analysis settings leave neither in a de-identified bundle nor through a server
    that drops extensions it does not know; the method's coding (Coding.version, a core
    element) does, and an import gives the figures their version back, which decides
    what they may be compared with (definitions.method_versions_differ)."""
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.interop.fhir.mapping import METHOD_SYSTEM, PHOTO_METHOD_CODE
    from dermatrack.services.fhir import import_fhir
    from dermatrack.store.models import Observation

    coding = [{"system": METHOD_SYSTEM, "code": PHOTO_METHOD_CODE,
               "version": PHOTO_METHOD_VERSION, "display": "dermatrack photo analysis"}]

    def photo_figures(bundle):
        return [o for o in resources(bundle, "Observation")
                if "photo" in json.dumps(o["category"])]

    _, deidentified, _ = export(store, tmp_path, "deidentified.json", deidentified=True)
    assert photo_figures(deidentified)
    assert all(o["method"]["coding"] == coding for o in photo_figures(deidentified))
    assert "analysis-settings" not in json.dumps(deidentified)
    # A figure without a versioned method (a device's) keeps its text alone, as before.
    assert all("coding" not in o.get("method", {}) for o in resources(deidentified,
                                                                        "Observation")
               if "photo" not in json.dumps(o["category"]))

    path, bundle, _ = export(store, tmp_path)
    for observation in photo_figures(bundle):
        observation["extension"] = [x for x in observation.get("extension", [])
                                    if not x["url"].endswith("analysis-settings")]
    path.write_text(json.dumps(bundle))
    import_fhir(other_store, path, actor="importer")
    with other_store.reading() as session:
        imported = session.scalars(select(Observation).where(Observation.kind == "photo"))
        assert {(o.settings or {}).get("method_version") for o in imported} == \
            {PHOTO_METHOD_VERSION}


def test_identity_and_deidentified_cannot_be_combined(store, clinic, tmp_path):
    with pytest.raises(InputError) as error:
        export(store, tmp_path, deidentified=True, with_identity=True)
    assert error.value.field == "with_identity"


# --- bad bundles: a clear error naming the resource and field, nothing stored -------------

def _observation(bundle):
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Observation"
                and "valueQuantity" in e["resource"])


def _break_value(bundle):
    _observation(bundle)["valueQuantity"]["value"] = "forty"
    return "Observation/O-", "valueQuantity.value"


def _drop_unit(bundle):
    del _observation(bundle)["valueQuantity"]["unit"]
    return "Observation/O-", "valueQuantity.unit"


def _unknown_element(bundle):
    next(e["resource"] for e in bundle["entry"]
         if e["resource"]["resourceType"] == "Procedure")["dosage"] = "x"
    return "Procedure/S-", "dosage"


def _foreign_resource(bundle):
    bundle["entry"].append({"resource": {"resourceType": "Practitioner", "id": "dr1"}})
    return "Practitioner/dr1", "resourceType"


def _foreign_code(bundle):
    procedure = next(e["resource"] for e in bundle["entry"]
                     if e["resource"]["resourceType"] == "Procedure")
    procedure["code"] = {"coding": [{"system": "http://example.org/codes", "code": "X1"}]}
    return "Procedure/S-", "code.coding"


def _dangling_visit(bundle):
    _observation(bundle)["encounter"] = {"reference": "Encounter/V-NOSUCH0000"}
    return "Observation/O-", "Encounter/V-NOSUCH0000"


def _not_a_bundle(bundle):
    bundle["resourceType"] = "Patient"
    return "not a FHIR Bundle", "resourceType"


@pytest.mark.parametrize("breaker", [_break_value, _drop_unit, _unknown_element,
                                     _foreign_resource, _foreign_code, _dangling_visit,
                                     _not_a_bundle])
def test_bad_bundle_is_refused_naming_resource_and_field(store, clinic, other_store,
                                                         tmp_path, breaker):
    from dermatrack.services.fhir import import_fhir

    path, bundle, _ = export(store, tmp_path)
    broken = copy.deepcopy(bundle)
    resource, field = breaker(broken)
    path.write_text(json.dumps(broken))
    empty = snapshot(other_store)
    with pytest.raises(InputError) as error:
        import_fhir(other_store, path, actor="importer")
    assert resource in error.value.message and field in str(error.value), str(error.value)
    assert snapshot(other_store) == empty  # nothing stored


def test_a_problem_late_in_the_bundle_stores_nothing(store, clinic, other_store, tmp_path):
    """The last entry is checked against the database only inside the transaction: the
    rows added before it are rolled back."""
    from dermatrack.services.fhir import import_fhir

    path, bundle, _ = export(store, tmp_path)
    import_fhir(other_store, path, actor="importer")
    once = snapshot(other_store)
    with pytest.raises(InputError, match="already stored"):
        import_fhir(other_store, path, actor="importer")
    assert snapshot(other_store) == once


def test_photograph_file_must_match_its_digest(store, clinic, other_store, tmp_path):
    from dermatrack.services.fhir import import_fhir

    path, bundle, result = export(store, tmp_path)
    photo = next((tmp_path / "exchange").glob("bundle-photos/*"))
    photo.write_bytes(photo.read_bytes()[:-10])
    with pytest.raises(InputError, match=f"Media/{clinic.photo_id}.*SHA-256"):
        import_fhir(other_store, path, actor="importer")
    photo.unlink()
    with pytest.raises(InputError, match="content.url"):
        import_fhir(other_store, path, actor="importer")
    assert snapshot(other_store)["patient"] == []


def test_cli_export_and_import(cli, store, clinic, tmp_path, monkeypatch):
    out = tmp_path / "cli" / "clinic.json"
    done = cli("export", "--format", "fhir", "--out", str(out), "--patient",
               clinic.patient_ids[0], "--transaction", "--json")
    assert done.code == 0, done.stderr
    assert done.json()["type"] == "transaction" and done.json()["patients"] == 1
    refused = cli("export", "--format", "csv", "--out", str(tmp_path / "x.csv"),
                  "--transaction")
    assert refused.code == 2 and "--transaction" in refused.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [')
    failed = cli("import", "fhir", str(bad))
    assert failed.code == 2 and "line 1" in failed.stderr
    # Into a fresh clinic: the records come back.
    from dermatrack.config import DATA_DIR_ENV, DATABASE_URL_ENV

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "fresh"))
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'fresh.db'}")
    imported = cli("import", "fhir", str(out), "--json")
    assert imported.code == 0, imported.stderr
    assert imported.json()["stored"]["patient"] == 1
    assert imported.json()["stored"]["photo"] == 1


def test_bundle_is_written_whole_and_owner_only(cli, store, clinic, tmp_path, monkeypatch):
    """The bundle (which may carry identities) goes through a locked owner-only partial
    file, like the research export: a failure keeps the previous bundle, a new bundle is
    readable by its owner only, and a partial file left by a killed export is removed
    and named (store/partial_files.py; the signals are tested with the research
    export in tests/outcomes_report/test_deidentified_export.py)."""
    import json as json_module
    from pathlib import Path

    out = tmp_path / "bundles" / "clinic.json"
    out.parent.mkdir()
    out.write_text("the previous bundle")
    out.chmod(0o640)
    write_text = Path.write_text

    def disk_full_for_partials(self, *args, **kwargs):
        if self.name.endswith(".part"):
            write_text(self, "the first half of a bundle")
            raise OSError(28, "No space left on device")
        return write_text(self, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "write_text", disk_full_for_partials)
        failed = cli("export", "--format", "fhir", "--out", str(out))
    assert failed.code == 2 and "No space left on device" in failed.stderr
    assert out.read_text() == "the previous bundle"
    assert not list(out.parent.glob(".*.part"))

    abandoned = out.parent / ".clinic.json.0123abcd.part"  # no process holds its lock
    abandoned.write_text("half a bundle of a killed export")
    done = cli("export", "--format", "fhir", "--out", str(out), "--json")
    assert done.code == 0, done.stderr
    assert done.json()["stale_partials_removed"] == [abandoned.name]
    assert not list(out.parent.glob(".*.part"))
    assert out.stat().st_mode & 0o777 == 0o640  # a replaced bundle keeps its mode
    new = tmp_path / "bundles" / "new.json"
    assert cli("export", "--format", "fhir", "--out", str(new)).code == 0
    assert new.stat().st_mode & 0o777 == 0o600
    json_module.loads(new.read_text())
