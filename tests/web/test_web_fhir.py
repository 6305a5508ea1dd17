"""The read-only FHIR API: CapabilityStatement, reads and searches with each role
(anonymous 401, admin 403, reception demographics only, researcher de-identified only),
resources valid for fhir.resources, and every answer audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from interop.clinic import EMAIL, NAME, build_clinic

FHIR = "application/fhir+json"


@pytest.fixture
def clinic_web(web, tmp_path):
    return web, build_clinic(web.store, tmp_path)


def _validate(resource):
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_capability_statement(web):
    response = web.client().get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR)
    body = response.json()
    _validate(body)
    types = {r["type"] for r in body["rest"][0]["resource"]}
    assert {"Patient", "Observation", "Procedure", "Media", "AdverseEvent"} <= types


def test_the_fhir_routes_are_the_ones_tested_here(web):
    """A FHIR route added without a role test here fails (test_web_api_access.py leaves
    /fhir to this module)."""
    paths = {(method, path) for path, operations in web.app.openapi()["paths"].items()
             for method in operations if path.startswith("/fhir/")}
    assert paths == {("get", "/fhir/metadata"), ("get", "/fhir/{resource_type}"),
                     ("get", "/fhir/{resource_type}/{resource_id}")}


def test_anonymous_gets_401_and_admin_403(clinic_web):
    web, clinic = clinic_web
    pid = clinic.patient_ids[0]
    assert web.client().get(f"/fhir/Patient/{pid}").status_code == 401
    assert web.client().get("/fhir/Observation", params={"patient": pid}).status_code == 401
    assert web.client("admin").get(f"/fhir/Patient/{pid}").status_code == 403
    assert web.client("admin").get("/fhir/Observation").status_code == 403


def test_clinician_reads_and_searches(clinic_web):
    web, clinic = clinic_web
    client = web.client("clinician")
    pid = clinic.patient_ids[0]
    patient = client.get(f"/fhir/Patient/{pid}")
    assert patient.status_code == 200 and patient.headers["content-type"].startswith(FHIR)
    assert patient.json()["name"][0]["text"] == NAME
    _validate(patient.json())
    found = client.get("/fhir/Observation", params={
        "patient": pid, "code": "https://dermatrack.org/fhir/CodeSystem/metric|"
                                "photo:wrinkles.length_mm",
        "date": ["ge2026-02-01", "le2026-12-31"]})
    assert found.status_code == 200
    bundle = found.json()
    _validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 2
    values = sorted(e["resource"]["valueQuantity"]["value"] for e in bundle["entry"])
    assert values == [33.0, 38.25]
    one = bundle["entry"][0]["resource"]
    again = client.get(f"/fhir/Observation/{one['id']}")
    assert again.status_code == 200 and again.json() == one
    for kind in ("Procedure", "CarePlan", "AdverseEvent", "Media", "Consent",
                 "QuestionnaireResponse", "DiagnosticReport", "Condition"):
        answer = client.get(f"/fhir/{kind}", params={"patient": pid})
        assert answer.status_code == 200 and answer.json()["total"] >= 1, kind
    media = client.get("/fhir/Media", params={"patient": pid}).json()["entry"][0]["resource"]
    image = client.get(media["content"]["url"])
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    assert client.get("/fhir/Observation/O-NOSUCH0000").status_code == 404
    code_system = client.get("/fhir/CodeSystem/dermatrack-metric")
    assert code_system.status_code == 200 and code_system.json()["count"] > 10
    procedure = client.get(f"/fhir/Procedure/{clinic.session_id}")
    assert procedure.json()["performer"][0]["actor"]["display"] == "Dr Okafor"
    assert client.get("/fhir/Observation", params={"date": "yesterday"}).status_code == 400
    assert client.get("/fhir/Observation", params={"subject:x": "1"}).status_code == 400


def test_reception_sees_demographics_only(clinic_web):
    web, clinic = clinic_web
    client = web.client("reception")
    pid = clinic.patient_ids[0]
    assert client.get(f"/fhir/Patient/{pid}").json()["telecom"][0]["value"] == EMAIL
    encounters = client.get("/fhir/Encounter", params={"patient": pid}).json()
    assert encounters["total"] == 3
    assert "baseline note" not in json.dumps(encounters)
    assert client.get("/fhir/Observation", params={"patient": pid}).status_code == 403
    assert client.get("/fhir/Procedure").status_code == 403


def test_researcher_gets_deidentified_data_only(clinic_web):
    web, clinic = clinic_web
    client = web.client("researcher")
    pid = clinic.patient_ids[0]
    assert client.get(f"/fhir/Patient/{pid}").status_code == 403
    assert client.get("/fhir/Observation", params={"patient": pid}).status_code == 403
    patients = client.get("/fhir/Patient").json()
    assert patients["total"] == 2
    observations = client.get("/fhir/Observation").json()
    assert observations["total"] >= 7
    text = json.dumps(patients) + json.dumps(observations)
    for secret in (NAME, EMAIL, "1979-05-02", *clinic.patient_ids, *clinic.visits.values()):
        assert secret not in text
    subjects = {e["resource"]["id"] for e in patients["entry"]}
    assert all(s.startswith("SUBJ-") for s in subjects)
    assert client.get("/fhir/Media").json()["total"] == 0  # no photographs


def test_reads_are_audited(clinic_web):
    from dermatrack.store.models import AuditEvent

    web, clinic = clinic_web
    pid = clinic.patient_ids[0]
    web.client("clinician").get("/fhir/Observation", params={"patient": pid})
    web.client("researcher").get("/fhir/Observation")
    with web.store.reading() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()
    clinician = [r for r in rows if r.actor.startswith("clinician1@")
                 and r.changes.get("purpose") == "fhir-api"]
    assert [r.entity_id for r in clinician] == [pid]
    assert "Observation" in clinician[0].changes["fields"]
    assert any(r.actor.startswith("researcher1@") and r.entity == "cohort"
               and r.changes.get("purpose") == "fhir-api-deidentified" for r in rows)


def test_web_upload_accepts_dicom_photographs_and_refuses_other_dicom(clinic_web, tmp_path):
    import numpy as np

    from dermatrack.services.dicom import export_dicom
    from dermatrack.services.photos import list_photos
    from interop.clinic import photo_pixels
    from interop.test_dicom import _ct_file, stored_pixels

    web, clinic = clinic_web
    pid = clinic.patient_ids[0]
    [path] = export_dicom(web.store, tmp_path / "d", actor="t", patient_id=pid)["files"]
    client = web.client("clinician")
    url = f"/api/patients/{pid}/photos"
    ct = client.post(url, files={"image": ("scan.dcm", _ct_file(tmp_path / "ct.dcm")
                                           .read_bytes(), "application/dicom")})
    assert ct.status_code == 422 and "CT Image Storage" in ct.text
    assert len(list_photos(web.store, pid)) == 1
    data = Path(path).read_bytes()
    # A .dcm file the browser sent without a type is taken for DICOM.
    done = client.post(url, data={"close_up": "true"},  # a test pattern, not a face
                       files={"image": ("photo.dcm", data, "")})
    assert done.status_code == 201, done.text
    photo = done.json()["photo"]
    assert (photo["region"], photo["view"], photo["visit_id"]) == ("full_face", "front",
                                                                   clinic.visits["m1"])
    assert np.array_equal(stored_pixels(web.store, photo["id"]), photo_pixels())
