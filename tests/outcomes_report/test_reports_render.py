"""Reports: the HTML parses and carries its images; the PDF has pages; the CLI writes them."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from .clinic import IDENTITY_NAME, build_small_clinic
from .test_photo_import import _phantom_jpeg_with_metadata

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def reported_clinic(store, tmp_path):
    """The small clinic with a baseline and a month-3 photograph of the first patient."""
    from dermatrack.services.photos import import_photo

    clinic = build_small_clinic(store)
    source = _phantom_jpeg_with_metadata(tmp_path / "before.jpg")
    for timepoint in ("baseline", "month_3"):
        import_photo(store, patient_id=clinic.patient_ids[0],
                     visit_id=clinic.visit_ids[0][timepoint], path=source, actor="tester",
                     analyze=False)
    return clinic


def _images(html: str) -> list[bytes]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    images = []
    for tag in soup.find_all("img"):
        prefix, _, payload = tag["src"].partition(",")
        # figures as PNG, photographs as JPEG
        assert prefix in ("data:image/png;base64", "data:image/jpeg;base64"), tag["src"][:40]
        images.append(base64.b64decode(payload))
    return images


def test_patient_report_holds_photos_plots_and_tables(store, reported_clinic):
    from bs4 import BeautifulSoup
    from PIL import Image

    from dermatrack.services.reports import patient_report_html

    patient_id = reported_clinic.patient_ids[0]
    html = patient_report_html(store, patient_id)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.h1.get_text() == f"Progress report: {patient_id}"
    headings = [h.get_text() for h in soup.find_all("h2")]
    for wanted in ("Plan", "What was done", "Before and after", "Measurements over time",
                   "Scales", "Reactions and adverse events"):
        assert wanted in headings
    images = _images(html)
    # baseline, aligned follow-up, lightness overlay (the photographs were stored without
    # analysis: no feature overlays), the trajectory figure
    assert len(images) == 4
    for data in images:
        assert data.startswith((PNG_SIGNATURE, b"\xff\xd8"))
        assert min(Image.open(io.BytesIO(data)).size) > 50
    text = soup.get_text()
    # Names, not codes: the vocabulary's and the knowledge base's labels.
    assert "Post-inflammatory hyperpigmentation" in text and "Microneedling" in text
    assert "post_inflammatory_hyperpigmentation" not in text
    assert "wrinkles.length_mm" not in text and "Wrinkle length" in text
    assert IDENTITY_NAME not in html
    assert "synthetic" not in text.lower()
    # A scale score says what it means: GAIS 2 of 1-5, lower better, is "Much improved".
    scales = soup.find("h2", string="Scales").find_next("table")
    cells = [td.get_text() for td in scales.find_all("tr")[1].find_all("td")]
    assert cells[2:6] == ["Global Aesthetic Improvement Scale, clinician (investigator) rating",
                          "2", "Much improved", "1-5, lower is better"]


def test_cohort_report_has_forest_plot_and_tables(store, reported_clinic):
    from bs4 import BeautifulSoup

    from dermatrack.services.reports import cohort_report_html

    html = cohort_report_html(store, patient_links={reported_clinic.patient_ids[0]: "a.html"},
                              synthetic=True)
    soup = BeautifulSoup(html, "html.parser")
    (forest,) = _images(html)
    assert forest.startswith(PNG_SIGNATURE)
    headings = [h.get_text() for h in soup.find_all("h2")]
    for wanted in ("Paired change by modality", "Paired change by Fitzpatrick group",
                   "Responders", "Trajectories (mixed-effects model)", "Safety"):
        assert wanted in headings
    assert soup.find("a", href="a.html").get_text() == reported_clinic.patient_ids[0]
    assert "synthetic" in soup.find(class_="synthetic").get_text()


def test_cohort_report_tables_give_units_and_the_mdc(store, reported_clinic):
    import json

    from bs4 import BeautifulSoup

    from dermatrack.services.reports import cohort_report_html

    def wrinkle_rows() -> list[dict[str, str]]:
        soup = BeautifulSoup(cohort_report_html(store), "html.parser")
        table = soup.find("h2", string="Paired change by modality").find_next("table")
        headers = [th.get_text() for th in table.find_all("th")]
        rows = [dict(zip(headers, [td.get_text() for td in tr.find_all("td")], strict=True))
                for tr in table.find_all("tr")[1:]]
        return [row for row in rows if row["Measurement"] == "Wrinkle length"]

    before = wrinkle_rows()
    assert before and all(r["Unit"] == "mm" and r["MDC95"] == "–" for r in before)
    path = store.settings.data_dir / "repeatability.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"source": "our clinic", "metrics": [
        {"metric": "wrinkles.length_mm", "region": None, "mdc95": 4.25}]}))
    after = wrinkle_rows()
    # rounded to the wrinkle length's precision (whole millimetres)
    assert len(after) == len(before) and all(r["MDC95"] == "4" for r in after)
    soup = BeautifulSoup(cohort_report_html(store), "html.parser")
    assert "MDC95" in soup.get_text() and "real" in soup.get_text()


def test_deidentified_cohort_report_and_summary_name_no_patient(store, reported_clinic):
    import json

    import pytest
    from bs4 import BeautifulSoup

    from dermatrack.services.outcomes import cohort_summary
    from dermatrack.services.reports import cohort_report_html

    ids = reported_clinic.patient_ids
    full = cohort_summary(store)
    assert {row["patient"] for row in full["responder_rows"]} == set(ids)
    plain = cohort_summary(store, deidentified=True)
    assert plain["responder_rows"] and all("patient" not in row
                                           for row in plain["responder_rows"])
    assert [{k: v for k, v in row.items() if k != "patient"} for row in
            full["responder_rows"]] == plain["responder_rows"]
    assert plain["responders"] == full["responders"]
    assert not any(pid in json.dumps(plain, default=str) for pid in ids)

    html = cohort_report_html(store, deidentified=True)
    soup = BeautifulSoup(html, "html.parser")
    assert "Responders" in [h.get_text() for h in soup.find_all("h2")]
    assert not any(pid in html for pid in ids) and IDENTITY_NAME not in html
    assert "not listed" in soup.get_text()
    with pytest.raises(ValueError):
        cohort_report_html(store, deidentified=True, patient_links={ids[0]: "a.html"})


def test_pdf_reports_have_pages(store, reported_clinic):
    from pypdf import PdfReader

    from dermatrack.services.reports import cohort_report_pdf, patient_report_pdf

    for data in (patient_report_pdf(store, reported_clinic.patient_ids[0]),
                 cohort_report_pdf(store, modality="microneedling")):
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) >= 1
        assert "report" in reader.pages[0].extract_text().lower()


def test_report_cli_writes_html_and_pdf(cli, store, reported_clinic, tmp_path):
    from pypdf import PdfReader

    patient_id = reported_clinic.patient_ids[1]
    out = tmp_path / "patient.pdf"
    result = cli("report", "patient", patient_id, "--pdf", "--out", out, "--json")
    assert result.code == 0, result.stderr
    assert result.json() == {"path": str(out), "patient_id": patient_id, "format": "pdf"}
    assert len(PdfReader(out).pages) >= 1
    cohort = tmp_path / "cohort.html"
    result = cli("report", "cohort", "--modality", "microneedling", "--out", cohort)
    assert result.code == 0, result.stderr
    assert "Cohort report: microneedling" in cohort.read_text()


def test_report_cli_unknown_patient_exits_2(cli, store, tmp_path):
    result = cli("report", "patient", "P-000000", "--out", tmp_path / "x.html")
    assert result.code == 2
    assert "P-000000" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_report_cli_unknown_modality_exits_2(cli, store, tmp_path):
    result = cli("report", "cohort", "--modality", "bogus", "--out", tmp_path / "x.html")
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "unknown modality code 'bogus'" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_lightness_overlay_marks_faded_spots_only():
    from dermatrack.imaging.change_overlay import lightness_overlay
    from dermatrack.imaging.phantom import make_phantom, random_spec

    spec = random_spec(np.random.default_rng(11), width=400, height=300, mm_per_px=0.06,
                       n_wrinkles=0, n_spots=4, n_erythema=0, n_pores=0)
    before = make_phantom(spec, np.random.default_rng(1))
    after = make_phantom(spec.__class__(**{**spec.__dict__, "spots": ()}),
                         np.random.default_rng(1))
    everywhere = np.ones(before.rgb.shape[:2], bool)
    overlay, darker, lighter = lightness_overlay(before.rgb, after.rgb, everywhere)
    coloured = ~np.all(np.isclose(overlay, before.rgb), axis=2)
    spots = before.masks["spots"]
    # Where spots faded the overlay is coloured; elsewhere the skin is left as it was.
    assert coloured[spots].mean() > 0.5 and coloured[~spots].mean() < 0.05
    assert lighter > 0 and darker < 0.01
    none, darker, lighter = lightness_overlay(before.rgb, after.rgb, ~everywhere)
    assert np.array_equal(none, before.rgb) and darker == lighter == 0.0


def test_compare_aligns_a_shifted_face():
    import cv2
    from skimage import data

    from dermatrack.imaging.compare import compare

    face = data.astronaut().astype(np.float32) / 255.0
    shift = np.float32([[1, 0, 10], [0, 1, -6]])
    moved = cv2.warpAffine(face, shift, face.shape[1::-1], borderMode=cv2.BORDER_REFLECT_101)
    result = compare(face, moved)
    assert result.report["alignment"]["method"].startswith("landmarks")
    aligned = result.side_by_side[:, face.shape[1]:].astype(np.float32) / 255.0
    inner = (slice(40, -40), slice(40, -40))
    error = np.abs(aligned - face)[inner].mean()
    assert error < 0.5 * np.abs(moved - face)[inner].mean()
    assert "forehead" in result.report["regions"] and result.overlay.shape == face.shape


def test_cohort_report_of_an_empty_clinic(cli, store, tmp_path):
    from bs4 import BeautifulSoup

    out = tmp_path / "empty.html"
    result = cli("report", "cohort", "--out", out)
    assert result.code == 0, result.stderr
    soup = BeautifulSoup(out.read_text(), "html.parser")
    assert "0 patients, 0 treatment sessions" in soup.get_text()
    assert soup.find("img") is None


def test_tall_forest_plots_split_into_page_sized_figures():
    from dermatrack.reports.plots import FOREST_MAX_HEIGHT_IN, _forest_height, split_forest

    rows = [{"metric": f"m{panel}", "region": "whole", "group": {"modality": f"g{i}"}}
            for panel in range(12) for i in range(7)]
    figures = split_forest(rows)
    assert len(figures) > 1
    assert [row for figure in figures for row in figure] == rows  # nothing lost, in order
    for figure in figures:
        panels = {row["metric"] for row in figure}
        assert _forest_height([7] * len(panels)) <= FOREST_MAX_HEIGHT_IN
    # Whole panels only: no metric is spread over two figures.
    assert sum(len({row["metric"] for row in figure}) for figure in figures) == 12


def test_patient_report_names_a_pair_taken_differently(store, tmp_path):
    """The progress report's before/after pair carries the viewer's caution: a follow-up
    blurred against its baseline (grace_hopper, a Gaussian of 1.1 px) is named under the
    pair, as ``photo compare`` names it."""
    import cv2
    from bs4 import BeautifulSoup

    from dermatrack.imaging.io import sample_face, write_jpeg
    from dermatrack.services.photos import import_photo
    from dermatrack.services.reports import patient_report_html, patient_report_view

    clinic = build_small_clinic(store)
    grace = sample_face("grace_hopper").astype(np.float32)
    patient = clinic.patient_ids[0]
    for timepoint, rgb in (("baseline", grace),
                           ("month_3", cv2.GaussianBlur(grace, (0, 0), 1.1))):
        path = tmp_path / f"{timepoint}.jpg"
        write_jpeg(path, rgb, quality=95)
        import_photo(store, patient_id=patient, visit_id=clinic.visit_ids[0][timepoint],
                     path=path, actor="tester")
    [pair] = patient_report_view(store, patient, actor="tester").comparisons
    assert pair.capture_differences is not None
    assert pair.capture_differences[0].startswith("sharpness: the after photograph")
    caution = BeautifulSoup(patient_report_html(store, patient), "html.parser").select_one(
        "p.caution")
    assert caution is not None and "sharpness: the after photograph is blurred" in caution.text


def _store_pair(store, clinic, tmp_path, baseline, month_3) -> str:
    """Store two photographs (JPEG 95) at the first patient's baseline and month-3
    visits; the patient's id."""
    from dermatrack.imaging.io import write_jpeg
    from dermatrack.services.photos import import_photo

    patient = clinic.patient_ids[0]
    for timepoint, rgb in (("baseline", baseline), ("month_3", month_3)):
        path = tmp_path / f"{timepoint}.jpg"
        write_jpeg(path, rgb, quality=95)
        import_photo(store, patient_id=patient, visit_id=clinic.visit_ids[0][timepoint],
                     path=path, actor="tester")
    return patient


