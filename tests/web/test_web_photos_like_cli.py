"""Photographs in the browser are measured as the CLI measures them: the same file gives
the same figures whether uploaded or analysed by ``dermatrack photo analyze`` (with the
same scale and the same choice of face or close-up); the same file uploaded twice is
flagged; the viewer opens on the baseline against the latest photograph; thumbnails are
small JPEGs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from web_helpers import NEW_PATIENT

sys.path.insert(0, str(Path(__file__).parents[1] / "reports"))


def _patient_with_visits(web) -> tuple[str, dict[str, str]]:
    client = web.client("clinician")
    pid = client.post("/api/patients", json=NEW_PATIENT).json()["id"]
    visits = {}
    for timepoint, day in (("baseline", "2026-01-05"), ("month_3", "2026-04-05")):
        answer = client.post(f"/api/patients/{pid}/visits",
                             json={"timepoint": timepoint, "date": day})
        assert answer.status_code == 201, answer.text
        visits[timepoint] = answer.json()["id"]
    return pid, visits


def _upload_pair(web, tmp_path: Path, before, after) -> tuple[str, tuple[str, str]]:
    """A new patient with ``before`` uploaded at the baseline visit and ``after`` at
    month 3 (JPEG 95) through the API; the patient's and the two photographs' ids."""
    from dermatrack.imaging.io import write_jpeg

    pid, visits = _patient_with_visits(web)
    client = web.client("clinician")
    ids = []
    for name, rgb, visit in (("before.jpg", before, "baseline"),
                             ("after.jpg", after, "month_3")):
        write_jpeg(tmp_path / name, rgb, quality=95)
        answer = client.post(f"/api/patients/{pid}/photos", data={"visit_id": visits[visit]},
                             files={"image": (name, (tmp_path / name).read_bytes(),
                                              "image/jpeg")})
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["photo"]["id"])
    return pid, (ids[0], ids[1])


def _closeup(path: Path) -> Path:
    """A phantom close-up of skin (0.06 mm per pixel) as PNG."""
    import numpy as np

    from dermatrack.imaging.io import write_png
    from dermatrack.imaging.phantom import make_phantom, random_spec

    spec = random_spec(np.random.default_rng(3), width=480, height=360, mm_per_px=0.06)
    phantom = make_phantom(spec, np.random.default_rng(3))
    write_png(path, (np.clip(phantom.rgb, 0, 1) * 255 + 0.5).astype("uint8"))
    return path


def _cli_figures(report: dict) -> dict[tuple[str, str], float | None]:
    from dermatrack.services.photos import metric_rows

    return {(r["region"], r["metric"]): r["value"] for r in metric_rows(report)}


def _assert_same(web_metrics: list[dict], cli_report: dict) -> None:
    uploaded = {(m["region"], m["metric"]): m["value"] for m in web_metrics}
    expected = _cli_figures(cli_report)
    assert uploaded.keys() == expected.keys()
    for key, value in expected.items():
        if value is None:
            assert uploaded[key] is None, key
        else:
            assert math.isclose(uploaded[key], value, rel_tol=1e-9, abs_tol=1e-12), key


def test_a_close_up_uploaded_with_its_scale_measures_as_the_cli(web, cli, tmp_path):
    pid, visits = _patient_with_visits(web)
    path = _closeup(tmp_path / "closeup.png")
    answer = web.client("clinician").post(
        f"/api/patients/{pid}/photos",
        data={"visit_id": visits["baseline"], "mm_per_px": "0.06", "close_up": "true"},
        files={"image": ("closeup.png", path.read_bytes(), "image/png")})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["photo"]["mm_per_px"] == 0.06 and body["photo"]["scale_source"] == "user"
    result = cli("photo", "analyze", path, "--mm-per-px", "0.06", "--no-face", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    _assert_same(body["metrics"], report)
    # The wrinkle figures are in millimetres, as the CLI's, not pixels or missing.
    lengths = [m for m in body["metrics"] if m["metric"] == "wrinkles.length_mm"]
    assert lengths and all(m["unit"] == "mm" and m["value"] is not None for m in lengths)


def test_a_face_uploaded_without_a_scale_finds_the_iris_as_the_cli(web, cli, tmp_path):
    from faces import face_photographs

    pid, visits = _patient_with_visits(web)
    path = face_photographs(tmp_path)["baseline"]
    answer = web.client("clinician").post(
        f"/api/patients/{pid}/photos", data={"visit_id": visits["baseline"]},
        files={"image": ("face.png", path.read_bytes(), "image/png")})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    result = cli("photo", "analyze", path, "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert body["photo"]["scale_source"] == report["image"]["scale_source"] == "iris"
    assert body["photo"]["face_detected"] is True
    _assert_same(body["metrics"], report)


def test_scale_errors_name_the_field(web):
    pid, _ = _patient_with_visits(web)
    from web_helpers import png_bytes

    for bad in ("abc", "-1", "12"):
        answer = web.client("clinician").post(
            f"/api/patients/{pid}/photos", data={"mm_per_px": bad},
            files={"image": ("a.png", png_bytes(), "image/png")})
        assert answer.status_code == 422, bad
        assert "mm_per_px" in answer.text
    assert web.client("clinician").get(f"/api/patients/{pid}/photos").json() == []


def test_duplicate_flagged_default_pair_and_thumbnails(web):
    from web_helpers import png_bytes

    client = web.client("clinician")
    pid, visits = _patient_with_visits(web)
    url = f"/api/patients/{pid}/photos"

    def upload(data: bytes, visit: str | None):
        # Test patterns, not faces: uploaded as close-ups (issue 10's capture gate).
        form = {"close_up": "true", **({"visit_id": visit} if visit else {})}
        answer = client.post(url, data=form, files={"image": ("p.png", data, "image/png")})
        assert answer.status_code == 201, answer.text
        return answer.json()["photo"]

    first = upload(png_bytes(seed=1), visits["baseline"])
    assert first["duplicate_of"] is None
    later = upload(png_bytes(seed=1, shift=3), visits["month_3"])
    again = upload(png_bytes(seed=1), visits["baseline"])
    assert again["duplicate_of"] == first["id"]
    loose = upload(png_bytes(seed=2), None)  # no visit: listed last, never the baseline
    listed = [p["id"] for p in client.get(url).json()]
    assert listed[-1] == loose["id"]

    page = web.signed_in("clinician").get(f"/patients/{pid}/photos")
    assert page.status_code == 200
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one('input[name="baseline"][checked]')["value"] == first["id"]
    assert soup.select_one('input[name="followup"][checked]')["value"] == later["id"]
    assert soup.select_one('input[name="mm_per_px"]') is not None
    thumbnail = client.get(f"{url}/{later['id']}/thumbnail.jpg")
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"
    import io

    from PIL import Image

    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 320
    src = soup.select_one("#gallery img")["src"]
    assert src.endswith("/thumbnail.jpg")
    # The viewer offers the feature layers and they are served.
    viewer = web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={first['id']}&followup={later['id']}")
    assert viewer.status_code == 200 and 'data-feature="spots"' in viewer.text
    # Without repeatability data no change is called real; with it each is judged.
    assert "No MDC95 in the data directory" in viewer.text and "change-verdict" not in viewer.text
    assert "validate imaging --save-mdc" in viewer.text
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.web.pages.photos import HEADLINE_METRICS

    save_mdc(web.store.settings, [{"kind": "photo", "metric": code, "region": None,
                                   "mdc95": 1e-9} for code in HEADLINE_METRICS],
             source="test repeatability")
    judged = BeautifulSoup(web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={first['id']}&followup={later['id']}").text,
        "html.parser")
    verdicts = judged.select(".change-verdict")
    assert verdicts and "test repeatability" in judged.text
    assert {v.text for v in verdicts} <= {"real improvement", "real worsening",
                                          "real change", "within measurement error"}
    assert all(v["title"].startswith("MDC95 ") for v in verdicts)
    layer = client.get(f"{url}/{first['id']}/compare/{later['id']}/spots_after.png")
    assert layer.status_code == 200 and layer.content[:4] == b"\x89PNG"


@pytest.mark.parametrize("visit", ["baseline"])
def test_reports_do_not_break_on_duplicates(web, visit):
    from web_helpers import png_bytes

    client = web.client("clinician")
    pid, visits = _patient_with_visits(web)
    url = f"/api/patients/{pid}/photos"
    for _ in range(2):
        client.post(url, data={"visit_id": visits[visit], "close_up": "true"},
                    files={"image": ("p.png", png_bytes(seed=4), "image/png")})
    photos = client.get(url).json()
    metrics = client.get(f"{url}/{photos[0]['id']}/metrics").json()
    regions = [(m["region"], m["metric"]) for m in metrics]
    assert len(regions) == len(set(regions))  # each photo's own figures, once


def test_viewer_names_a_pair_taken_differently(web, tmp_path):
    """The before/after viewer judges each change against its MDC95; before this it
    never said when the two photographs were taken too differently for that (a follow-up
    out of focus reads as fewer lines: grace_hopper blurred by 1.1 px, -43 % in
    ``photo compare``). It now names the pair as ``photo compare`` does, from what was
    kept when each photograph was analysed."""
    import cv2
    import numpy as np
    from bs4 import BeautifulSoup

    from dermatrack.imaging.io import sample_face, write_jpeg

    grace = sample_face("grace_hopper").astype(np.float32)
    pid, visits = _patient_with_visits(web)
    client = web.client("clinician")
    url = f"/api/patients/{pid}/photos"

    def upload(rgb: np.ndarray, name: str, visit: str) -> str:
        path = tmp_path / name
        write_jpeg(path, rgb, quality=95)
        answer = client.post(url, data={"visit_id": visits[visit]},
                             files={"image": (name, path.read_bytes(), "image/jpeg")})
        assert answer.status_code == 201, answer.text
        return answer.json()["photo"]["id"]

    first = upload(grace, "before.jpg", "baseline")
    blurred = upload(cv2.GaussianBlur(grace, (0, 0), 1.1), "blurred.jpg", "month_3")
    again = upload(np.clip(grace * 1.02, 0, 1), "again.jpg", "month_3")

    def viewer(followup: str) -> BeautifulSoup:
        page = web.signed_in("clinician").get(
            f"/patients/{pid}/compare?baseline={first}&followup={followup}")
        assert page.status_code == 200
        return BeautifulSoup(page.text, "html.parser")

    named = viewer(blurred).select_one("#capture-differences")
    assert named is not None
    assert any(li.text.startswith("sharpness: the after photograph is blurred")
               for li in named.select("li"))
    same = viewer(again)
    assert same.select_one("#capture-differences") is None
    assert "is not compared" not in same.text
    # The API gives the same sentences with the pair's alignment.
    pair = client.get(f"{url}/{first}/compare/{blurred}")
    assert pair.status_code == 200, pair.text
    body = pair.json()
    assert body["baseline_id"] == first and body["followup_id"] == blurred
    assert body["capture_differences"][0].startswith("sharpness: the after photograph")
    assert 0.0 <= body["changed_fraction"] <= 1.0
    assert client.get(f"{url}/{first}/compare/{again}").json()["capture_differences"] == []
    assert client.get(f"{url}/{first}/compare/PH-0000000000").status_code == 404


def test_viewer_names_skin_hidden_in_one_photograph(web, tmp_path):
    """A fringe worn in the follow-up only hides half the forehead: ``photo compare``
    measures the skin both show and names the pair. The viewer, the report and the API
    read the same test from the regions stored with each photograph's screen copy; the
    share they find is that of ``photo compare`` (within 0.1: screen copy against the
    photograph's own pixels, here 0.68 of its size)."""
    import cv2
    import numpy as np
    from bs4 import BeautifulSoup

    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.io import read_image, sample_face, write_jpeg
    from dermatrack.imaging.realphoto import with_fringe
    from dermatrack.imaging.regions import face_regions

    grace = sample_face("grace_hopper").astype(np.float32)
    grace = np.clip(cv2.resize(grace, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC),
                    0, 1)  # 1500 px long: its screen copy is smaller
    fringe = with_fringe(grace, face_regions(grace).masks["forehead"])
    pid, visits = _patient_with_visits(web)
    client = web.client("clinician")
    url = f"/api/patients/{pid}/photos"
    paths = {}

    def upload(rgb: np.ndarray, name: str, visit: str) -> str:
        paths[name] = tmp_path / name
        write_jpeg(paths[name], rgb, quality=95)
        answer = client.post(url, data={"visit_id": visits[visit]},
                             files={"image": (name, paths[name].read_bytes(), "image/jpeg")})
        assert answer.status_code == 201, answer.text
        return answer.json()["photo"]["id"]

    first = upload(grace, "before.jpg", "baseline")
    hidden = upload(fringe, "fringe.jpg", "month_3")
    again = upload(np.clip(grace * 1.02, 0, 1), "again.jpg", "month_3")

    body = client.get(f"{url}/{first}/compare/{hidden}").json()
    named = [s for s in body["capture_differences"] if s.startswith("coverage:")]
    assert [s for s in named if "forehead region" in s], body["capture_differences"]
    cli = compare(read_image(paths["before.jpg"]), read_image(paths["fringe.jpg"]))
    expected = cli.report["capture"]["uncompared_fraction"]
    assert expected["forehead"] > 0.4
    assert abs(body["uncompared_fraction"]["forehead"] - expected["forehead"]) < 0.1
    page = web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={first}&followup={hidden}")
    box = BeautifulSoup(page.text, "html.parser").select_one("#capture-differences")
    assert box is not None and "forehead region" in box.text
    assert "so they measure different skin" in box.text  # each photograph's own figures
    # With an MDC95 every change is judged, but not the forehead's: its figures are of
    # different skin (the follow-up's fringe hides most of it).
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.web.pages.photos import HEADLINE_METRICS

    save_mdc(web.store.settings, [{"kind": "photo", "metric": code, "region": None,
                                   "mdc95": 1e-9} for code in HEADLINE_METRICS],
             source="test repeatability")
    judged = BeautifulSoup(web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={first}&followup={hidden}").text, "html.parser")
    rows = {row.td.contents[0].strip(): row for row in judged.select("table.metrics tbody tr")}
    assert "not comparable" in rows["forehead"].td.text
    assert not rows["forehead"].select("td .change-verdict:not(.change-not-comparable)")
    assert "not comparable: it includes" in rows["whole"].td.text
    assert rows["cheek left"].select(".change-verdict")
    assert "not comparable" not in rows["cheek left"].text
    # An unchanged face, re-exposed, leaves every region compared.
    same = client.get(f"{url}/{first}/compare/{again}").json()
    assert same["capture_differences"] == []
    assert max(same["uncompared_fraction"].values()) < 0.1
    viewer = web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={first}&followup={again}")
    assert 'id="coverage-unknown"' not in viewer.text
    # A photograph stored before its regions were kept: the rest is compared, and the
    # viewer says that hidden skin is not checked.
    from sqlalchemy import select

    from dermatrack.store.models import PhotoDerivative

    with web.store.transaction("test") as session:
        row = session.scalars(select(PhotoDerivative).where(
            PhotoDerivative.photo_id == again, PhotoDerivative.kind == "display")).one()
        row.data = {k: v for k, v in row.data.items() if k not in ("regions", "region_names")}
    old = client.get(f"{url}/{first}/compare/{again}").json()
    assert old["uncompared_fraction"] is None and old["capture_differences"] == []
    viewer = web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={first}&followup={again}")
    assert 'id="coverage-unknown"' in viewer.text


def test_viewer_and_api_compare_no_figures_of_two_method_versions(web, tmp_path):
    """A baseline measured by an earlier version of the photo method (as a store
    upgraded from it holds it) against a follow-up measured by this one: the API names
    the pair (``method_difference``); the viewer gives no region a verdict, whatever
    the MDC95, and says why."""
    import numpy as np
    from bs4 import BeautifulSoup
    from sqlalchemy import select

    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.imaging.io import sample_face
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.store.models import Observation, PhotoDerivative
    from dermatrack.web.pages.photos import HEADLINE_METRICS

    grace = sample_face("grace_hopper").astype(np.float32)
    pid, (first, later) = _upload_pair(web, tmp_path, grace, np.clip(grace * 1.02, 0, 1))
    client = web.client("clinician")
    url = f"/api/patients/{pid}/photos"
    save_mdc(web.store.settings, [{"kind": "photo", "metric": code, "region": None,
                                   "mdc95": 1e-9} for code in HEADLINE_METRICS],
             source="test repeatability")
    same = client.get(f"{url}/{first}/compare/{later}").json()
    assert same["method_difference"] is None and same["capture_differences"] == []
    gallery = BeautifulSoup(web.signed_in("clinician").get(f"/patients/{pid}/photos").text,
                            "html.parser")
    assert not gallery.select(".method-version")
    with web.store.transaction("test") as session:
        row = session.scalars(select(PhotoDerivative).where(
            PhotoDerivative.photo_id == first, PhotoDerivative.kind == "display")).one()
        row.data = dict(row.data, capture=dict(row.data["capture"],
                                               method_version="2026.11.01"))
        for observation in session.scalars(select(Observation).where(
                Observation.kind == "photo")):
            if (observation.settings or {}).get("photo_id") == first:
                observation.settings = dict(observation.settings,
                                            method_version="2026.11.01")
    # The gallery marks the photograph, the API says which version measured it.
    gallery = BeautifulSoup(web.signed_in("clinician").get(f"/patients/{pid}/photos").text,
                            "html.parser")
    [marked] = gallery.select(".method-version")
    assert marked.find_parent("figure")["id"] == first
    assert " ".join(marked.text.split()) == (
        f"measured by photo method 2026.11.01, not {PHOTO_METHOD_VERSION}: not compared")
    versions = {p["id"]: p["method_version"] for p in client.get(url).json()}
    assert versions == {first: "2026.11.01", later: PHOTO_METHOD_VERSION}
    body = client.get(f"{url}/{first}/compare/{later}").json()
    assert body["method_difference"].startswith("method: the two photographs were measured")
    assert "2026.11.01 before" in body["method_difference"]
    assert body["capture_differences"] == []  # how they were taken matches
    page = BeautifulSoup(web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={first}&followup={later}").text, "html.parser")
    rows = page.select("table.metrics tbody tr")
    assert rows and all("not comparable: measured by another version of the photo method"
                        in row.td.text for row in rows)
    assert not page.select("td .change-verdict:not(.change-not-comparable)")
    box = page.select_one("#method-difference")
    assert box is not None and "different versions of the photo method" in box.text
    assert f"dermatrack photo reanalyse --patient {pid}" in box.text
    assert page.select_one("#capture-differences") is None  # nothing to retake
    assert "No change is judged: none of these regions compares" in page.text


def test_viewer_judges_no_lines_of_a_photograph_with_its_skin_smoothed(web, tmp_path):
    """A follow-up taken in a phone's beauty mode (grace_hopper's skin, not her eyes,
    brows or lips, blurred by 2 px) measures far fewer lines: the API names the pair
    ("skin detail"), and the viewer gives the wrinkle, texture and pore changes no
    verdict whatever the MDC95, while skin tone and redness keep theirs."""
    import cv2
    from bs4 import BeautifulSoup

    from dermatrack.imaging.io import sample_face
    from dermatrack.imaging.realphoto import with_skin_smoothed
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.web.pages.photos import HEADLINE_METRICS

    grace = sample_face("grace_hopper")
    smoothed = with_skin_smoothed(grace, cv2.GaussianBlur(grace, (0, 0), 2.0))
    pid, ids = _upload_pair(web, tmp_path, grace, smoothed)
    client = web.client("clinician")
    url = f"/api/patients/{pid}/photos"
    body = client.get(f"{url}/{ids[0]}/compare/{ids[1]}").json()
    assert [s for s in body["capture_differences"] if s.startswith(
        "skin detail: the after photograph's skin has")]
    save_mdc(web.store.settings, [{"kind": "photo", "metric": code, "region": None,
                                   "mdc95": 1e-9} for code in HEADLINE_METRICS],
             source="test repeatability")
    page = BeautifulSoup(web.signed_in("clinician").get(
        f"/patients/{pid}/compare?baseline={ids[0]}&followup={ids[1]}").text, "html.parser")
    columns = [th.get_text() for th in page.select("table.metrics thead th")][1:]
    whole = {row.td.contents[0].strip(): row for row in page.select(
        "table.metrics tbody tr")}["whole"]
    cells = dict(zip(columns, whole.select("td")[1:], strict=True))
    for lines in ("Wrinkle severity", "Wrinkle length"):
        assert "not comparable: blurred or smoothed" in cells[lines].text
    for colour in ("Skin tone ITA", "Erythema index"):
        verdict = cells[colour].select_one(".change-verdict")
        assert verdict is not None and "not comparable" not in verdict.text
