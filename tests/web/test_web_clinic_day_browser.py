"""The clinic's day in Debian's chromium (issue 16), against a real ``dermatrack serve``.

Reception sees the recall list, books a plan in one step and sees the day and week
calendars; a clinician is refused charting without consent; the patient signs the
treatment consent on a canvas (pointer events from the mouse); the clinician charts a
session with a catalogue lot, finds the lot's patients and exports the recall, marks the
treatment map, and takes a follow-up photo from a fake camera (a face image as the video
stream) with the baseline as a ghost and the live pose check. Screenshots of each page go
to ``test-artifacts/web/clinic-day/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_web_browser import CHROMIUM, CHROMIUM_FLAGS, TABLET, _free_port, _require_chromium

pytestmark = pytest.mark.browser

PASSWORD = "tablet password 2026"
TODAY = dt.date.today()
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def _face(size: tuple[int, int] = (640, 480)):
    """skimage's astronaut portrait, the face centred, as an RGB array of ``size``."""
    import cv2
    import numpy as np
    from skimage import data

    face = data.astronaut()[0:300, 90:390]  # the head and shoulders
    width, height = size
    scaled = cv2.resize(face, (height, height), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 90, np.uint8)
    left = (width - height) // 2
    frame[:, left:left + height] = scaled
    return frame


def write_y4m(path: Path, rgb, frames: int = 5) -> Path:
    """A YUV4MPEG2 (4:2:0) video of ``frames`` copies of ``rgb``: Chromium's fake camera
    plays it in a loop (``--use-file-for-fake-video-capture``)."""
    import cv2

    height, width = rgb.shape[:2]
    planes = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(planes)
    return path


@pytest.fixture
def clinic_day(tmp_path):
    """A clinic with two accounts, consent forms, a product catalogue and two patients:
    Maria (a stored plan, no consent yet) and Jon (consented, a baseline front photo)."""
    import cv2

    from dermatrack.config import load_settings
    from dermatrack.services import accounts, consent, patients, plans, products
    from dermatrack.services.common import open_store
    from dermatrack.services.photos import import_photo

    data = tmp_path / "clinic"
    first = TODAY - dt.timedelta(days=2)
    with open_store(load_settings(data)) as store:
        accounts.add_user(store, "nurse.kim", "clinician", PASSWORD, actor="test-setup")
        accounts.add_user(store, "desk.amy", "reception", PASSWORD, actor="test-setup")
        consent.load_examples(store, actor="test-setup")
        filler = products.add_product(store, {"name": "Example HA filler",
                                              "manufacturer": "Example Labs",
                                              "kind": "filler"}, actor="test-setup")
        products.add_lot(store, {"product_id": filler.id, "lot_number": "HA-2031",
                                 "expiry": (TODAY + dt.timedelta(days=400)).isoformat()},
                         actor="test-setup")
        products.add_lot(store, {"product_id": filler.id, "lot_number": "HA-1999",
                                 "expiry": (TODAY - dt.timedelta(days=30)).isoformat()},
                         actor="test-setup")
        maria = patients.add_patient(store, {
            "age": 38, "sex": "female", "fitzpatrick": "III",
            "concerns": [{"code": "fine_lines", "region": "cheeks", "severity": 2}],
            "identity": {"name": "Maria Sanchez", "phone": "+44 20 7946 0101",
                         "email": "maria@example.org"}}, actor="test-setup")
        plans.add_plan(store, {"patient_id": maria.id, "modalities": [{
            "modality": "microneedling", "regions": ["cheeks"],
            "parameters": {"needle_depth": 1.5},
            "sessions": [{"n": n, "date": (first + dt.timedelta(days=28 * (n - 1))).isoformat()}
                         for n in (1, 2, 3)]}]}, actor="test-setup")
        jon = patients.add_patient(store, {
            "age": 52, "sex": "male", "fitzpatrick": "II",
            "identity": {"name": "Jon Baseline"},
            "consents": [{"kind": kind, "version": "paper-1",
                          "signed_at": "2025-06-01T09:00:00Z"}
                         for kind in ("treatment", "photography", "research")]},
            actor="test-setup")
        baseline = patients.add_visit(store, {"patient_id": jon.id, "timepoint": "baseline",
                                              "date": (TODAY - dt.timedelta(days=90))
                                              .isoformat()}, actor="test-setup")
        patients.add_visit(store, {"patient_id": jon.id, "timepoint": "month_3",
                                   "date": TODAY.isoformat()}, actor="test-setup")
        photo = tmp_path / "baseline.jpg"
        cv2.imwrite(str(photo), cv2.cvtColor(_face(), cv2.COLOR_RGB2BGR))
        import_photo(store, patient_id=jon.id, visit_id=baseline.id, path=photo,
                     actor="test-setup", analyze=False, view="front")
    return {"data": data, "maria": maria.id, "jon": jon.id, "first": first,
            "video": write_y4m(tmp_path / "face.y4m", _face())}


