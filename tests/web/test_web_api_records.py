"""The API on real records: validation, what each role sees, the audit trail."""

from __future__ import annotations

from web_helpers import NEW_PATIENT

from dermatrack.services import audit


def _history(web, **filters):
    with web.store.reading() as session:
        return audit.history(session, **filters)


def test_fitzpatrick_vii_is_refused_naming_the_field_and_nothing_is_stored(web):
    client = web.client("clinician")
    before = len(_history(web))
    response = client.post("/api/patients", json={**NEW_PATIENT, "fitzpatrick": "VII"})
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["loc"] == ["body", "fitzpatrick"]
    assert "VII" in detail["msg"]
    assert client.get("/api/patients").json() == []
    assert [e for e in _history(web)[before:] if e.action != "read"] == []


def test_a_bad_nested_value_names_its_path(web):
    client = web.client("clinician")
    bad = {**NEW_PATIENT, "concerns": [{"code": "fine_lines", "region": "periorbital",
                                        "severity": 7}]}
    response = client.post("/api/patients", json=bad)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "concerns[0]", "severity"]
    bad_email = {**NEW_PATIENT, "identity": {"name": "X", "email": "not-an-email"}}
    response = client.post("/api/patients", json=bad_email)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "identity"]


def test_clinician_charts_a_course_through_the_api(web):
    client = web.client("clinician")
    patient = client.post("/api/patients", json=NEW_PATIENT)
    assert patient.status_code == 201
    pid = patient.json()["id"]
    assert patient.json()["identity"]["name"] == "Ada Lovelace"
    visit = client.post(f"/api/patients/{pid}/visits",
                        json={"timepoint": "baseline", "date": "2026-01-05"}).json()

    too_deep = {"date": "2026-01-05", "operator": "Dr Who", "modality": "microneedling",
                "regions": ["forehead"], "parameters": {"needle_depth": 2.4}}
    refused = client.post(f"/api/patients/{pid}/sessions", json=too_deep)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "parameters", "needle_depth"]
    assert client.get(f"/api/patients/{pid}/sessions").json() == []

    session = client.post(f"/api/patients/{pid}/sessions", json={
        **too_deep, "parameters": {"needle_depth": 0.5}, "visit_id": visit["id"]})
    assert session.status_code == 201, session.text
    sid = session.json()["id"]

    expected = client.post(f"/api/patients/{pid}/events", json={
        "session_id": sid, "code": "erythema", "onset": "2026-01-05",
        "resolved_on": "2026-01-06"})
    assert expected.status_code == 201
    assert expected.json()["kind"] == "expected_reaction"
    prolonged = client.post(f"/api/patients/{pid}/events", json={
        "session_id": sid, "code": "erythema", "onset": "2026-01-05",
        "resolved_on": "2026-01-30", "grade": 1, "relatedness": "probably-likely"})
    assert prolonged.status_code == 201
    assert prolonged.json()["kind"] == "adverse_event"
    assert "longer than the usual" in prolonged.json()["reason"]
    kinds = [e["kind"] for e in client.get(f"/api/patients/{pid}/events").json()]
    assert sorted(kinds) == ["adverse_event", "expected_reaction"]

    score = client.post(f"/api/patients/{pid}/scores", json={
        "visit_id": visit["id"], "instrument": "glogau", "total": 2, "rater": "Dr Who"})
    assert score.status_code == 201, score.text
    assert len(client.get(f"/api/patients/{pid}/scores").json()) == 1

    screening = client.get(f"/api/patients/{pid}/screening").json()
    assert {r["modality"] for r in screening["results"]} >= {"microneedling"}
    plan = client.get(f"/api/patients/{pid}/plan").json()
    assert plan["recommended"]
    assert client.get("/api/patients/P-000000").status_code == 404
    timeline = client.get(f"/api/patients/{pid}/timeline").json()
    assert [v["timepoint"] for v in timeline["visits"]] == ["baseline"]


def test_intake_screening_stores_nothing_and_finds_the_contraindication(web):
    client = web.client("clinician")
    before = len(_history(web))
    response = client.post("/api/screening", json={
        "age": 30, "fitzpatrick": "II", "conditions": ["pregnancy"]})
    assert response.status_code == 200
    verdicts = {r["modality"]: r for r in response.json()["results"]}
    assert verdicts["topical_retinoid"]["verdict"] == "contraindicated"
    assert verdicts["topical_retinoid"]["reasons"][0]["source"]
    assert len(_history(web)) == before


