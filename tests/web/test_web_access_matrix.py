"""The access matrix, generated from the app's own routes: every route (pages and API) x
anonymous and each role, with the status the declared permission implies.

A route is either public (listed in :data:`PUBLIC`) or declares a permission through
``require``/``require_page``; a route added with neither fails
:func:`test_every_route_declares_a_right_or_is_public`, and a route whose check is wrong
fails the matrix.
"""

from __future__ import annotations

import pytest
from web_helpers import NEW_PATIENT, ROLES

from dermatrack.web.deps import PERMISSIONS
from dermatrack.web.routes import route_table

PUBLIC = {("GET", "/"), ("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout"),
          ("POST", "/api/token"), ("GET", "/healthz"), ("GET", "/readyz"),
          ("GET", "/fhir/metadata")}
"""Routes anyone may call: the sign-in flow and the token exchange, the health checks, and
the FHIR CapabilityStatement (as FHIR servers publish it)."""
RIGHT_BY_RESOURCE = {("GET", "/fhir/{resource_type}"),
                     ("GET", "/fhir/{resource_type}/{resource_id}")}
"""Signed-in routes whose right depends on the resource asked for (FHIR: reception reads
demographic resources, researchers de-identified searches): tests/web/test_web_fhir.py
walks each role; here they are checked for refusing anonymous callers only."""


def _url(path: str, patient_id: str) -> str:
    url = (path.replace("{patient_id}", patient_id).replace("{photo_id}", "PH-0000000000")
           .replace("{baseline_id}", "PH-0000000000")
           .replace("{followup_id}", "PH-0000000001").replace("{layer}", "change")
           .replace("{username}", "nobody").replace("{code}", "microneedling"))
    if "search" in path:
        url += "?q=laser"
    if path.endswith("/compare"):
        url += "?baseline=PH-0000000000&followup=PH-0000000001"
    return url


def _cases(web):
    return [(method, info.path, info.permission) for info in route_table(web.app)
            for method in sorted(info.methods)]


def test_every_route_declares_a_right_or_is_public(web):
    cases = _cases(web)
    assert len(cases) > 50  # pages and API both registered
    undeclared = [(method, path) for method, path, permission in cases
                  if permission is None and (method, path) not in PUBLIC | RIGHT_BY_RESOURCE]
    assert undeclared == []
    # and the table is the app's: every documented API operation is in it
    schema = web.app.openapi()["paths"]
    documented = {(m.upper(), p) for p, ops in schema.items() for m in ops}
    assert documented <= {(m, p) for m, p, _ in cases}


def _request(client, method: str, url: str, *, page: bool):
    if method == "GET":
        return client.get(url, follow_redirects=False)
    if page:  # with the CSRF token in the form and the header, as the pages send it
        token = client.cookies.get("dermatrack_csrf") or ""
        return client.request(method, url, data={"csrf_token": token},
                              headers={"X-CSRF-Token": token}, follow_redirects=False)
    return client.request(method, url, json={}, follow_redirects=False)


def test_anonymous_callers_are_sent_to_sign_in_or_refused(web):
    client = web.client()
    for method, path, _permission in _cases(web):
        if (method, path) in PUBLIC:
            continue
        page = not path.startswith(("/api/", "/fhir/"))
        response = _request(client, method, _url(path, "P-000000"), page=page)
        if page:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/signin?next="), (method, path)
        else:
            assert response.status_code == 401, (method, path, response.text)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_exactly_where_it_lacks_the_right(web, role):
    from dermatrack.services import patients

    patient = patients.add_patient(web.store, NEW_PATIENT, actor="test-setup")
    api = web.client(role)
    pages = web.signed_in(role)
    checked = 0
    for method, path, permission in _cases(web):
        if (method, path) in PUBLIC | RIGHT_BY_RESOURCE:
            continue
        page = not path.startswith(("/api/", "/fhir/"))
        response = _request(pages if page else api, method, _url(path, patient.id),
                            page=page)
        where = (role, method, path, response.status_code, response.text[:200])
        assert response.status_code < 500, where
        if role in PERMISSIONS[permission]:
            assert response.status_code not in (401, 403), where
            assert not response.headers.get("location", "").startswith("/signin"), where
        else:
            assert response.status_code == 403, where
        checked += 1
    assert checked > 50
