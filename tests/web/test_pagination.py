"""Every list of the API and of the pages comes a page at a time, for every role.

For each list route the test stores more rows than one page holds, walks the pages by the
``Link`` header (and the page's own "next" link), and checks that the pages together are
the whole list, in order, with no row twice; roles without the right get 403 (401
anonymous); a bad ``limit`` or ``cursor`` is a 422 naming it. A page of patients is
audited as one read naming the ids shown, not one row per patient.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from web_helpers import NEW_PATIENT, ROLES, png_bytes

from dermatrack.services import accounts, audit, charting, observations, patients, scores

PAGE = 2


@pytest.fixture
def chart(web, tmp_path):
    """One patient with 5 of every kind of per-patient row, and 5 more patients."""
    store = web.store
    others = [patients.add_patient(store, {**NEW_PATIENT, "identity": {"name": f"Other {i}"}},
                                   actor="setup").id for i in range(5)]
    pid = patients.add_patient(store, NEW_PATIENT, actor="setup").id
    visits = [patients.add_visit(store, {"patient_id": pid, "timepoint": f"m{i}",
                                         "date": f"2026-0{i + 1}-01"}, actor="setup")
              for i in range(5)]
    for i in range(5):
        treated = charting.add_session(store, {"patient_id": pid, "date": f"2026-0{i + 1}-02",
                                     "operator": "dr", "modality": "microneedling",
                                     "region": "cheeks", "parameters": {"needle_depth": 1.0}},
                             actor="setup")
        scores.add_score(store, {"patient_id": pid, "visit_id": visits[i].id,
                                 "instrument": "glogau", "total": 2,
                                 "rater": "dr"}, actor="setup")
        charting.add_event(store, {"patient_id": pid, "code": "erythema",
                                   "session_id": treated.id, "onset": f"2026-0{i + 1}-02",
                                   "resolved_on": f"2026-0{i + 1}-03"},
                           actor="setup")
        image = tmp_path / f"photo{i}.png"
        image.write_bytes(png_bytes(seed=i))
        from dermatrack.services import photos

        photos.import_photo(store, patient_id=pid, visit_id=visits[i].id, path=image,
                            actor="setup", analyze=False)
    observations.record_observations(
        store, patient_id=pid, visit_id=visits[0].id, region="cheeks", kind="surface",
        values={f"S{i}": float(i) for i in range(5)}, units={f"S{i}": "um" for i in range(5)},
        device=None, method="test", source_sha256=None, settings=None, actor="setup")
    return {"pid": pid, "others": others}


LISTS = [
    # (path, roles allowed, rows expected)
    ("/api/patients", {"clinician", "reception"}, 6),
    ("/api/patients/{pid}/visits", {"clinician", "reception"}, 5),
    ("/api/patients/{pid}/sessions", {"clinician"}, 5),
    ("/api/patients/{pid}/events", {"clinician"}, 5),
    ("/api/patients/{pid}/scores", {"clinician"}, 5),
    ("/api/patients/{pid}/measurements", {"clinician"}, 5),
    ("/api/patients/{pid}/photos", {"clinician"}, 5),
    ("/api/users", {"admin"}, 4),
]


def _walk(client, url: str) -> list[dict]:
    rows, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body) <= PAGE
        rows += body
        pages += 1
        link = response.headers.get("link")
        cursor = response.headers.get("x-next-cursor")
        assert (link is None) == (cursor is None)
        url = re.match(r'<([^>]+)>; rel="next"', link).group(1) if link else None
        assert url is None or cursor in url
    assert pages >= 2
    return rows


@pytest.mark.parametrize(("path", "allowed", "expected"), LISTS,
                         ids=[p for p, _, _ in LISTS])
@pytest.mark.parametrize("role", ROLES)
def test_every_list_is_paged_whole_and_in_order_for_every_role(web, chart, path, allowed,
                                                               expected, role):
    url = path.format(pid=chart["pid"])
    client = web.client(role)
    if role not in allowed:
        assert client.get(url, params={"limit": PAGE}).status_code == 403
        return
    everything = client.get(url, params={"limit": 500}).json()
    assert len(everything) == expected
    assert "link" not in client.get(url, params={"limit": 500}).headers
    paged_rows = _walk(client, f"{url}?limit={PAGE}")
    assert paged_rows == everything


@pytest.mark.parametrize("path", [p for p, _, _ in LISTS])
def test_anonymous_gets_401_and_bad_paging_is_a_422_naming_it(web, chart, path):
    url = path.format(pid=chart["pid"])
    assert web.client().get(url).status_code == 401
    role = "admin" if "users" in path else "clinician"
    client = web.client(role)
    for params, field in (({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
                          ({"cursor": "not-a-cursor"}, "cursor"),
                          # base64 of ["x", "y", "z", "w"]: a key longer than any list's
                          ({"cursor": "WyJ4IiwgInkiLCAieiIsICJ3Il0"}, "cursor")):
        response = client.get(url, params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"][-1] == field


def test_default_page_is_50_and_the_audit_names_the_page_not_each_patient(web):
    for i in range(53):
        patients.add_patient(web.store, {**NEW_PATIENT, "identity": {"name": f"P {i}"}},
                             actor="setup")
    client = web.client("reception")
    first = client.get("/api/patients")
    assert len(first.json()) == 50 and first.headers["x-next-cursor"]
    second = client.get("/api/patients", params={"cursor": first.headers["x-next-cursor"]})
    assert len(second.json()) == 3 and "x-next-cursor" not in second.headers
    with web.store.reading() as session:
        reads = [e for e in audit.history(session, action="read", entity="patient_identity")
                 if e.actor.startswith("reception1@")]
    assert len(reads) == 2
    assert reads[0].changes["ids"] == [p["id"] for p in first.json()]
    # Asking the audit about one patient finds the page that showed it.
    shown = second.json()[0]["id"]
    with web.store.reading() as session:
        about = audit.history(session, entity_id=shown, action="read")
    assert [e.changes["ids"] for e in about] == [[p["id"] for p in second.json()]]


def test_search_with_wildcards_matches_them_literally(web):
    patients.add_patient(web.store, {**NEW_PATIENT, "identity": {"name": "100% Real"}},
                         actor="setup")
    patients.add_patient(web.store, {**NEW_PATIENT, "identity": {"name": "Under_score"}},
                         actor="setup")
    patients.add_patient(web.store, {**NEW_PATIENT, "identity": {"name": "Plain Name"}},
                         actor="setup")
    client = web.client("clinician")
    assert [p["identity"]["name"] for p in client.get("/api/patients",
                                                      params={"q": "%"}).json()] == ["100% Real"]
    assert [p["identity"]["name"] for p in client.get("/api/patients",
                                                      params={"q": "_"}).json()] == [
        "Under_score"]


@pytest.mark.parametrize("role", ROLES)
def test_patient_page_has_next_links_for_the_roles_that_see_it(web, chart, role):
    client = web.signed_in(role)
    response = client.get("/patients", params={"limit": PAGE})
    if role not in ("clinician", "reception"):
        assert response.status_code == 403
        return
    seen = []
    url = f"/patients?limit={PAGE}"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += re.findall(r'href="/patients/(P-[0-9A-Z]+)" class="mono"', page.text)
        match = re.search(r'<a class="button" rel="next" href="([^"]+)"', page.text)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert sorted(seen) == sorted([chart["pid"], *chart["others"]])
    assert len(seen) == len(set(seen))


def test_audit_page_is_paged_and_filtered(web, chart):
    client = web.signed_in("admin")
    first = client.get("/admin/audit", params={"limit": 3, "entity": "visit"})
    assert first.status_code == 200
    assert first.text.count('<td class="mono">V-') == 3
    match = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert match
    second = client.get(match.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "« Newest" in second.text
    ids_first = set(re.findall(r'<td class="mono">(V-[0-9A-Z]+)</td>', first.text))
    ids_second = set(re.findall(r'<td class="mono">(V-[0-9A-Z]+)</td>', second.text))
    assert ids_first and not ids_first & ids_second
    assert web.signed_in("clinician").get("/admin/audit").status_code == 403


def test_cohort_view_is_one_audit_row(web, chart):
    client = web.client("researcher")
    assert client.get("/api/cohort").status_code == 200
    with web.store.reading() as session:
        rows = [e for e in audit.history(session, action="read", entity="cohort")
                if e.actor.startswith("researcher1@")]
        about_one = audit.history(session, action="read", entity_id=chart["pid"])
    assert len(rows) == 1
    assert sorted(rows[0].changes["ids"]) == sorted([chart["pid"], *chart["others"]])
    assert rows[0].changes["fields"] == ["cohort", "patients=6"]
    # Asked about one patient, the audit shows the cohort read that covered them.
    assert any(e.entity == "cohort" for e in about_one)


def test_users_service_pages_by_username(web):
    for name in ("zed", "amy", "kim"):
        accounts.add_user(web.store, name, "clinician", "a long enough password",
                          actor="admin")
    first = accounts.page_users(web.store, limit=3)
    second = accounts.page_users(web.store, cursor=first.next, limit=3)
    third = accounts.page_users(web.store, cursor=second.next, limit=3)
    names = [u.username for u in first.items + second.items + third.items]
    assert names == sorted(names) and len(names) == 7 and third.next is None


def test_pagination_is_stable_when_rows_arrive_between_pages(web):
    for i in range(4):
        patients.add_patient(web.store, {**NEW_PATIENT, "identity": {"name": f"P {i}"}},
                             actor="setup")
    client = web.client("clinician")
    first = client.get("/api/patients", params={"limit": 2})
    # A patient registered now is newer than every row listed: it is not on later pages,
    # and no row of the first page comes again.
    patients.add_patient(web.store, NEW_PATIENT, actor="setup")
    second = client.get("/api/patients", params={"limit": 2,
                                                 "cursor": first.headers["x-next-cursor"]})
    ids = [p["id"] for p in first.json() + second.json()]
    assert len(set(ids)) == 4
    assert dt.datetime.fromisoformat(second.json()[0]["created_at"]) <= \
        dt.datetime.fromisoformat(first.json()[-1]["created_at"])