@pytest.fixture
def server(clinic_day, tmp_path):
    from dermatrack.config import DATABASE_URL_ENV

    environment = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "dermatrack", "serve", "--data",
                                str(clinic_day["data"]), "--host", "127.0.0.1",
                                "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=environment)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


def _sign_in(browser, server: str, username: str):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=TABLET, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server + "/signin")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Sign in")')
    expect(page).to_have_url(server + "/patients")
    return page


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"{page.url} is {width} px wide on a tablet"


def _draw(page, selector: str, points: list[tuple[float, float]]) -> None:
    """Drag the mouse through ``points`` (relative to the element) with the button down."""
    box = page.locator(selector).bounding_box()
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


def _tap(page, selector: str, x: float, y: float) -> None:
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])


def test_the_clinic_day_in_the_browser(server, clinic_day, artifacts_dir):
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = artifacts_dir / "web" / "clinic-day"
    shots.mkdir(parents=True, exist_ok=True)
    maria, jon, first = clinic_day["maria"], clinic_day["jon"], clinic_day["first"]
    flags = CHROMIUM_FLAGS + FAKE_CAMERA + [
        f"--use-file-for-fake-video-capture={clinic_day['video']}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags)

        # Reception: the recall list, then the plan booked in one step.
        desk = _sign_in(browser, server, "desk.amy")
        desk.click('nav a:has-text("Recalls")')
        rows = desk.locator("#recalls tbody tr")
        expect(rows.first).to_contain_text("Maria Sanchez")
        expect(rows.first).to_contain_text("2 days")
        desk.screenshot(path=shots / "01-recalls.png", full_page=True)
        _fits(desk)
        rows.first.locator('a:has-text("Book")').click()
        desk.fill('#book-plan input[name="practitioner"]', "nurse.kim")
        desk.fill('#book-plan input[name="start"]', "10:30")
        desk.click('button:has-text("Book all sessions and follow-ups")')
        expect(desk.locator("#booked")).to_have_text("Booked 6 appointments from the plan.")
        expect(desk.locator("#patient-appointments tbody tr")).to_have_count(6)
        desk.screenshot(path=shots / "02-patient-appointments.png", full_page=True)
        _fits(desk)
        desk.goto(server + f"/recalls?due_by={TODAY.isoformat()}")
        expect(desk.locator("#recalls")).to_contain_text("Nobody is due")
        desk.goto(server + f"/appointments?day={first.isoformat()}&practitioner=")
        card = desk.locator(".appt")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("Maria Sanchez")
        expect(card).to_contain_text("10:30–11:15")
        desk.screenshot(path=shots / "03-day-calendar.png", full_page=True)
        _fits(desk)
        card.locator('button:has-text("arrived")').click()
        expect(desk.locator(".appt .status-pill")).to_have_text("arrived")
        desk.click('a:has-text("Week")')
        expect(desk.locator(".weekday")).to_have_count(7)
        desk.screenshot(path=shots / "04-week-calendar.png", full_page=True)
        _fits(desk)

        # A clinician is refused charting without a treatment consent.
        nurse = _sign_in(browser, server, "nurse.kim")
        nurse.goto(server + f"/patients/{maria}/sessions/new?modality=microneedling")
        nurse.check('input[name="regions"][value="cheeks"]')
        nurse.click('button:has-text("Chart session")')
        refusal = nurse.locator('[data-field="consent"]')
        expect(refusal).to_contain_text("no treatment consent for microneedling has been signed")
        nurse.screenshot(path=shots / "05-charting-refused.png", full_page=True)

        # The patient signs the treatment consent on the tablet (reception's session).
        desk.goto(server + f"/patients/{maria}/consent")
        desk.click('#to-sign a[data-kind="treatment"]')
        expect(desk.locator("#consent-text")).to_contain_text("EXAMPLE TEXT")
        desk.click("#submit-signature")
        expect(desk.locator("#signature-error")).to_have_text("Please sign in the box first.")
        _draw(desk, "#signature-pad", [(0.1, 0.7), (0.2, 0.3), (0.3, 0.75), (0.45, 0.35),
                                      (0.6, 0.7), (0.75, 0.4), (0.9, 0.6)])
        desk.screenshot(path=shots / "06-consent-sign.png", full_page=True)
        _fits(desk)
        desk.click("#submit-signature")
        expect(desk.locator("#integrity")).to_contain_text("The document is intact")
        expect(desk.locator("img.signature-image")).to_have_js_property("naturalWidth", 900)
        desk.screenshot(path=shots / "07-consent-signed.png", full_page=True)
        _fits(desk)

        # Now the session is charted, with a catalogue lot; an expired lot is refused.
        nurse.goto(server + f"/patients/{maria}/sessions/new?modality=microneedling")
        nurse.check('input[name="regions"][value="cheeks"]')
        lot = nurse.locator('select[name="lot_id"]').first
        lot.select_option(label=lot.locator("option", has_text="HA-1999").inner_text())
        nurse.click('button:has-text("Chart session")')
        expect(nurse.locator('[data-field="lots[0].lot_id"]')).to_contain_text("expired on")
        nurse.check('input[name="regions"][value="cheeks"]')
        lot = nurse.locator('select[name="lot_id"]').first
        lot.select_option(label=lot.locator("option", has_text="HA-2031").inner_text())
        nurse.locator('input[name="lot_amount"]').first.fill("1")
        nurse.locator('input[name="lot_unit"]').first.fill("ml")
        nurse.click('button:has-text("Chart session")')
        expect(nurse.locator("#session-saved")).to_contain_text("Microneedling")

        # Products, and the lot recall with its CSV export.
        nurse.click('nav a:has-text("Products")')
        nurse.locator('tr:has-text("Example HA filler") input[name="lot_number"]').fill("HA-2032")
        nurse.locator('tr:has-text("Example HA filler") input[name="expiry"]').fill(
            (TODAY + dt.timedelta(days=500)).isoformat())
        nurse.locator('tr:has-text("Example HA filler") button:has-text("Add lot")').click()
        expect(nurse.locator("#product-saved")).to_contain_text("Lot HA-2032 added")
        nurse.screenshot(path=shots / "08-products.png", full_page=True)
        _fits(nurse)
        nurse.fill('#recall-search input[name="lot"]', "HA-2031")
        nurse.click('#recall-search button')
        expect(nurse.locator("#recall-summary")).to_have_text(
            "1 patient, 1 session with lot HA-2031.")
        expect(nurse.locator("#recall-rows")).to_contain_text("+44 20 7946 0101")
        nurse.screenshot(path=shots / "09-lot-recall.png", full_page=True)
        _fits(nurse)
        with nurse.expect_download() as download:
            nurse.click("#export-csv")
        sheet = Path(download.value.path()).read_text(encoding="utf-8")
        assert sheet.splitlines()[0].startswith("product,manufacturer,lot_number")
        assert "Maria Sanchez" in sheet and "microneedling" in sheet

        # The treatment map: an injection point on the front, a zone on the left profile.
        nurse.goto(server + f"/patients/{maria}")
        nurse.click('#sessions a:has-text("Map")')
        nurse.locator("#mark-amount").fill("0.1")
        nurse.locator("#mark-unit").fill("ml")
        nurse.check('input[name="mark-kind"][value="injection"]')
        _tap(nurse, "#diagram-front", 0.35, 0.55)
        nurse.check('input[name="mark-kind"][value="zone"]')
        nurse.locator("#mark-amount").fill("")
        for x, y in ((0.35, 0.5), (0.55, 0.5), (0.5, 0.7)):
            _tap(nurse, "#diagram-left", x, y)
        nurse.click("#finish-shape")
        nurse.screenshot(path=shots / "10-treatment-map.png", full_page=True)
        expect(nurse.locator("#map-error")).to_have_text("")
        expect(nurse.locator("#pending-count")).to_have_text("2")
        _fits(nurse)
        nurse.click("#save-marks")
        expect(nurse.locator("#saved-marks li")).to_have_count(2)
        expect(nurse.locator("#saved-marks")).to_contain_text("Example HA filler lot HA-2031")
        nurse.goto(server + f"/patients/{maria}")
        expect(nurse.locator("#treatment-map svg .mark")).to_have_count(2)
        nurse.locator("#treatment-map").screenshot(path=shots / "11-chart-treatment-map.png")

        # Guided capture: the fake camera shows a face; the baseline is the ghost.
        nurse.goto(server + f"/patients/{jon}/capture")
        expect(nurse.locator("#capture-visit")).to_contain_text("month 3")
        nurse.click("#start-camera")
        expect(nurse.locator("#capture")).to_have_attribute("data-camera", "on")
        expect(nurse.locator("#ghost")).to_be_visible()
        expect(nurse.locator("#ghost")).to_have_js_property("naturalWidth", 640)
        expect(nurse.locator("#check-figures")).to_contain_text("yaw", timeout=60_000)
        expect(nurse.locator("#check-figures")).to_contain_text("baseline yaw")
        # The same face as the baseline: its sharpness beside the baseline's, not blurred.
        expect(nurse.locator("#check-figures")).to_contain_text(
            re.compile(r"sharpness \d\.\d\d \(baseline \d\.\d\d\)"))
        expect(nurse.locator("#check-advice")).not_to_contain_text("blurred")
        expect(nurse.locator("#facebox")).to_be_visible()
        nurse.screenshot(path=shots / "12-capture-ghost.png", full_page=True)
        _fits(nurse)
        nurse.click("#take-photo")
        expect(nurse.locator("#capture-saved")).to_contain_text("(front)", timeout=60_000)
        nurse.check('input[name="view"][value="left_45"]')
        expect(nurse.locator("#ghost")).to_be_hidden()  # no left 45° baseline yet
        nurse.goto(server + f"/patients/{jon}/capture")
        expect(nurse.locator('#views label.done')).to_contain_text("Front")
        browser.close()
