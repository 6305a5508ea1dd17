"""Who may call which API route: anonymous callers get 401, a role without the right 403.

The table below lists every route of the API with the permission it needs; the first test
checks that it matches the OpenAPI schema, so that a route added without an access test
fails here.
"""

from __future__ import annotations

import pytest
from web_helpers import NEW_PATIENT, ROLES

from dermatrack.web.deps import PERMISSIONS

P = "/api/patients/{patient_id}"
PH = P + "/photos/{photo_id}"
ROUTES = [
    ("post", "/api/token", None),
    ("get", "/healthz", None),  # public: liveness and readiness for load balancers
    ("get", "/readyz", None),
    ("get", "/api/users", "users"),
    ("post", "/api/users", "users"),
    ("put", "/api/users/{username}/active", "users"),
    ("get", "/api/patients", "demographics"),
    ("post", "/api/patients", "demographics"),
    ("get", P, "demographics"),
    ("get", P + "/visits", "scheduling"),
    ("post", P + "/visits", "scheduling"),
    ("get", P + "/screening", "clinical"),
    ("post", "/api/screening", "clinical"),
    ("get", P + "/plan", "clinical"),
    ("get", P + "/sessions", "clinical"),
    ("post", P + "/sessions", "clinical"),
    ("get", P + "/events", "clinical"),
    ("post", P + "/events", "clinical"),
    ("get", P + "/scores", "clinical"),
    ("post", P + "/scores", "clinical"),
    ("get", P + "/measurements", "clinical"),
    ("get", P + "/timeline", "clinical"),
    ("get", P + "/photos", "photos"),
    ("post", P + "/photos", "photos"),
    ("get", PH + "/metrics", "photos"),
    ("get", PH + "/image", "photos"),
    ("get", PH + "/thumbnail.jpg", "photos"),
    ("get", P + "/photos/{baseline_id}/compare/{followup_id}", "photos"),
    ("get", P + "/photos/{baseline_id}/compare/{followup_id}/{layer}.png", "photos"),
    ("get", "/api/cohort", "cohort"),
    ("get", "/api/cohort/export", "cohort"),
    ("get", "/api/cohort/export.csv", "cohort"),
    ("get", "/api/knowledge/search", "knowledge"),
    ("get", "/api/knowledge/modalities", "knowledge"),
    ("get", "/api/knowledge/modalities/{code}", "knowledge"),
    ("get", "/api/audit", "audit"),
    # issue 16: the clinic's day
    ("post", "/api/appointments", "scheduling"),
    ("get", "/api/appointments", "scheduling"),
    ("patch", "/api/appointments/{appointment_id}", "scheduling"),
    ("post", "/api/plans/{plan_id}/book", "scheduling"),
    ("get", "/api/recalls", "scheduling"),
    ("get", "/api/consent-templates", "demographics"),
    ("post", "/api/consent-templates", "consent_templates"),
    ("post", "/api/consent-templates/{template_id}/activate", "consent_templates"),
    ("post", P + "/consents/sign", "demographics"),
    ("get", "/api/consents/{consent_id}", "demographics"),
    ("get", "/api/consents/{consent_id}/signature.png", "demographics"),
    ("post", "/api/consents/{consent_id}/withdraw", "demographics"),
    ("get", "/api/products", "clinical"),
    ("post", "/api/products", "clinical"),
    ("post", "/api/products/{product_id}/lots", "clinical"),
    ("get", "/api/recalls/lot/{lot_number}", "clinical"),
    ("post", "/api/sessions/{session_id}/marks", "clinical"),
    ("get", P + "/marks", "clinical"),
    ("post", P + "/capture/check", "photos"),
]


def _url(path: str, patient_id: str) -> str:
    return (path.replace("{patient_id}", patient_id).replace("{photo_id}", "PH-0000000000")
            .replace("{baseline_id}", "PH-0000000000").replace("{followup_id}", "PH-0000000001")
            .replace("{layer}", "change").replace("{username}", "nobody")
            .replace("{code}", "microneedling").replace("{appointment_id}", "AP-0000000000")
            .replace("{plan_id}", "TP-0000000000").replace("{template_id}", "CT-0000000000")
            .replace("{consent_id}", "C-0000000000").replace("{product_id}", "PR-0000000000")
            .replace("{lot_number}", "LOT-1").replace("{session_id}", "S-0000000000")
            ) + ("?q=laser" if "search" in path else "")


def test_the_table_lists_every_api_route(web):
    schema = web.app.openapi()["paths"]
    # The FHIR API (/fhir) serves each role differently; test_web_fhir.py checks its
    # routes and every role on them.
    documented = {(method, path) for path, operations in schema.items()
                  for method in operations if not path.startswith("/fhir/")}
    assert documented == {(method, path) for method, path, _ in ROUTES}


def test_anonymous_callers_get_401_everywhere(web):
    client = web.client()
    for method, path, permission in ROUTES:
        if permission is None:
            continue
        response = client.request(method.upper(), _url(path, "P-000000"), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_forged_or_foreign_token_is_refused(web):
    client = web.client()
    for token in ("not-a-token", web.app.state.signer.api_token("clinician1") + "x"):
        response = client.get("/api/patients", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_403_exactly_where_it_lacks_the_right(web, role):
    from dermatrack.services import patients

    patient = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    client = web.client(role)
    for method, path, permission in ROUTES:
        if permission is None:
            continue
        response = client.request(method.upper(), _url(path, patient.id), json={})
        if role in PERMISSIONS[permission]:
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            assert role in response.json()["detail"]
