"""The clinic's day through the API and the pages (issue 16): booking and recalls by
reception, consent signed and required, products, lots and the recall export, treatment
maps on the chart and in the progress report, the live capture check."""

from __future__ import annotations

import base64
import datetime as dt

from bs4 import BeautifulSoup
from web_helpers import NEW_PATIENT

TODAY = dt.date.today()


def _soup(response):
    return BeautifulSoup(response.text, "html.parser")


def _signature() -> str:
    import cv2
    import numpy as np

    canvas = np.full((100, 300, 3), 255, np.uint8)
    cv2.line(canvas, (20, 70), (280, 30), (0, 0, 0), 4)
    return "data:image/png;base64," + base64.b64encode(cv2.imencode(".png", canvas)[1]).decode()


def _bare(client) -> str:
    """A patient registered with no consent on file."""
    data = {k: v for k, v in NEW_PATIENT.items() if k != "consents"}
    response = client.post("/api/patients", json=data)
    assert response.status_code == 201, response.text
    return response.json()["id"]


SESSION = {"date": TODAY.isoformat(), "operator": "Dr Who", "modality": "microneedling",
           "regions": ["cheeks"], "parameters": {"needle_depth": 1.5}}


def test_reception_books_from_a_plan_and_sees_the_recall_list(web):
    from dermatrack.services import plans

    clinician, reception = web.client("clinician"), web.client("reception")
    pid = clinician.post("/api/patients", json=NEW_PATIENT).json()["id"]
    first = TODAY - dt.timedelta(days=3)
    plan = plans.add_plan(web.store, {"patient_id": pid, "modalities": [{
        "modality": "microneedling", "regions": ["cheeks"], "parameters": {"needle_depth": 1.5},
        "sessions": [{"n": n, "date": (first + dt.timedelta(days=28 * (n - 1))).isoformat()}
                     for n in (1, 2, 3)]}]}, actor="dr.lee")
    due = reception.get("/api/recalls", params={"due_by": TODAY.isoformat()}).json()
    assert [(r["kind"], r["days_overdue"], r["patient_name"]) for r in due] == [
        ("session", 3, "Ada Lovelace")]
    page = web.signed_in("reception").get("/recalls", params={"due_by": TODAY.isoformat()})
    assert "Ada Lovelace" in page.text and "3 days" in page.text

    booked = reception.post(f"/api/plans/{plan.id}/book",
                            json={"start": "10:00", "practitioner": "clinician1"})
    assert booked.status_code == 201, booked.text
    assert len(booked.json()) == 6
    again = reception.post(f"/api/plans/{plan.id}/book",
                           json={"start": "10:00", "practitioner": "clinician1"})
    assert again.status_code == 409
    clash = reception.post("/api/appointments", json={
        "patient_id": pid, "date": first.isoformat(), "start": "10:15",
        "practitioner": "clinician1"})
    assert clash.status_code == 409 and "clinician1 is booked" in clash.json()["detail"][0]["msg"]
    assert reception.get("/api/recalls", params={"due_by": "2031-01-01"}).json() == []

    day = web.signed_in("clinician").get("/appointments", params={"day": first.isoformat()})
    cards = _soup(day).select(".appt")
    assert len(cards) == 1 and "Ada Lovelace" in cards[0].text and "session 1" in cards[0].text
    week = web.signed_in("reception").get("/appointments", params={
        "day": first.isoformat(), "view": "week"})
    assert len(_soup(week).select(".weekday")) == 7
    arrived = reception.patch(f"/api/appointments/{booked.json()[0]['id']}",
                              json={"status": "arrived"})
    assert arrived.json()["status"] == "arrived"
    assert reception.get("/api/products").status_code == 403  # stock is clinical


def test_consent_signed_on_screen_is_required_for_charting_and_photos(web):
    from web_helpers import png_bytes

    clinician, reception = web.client("clinician"), web.client("reception")
    pid = _bare(clinician)
    refused = clinician.post(f"/api/patients/{pid}/sessions", json=SESSION)
    assert refused.status_code == 409
    assert refused.json()["detail"][0]["msg"].endswith(
        "no treatment consent for microneedling has been signed; charting a treatment "
        "session needs one")
    photo = clinician.post(f"/api/patients/{pid}/photos",
                           files={"image": ("a.png", png_bytes(), "image/png")})
    assert photo.status_code == 409 and "photography consent" in photo.text

    assert reception.post("/api/consent-templates", json={}).status_code == 403
    template = clinician.post("/api/consent-templates", json={
        "kind": "treatment", "version": "2026-1", "title": "Treatment consent",
        "body": "The clinic's own text for every treatment, reviewed by its lawyer."})
    assert template.status_code == 201
    signed = reception.post(f"/api/patients/{pid}/consents/sign", json={
        "template_id": template.json()["id"], "witness": "reception1",
        "signature_png": _signature()})
    assert signed.status_code == 201, signed.text
    cid = signed.json()["consent_id"]
    assert clinician.post(f"/api/patients/{pid}/sessions", json=SESSION).status_code == 201
    document = reception.get(f"/api/consents/{cid}").json()
    assert document["intact"] and document["witness"] == "reception1"
    image = reception.get(f"/api/consents/{cid}/signature.png")
    assert image.headers["content-type"] == "image/png"
    page = web.signed_in("reception").get(f"/consents/{cid}")
    assert "The document is intact" in page.text

    assert reception.post(f"/api/consents/{cid}/withdraw").status_code == 200
    after = clinician.post(f"/api/patients/{pid}/sessions", json=SESSION)
    assert after.status_code == 409 and "was withdrawn on" in after.text
    form = web.signed_in("clinician")
    form_page = form.get(f"/patients/{pid}/sessions/new", params={"modality": "microneedling"})
    token = _soup(form_page).select_one('input[name="csrf_token"]')["value"]
    submitted = form.post(f"/patients/{pid}/sessions/new", data={
        "csrf_token": token, "date": TODAY.isoformat(), "operator": "clinician1",
        "modality": "microneedling", "regions": "cheeks", "param_needle_depth": "1.5"})
    assert submitted.status_code == 422
    assert "was withdrawn on" in _soup(submitted).select_one('[data-field="consent"]').text


