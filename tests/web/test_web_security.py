"""Attacks from the red-team pass, kept as tests: each failed before its fix."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from web_helpers import NEW_PATIENT, PASSWORD

from dermatrack.services import accounts, patients


def _audit(store, entity: str):
    from sqlalchemy import select

    from dermatrack.store.models import AuditEvent

    with store.reading() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.entity == entity)
                                    .order_by(AuditEvent.id)))


# --- sign-in limit -------------------------------------------------------------------------

def test_parallel_wrong_passwords_reach_the_password_check_at_most_five_times(web,
                                                                              monkeypatch):
    checked = []
    real = accounts.authenticate

    def counting(store, username, password):
        checked.append(password)
        return real(store, username, password)

    monkeypatch.setattr(accounts, "authenticate", counting)
    client = web.client()

    def guess(i: int) -> int:
        return client.post("/api/token", data={"username": "clinician1",
                                               "password": f"wrong guess {i:04d}"}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, range(100)))
    assert len(checked) == 5
    assert statuses.count(401) == 5 and statuses.count(429) == 95
    failures = [e for e in _audit(web.store, "account") if e.action == "signin_failed"]
    assert [(e.actor, e.entity_id) for e in failures] == [
        ("anonymous@testclient", "clinician1")] * 5
    # and the right password is refused too while the lockout lasts
    assert client.post("/api/token", data={"username": "clinician1",
                                           "password": PASSWORD}).status_code == 429


# --- sessions ------------------------------------------------------------------------------

def test_a_session_cookie_replayed_after_sign_out_is_refused(web):
    client = web.signed_in("clinician")
    cookie = client.cookies.get("dermatrack_session")
    patient = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    assert client.get(f"/patients/{patient.id}").status_code == 200
    token = client.cookies.get("dermatrack_csrf")
    assert client.post("/signout", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303

    replay = web.client()
    replay.cookies.set("dermatrack_session", cookie)
    page = replay.get(f"/patients/{patient.id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    assert replay.get("/api/patients").status_code == 401


def test_sign_in_and_sign_out_are_audited_with_the_peer_address(web):
    client = web.signed_in("reception")
    client.post("/signout", data={"csrf_token": client.cookies.get("dermatrack_csrf")})
    events = _audit(web.store, "web_session")
    assert [e.action for e in events] == ["insert", "update"]
    assert all(e.actor == "reception1@testclient" for e in events)
    assert events[1].changes["ended_reason"] == [None, "signout"]
    assert events[0].changes["token_hash"] == [None, None]  # redacted


def test_an_idle_session_ends(web):
    from sqlalchemy import update

    from dermatrack.store.accounts import WebSession
    from dermatrack.web.security import SESSION_IDLE_S

    client = web.signed_in("clinician")
    assert client.get("/patients").status_code == 200
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=SESSION_IDLE_S + 5)
    with web.store.engine.begin() as connection:
        connection.execute(update(WebSession).values(last_seen_at=stale))
    response = client.get("/patients", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")
    assert _audit(web.store, "web_session")[-1].changes["ended_reason"] == [None, "idle"]


def test_over_https_the_cookies_are_host_prefixed_and_secure(store, fast_hashing):
    from fastapi.testclient import TestClient

    from dermatrack.web.app import create_app

    accounts.add_user(store, "kim", "clinician", PASSWORD, actor="test-setup")
    app = create_app(store.settings, secret_key="k", store=store, secure_cookies=True)
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/signin")
    assert "__Host-dermatrack_csrf=" in page.headers["set-cookie"]
    assert "Secure" in page.headers["set-cookie"] and "Domain" not in page.headers["set-cookie"]
    token = client.cookies.get("__Host-dermatrack_csrf")
    signed = client.post("/signin", data={"username": "kim", "password": PASSWORD,
                                          "csrf_token": token}, follow_redirects=False)
    assert signed.status_code == 303
    assert client.get("/patients").status_code == 200
    # a value planted under the plain name (as a sibling subdomain could) is not read
    planted = TestClient(app, base_url="https://testserver")
    planted.cookies.set("dermatrack_csrf", "planted")
    refused = planted.post("/signin", data={"username": "kim", "password": PASSWORD,
                                            "csrf_token": "planted"})
    assert refused.status_code == 403


# --- intake split --------------------------------------------------------------------------

def test_reception_registers_demographics_from_the_pages(web):
    client = web.signed_in("reception")
    listing = client.get("/patients")
    assert 'href="/patients/register"' in listing.text
    assert client.get("/patients/new").status_code == 403
    form = client.get("/patients/register")
    assert form.status_code == 200 and 'name="fitzpatrick"' not in form.text
    response = client.post("/patients/register", data={
        "csrf_token": client.cookies.get("dermatrack_csrf"), "name": "Grace Hopper",
        "age": "52", "sex": "female", "consent_treatment": "1",
        "fitzpatrick": "II", "conditions": "pregnancy"}, follow_redirects=False)
    assert response.status_code == 303
    record = patients.get_patient_record(web.store, response.headers["location"].split("/")[-1],
                                         actor="test", with_identity=True)
    assert record.identity.name == "Grace Hopper" and record.age_years == 52
    assert record.fitzpatrick is None and record.conditions == []  # forged fields dropped
    # a clinician then opens the chart: screening waits for the skin type
    chart = web.signed_in("clinician").get(f"/patients/{record.id}")
    assert chart.status_code == 200 and "Fitzpatrick skin type is required" in chart.text


def test_reception_cannot_record_clinical_facts_through_the_api(web):
    client = web.client("reception")
    for key, value in (("fitzpatrick", "III"), ("conditions", ["pregnancy"]),
                       ("medications", [{"code": "isotretinoin"}]),
                       ("concerns", [{"code": "fine_lines", "region": "periorbital",
                                      "severity": 2}])):
        response = client.post("/api/patients", json={"age": 40, key: value})
        assert response.status_code == 403 and key in response.json()["detail"], key
    assert patients.list_patients(web.store, actor="test").items == []
    assert web.client("clinician").post("/api/patients", json=NEW_PATIENT).status_code == 201


# --- smaller holes -------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["acne_scars", "fractional_laser", "acne scars"])
def test_knowledge_search_with_underscores(web, cli, query):
    response = web.client("reception").get("/api/knowledge/search", params={"q": query})
    assert response.status_code == 200 and response.json()
    page = web.signed_in("researcher").get("/knowledge", params={"q": query})
    assert page.status_code == 200
    result = cli("kb", "search", query, "--json")
    assert result.code == 0, result.stderr
    assert [h["code"] for h in result.json()] == [
        h["code"] for h in cli("kb", "search", query.replace("_", " "), "--json").json()]


def test_patient_search_treats_percent_and_underscore_literally(web):
    patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    patients.add_patient(web.store, {**NEW_PATIENT, "identity": {"name": "Ann 100% Real_x"}},
                         actor="test-setup")
    client = web.client("reception")
    assert [p["identity"]["name"] for p in client.get("/api/patients",
                                                      params={"q": "%"}).json()] == [
        "Ann 100% Real_x"]
    assert [p["identity"]["name"] for p in client.get("/api/patients",
                                                      params={"q": "l_x"}).json()] == [
        "Ann 100% Real_x"]
    assert client.get("/api/patients", params={"q": "_"}).json()[0]["identity"]["name"] == \
        "Ann 100% Real_x"
    assert len(client.get("/api/patients", params={"q": "a"}).json()) == 2


@pytest.mark.parametrize("value", ["0", "1700000000", "2025-1-5", "05/01/2025"])
def test_dates_must_be_iso(web, value):
    response = web.client("clinician").post("/api/screening", params={"on": value},
                                            json={"age": 30, "fitzpatrick": "II"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "on"]
    assert web.client("admin").get("/api/audit", params={"since": value}).status_code == 422


def test_disallowed_methods_name_every_allowed_one(web):
    response = web.client("clinician").delete("/api/patients")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert web.client().patch("/signin").headers["allow"] == "GET, POST"


def test_the_openapi_schema_is_public_and_documents_error_answers(web):
    response = web.client().get("/api/openapi.json")
    assert response.status_code == 200
    for path, operations in response.json()["paths"].items():
        for method, operation in operations.items():
            # The API's operations; the token exchange, the health checks and the FHIR
            # API (FHIR OperationOutcome answers) are not /api resources.
            if path.startswith("/api/") and path != "/api/token":
                assert {"401", "403", "404", "422"} <= operation["responses"].keys(), (
                    method, path)


def test_photo_analyses_run_one_at_a_time(web, monkeypatch):
    import threading
    import time

    from web_helpers import png_bytes

    from dermatrack.errors import InputError
    from dermatrack.services import photos

    running, most = [0], [0]
    lock = threading.Lock()

    def slow_import(store, **kwargs):
        assert kwargs["reduce_to_pixels"] == web.app.state.analysis_max_pixels
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        raise InputError("stopped here by the test", field="image")

    monkeypatch.setattr(photos, "import_photo", slow_import)
    patient = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    client = web.client("clinician")

    def upload(_):
        return client.post(f"/api/patients/{patient.id}/photos",
                           files={"image": ("a.png", png_bytes(), "image/png")}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(upload, range(4))) == [422] * 4
    assert most[0] == 1


def test_a_large_photo_is_decoded_reduced(tmp_path):
    from web_helpers import png_bytes

    from dermatrack.imaging.io import read_image

    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(height=400, width=600))
    image = read_image(path, reduce_to_pixels=60_000)
    assert image.reduced_from == (600, 400)
    assert image.width * image.height <= 60_000 and image.width == 300
    assert read_image(path).reduced_from is None


def test_the_limiter_counts_before_checking_and_forgets_expired_pairs():
    from dermatrack.web.security import SignInLimiter

    now = [1000.0]
    limiter = SignInLimiter(max_failures=2, window_s=60, clock=lambda: now[0])
    assert limiter.attempt("ann", "1.2.3.4") == 0
    assert limiter.attempt("Ann", "1.2.3.4") == 0
    # Two in flight fill the limit: a third waits a second, uncounted.
    assert limiter.attempt("ann", "1.2.3.4") == 1
    limiter.failed("ann", "1.2.3.4")
    limiter.failed("ann", "1.2.3.4")
    assert limiter.attempt("ann", "1.2.3.4") == 61  # two failures: locked for the window
    for i in range(100):
        limiter.attempt(f"user{i}", "1.2.3.4")
    now[0] += 120
    limiter.attempt("bob", "5.6.7.8")
    limiter.failed("bob", "5.6.7.8")
    assert set(limiter._failures) == {("bob", "5.6.7.8")}


def test_parallel_correct_sign_ins_of_one_account_wait_instead_of_being_locked_out():
    from dermatrack.web.security import SignInLimiter

    limiter = SignInLimiter(max_failures=2, window_s=60, clock=lambda: 1000.0)
    assert [limiter.attempt("ann", "10.0.0.1") for _ in range(3)] == [0, 0, 1]
    limiter.succeeded("ann", "10.0.0.1")  # one signs in: its slot is free again
    assert limiter.attempt("ann", "10.0.0.1") == 0
    limiter.abandoned("ann", "10.0.0.1")  # the database was down: nothing counted
    limiter.succeeded("ann", "10.0.0.1")
    assert limiter.attempt("ann", "10.0.0.1") == 0 and not limiter._failures["ann", "10.0.0.1"]


def test_handlers_that_touch_the_database_never_run_on_the_event_loop(web):
    # A plain function runs in the thread pool; an async one runs on the event loop, where
    # password hashing or a database wait would stall every other request of the worker.
    # Only the upload handlers are async (to read the upload) and they hand their work to
    # the pool (run_in_threadpool).
    import inspect

    from dermatrack.web.routes import route_table

    endpoints = [info.route.endpoint for info in route_table(web.app)]
    assert len(endpoints) > 50
    on_the_loop = {endpoint.__name__ for endpoint in endpoints
                   if inspect.iscoroutinefunction(endpoint)}
    assert on_the_loop == {"upload_photo", "check_frame"}