def test_patient_report_gives_no_verdict_where_a_photograph_hides_skin(store, tmp_path):
    """A fringe in the follow-up hides most of the forehead: each photograph's stored
    figures are of the skin it shows, so the report names the pair (coverage) and its
    change table gives the photograph measurements no verdict, whatever the MDC95; the
    patient sheet says so at that visit."""
    from bs4 import BeautifulSoup

    from dermatrack.imaging.io import sample_face
    from dermatrack.imaging.realphoto import with_fringe
    from dermatrack.imaging.regions import face_regions
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.services.reports import (
        patient_report_html,
        patient_report_view,
        patient_sheet_html,
    )

    clinic = build_small_clinic(store)
    grace = sample_face("grace_hopper").astype(np.float32)
    fringe = with_fringe(grace, face_regions(grace).masks["forehead"])
    patient = _store_pair(store, clinic, tmp_path, grace, fringe)
    save_mdc(store.settings, [{"kind": "photo", "metric": metric, "region": None,
                               "mdc95": 1e-9}
                              for metric in ("wrinkles.length_mm", "wrinkles.severity_index")],
             source="test repeatability")
    [pair] = patient_report_view(store, patient, actor="tester").comparisons
    assert pair.hides_skin and pair.uncompared["forehead"] > 0.5
    soup = BeautifulSoup(patient_report_html(store, patient), "html.parser")
    caution = soup.select_one("p.caution")
    assert caution is not None and "forehead region" in caution.text
    photo_rows = [row for row in soup.select("table.fit tr")
                  if row.td is not None and row.td.text == "Photograph"]
    assert photo_rows and all(row.select_one("td.not-comparable") for row in photo_rows)
    assert "Not comparable: one photograph of a before/after pair" in soup.text
    # Other measurements keep theirs.
    others = [row for row in soup.select("table.fit tr")
              if row.td is not None and row.td.text not in ("Photograph", "")]
    assert others and not any(row.select_one("td.not-comparable") for row in others)
    # The patient sheet too, at that visit only.
    sheet = BeautifulSoup(patient_sheet_html(store, patient), "html.parser")
    visits = {v.h2.get_text().split(" · ")[0]: v for v in sheet.select("section.visit")}
    rows = {row.td.get_text(): row for row in visits["Month 3"].select("table.sheet tr")
            if row.td is not None}
    assert rows["Forehead"].select("span.not-comparable")
    assert rows["Whole face"].select("span.not-comparable")
    assert not rows["Chin"].select("span.not-comparable")
    assert "but not comparable: this photograph hides skin" in visits["Month 3"].text
    assert not visits["Baseline"].select("span.not-comparable")