def test_lots_recorded_in_sessions_are_found_and_exported(web):
    client = web.client("clinician")
    pid = client.post("/api/patients", json=NEW_PATIENT).json()["id"]
    product = client.post("/api/products", json={"name": "Example HA", "manufacturer": "Ex",
                                                 "kind": "filler"}).json()
    lot = client.post(f"/api/products/{product['id']}/lots",
                      json={"lot_number": "HA-77", "expiry": "2031-05-31"})
    assert lot.status_code == 201
    duplicate = client.post(f"/api/products/{product['id']}/lots",
                            json={"lot_number": "HA-77", "expiry": "2031-05-31"})
    assert duplicate.status_code == 409
    expired = client.post(f"/api/products/{product['id']}/lots",
                          json={"lot_number": "HA-01", "expiry": "2020-01-31"}).json()
    refused = client.post(f"/api/patients/{pid}/sessions",
                          json={**SESSION, "lots": [{"lot_id": expired["id"]}]})
    assert refused.status_code == 422 and "expired on 2020-01-31" in refused.text
    session = client.post(f"/api/patients/{pid}/sessions", json={
        **SESSION, "lots": [{"lot_id": lot.json()["id"], "amount": 1, "unit": "ml"}]})
    assert session.status_code == 201 and session.json()["lots"][0]["lot_number"] == "HA-77"

    rows = client.get("/api/recalls/lot/HA-77").json()
    assert [(r["patient_id"], r["name"]) for r in rows] == [(pid, "Ada Lovelace")]
    sheet = client.get("/api/recalls/lot/HA-77", params={"format": "csv"})
    assert sheet.headers["content-type"].startswith("text/csv")
    assert "Ada Lovelace" in sheet.text and sheet.text.startswith("product,")
    assert client.get("/api/recalls/lot/NOPE").status_code == 404
    page = web.signed_in("clinician").get("/recalls/lot", params={"lot": "HA-77"})
    assert "1 patient, 1 session with lot HA-77" in page.text
    assert web.signed_in("clinician").get("/recalls/lot.csv",
                                          params={"lot": "HA-77"}).text == sheet.text
    chart = web.signed_in("clinician").get(f"/patients/{pid}")
    assert "Example HA lot HA-77" in chart.text


def test_treatment_marks_show_on_the_chart_and_in_the_progress_report(web):
    client = web.client("clinician")
    pid = client.post("/api/patients", json=NEW_PATIENT).json()["id"]
    sid = client.post(f"/api/patients/{pid}/sessions", json=SESSION).json()["id"]
    marks = client.post(f"/api/sessions/{sid}/marks", json={"marks": [
        {"view": "front", "kind": "injection", "points": [[0.3, 0.6]], "amount": 0.2,
         "unit": "ml", "notes": "left nasolabial"},
        {"view": "right", "kind": "zone", "points": [[0.2, 0.3], [0.5, 0.3], [0.4, 0.6]]}]})
    assert marks.status_code == 201, marks.text
    bad = client.post(f"/api/sessions/{sid}/marks", json={"marks": [
        {"view": "front", "kind": "pass", "points": [[0.3, 0.6]]}]})
    assert bad.status_code == 422 and "needs 2 to 64 points" in bad.text
    chart = _soup(web.signed_in("clinician").get(f"/patients/{pid}"))
    drawn = chart.select("#treatment-map svg .mark")
    assert sorted(m["data-kind"] for m in drawn) == ["injection", "zone"]
    report = web.signed_in("clinician").get(f"/patients/{pid}/report")
    assert "Treatment map" in report.text and "left nasolabial" in report.text
    page = web.signed_in("clinician").get(f"/patients/{pid}/sessions/{sid}/map")
    assert len(_soup(page).select("svg.face-diagram")) == 3


def test_the_live_capture_check_reads_the_pose_of_a_frame(web):
    import cv2
    from skimage import data

    client = web.client("clinician")
    pid = client.post("/api/patients", json=NEW_PATIENT).json()["id"]
    frame = cv2.imencode(".jpg", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))[1]
    checked = client.post(f"/api/patients/{pid}/capture/check", data={"view": "front"},
                          files={"frame": ("f.jpg", frame.tobytes(), "image/jpeg")})
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert result["face_found"] and abs(result["pose"]["yaw"]) < 8
    assert result["baseline_id"] is None
    turned = client.post(f"/api/patients/{pid}/capture/check", data={"view": "left_90"},
                         files={"frame": ("f.jpg", frame.tobytes(), "image/jpeg")}).json()
    assert not turned["ok"]
    junk = client.post(f"/api/patients/{pid}/capture/check", data={"view": "front"},
                       files={"frame": ("f.jpg", b"not an image", "image/jpeg")})
    assert junk.status_code == 422
    page = web.signed_in("clinician").get(f"/patients/{pid}/capture")
    assert len(_soup(page).select('input[name="view"]')) == 6
