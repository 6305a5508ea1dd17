"""A database outage: 503 with Retry-After naming the cause on the API and the pages,
/healthz alive and /readyz not ready, nothing half-stored, and the app back by itself once
the database is (a real PostgreSQL, stopped as a crash would stop it, then restarted)."""

from __future__ import annotations

import os

import pytest
from web_helpers import NEW_PATIENT, PASSWORD

from pg_cluster import PostgresCluster, postgres_bin

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster():
    if postgres_bin() is None:
        if os.environ.get("DERMATRACK_REQUIRE_POSTGRES") == "1":
            pytest.fail("DERMATRACK_REQUIRE_POSTGRES=1 but PostgreSQL is not installed")
        pytest.skip("needs Debian's PostgreSQL binaries")
    with PostgresCluster() as pg:
        yield pg


def test_outage_answers_503_and_the_app_recovers_by_itself(cluster, tmp_path, fast_hashing):
    from fastapi.testclient import TestClient

    from dermatrack.config import Settings
    from dermatrack.services import accounts, patients
    from dermatrack.services.common import open_store
    from dermatrack.web.app import create_app

    settings = Settings(data_dir=tmp_path, database_url=cluster.url)
    store = open_store(settings)
    accounts.add_user(store, "clinician1", "clinician", PASSWORD, actor="setup")
    app = create_app(settings, secret_key="test-secret", store=store)
    api = TestClient(app)
    api.headers["Authorization"] = f"Bearer {app.state.signer.api_token('clinician1')}"
    page = TestClient(app)
    page.get("/signin")
    assert page.post("/signin", data={"username": "clinician1", "password": PASSWORD,
                                      "csrf_token": page.cookies.get("dermatrack_csrf")},
                     follow_redirects=False).status_code == 303
    assert api.get("/readyz").json() == {"status": "ready"}
    assert api.get("/api/patients").status_code == 200

    cluster.stop()
    try:
        for response in (api.get("/api/patients"),
                         api.post("/api/patients", json=NEW_PATIENT),
                         api.get("/readyz")):
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert "database is unavailable" in response.json()["detail"]
        shown = page.get("/patients")
        assert shown.status_code == 503 and shown.headers["retry-after"] == "5"
        assert "Database unavailable" in shown.text
        assert api.get("/healthz").json() == {"status": "alive"}
    finally:
        cluster.start()

    # Back without a restart of the app: dead pooled connections are replaced.
    assert api.get("/readyz").status_code == 200
    assert api.get("/api/patients").status_code == 200
    assert page.get("/patients").status_code == 200
    created = api.post("/api/patients", json=NEW_PATIENT)
    assert created.status_code == 201
    # The write refused during the outage was not stored: one patient, the new one.
    assert [p.id for p in patients.list_patients(store, actor="test").items] == [
        created.json()["id"]]
    store.close()
