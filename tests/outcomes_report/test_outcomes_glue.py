"""The outcome services against statistics computed independently (numpy, scipy,
statsmodels on the same fixed numbers)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION

from .clinic import ADVERSE_EVENTS, PATIENTS, VISIT_DATES, build_small_clinic


@pytest.fixture
def small_clinic(store):
    return build_small_clinic(store)


def _write_mdc(store, name, mdc95, source, method_version=PHOTO_METHOD_VERSION):
    path = store.settings.data_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"source": source, "method_version": method_version,
                                "metrics": [{"metric": "wrinkles.length_mm", "region": None,
                                             "mdc95": mdc95}]}))


def test_timeline_changes_judged_against_the_clinics_mdc(store, small_clinic):
    from dermatrack.services.outcomes import patient_timeline

    _write_mdc(store, "repeatability-imaging.json", 2.0, "phantoms")
    _write_mdc(store, "repeatability.json", 5.0, "our clinic")
    first = patient_timeline(store, small_clinic.patient_ids[0])
    series = first.get_series("photo", "wrinkles.length_mm")
    assert series.mdc95 == 5.0 and series.mdc_source == "our clinic"
    assert [p.value for p in series.points] == [40.0, 36.0, 30.0]
    month_1, month_3 = series.points[1], series.points[2]
    assert month_3.change == -10.0 and month_3.change_percent == pytest.approx(-25.0)
    assert month_3.verdict == "improved" and month_3.real is True
    assert month_1.change == -4.0 and month_1.verdict == "no real change"
    assert month_3.months == pytest.approx((VISIT_DATES["month_3"]
                                            - VISIT_DATES["baseline"]).days / (365.25 / 12),
                                           abs=1e-3)
    assert first.age_at_baseline == 54  # born 1971-03-17, baseline 2026-01-05
    assert [v.timepoint for v in first.visits] == ["baseline", "month_1", "month_3"]
    assert len(first.visits[0].sessions) == 1 and first.visits[2].scores[0]["total"] == 2
    # Without the clinic's file the imaging MDC (2 mm) applies: -4 mm is then real.
    (store.settings.data_dir / "repeatability.json").unlink()
    again = patient_timeline(store, small_clinic.patient_ids[0])
    assert again.get_series("photo", "wrinkles.length_mm").points[1].verdict == "improved"


def test_timeline_without_mdc_gives_no_verdict(store, small_clinic):
    from dermatrack.services.outcomes import patient_timeline

    series = patient_timeline(store, small_clinic.patient_ids[2]).get_series(
        "photo", "wrinkles.length_mm")
    assert series.mdc95 is None
    assert series.points[2].change == -1.0 and series.points[2].verdict is None


def test_an_mdc_of_another_photo_method_version_says_so_in_every_verdict(
        store, small_clinic, cli, monkeypatch):
    """A repeatability measured with another version of the photo method (or one not
    recorded) still judges, but its source, shown beside every verdict, says so; a
    device's MDC95 in the same file is not the photo method's."""
    from dermatrack.config import DATA_DIR_ENV
    from dermatrack.services.outcomes import (
        load_mdc,
        mdc_files_of_other_versions,
        patient_timeline,
        save_mdc,
    )

    def photo_source(**version):
        save_mdc(store.settings, [
            {"kind": "photo", "metric": "wrinkles.length_mm", "region": None, "mdc95": 5.0},
            {"kind": "elasticity", "metric": "R2", "region": None, "mdc95": 0.05}],
            source="repeatability study", clinic=True, **version)
        table = load_mdc(store.settings)
        assert table.lookup("elasticity", "R2", None)[1] == "repeatability study"
        return table.lookup("photo", "wrinkles.length_mm", None)[1]

    assert photo_source(method_version=PHOTO_METHOD_VERSION) == "repeatability study"
    assert photo_source(method_version="2026.11.01") == (
        f"repeatability study [caution: measured with photo method 2026.11.01, not "
        f"{PHOTO_METHOD_VERSION}, which measures the figures judged; measure this "
        "repeatability again]")
    assert photo_source() == "repeatability study"  # saved here: measured by this one
    assert photo_source(method_version=None) == (
        "repeatability study [caution: the photo method version it was measured with is "
        f"not recorded (this is {PHOTO_METHOD_VERSION}); measure this repeatability again]")
    assert mdc_files_of_other_versions(store.settings) == {"repeatability.json": (
        "the photo method version it was measured with is not recorded (this is "
        f"{PHOTO_METHOD_VERSION})")}
    series = patient_timeline(store, small_clinic.patient_ids[0]).get_series(
        "photo", "wrinkles.length_mm")
    assert series.points[2].verdict == "improved"  # still judged, and said how
    assert "caution: the photo method version it was measured with" in series.mdc_source
    # A photo metric named without a kind (as repeatability CSVs name them) is one too.
    _write_mdc(store, "repeatability.json", 5.0, "our clinic", method_version="2026.11.01")
    assert "caution" in load_mdc(store.settings).lookup("photo", "wrinkles.length_mm",
                                                        None)[1]

    # `dermatrack repeatability --save` records the version: this one unless told.
    monkeypatch.setenv(DATA_DIR_ENV, str(store.settings.data_dir))
    captures = store.settings.data_dir / "captures.csv"
    captures.write_text("subject,metric,value\n" + "".join(
        f"S{s},wrinkles.length_mm,{40 + s + 0.5 * r}\n" for s in range(4) for r in range(2)))
    saved = store.settings.data_dir / "repeatability.json"
    assert cli("repeatability", captures, "--save").code == 0
    assert json.loads(saved.read_text())["method_version"] == PHOTO_METHOD_VERSION
    assert cli("repeatability", captures, "--save", "--photo-method-version",
               "2026.11.01").code == 0
    assert json.loads(saved.read_text())["method_version"] == "2026.11.01"
    alone = cli("repeatability", captures, "--photo-method-version", "2026.11.01")
    assert alone.code == 2 and "--photo-method-version" in alone.stderr


def test_bad_mdc_file_names_the_field(store, small_clinic):
    from dermatrack.errors import InputError
    from dermatrack.services.outcomes import load_mdc

    path = store.settings.data_dir / "repeatability.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"metrics": [{"metric": "x", "mdc95": -1}]}))
    with pytest.raises(InputError) as caught:
        load_mdc(store.settings)
    assert caught.value.field == "metrics[0].mdc95"


def test_cohort_paired_change_matches_scipy(store, small_clinic):
    from scipy import stats

    from dermatrack.services.outcomes import cohort_summary

    summary = cohort_summary(store)
    (row,) = [c for c in summary["changes"] if c["metric"] == "photo:wrinkles.length_mm"]
    differences = np.array([values[2] - values[0] for _, values, _ in PATIENTS])
    n = differences.size
    mean, sd = differences.mean(), differences.std(ddof=1)
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    change = row["change"]
    assert change["n"] == n and change["mean"] == pytest.approx(mean)
    assert change["ci_low"] == pytest.approx(mean - half)
    assert change["ci_high"] == pytest.approx(mean + half)
    assert change["cohen_dz"] == pytest.approx(mean / sd)
    assert change["wilcoxon"]["p_value"] == pytest.approx(stats.wilcoxon(differences).pvalue)
    groups = {c["group"]["fitzpatrick_group"]: c["change"]
              for c in summary["changes_by_fitzpatrick"]}
    assert groups["III-IV"]["n"] == 2 and groups["III-IV"]["mean"] == pytest.approx(
        ((44 - 50) + (29 - 30)) / 2)


def test_cohort_responders_and_safety_match_hand_counts(store, small_clinic):
    from statsmodels.stats.proportion import proportion_confint

    from dermatrack.services.outcomes import cohort_summary

    summary = cohort_summary(store)
    (rate,) = summary["responders"]["modality"]
    responders = sum(gais <= 3 for *_, gais in PATIENTS)
    low, high = proportion_confint(responders, len(PATIENTS), method="wilson")
    assert (rate["successes"], rate["n"]) == (responders, len(PATIENTS))
    assert (rate["ci_low"], rate["ci_high"]) == pytest.approx((low, high))

    safety = summary["safety"]["microneedling"]
    sessions_with_event = len({index for index, *_ in ADVERSE_EVENTS})
    assert safety["any_event"]["n_events"] == len(ADVERSE_EVENTS)
    assert safety["any_event"]["per_session"]["successes"] == sessions_with_event
    assert safety["any_event"]["per_session"]["n"] == len(PATIENTS)
    low, high = proportion_confint(sessions_with_event, len(PATIENTS), method="wilson")
    assert safety["any_event"]["per_session"]["ci_low"] == pytest.approx(low)
    assert safety["by_relatedness"]["related"]["n_events"] == 2  # probable + possible
    assert safety["by_severity"][2]["n_events"] == 1
    pih = summary["pih"]
    assert (pih["I"]["successes"], pih["I"]["n"]) == (1, 1)
    assert (pih["VI"]["successes"], pih["VI"]["n"]) == (1, 1)
    assert (pih["III"]["successes"], pih["III"]["n"]) == (0, 1)
    assert pih["II"]["n"] == 0


def test_cohort_slope_matches_statsmodels_mixedlm(store, small_clinic):
    import pandas as pd
    import statsmodels.formula.api as smf

    from dermatrack.services.outcomes import cohort_summary

    rows = []
    for index, (_, values, _) in enumerate(PATIENTS):
        for day, value in zip(VISIT_DATES.values(), values, strict=True):
            months = (day - VISIT_DATES["baseline"]).days / (365.25 / 12)
            rows.append({"patient": f"p{index}", "months": months, "value": value})
    frame = pd.DataFrame(rows)
    expected = smf.mixedlm("value ~ months", frame, groups=frame["patient"]).fit(reml=True)
    summary = cohort_summary(store)
    (slope,) = [t for t in summary["trajectories"] if t["metric"] == "photo:wrinkles.length_mm"]
    assert slope["method"] == "mixedlm" and slope["n_observations"] == 12
    assert slope["slope_per_month"] == pytest.approx(expected.fe_params["months"], rel=1e-3)


def test_cohort_data_filters_by_modality(store, small_clinic):
    from dermatrack.errors import InputError
    from dermatrack.services.outcomes import cohort_data

    assert cohort_data(store, modality="ipl").patients.empty
    assert len(cohort_data(store, modality="microneedling").patients) == 4
    with pytest.raises(InputError):
        cohort_data(store, modality="no_such_modality")


def test_repeatability_save_makes_the_clinics_mdc_replace_the_default(cli, store,
                                                                      small_clinic, tmp_path):
    from dermatrack.services.outcomes import patient_timeline

    _write_mdc(store, "repeatability-imaging.json", 2.0, "phantoms")
    captures = tmp_path / "captures.csv"
    # Within-subject differences of 4 mm: SEM = sqrt(8) mm, MDC95 = 1.96 * sqrt(2) * SEM.
    captures.write_text("subject,metric,value\n" + "".join(
        f"{s},wrinkles.length_mm,{v}\n" for s, v in
        (("a", 40), ("a", 44), ("b", 30), ("b", 26), ("c", 20), ("c", 24))))
    result = cli("repeatability", str(captures), "--save", "--json")
    assert result.code == 0, result.stderr
    saved = store.settings.data_dir / "repeatability.json"
    assert result.json()["saved"] == str(saved) and saved.is_file()
    expected = 1.96 * math.sqrt(2) * math.sqrt(8)
    series = patient_timeline(store, small_clinic.patient_ids[0]).get_series(
        "photo", "wrinkles.length_mm")
    assert series.mdc95 == pytest.approx(expected)
    assert series.mdc_source.startswith("clinic repeatability: captures.csv")
    # -4 mm at month 1 was real against the 2 mm default; against the clinic's 7.8 mm not.
    assert series.points[1].verdict == "no real change"
    assert series.points[2].verdict == "improved"


def test_repeatability_save_without_any_mdc_exits_2(cli, store, tmp_path):
    captures = tmp_path / "captures.csv"
    captures.write_text("subject,metric,value\na,Sa,1\na,Sa,2\n")
    result = cli("repeatability", str(captures), "--save")
    assert result.code == 2 and "Traceback" not in result.stderr
    assert not (store.settings.data_dir / "repeatability.json").exists()


def test_photo_changes_are_judged_only_where_a_number_and_an_mdc_exist():
    """``photo compare`` reports: a change is judged against the MDC95 of its metric and
    region; a category, a missing or non-finite value, or a metric without an MDC95 gets
    no verdict, and nothing raises."""
    from dermatrack.services.outcomes import MdcTable, judge_photo_changes

    table = MdcTable()
    table.update({"method_version": PHOTO_METHOD_VERSION, "metrics": [
        {"kind": "photo", "metric": "wrinkles.length_mm", "region": "forehead", "mdc95": 5.0},
        {"kind": "photo", "metric": "wrinkles.length_mm", "region": None, "mdc95": 50.0}]},
        "test")
    report = {"regions": {
        "forehead": {"area_mm2": {"before": 1.0, "after": 1.0},
                     "wrinkles": {"length_mm": {"before": 40.0, "after": 30.0},
                                  "count": {"before": 3, "after": 2}},
                     "pigment": {"ita_category": {"before": "light", "after": "light"},
                                 "ita_deg": {"before": float("nan"), "after": 40.0}}},
        "cheek_left": {"wrinkles": {"length_mm": {"before": 40.0, "after": 30.0}}}}}
    assert judge_photo_changes(report, table) == ["test"]
    forehead = report["regions"]["forehead"]
    assert forehead["wrinkles"]["length_mm"]["verdict"] == "improved"  # 10 mm > 5 mm
    assert report["regions"]["cheek_left"]["wrinkles"]["length_mm"]["verdict"] == \
        "no real change"  # the every-region entry: 10 mm < 50 mm
    assert forehead["wrinkles"]["count"]["verdict"] is None  # no MDC95 for it
    assert "verdict" not in forehead["pigment"]["ita_category"]
    assert "verdict" not in forehead["pigment"]["ita_deg"]
    assert "verdict" not in forehead["area_mm2"]


def test_photo_changes_of_a_blurred_or_smoothed_pair_judge_no_lines():
    """A ``photo compare`` report whose capture names one photograph blurred or its skin
    smoothed: lines, texture and pores get "not comparable" (and no MDC source), colour
    keeps its verdict; the same pair with matching captures is judged as usual."""
    from dataclasses import replace

    from dermatrack.imaging.quality import CaptureQuality
    from dermatrack.services.outcomes import MdcTable, judge_photo_changes

    table = MdcTable()
    table.update({"method_version": PHOTO_METHOD_VERSION, "metrics": [
        {"kind": "photo", "metric": "wrinkles.length_mm", "region": None, "mdc95": 5.0},
        {"kind": "photo", "metric": "pigment.ita_deg", "region": None, "mdc95": 1.0}]}, "test")
    quality = CaptureQuality(face_mode=True, face_found=True, yaw_deg=0.0, pitch_deg=0.0,
                             roll_deg=0.0, sharpness=0.9, clipped_fraction=0.0,
                             skin_fraction=0.3, mm_per_px=0.5, skin_detail=0.5)

    def report(after: CaptureQuality) -> dict:
        return {"capture": {"before": quality.as_dict(), "after": after.as_dict()},
                "regions": {"whole": {
                    "wrinkles": {"length_mm": {"before": 40.0, "after": 20.0}},
                    "pigment": {"ita_deg": {"before": 30.0, "after": 35.0}}}}}

    for after in (replace(quality, skin_detail=0.25), replace(quality, sharpness=0.4)):
        smoothed = report(after)
        assert judge_photo_changes(smoothed, table) == ["test"]  # from the colour only
        whole = smoothed["regions"]["whole"]
        assert whole["wrinkles"]["length_mm"]["verdict"] == "not comparable"
        assert whole["wrinkles"]["length_mm"]["mdc_source"] is None
        assert whole["pigment"]["ita_deg"]["verdict"] == "changed"
    matched = report(replace(quality, skin_detail=0.45))
    judge_photo_changes(matched, table)
    assert matched["regions"]["whole"]["wrinkles"]["length_mm"]["verdict"] == "improved"
