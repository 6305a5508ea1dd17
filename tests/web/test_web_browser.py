"""The clinic app in Debian's chromium, driven by Playwright, against a real server.

The test starts ``dermatrack serve`` on 127.0.0.1 (a free port, a temporary data
directory) and walks through a visit on a tablet-sized window: sign in, add a patient and
watch a contraindication appear on the intake form, chart a session, upload two photos,
open the before/after viewer and record an adverse event. Screenshots go to
``test-artifacts/web/``.

Without /usr/bin/chromium the test is skipped, unless DERMATRACK_REQUIRE_CHROMIUM=1
(CI), where it fails.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("DERMATRACK_TEST_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
TABLET = {"width": 1180, "height": 820}  # a 10.9-inch tablet in landscape, CSS pixels
PASSWORD = "tablet password 2026"

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("DERMATRACK_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"DERMATRACK_REQUIRE_CHROMIUM=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _face_photos(folder: Path) -> list[Path]:
    """A baseline face photo and a follow-up that is shifted, brighter and redder on one
    cheek (skimage's bundled astronaut portrait, made small)."""
    import cv2
    import numpy as np
    from skimage import data

    face = cv2.resize(data.astronaut(), (360, 360), interpolation=cv2.INTER_AREA)
    follow = np.roll(face, (4, 6), axis=(0, 1)).astype(np.float32) * 1.03
    follow[170:230, 90:150, 0] += 40  # a reddened patch
    follow = np.clip(follow, 0, 255).astype(np.uint8)
    paths = []
    for name, rgb in (("baseline.jpg", face), ("month3.jpg", follow)):
        path = folder / name
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


@pytest.fixture
def server(tmp_path):
    """``dermatrack serve`` on a free port with one clinician account; yields its URL."""
    from dermatrack.config import DATABASE_URL_ENV, load_settings
    from dermatrack.services import accounts
    from dermatrack.services.common import open_store

    data = tmp_path / "clinic"
    environment = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    with open_store(load_settings(data)) as store:
        accounts.add_user(store, "nurse.kim", "clinician", PASSWORD, actor="test-setup")
    # The imaging repeatability the viewer judges changes by: whole-face MDC95 of the
    # real-photo validation (`dermatrack validate imaging`, README), for every region.
    from dermatrack.services.outcomes import save_mdc

    save_mdc(load_settings(data), [
        {"kind": "photo", "metric": metric, "region": None, "mdc95": mdc95}
        for metric, mdc95 in (("wrinkles.severity_index", 12.0), ("wrinkles.length_mm", 57.0),
                              ("pigment.ita_deg", 12.6), ("redness.red_area_fraction", 0.0143),
                              ("pigment.spot_area_fraction", 0.0024))],
        source="real-photo validation, whole face")
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "dermatrack", "serve", "--data", str(data),
                                "--host", "127.0.0.1", "--port", str(port)],
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


