"""Figures of two versions of the photo method are not compared, and ``dermatrack photo
reanalyse`` brings stored photographs to this version without losing what they had.

A new version of the photo method can move a figure with no change in the skin (every
change of the detectors has), so a baseline measured by one version against a follow-up
measured by another would show a change that is the software's. The baseline here is
made to look measured by an earlier version by rewriting the version its observations
and capture facts record, as a store upgraded from that version holds it."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from .clinic import build_small_clinic

OLD_VERSION = "2026.11.01"


def _as_if_measured_by(store, photo_id: str, version: str | None) -> None:
    """Rewrite the version a photograph's figures and capture facts record."""
    from dermatrack.store.models import Observation, PhotoDerivative

    with store.transaction("test") as session:
        for row in session.scalars(select(Observation).where(Observation.kind == "photo")):
            settings = dict(row.settings or {})
            if settings.get("photo_id") == photo_id:
                settings["method_version"] = version
                row.settings = settings
        display = session.scalars(select(PhotoDerivative).where(
            PhotoDerivative.photo_id == photo_id, PhotoDerivative.kind == "display")).one()
        data = dict(display.data)
        data["capture"] = dict(data["capture"], method_version=version)
        display.data = data


def _serve_start(store) -> str:
    """What ``dermatrack serve`` prints on stderr before it serves (then stopped)."""
    import os
    import socket
    import subprocess
    import sys

    from dermatrack.config import DATABASE_URL_ENV

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "dermatrack", "serve", "--data", str(store.settings.data_dir),
         "--port", str(port)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, DATABASE_URL_ENV: store.settings.database_url})
    lines = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "dermatrack serving" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    return " ".join(" ".join(lines).split())


def _figures(store, patient: str, photo_id: str) -> dict[tuple[str, str], float | None]:
    from dermatrack.services import observations

    return {(o.region, o.metric): o.value
            for o in observations.list_observations(store, patient_id=patient, kind="photo")
            if (o.settings or {}).get("photo_id") == photo_id}