def test_report_and_sheet_judge_no_lines_of_a_photograph_with_its_skin_smoothed(store,
                                                                               tmp_path):
    """The follow-up taken in a phone's beauty mode (grace_hopper's skin blurred by 2 px,
    her features not): the report names the pair ("skin detail"), its change table gives
    the wrinkle rows no verdict and keeps the colour rows', and says why; the patient
    sheet marks the wrinkle length at that visit and not the red area."""
    import cv2
    from bs4 import BeautifulSoup

    from dermatrack.imaging.io import sample_face
    from dermatrack.imaging.realphoto import with_skin_smoothed
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.services.reports import patient_report_html, patient_sheet_html

    clinic = build_small_clinic(store)
    grace = sample_face("grace_hopper")
    smoothed = with_skin_smoothed(grace, cv2.GaussianBlur(grace, (0, 0), 2.0))
    patient = _store_pair(store, clinic, tmp_path, grace, smoothed)
    save_mdc(store.settings, [{"kind": "photo", "metric": metric, "region": None,
                               "mdc95": 1e-9}
                              for metric in ("wrinkles.length_mm", "wrinkles.severity_index",
                                             "redness.red_area_fraction",
                                             "pigment.ita_deg")],
             source="test repeatability")
    soup = BeautifulSoup(patient_report_html(store, patient), "html.parser")
    caution = soup.select_one("p.caution")
    assert caution is not None and "skin detail: the after photograph's skin has" in \
        caution.text
    rows = {row.select("td")[1].text: row for row in soup.select("table.fit tr")
            if row.td is not None and row.td.text == "Photograph"}
    assert rows["Wrinkle length"].select_one("td.not-comparable")
    assert rows["Wrinkle severity"].select_one("td.not-comparable")
    assert not rows["Skin tone ITA"].select_one("td.not-comparable")
    assert "its skin smoothed (named under the pair)" in soup.text
    sheet = BeautifulSoup(patient_sheet_html(store, patient), "html.parser")
    visits = {v.h2.get_text().split(" · ")[0]: v for v in sheet.select("section.visit")}
    whole = {row.td.get_text(): row for row in visits["Month 3"].select("table.sheet tr")
             if row.td is not None}["Whole face"]
    cells = whole.select("td")[1:]
    assert cells[0].select("span.not-comparable")  # wrinkle length
    assert not cells[2].select("span.not-comparable")  # red area
    assert "blurred or its skin smoothed (a phone's beauty mode)" in visits["Month 3"].text
