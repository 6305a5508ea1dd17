"""Server-rendered pages: sign-in, roles, intake with live screening, charting forms,
messages beside the fields, admin pages."""

from __future__ import annotations

from bs4 import BeautifulSoup
from web_helpers import NEW_PATIENT, PASSWORD


def _soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def _csrf(client) -> str:
    return client.cookies.get("dermatrack_csrf")


def test_pages_need_a_session_and_sign_in_returns_to_the_page(web):
    client = web.client()
    response = client.get("/patients/new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fpatients%2Fnew"
    client.get(response.headers["location"])
    back = client.post("/signin", data={"username": "clinician1", "password": PASSWORD,
                                        "next": "/patients/new", "csrf_token": _csrf(client)},
                       follow_redirects=False)
    assert back.headers["location"] == "/patients/new"
    wrong = client.post("/signin", data={"username": "clinician1", "password": "nope",
                                         "csrf_token": _csrf(client)})
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    offsite = client.post("/signin", data={"username": "clinician1",
                                           "password": PASSWORD,
                                           "next": "//evil.example/", "csrf_token": _csrf(client)},
                          follow_redirects=False)
    assert offsite.headers["location"] == "/patients"
    for target in ("/\\evil.example/", "/\\/evil.example", "/\tevil", "https://evil.example/"):
        # Browsers read a backslash as a slash: "/\\evil.example" would leave the site.
        away = client.post("/signin", data={"username": "clinician1", "password": PASSWORD,
                                            "next": target, "csrf_token": _csrf(client)},
                           follow_redirects=False)
        assert away.headers["location"] == "/patients", target


def test_each_role_sees_its_own_navigation_and_is_kept_out_of_the_rest(web):
    expectations = {
        "clinician": ({"Patients", "New patient", "Day", "Recalls", "Products",
                       "Consent forms", "Cohort", "Knowledge base"}, []),
        "reception": ({"Patients", "Register patient", "Day", "Recalls", "Knowledge base"},
                      ["/patients/new", "/cohort", "/admin/audit", "/products",
                       "/recalls/lot?lot=X", "/consent/templates"]),
        "researcher": ({"Cohort", "Knowledge base"}, ["/patients", "/patients/new",
                                                      "/admin/users", "/appointments",
                                                      "/recalls"]),
        "admin": ({"Audit log", "Users", "Consent forms", "Knowledge base"},
                  ["/patients", "/cohort", "/appointments", "/products"]),
    }
    for role, (navigation, forbidden) in expectations.items():
        client = web.signed_in(role)
        page = client.get("/knowledge")
        assert {a.text.strip() for a in _soup(page).select(".mainnav a")} == navigation, role
        for url in forbidden:
            assert client.get(url).status_code == 403, (role, url)


def test_patient_list_search_and_chart(web):
    from dermatrack.services import patients

    record = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    patients.add_patient(web.store, {**NEW_PATIENT, "identity": {"name": "Grace Hopper"}},
                         actor="test-setup")
    client = web.signed_in("clinician")
    listing = client.get("/patients", params={"q": "lovelace"})
    names = [td.text for td in _soup(listing).select("#patient-rows td:nth-of-type(2)")]
    assert [n.strip() for n in names] == ["Ada Lovelace"]
    partial = client.get("/patients", params={"q": "grace"}, headers={"X-Partial": "1"})
    assert "<html" not in partial.text and "Grace Hopper" in partial.text
    chart = _soup(client.get(f"/patients/{record.id}"))
    for section in ("profile", "consents", "visits", "screening", "plan", "sessions", "events",
                    "scores", "timeline", "photos"):
        assert chart.select_one(f"#{section}") is not None, section

    missing = client.get("/patients/P-000000")
    assert missing.status_code == 404 and "Not found" in _soup(missing).h1.text

    reception = web.signed_in("reception")
    chart = _soup(reception.get(f"/patients/{record.id}"))
    assert chart.select_one("#visits") is not None
    assert chart.select_one("#screening") is None and chart.select_one("#photos") is None
    assert "fine lines" not in chart.text
    scheduled = reception.post(f"/patients/{record.id}/visits",
                               data={"timepoint": "m1", "date": "2026-02-02",
                                     "csrf_token": _csrf(reception)}, follow_redirects=False)
    assert scheduled.status_code == 303
    assert [v.timepoint for v in patients.list_visits(web.store, record.id)] == ["m1"]
    bad = reception.post(f"/patients/{record.id}/visits",
                         data={"timepoint": "Month 1", "date": "2026-02-02",
                               "csrf_token": _csrf(reception)})
    assert bad.status_code == 422
    assert _soup(bad).select_one('.field-error[data-field="timepoint"]') is not None


def test_intake_refuses_fitzpatrick_vii_beside_the_field_and_stores_nothing(web):
    from dermatrack.services import patients

    client = web.signed_in("clinician")
    client.get("/patients/new")
    response = client.post("/patients/new", data={
        "csrf_token": _csrf(client), "name": "Ada", "age": "41", "fitzpatrick": "VII",
        "concern_code": "fine_lines", "concern_region": "periorbital", "concern_severity": "2"})
    assert response.status_code == 422
    message = _soup(response).select_one('.field-error[data-field="fitzpatrick"]')
    assert message is not None and "VII" in message.text
    assert _soup(response).select_one('input[name="name"]')["value"] == "Ada"
    assert patients.list_patients(web.store, actor="test").items == []

    created = client.post("/patients/new", data={
        "csrf_token": _csrf(client), "name": "Ada", "age": "41", "fitzpatrick": "III",
        "sex": "female", "concern_code": "fine_lines", "concern_region": "periorbital",
        "concern_severity": "2", "consent_treatment": "1"}, follow_redirects=False)
    assert created.status_code == 303
    (stored,) = patients.list_patients(web.store, actor="test").items
    assert created.headers["location"] == f"/patients/{stored.id}"
    record = patients.get_patient_record(web.store, stored.id, actor="test")
    assert [c.kind for c in record.consents] == ["treatment"]


def test_intake_screening_panel_shows_a_contraindication(web):
    client = web.signed_in("clinician")
    client.get("/patients/new")
    headers = {"X-CSRF-Token": _csrf(client)}
    incomplete = client.post("/patients/new/screening", data={"age": "30"}, headers=headers)
    assert "fitzpatrick" in incomplete.text
    panel = client.post("/patients/new/screening", headers=headers, data={
        "age": "30", "fitzpatrick": "II", "conditions": "pregnancy"})
    verdict = _soup(panel).select_one('li[data-modality="topical_retinoid"]')
    assert verdict is not None and "contraindicated" in verdict.text
    assert client.post("/patients/new/screening", data={"age": "30"}).status_code == 403


def test_session_form_shows_ranges_and_regional_defaults_and_refuses_out_of_range(web):
    from dermatrack.services import charting, patients

    record = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    client = web.signed_in("clinician")
    page = _soup(client.get(f"/patients/{record.id}/sessions/new",
                            params={"modality": "microneedling"}))
    depth = page.select_one('input[name="param_needle_depth"]')
    assert depth["value"] == "1.0"
    assert "0.2–2.5 mm" in page.select_one('[data-range-for="needle_depth"]').text
    assert "forehead 0.25–0.5" in page.text
    form = {"csrf_token": _csrf(client), "modality": "microneedling", "date": "2026-01-05",
            "operator": "Dr Who", "regions": "forehead", "param_needle_depth": "2.4"}
    refused = client.post(f"/patients/{record.id}/sessions/new", data=form)
    assert refused.status_code == 422
    beside = _soup(refused).select_one('.field-error[data-field="parameters.needle_depth"]')
    assert beside is not None
    assert charting.list_sessions(web.store, record.id) == []
    saved = client.post(f"/patients/{record.id}/sessions/new",
                        data={**form, "param_needle_depth": "0.5"})
    assert saved.status_code == 201 and "charted" in _soup(saved).select_one("#session-saved").text
    assert len(charting.list_sessions(web.store, record.id)) == 1


def test_event_form_tells_an_expected_reaction_from_an_adverse_event(web):
    from dermatrack.services import charting, patients

    record = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    session = charting.add_session(web.store, {
        "patient_id": record.id, "date": "2026-01-05", "operator": "Dr Who",
        "modality": "microneedling", "regions": ["cheeks"],
        "parameters": {"needle_depth": 1.0}}, actor="test-setup")
    client = web.signed_in("clinician")
    client.get(f"/patients/{record.id}/events/new")
    headers = {"X-CSRF-Token": _csrf(client)}
    base = {"session_id": session.id, "code": "erythema", "onset": "2026-01-05",
            "status": "resolved"}
    short = client.post(f"/patients/{record.id}/events/preview", headers=headers,
                        data={**base, "seen_on": "2026-01-06"})
    assert _soup(short).select_one("[data-kind]")["data-kind"] == "expected_reaction"
    long = client.post(f"/patients/{record.id}/events/preview", headers=headers,
                       data={**base, "seen_on": "2026-01-30"})
    assert _soup(long).select_one("[data-kind]")["data-kind"] == "adverse_event"
    assert "longer than the usual" in long.text
    from dermatrack.services.audit import history

    with web.store.reading() as db:
        previews = [e for e in history(db, action="read", entity_id=record.id)
                    if e.changes.get("purpose") == "event preview"]
    assert len(previews) == 2 and all(e.actor == "clinician1@testclient" for e in previews)
    missing_grade = client.post(f"/patients/{record.id}/events/new",
                                data={**base, "seen_on": "2026-01-30",
                                      "csrf_token": _csrf(client)})
    assert missing_grade.status_code == 422
    assert _soup(missing_grade).select_one('.field-error[data-field="grade"]') is not None
    recorded = client.post(f"/patients/{record.id}/events/new",
                           data={**base, "seen_on": "2026-01-30", "grade": "1",
                                 "csrf_token": _csrf(client)})
    assert recorded.status_code == 201
    assert "an adverse event" in _soup(recorded).select_one("#event-saved").text
    assert [e.kind for e in charting.list_events(web.store, record.id)] == ["adverse_event"]


def test_knowledge_cohort_audit_and_users_pages(web):
    from dermatrack.services import patients

    record = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    clinician = web.signed_in("clinician")
    hits = _soup(clinician.get("/knowledge", params={"q": "needle depth collagen"}))
    assert hits.select(".hits li")
    modality = clinician.get("/knowledge/modalities/microneedling")
    assert modality.status_code == 200 and "Needle depth" in modality.text
    assert clinician.get("/knowledge/modalities/nothing").status_code == 404
    clinician.get(f"/patients/{record.id}")

    researcher = web.signed_in("researcher")
    cohort = researcher.get("/cohort")
    assert cohort.status_code == 200 and record.id not in cohort.text
    assert "Ada" not in cohort.text
    report = researcher.get("/cohort/report")
    assert report.status_code == 200 and "De-identified report" in report.text
    assert record.id not in report.text and "Ada" not in report.text

    admin = web.signed_in("admin")
    audit = _soup(admin.get("/admin/audit", params={"actor": "clinician1", "action": "read"}))
    rows = audit.select("#audit-rows tbody tr")
    assert rows and all("clinician1@testclient" in row.text for row in rows)
    assert admin.get("/admin/audit", params={"since": "yesterday"}).status_code == 422
    added = admin.post("/admin/users", data={"username": "kim", "role": "reception",
                                             "password": "short", "csrf_token": _csrf(admin)})
    assert added.status_code == 422
    assert _soup(added).select_one('.field-error[data-field="password"]') is not None
    added = admin.post("/admin/users", data={"username": "kim", "role": "reception",
                                             "password": "long enough now",
                                             "csrf_token": _csrf(admin)},
                       follow_redirects=False)
    assert added.status_code == 303
    assert "kim" in admin.get("/admin/users").text


def test_intake_panel_warns_about_implausible_facts(web):
    client = web.signed_in("clinician")
    client.get("/patients/new")
    headers = {"X-CSRF-Token": _csrf(client)}
    panel = _soup(client.post("/patients/new/screening", headers=headers, data={
        "age": "30", "sex": "male", "fitzpatrick": "II", "conditions": "pregnancy",
        "medication_code": "isotretinoin", "medication_started": "2026-06-01",
        "medication_last_taken": "2026-03-01"}))
    warnings = panel.select_one("[data-plausibility]")
    assert warnings is not None
    text = warnings.text
    assert "pregnancy is recorded for a male patient" in text
    assert "before it was started 2026-06-01" in text
    # The facts are still screened: pregnancy stays a hard stop for the retinoid.
    verdict = panel.select_one('li[data-modality="topical_retinoid"]')
    assert verdict is not None and "contraindicated" in verdict.text
    plausible = _soup(client.post("/patients/new/screening", headers=headers, data={
        "age": "30", "sex": "female", "fitzpatrick": "II", "conditions": "pregnancy"}))
    assert plausible.select_one("[data-plausibility]") is None


def test_knowledge_matrix_page_shows_every_cell_and_a_column_with_reasons(web):
    from dermatrack.knowledge.matrix import load_matrix
    from dermatrack.knowledge.vocabulary import load_vocabulary

    matrix = load_matrix(load_vocabulary())
    clinician = web.signed_in("clinician")
    page = _soup(clinician.get("/knowledge/matrix"))
    cells = page.select("table[data-matrix] td[data-verdict]")
    assert len(cells) == len(matrix.cells)
    verdicts = [cell["data-verdict"] for cell in cells]
    assert verdicts.count("contraindicated") == matrix.counts()["contraindicated"]
    column = _soup(clinician.get("/knowledge/matrix", params={"modality": "ipl"}))
    items = column.select("#column li[data-factor]")
    assert len(items) == len(matrix.factors)
    very_dark = column.select_one('#column li[data-factor="skin_type:VI"]')
    assert "contraindicated" in very_dark.text and "alexis2013" in very_dark.text
    assert clinician.get("/knowledge/matrix", params={"modality": "laser"}).status_code == 422
    assert "/knowledge/matrix" in clinician.get("/knowledge").text