def test_reception_sees_demographics_and_schedules_without_clinical_data(web):
    client = web.client("reception")
    # Clinical facts (skin type, concerns) are a clinician's: refused whole, nothing stored.
    refused = client.post("/api/patients", json=NEW_PATIENT)
    assert refused.status_code == 403
    assert "fitzpatrick" in refused.json()["detail"] and "concerns" in refused.json()["detail"]
    assert client.get("/api/patients").json() == []
    demographics = {key: NEW_PATIENT[key] for key in ("age", "sex", "identity")}
    created = client.post("/api/patients", json=demographics)
    assert created.status_code == 201
    body = created.json()
    assert body["identity"]["name"] == "Ada Lovelace"
    assert not {"concerns", "fitzpatrick", "medications", "conditions"} & body.keys()
    pid = body["id"]
    shown = client.get(f"/api/patients/{pid}").json()
    assert "concerns" not in shown and "fitzpatrick" not in shown
    assert all(row["fitzpatrick"] is None for row in client.get("/api/patients").json())
    assert client.post(f"/api/patients/{pid}/visits",
                       json={"timepoint": "m1", "date": "2026-02-01"}).status_code == 201
    notes = client.post(f"/api/patients/{pid}/visits",
                        json={"timepoint": "m3", "date": "2026-04-01", "notes": "looks red"})
    assert notes.status_code == 403
    for path in ("photos", "sessions", "measurements", "events", "scores", "screening"):
        assert client.get(f"/api/patients/{pid}/{path}").status_code == 403, path


def test_researcher_gets_deidentified_cohort_data_only(web):
    clinician = web.client("clinician")
    pid = clinician.post("/api/patients", json=NEW_PATIENT).json()["id"]
    visit = clinician.post(f"/api/patients/{pid}/visits",
                           json={"timepoint": "baseline", "date": "2026-01-05"}).json()
    clinician.post(f"/api/patients/{pid}/sessions", json={
        "date": "2026-01-05", "operator": "Dr Who", "modality": "microneedling",
        "regions": ["cheeks"], "parameters": {"needle_depth": 1.0}, "visit_id": visit["id"],
        "notes": "patient mentioned her sister Grace"})

    researcher = web.client("researcher")
    export = researcher.get("/api/cohort/export.csv")
    assert export.status_code == 200
    text = export.text
    assert "microneedling" in text
    for secret in ("Ada", "Lovelace", "ada@example.org", "7946", pid, "Grace", "Dr Who"):
        assert secret not in text
    rows = researcher.get("/api/cohort/export").json()
    assert rows and all(row["subject"].startswith("SUBJ-") for row in rows)
    summary = researcher.get("/api/cohort")
    assert summary.status_code == 200 and summary.json()["n_patients"] == 1
    assert pid not in summary.text and "Ada" not in summary.text
    assert researcher.get("/api/patients").status_code == 403
    assert researcher.get(f"/api/patients/{pid}").status_code == 403
    assert researcher.get(f"/api/patients/{pid}/photos").status_code == 403
    # Each cohort read is one audit row for the cohort, not one per patient (issue 14).
    assert not [e for e in _history(web, entity="patient", entity_id=pid)
                if e.action == "read" and e.actor.startswith("researcher1@")]
    reads = [e for e in _history(web, entity="cohort", entity_id="all")
             if e.action == "read" and e.actor.startswith("researcher1@")]
    assert len(reads) == 3  # the CSV export, the JSON export and the summary
    assert reads[0].changes["fields"] == ["cohort", "patients=1"]