def _fits_the_tablet(page) -> None:
    """The page scrolls only vertically: nothing is wider than the tablet's window."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"{page.url} is {width} px wide on a tablet"


def test_a_visit_in_the_browser(server, tmp_path, artifacts_dir):
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = artifacts_dir / "web"
    shots.mkdir(exist_ok=True)
    photos = _face_photos(tmp_path)
    today = dt.date.today()
    treated = today - dt.timedelta(days=21)  # the session three weeks ago
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport=TABLET)
        page.set_default_timeout(30_000)

        # Sign in.
        page.goto(server + "/patients")
        expect(page).to_have_url(server + "/signin?next=%2Fpatients")
        page.screenshot(path=shots / "01-signin.png")
        _fits_the_tablet(page)
        page.fill('input[name="username"]', "nurse.kim")
        page.fill('input[name="password"]', PASSWORD)
        page.click('button:has-text("Sign in")')
        expect(page).to_have_url(server + "/patients")

        # Add a patient; the screening panel flags retinoids once pregnancy is ticked.
        page.click('a:has-text("New patient")')
        page.fill('input[name="name"]', "Maria Sanchez")
        page.fill('input[name="email"]', "maria@example.org")
        page.fill('input[name="age"]', "34")
        page.select_option('select[name="sex"]', "female")
        page.select_option('select[name="fitzpatrick"]', "IV")
        page.select_option('select[name="concern_code"]', "fine_lines")
        page.select_option('select[name="concern_region"]', "periorbital")
        page.select_option('select[name="concern_severity"]', "2")
        retinoid = page.locator('#screening-panel li[data-modality="topical_retinoid"]')
        expect(retinoid).to_have_count(0)
        page.check('input[name="conditions"][value="pregnancy"]')
        expect(retinoid).to_contain_text("contraindicated")
        page.check('input[name="consent_treatment"]')
        page.check('input[name="consent_photography"]')
        page.screenshot(path=shots / "02-intake-contraindication.png", full_page=True)
        _fits_the_tablet(page)
        # A male patient coded as pregnant is screened, but never without a word.
        warning = page.locator("#screening-panel [data-plausibility]")
        page.select_option('select[name="sex"]', "male")
        expect(warning).to_contain_text("pregnancy is recorded for a male patient")
        expect(retinoid).to_contain_text("contraindicated")
        page.screenshot(path=shots / "02b-intake-plausibility.png", full_page=True)
        page.select_option('select[name="sex"]', "female")
        expect(warning).to_have_count(0)
        page.uncheck('input[name="conditions"][value="pregnancy"]')
        expect(retinoid).to_have_count(0)
        page.click('button:has-text("Register patient")')
        expect(page.locator("h1")).to_contain_text("Maria Sanchez")
        patient_url = page.url

        # Schedule the baseline visit, then chart a microneedling session on the forehead.
        page.fill('#visits input[name="timepoint"]', "baseline")
        page.click('button:has-text("Schedule visit")')
        expect(page.locator("#visits table")).to_contain_text("baseline")
        page.screenshot(path=shots / "03-chart.png", full_page=True)
        _fits_the_tablet(page)
        page.click('a:has-text("Chart session")')
        page.select_option('select[name="modality"]', "microneedling")
        depth = page.locator('input[name="param_needle_depth"]')
        expect(depth).to_have_value("1")
        page.check('input[name="regions"][value="forehead"]')
        expect(depth).to_have_value("0.5")
        expect(page.locator('[data-range-for="needle_depth"]')).to_contain_text("forehead")
        depth.fill("2.2")
        expect(depth).to_have_class("invalid")
        depth.fill("0.5")
        page.fill('input[name="date"]', treated.isoformat())
        page.screenshot(path=shots / "04-session-form.png", full_page=True)
        _fits_the_tablet(page)
        page.click('button:has-text("Chart session")')
        expect(page.locator("#session-saved")).to_contain_text("Microneedling")

        # Upload two photos at once; each is analysed and its regions' metrics shown.
        page.goto(patient_url + "/photos")
        page.set_input_files('#uploader input[type="file"]', [str(p) for p in photos])
        expect(page.locator(".upload.done")).to_have_count(2, timeout=120_000)
        expect(page.locator(".upload.done table").first).to_be_visible()
        expect(page.locator(".upload-summary")).to_have_text("2 of 2 photos finished")
        expect(page.locator("#gallery figure")).to_have_count(2)  # the gallery is refreshed
        for index in range(2):  # each photo reports its own analysis time
            expect(page.locator(".upload .status").nth(index)).to_contain_text("analysed in")
        page.screenshot(path=shots / "05-photo-upload.png", full_page=True)
        _fits_the_tablet(page)

        # The before/after viewer: aligned pair, slider, change overlay.
        page.goto(patient_url + "/photos")
        page.click('button:has-text("Open before/after viewer")')
        viewer = page.locator("#viewer")
        # before, aligned after, colour change, and four feature layers on each side
        expect(viewer.locator("img")).to_have_count(11)
        for index in range(3):  # each layer decoded at the photos' size (360 px)
            expect(viewer.locator("img").nth(index)).to_have_js_property("naturalWidth", 360)
        page.locator("#slider").fill("35")
        expect(viewer.locator(".after")).to_have_attribute(
            "style", "clip-path: inset(0px 0px 0px 35%);")
        page.check("#show-change")
        expect(viewer.locator(".overlay")).to_be_visible()
        # Every change in the table is judged against its MDC95.
        expect(page.locator(".change-verdict").first).to_be_visible()
        expect(page.locator("text=is judged against its MDC95")).to_be_visible()
        page.screenshot(path=shots / "06-before-after.png", full_page=True)
        _fits_the_tablet(page)
        # Feature toggles: each shows its colour layer over both photographs.
        page.uncheck("#show-change")
        spots = viewer.locator('img[data-layer="spots"]')
        expect(spots.first).to_be_hidden()
        for feature in ("wrinkles", "spots", "redness", "pores"):
            page.check(f'input[data-feature="{feature}"]')
        expect(spots.first).to_be_visible()
        expect(spots.nth(1)).to_be_visible()
        expect(spots.first).to_have_js_property("naturalWidth", 360)
        page.screenshot(path=shots / "06b-before-after-features.png", full_page=True)

        # The patient sheet: each visit's face with the detected features in colour.
        page.goto(patient_url + "/sheet")
        expect(page.locator("section.visit")).to_have_count(1)  # both photos at one visit
        expect(page.locator(".legend-row")).to_contain_text("Pigmented spots")
        page.screenshot(path=shots / "09-patient-sheet.png", full_page=True)

        # Erythema for a day is an expected reaction; for three weeks, an adverse event.
        page.goto(patient_url + "/events/new")
        page.select_option('select[name="code"]', "erythema")
        page.fill('input[name="onset"]', treated.isoformat())
        page.check('input[name="status"][value="resolved"]')
        page.fill('input[name="seen_on"]', (treated + dt.timedelta(days=1)).isoformat())
        preview = page.locator("#event-preview [data-kind]")
        expect(preview).to_have_attribute("data-kind", "expected_reaction")
        page.fill('input[name="seen_on"]', today.isoformat())
        expect(preview).to_have_attribute("data-kind", "adverse_event")
        page.select_option('select[name="grade"]', "2")
        page.select_option('select[name="relatedness"]', "probably-likely")
        page.select_option('select[name="outcome"]', "resolved")
        page.screenshot(path=shots / "07-adverse-event-form.png", full_page=True)
        _fits_the_tablet(page)
        page.click('button:has-text("Record")')
        expect(page.locator("#event-saved")).to_contain_text("an adverse event")
        expect(page.locator("#event-saved")).to_contain_text("prolonged erythema")

        page.goto(patient_url)
        expect(page.locator("#events")).to_contain_text("adverse event")
        # The chart's photo thumbnails are small JPEGs that load (not empty boxes).
        thumbs = page.locator("#photos .thumbs img")
        expect(thumbs).to_have_count(2)
        page.wait_for_function("[...document.querySelectorAll('#photos .thumbs img')]"
                               ".every((i) => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=shots / "08-chart-after-visit.png", full_page=True)
        _fits_the_tablet(page)

        # The contraindication matrix, and one modality's column with reasons.
        page.goto(server + "/knowledge/matrix?modality=ipl")
        expect(page.locator('#column li[data-factor="skin_type:VI"]')).to_contain_text(
            "contraindicated")
        page.screenshot(path=shots / "09-matrix.png", full_page=True)
        _fits_the_tablet(page)
        browser.close()
