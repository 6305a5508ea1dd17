"""A researcher sees de-identified cohort data only: every page they can reach by
following links, and every GET operation of the API, is searched for patient ids,
names, contacts, birth dates and notes."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from outcomes_report.clinic import (
    DATE_OF_BIRTH,
    IDENTITY_EMAIL,
    IDENTITY_NAME,
    IDENTITY_PHONE,
    NOTE,
    build_small_clinic,
)

PATIENT_ID = re.compile(r"\bP-[0-9A-Z]{6}\b")
MAX_PAGES = 60


def _secrets(clinic) -> list[str]:
    return [*clinic.patient_ids, IDENTITY_NAME, IDENTITY_EMAIL, IDENTITY_PHONE,
            DATE_OF_BIRTH, NOTE]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    found = [secret for secret in secrets if secret in text]
    return found + PATIENT_ID.findall(text)


def _crawl(client, start: str) -> dict[str, object]:
    """Every same-site page reachable by GET links from ``start``."""
    seen: dict[str, object] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        if "html" not in response.headers.get("content-type", ""):
            continue
        soup = BeautifulSoup(response.text, "html.parser")
        targets = [a.get("href") for a in soup.find_all("a")]
        targets += [form.get("action") or url for form in soup.find_all("form")
                    if (form.get("method") or "get").lower() == "get"]
        for target in targets:
            if not target:
                continue
            parts = urlsplit(urljoin(str(response.url), target))
            if parts.netloc not in ("", "testserver") or not parts.path.startswith("/"):
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link not in seen and link != "/signout":
                queue.append(link)
    return seen


def test_researcher_reaches_no_patient_id_or_identity(web):
    clinic = build_small_clinic(web.store)
    secrets = _secrets(clinic)

    # The clinician's cohort report names the patients: the check below can fail.
    full = web.signed_in("clinician").get("/cohort/report")
    assert full.status_code == 200 and all(pid in full.text for pid in clinic.patient_ids)

    pages = _crawl(web.signed_in("researcher"), "/")
    assert {"/cohort", "/cohort/report", "/api/cohort/export.csv"} <= set(pages)
    report = pages["/cohort/report"]
    assert report.status_code == 200 and "Responders" in report.text
    for url, response in pages.items():
        if response.status_code == 200:
            assert _leaks(response.text, secrets) == [], url

    api = web.client("researcher")
    summary = api.get("/api/cohort")
    assert summary.status_code == 200 and summary.json()["responder_rows"]
    # Every GET operation of the API (its OpenAPI schema), with patient ids filled in.
    paths = api.get("/api/openapi.json").json()["paths"]
    reached = []
    for template, operations in paths.items():
        if "get" not in operations:
            continue
        path = re.sub(r"\{[^}]+\}", clinic.patient_ids[0], template)
        response = api.get(path)
        if response.status_code == 200:
            reached.append(template)
            assert _leaks(response.text, secrets) == [], path
        else:
            assert response.status_code in (403, 404, 422), path
    assert {"/api/cohort", "/api/cohort/export", "/api/cohort/export.csv"} <= set(reached)
    assert api.get(f"/api/patients/{clinic.patient_ids[0]}").status_code == 403
