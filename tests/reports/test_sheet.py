"""The patient sheet and the readable reports, on a real face photographed at three
visits: what they show, that they read what was stored instead of re-analysing, and
their PDF pages rendered to PNG for a person to look at (test-artifacts/reports/)."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess

import numpy as np
import pytest

from .faces import build_face_clinic, face_photographs


@pytest.fixture(scope="session")
def face_files(tmp_path_factory):
    return face_photographs(tmp_path_factory.mktemp("faces"))


@pytest.fixture
def face_clinic(store, face_files, tmp_path, monkeypatch):
    from . import faces

    monkeypatch.setattr(faces, "face_photographs", lambda folder: face_files)
    return build_face_clinic(store, tmp_path)


def _decode(uri: str) -> np.ndarray:
    from PIL import Image

    _, _, payload = uri.partition(",")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))


def _pdf_pages(pdf: bytes, folder, stem: str) -> list:
    """Render a PDF's pages to PNG with pdftoppm (test-artifacts) and return them."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{stem}-*.png"):
        old.unlink()
    source = folder / f"{stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(source), str(folder / stem)],
                   check=True)
    return sorted(folder.glob(f"{stem}-*.png"))


def _near(image: np.ndarray, feature: str, tolerance: int = 45) -> int:
    """Pixels of the colour a feature is painted in over typical skin."""
    from dermatrack.imaging.overlays import FEATURE_COLOURS, OVERLAY_ALPHA

    alpha = OVERLAY_ALPHA[feature]
    skin = np.array([190.0, 150.0, 130.0])
    target = alpha * np.asarray(FEATURE_COLOURS[feature]) * 255 + (1 - alpha) * skin
    return int((np.abs(image.astype(float) - target).max(axis=2) < tolerance).sum())


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_patient_sheet_shows_the_face_in_colour_with_changes_in_words(
        store, face_clinic, artifacts_dir):
    from bs4 import BeautifulSoup

    from dermatrack.imaging.overlays import FEATURE_LABELS
    from dermatrack.services.reports import patient_sheet_html, patient_sheet_pdf

    html = patient_sheet_html(store, face_clinic.patient_id)
    soup = BeautifulSoup(html, "html.parser")
    visits = soup.select("section.visit")
    assert [v.h2.get_text() for v in visits] == [
        "Baseline · 2026-01-05", "Month 1 · 2026-02-05", "Month 3 · 2026-04-05"]
    legend = soup.select_one(".legend-row").get_text()
    for label in FEATURE_LABELS.values():
        assert label in legend
    # Spots and red areas are found on this small face; its few wrinkles barely are (the
    # overlay of every feature is checked on known masks in tests/imaging/test_overlays).
    painted: dict[str, list] = {feature: [] for feature in ("spots", "redness")}
    for visit in visits:
        photo, overlay = (_decode(img["src"]) for img in visit.select(".faces img"))
        # The overlay paints the detected features in their colours; the photograph has
        # (almost) none of those colours.
        for feature, counts in painted.items():
            counts.append((_near(overlay, feature), _near(photo, feature)))
        rows = visit.select("table.sheet tr")
        assert rows[1].td.get_text() == "Whole face"
        assert len(rows) > 5  # facial regions
    # Spots stand out plainly. The face's own rendered redness is already near the red
    # overlay's colour, and since the redness is measured against the surrounding skin
    # (issue 10) fewer pixels are painted: the overlay must still add red areas at every
    # visit.
    overlay_spots, photo_spots = zip(*painted["spots"], strict=True)
    assert sum(overlay_spots) > 1.4 * sum(photo_spots) + 30, painted["spots"]
    assert all(o > p + 30 for o, p in painted["redness"]), painted["redness"]
    later = visits[2].get_text()
    assert "since the baseline" in later
    text = soup.get_text()
    # Labels and units from the metric definitions, never raw codes.
    assert "Wrinkle length (mm)" in text and "Spot area (%)" in text
    for code in ("wrinkles.length_mm", "pigment.spot_area_fraction", "_fraction", "cheek_left"):
        assert code not in text
    # One patient in the clinic: no percentile, and the sheet says how large the group is.
    peers = soup.select_one("section.peers").get_text(" ", strip=True)
    assert "No comparison" in peers and "at least 20" in peers and "0 other patients" in peers

    out = artifacts_dir / "reports"
    out.mkdir(exist_ok=True)
    (out / "patient-sheet.html").write_text(html, encoding="utf-8")
    pages = _pdf_pages(patient_sheet_pdf(store, face_clinic.patient_id), out, "patient-sheet")
    assert len(pages) >= 3


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_progress_report_reads_what_was_stored_and_renders_readable_pages(
        store, face_clinic, artifacts_dir, monkeypatch):
    from bs4 import BeautifulSoup

    from dermatrack.imaging import align, analysis
    from dermatrack.services.reports import (
        patient_report_html,
        patient_report_pdf,
        patient_sheet_html,
    )

    def refuse(*args, **kwargs):
        raise AssertionError("a report re-analysed or re-aligned a stored photograph")

    # Analyses and alignments were computed when the photographs were stored.
    monkeypatch.setattr(analysis, "run_analysis", refuse)
    monkeypatch.setattr(align, "align_to_baseline", refuse)
    html = patient_report_html(store, face_clinic.patient_id)
    patient_sheet_html(store, face_clinic.patient_id)
    soup = BeautifulSoup(html, "html.parser")
    pair = soup.select_one(".pair")
    assert len(pair.find_all("img")) == 5  # before, aligned after, change, features x2
    plan = soup.find("h2", string="What was done").find_next("table").get_text(" ")
    assert "Superficial chemical peel" in plan and "Glycolic acid concentration 30 %" in plan
    assert "superficial_peel" not in soup.get_text()
    changes = soup.find("h2", string="Measurements over time").find_next("table")
    headers = [th.get_text() for th in changes.find_all("th")]
    assert headers[:2] == ["Measured by", "Measurement"] and "Change %" in headers
    pages = _pdf_pages(patient_report_pdf(store, face_clinic.patient_id),
                       artifacts_dir / "reports", "progress-report")
    assert len(pages) >= 2