def test_figures_of_two_method_versions_are_not_compared_until_reanalysed(
        store, tmp_path, cli):
    from bs4 import BeautifulSoup

    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.imaging.io import sample_face, write_jpeg
    from dermatrack.services.derived import pair_capture_of
    from dermatrack.services.outcomes import cohort_summary, patient_timeline, save_mdc
    from dermatrack.services.photos import import_photo, list_photos, photos_to_reanalyse
    from dermatrack.services.reports import (
        cohort_report_html,
        patient_report_html,
        patient_sheet_html,
    )
    from dermatrack.store.models import Observation

    clinic = build_small_clinic(store)
    grace = sample_face("grace_hopper").astype(np.float32)
    patient = clinic.patient_ids[0]
    ids = {}
    for timepoint, rgb in (("baseline", grace), ("month_3", np.clip(grace * 1.02, 0, 1))):
        path = tmp_path / f"{timepoint}.jpg"
        write_jpeg(path, rgb, quality=95)
        ids[timepoint] = import_photo(store, patient_id=patient, path=path, actor="tester",
                                      visit_id=clinic.visit_ids[0][timepoint]).id
    first, later = ids["baseline"], ids["month_3"]
    save_mdc(store.settings, [{"kind": "photo", "metric": metric, "region": None,
                               "mdc95": 1e-9}
                              for metric in ("wrinkles.length_mm", "wrinkles.severity_index")],
             source="test repeatability")
    # Stored by this version, each photograph and figure says so, and the pair compares.
    assert {p.method_version for p in list_photos(store, patient)} == {PHOTO_METHOD_VERSION}
    assert not pair_capture_of(store, first, later).methods_differ
    assert photos_to_reanalyse(store, patient_id=patient) == []
    imported = _figures(store, patient, first)

    _as_if_measured_by(store, first, OLD_VERSION)
    capture = pair_capture_of(store, first, later)
    assert capture.methods_differ and capture.differences == []  # not a capture's
    named = capture.method_difference
    assert named is not None and named.startswith("method:")
    assert OLD_VERSION in named and PHOTO_METHOD_VERSION in named
    series = patient_timeline(store, patient).get_series("photo", "wrinkles.length_mm")
    assert series is not None
    month_3 = series.points[-1]
    assert month_3.method_differs and month_3.verdict is None and month_3.change is not None
    # The report's change table and the patient sheet give no verdict, and say why.
    soup = BeautifulSoup(patient_report_html(store, patient), "html.parser")
    photo_rows = [row for row in soup.select("table.fit tr")
                  if row.td is not None and row.td.text == "Photograph"]
    assert photo_rows and all(row.select_one("td.not-comparable") for row in photo_rows)
    assert "measured by a different version of dermatrack's photo method" in soup.text
    [caution] = soup.select("p.caution")
    assert caution.text.startswith("Measured by two versions of the photo method")
    assert "method: the two photographs were measured" in caution.text
    sheet = BeautifulSoup(patient_sheet_html(store, patient), "html.parser")
    visits = {v.h2.get_text().split(" · ")[0]: v for v in sheet.select("section.visit")}
    assert visits["Month 3"].select("span.not-comparable")
    assert "measured by another version of the photo method" in visits["Month 3"].text
    # A cohort that pools the two says so.
    mixed = cohort_summary(store)["photo_method_versions"]
    assert mixed == {OLD_VERSION: 1, PHOTO_METHOD_VERSION: 1}
    cohort = BeautifulSoup(cohort_report_html(store), "html.parser").select_one("p.caution")
    assert cohort is not None and "measured by 2 versions of the photo method" in cohort.text
    # A figure unrecorded (stored before versions were) differs from a recorded one; two
    # unrecorded ones are not known to differ.
    _as_if_measured_by(store, first, None)
    assert pair_capture_of(store, first, later).methods_differ
    _as_if_measured_by(store, later, None)
    assert not pair_capture_of(store, first, later).methods_differ
    _as_if_measured_by(store, later, PHOTO_METHOD_VERSION)
    _as_if_measured_by(store, first, OLD_VERSION)

    # The web app says so when it starts, and of a repeatability another version made.
    clinic_mdc = store.settings.data_dir / "repeatability.json"
    save_mdc(store.settings, [{"kind": "photo", "metric": "wrinkles.length_mm",
                               "region": None, "mdc95": 5.0}],
             source="clinic study", clinic=True, method_version=OLD_VERSION)
    started = _serve_start(store)
    clinic_mdc.unlink()
    assert f"1 photograph(s) were measured by another version of the photo method than " \
        f"this one ({PHOTO_METHOD_VERSION})" in started
    assert f"repeatability.json: its photo MDC95s were measured with photo method " \
        f"{OLD_VERSION}, not {PHOTO_METHOD_VERSION}" in started
    assert "repeatability-imaging.json:" not in started  # saved above by this version

    # The command: --patient or --all, a dry run lists, the run re-measures.
    refused = cli("photo", "reanalyse")
    assert refused.code == 2 and "--patient" in refused.stderr
    listed = cli("photo", "reanalyse", "--patient", patient, "--dry-run", "--json")
    assert listed.code == 0, listed.stderr
    assert listed.json() == {"method_version": PHOTO_METHOD_VERSION, "photos": [first]}
    assert _figures(store, patient, first) == imported  # the dry run changed nothing
    ran = cli("photo", "reanalyse", "--patient", patient, "--json", "--actor", "upgrade")
    assert ran.code == 0, ran.stderr
    [done] = ran.json()["photos"]
    assert done["photo_id"] == first and done["outcome"] == "remeasured"
    assert done["previous_version"] == OLD_VERSION and done["observations"] == len(imported)
    # The same pixels measured by the same method give the figures of the import, now
    # recorded as this version's; the old rows are kept, soft-deleted with the reason.
    assert _figures(store, patient, first) == imported
    assert [p.method_version for p in list_photos(store, patient)] == [PHOTO_METHOD_VERSION] * 2
    with store.reading() as session:
        kept = [o for o in session.scalars(select(Observation).where(
            Observation.kind == "photo", Observation.deleted_at.is_not(None))
            .execution_options(include_deleted=True))
            if (o.settings or {}).get("photo_id") == first]
    assert len(kept) == len(imported)
    assert {o.deleted_by for o in kept} == {"upgrade"}
    assert {o.delete_reason for o in kept} == {
        f"measured again with photo method {PHOTO_METHOD_VERSION} (was {OLD_VERSION})"}
    assert not pair_capture_of(store, first, later).methods_differ
    series = patient_timeline(store, patient).get_series("photo", "wrinkles.length_mm")
    assert series is not None and not series.points[-1].method_differs
    assert series.points[-1].verdict is not None
    assert cohort_summary(store)["photo_method_versions"] == {PHOTO_METHOD_VERSION: 2}
    assert "versions of the photo method" not in cohort_report_html(store)
    again = cli("photo", "reanalyse", "--all", "--json")
    assert again.code == 0 and again.json()["photos"] == []
    # On two worker processes, each storing its own photograph.
    later_figures = _figures(store, patient, later)
    for photo_id in (first, later):
        _as_if_measured_by(store, photo_id, OLD_VERSION)
    both = cli("photo", "reanalyse", "--all", "--workers", "2", "--json")
    assert both.code == 0, both.stderr
    assert sorted(d["photo_id"] for d in both.json()["photos"]
                  if d["outcome"] == "remeasured") == sorted([first, later])
    assert _figures(store, patient, first) == imported
    assert _figures(store, patient, later) == later_figures
    assert photos_to_reanalyse(store) == []