def test_reads_and_writes_are_audited_with_who_and_where(web):
    client = web.client("clinician")
    pid = client.post("/api/patients", json=NEW_PATIENT).json()["id"]
    client.get(f"/api/patients/{pid}")
    client.get(f"/api/patients/{pid}/sessions")
    entries = _history(web, entity_id=pid)
    inserts = [e for e in entries if e.action == "insert" and e.entity == "patient"]
    assert inserts and inserts[0].actor == "clinician1@testclient"
    reads = {(e.entity, tuple(e.changes.get("fields", ()))) for e in entries
             if e.action == "read"}
    assert ("patient_identity", ("email", "name", "phone")) in reads
    assert ("patient", ("sessions",)) in reads
    identity_insert = next(e for e in entries if e.entity == "patient_identity"
                           and e.action == "insert")
    assert "Ada" not in str(identity_insert.changes)

    admin = web.client("admin")
    rows = admin.get("/api/audit", params={"actor": "clinician1", "action": "read"}).json()
    assert rows and all(r["actor"] == "clinician1@testclient" and r["action"] == "read"
                        for r in rows)
    assert rows[0]["at"] >= rows[-1]["at"]  # newest first
    assert admin.get("/api/audit", params={"action": "peek"}).status_code == 422
    assert admin.get("/api/audit", params={"entity_id": pid}).json()
    assert client.get("/api/audit").status_code == 403


def test_account_changes_are_audited_without_the_password_hash(web):
    admin = web.client("admin")
    created = admin.post("/api/users", json={"username": "kim", "role": "reception",
                                             "password": "another long password"})
    assert created.status_code == 201
    assert "password" not in str(created.json())
    duplicate = admin.post("/api/users", json={"username": "kim", "role": "reception",
                                               "password": "another long password"})
    assert duplicate.status_code == 409  # a rule about stored records (docs/architecture.md)
    assert duplicate.json()["detail"][0]["loc"] == ["body", "username"]
    assert duplicate.json()["detail"][0]["rule"] == "uq_account_username"
    assert duplicate.json()["detail"][0]["existing"] == created.json()["id"]
    entry = next(e for e in _history(web, entity="account") if e.entity_id == created.json()["id"])
    assert entry.changes["password_hash"] == [None, None]
    assert entry.actor == "admin1@testclient"
    off = admin.put("/api/users/kim/active", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert {u["username"] for u in admin.get("/api/users").json()} >= {"kim", "admin1"}


def test_knowledge_search_and_modality_data(web):
    client = web.client("researcher")
    hits = client.get("/api/knowledge/search", params={"q": "microneedling collagen"}).json()
    assert hits and hits[0]["code"]
    modality = client.get("/api/knowledge/modalities/microneedling").json()
    assert modality["protocol"]["parameters"]
    assert client.get("/api/knowledge/modalities/no_such").status_code == 404
    assert client.get("/api/knowledge/search", params={"q": "?!"}).status_code == 422


def test_openapi_schema_documents_the_api_and_its_security(web):
    schema = web.client().get("/api/openapi.json").json()
    assert "/api/patients" in schema["paths"]
    assert schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"][
        "password"]["tokenUrl"] == "/api/token"
    assert "PatientIn" in schema["components"]["schemas"]


def test_the_path_names_the_patient_of_a_score_or_a_session(web):
    """A body is validated once, as the service's fields (stripped, ``region`` for
    ``regions``); a ``patient_id`` in it is accepted as before, and the path's wins."""
    client = web.client("clinician")
    pid = client.post("/api/patients", json=NEW_PATIENT).json()["id"]
    visit = client.post(f"/api/patients/{pid}/visits",
                        json={"timepoint": "baseline", "date": "2026-01-05"}).json()
    score = client.post(f"/api/patients/{pid}/scores", json={
        "patient_id": "P-000000", "visit_id": visit["id"], "instrument": "glogau",
        "total": 2, "rater": "  Dr Who "})
    assert score.status_code == 201, score.text
    assert (score.json()["patient_id"], score.json()["rater"]) == (pid, "Dr Who")
    session = client.post(f"/api/patients/{pid}/sessions", json={
        "patient_id": "P-000000", "date": "2026-01-05", "operator": " Dr Who",
        "modality": "microneedling", "region": "forehead",
        "parameters": {"needle_depth": 0.5}, "visit_id": visit["id"]})
    assert session.status_code == 201, session.text
    charted = session.json()
    assert (charted["patient_id"], charted["operator"], charted["regions"]) == (
        pid, "Dr Who", ["forehead"])
    event = client.post(f"/api/patients/{pid}/events", json={
        "patient_id": "P-000000", "session_id": charted["id"], "code": "erythema",
        "onset": "2026-01-05", "resolved_on": "2026-01-06"})
    assert event.status_code == 201, event.text
    assert event.json()["patient_id"] == pid
    missing = client.post(f"/api/patients/{pid}/scores", json={
        "instrument": "glogau", "total": 2, "rater": "Dr Who"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "visit_id"]
