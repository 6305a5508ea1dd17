"""The analysis pipeline: the JSON object of ``photo analyze``, key for key."""

from __future__ import annotations

import numpy as np
import pytest

from dermatrack.errors import InputError
from dermatrack.imaging.analysis import analyze, run_analysis
from dermatrack.imaging.phantom import make_phantom, random_spec

REGION_KEYS = {"area_mm2", "wrinkles", "pigment", "redness", "texture", "pores"}
GROUP_KEYS = {
    "wrinkles": {"count", "length_mm", "density_mm_per_cm2", "mean_width_mm", "area_fraction",
                 "severity_index"},
    "pigment": {"l_star", "b_star", "ita_deg", "ita_category", "melanin_index", "spot_count",
                "spot_area_fraction", "evenness"},
    "redness": {"a_star", "erythema_index", "red_area_fraction"},
    "texture": {"roughness"},
    "pores": {"count", "density_per_cm2", "mean_diameter_mm"},
}


def check_shape(report: dict) -> None:
    """Assert the issue's JSON shape, key for key (used by the CLI tests too)."""
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION

    assert set(report) == {"image", "calibration", "face", "regions", "timing_s", "quality",
                           "measurability", "method_version"}
    assert report["method_version"] == PHOTO_METHOD_VERSION  # the version that measured it
    assert set(report["image"]) == {"width", "height", "sha256", "mm_per_px", "scale_source"}
    assert {"applied", "delta_e2000_mean", "delta_e2000_max"} <= set(report["calibration"])
    assert set(report["calibration"]) - {"applied", "delta_e2000_mean", "delta_e2000_max"} \
        <= {"note", "uncertainty", "chart_refused"}
    assert set(report["face"]) == {"detected"}
    assert "whole" in report["regions"]
    for region in report["regions"].values():
        assert set(region) == REGION_KEYS
        for group, keys in GROUP_KEYS.items():
            assert set(region[group]) == keys, group


@pytest.fixture(scope="module")
def phantom():
    rng = np.random.default_rng(21)
    return make_phantom(random_spec(rng, width=480, height=360), rng)


def test_report_shape_and_values(phantom):
    report = analyze(phantom.rgb, mm_per_px=0.06, use_face=False)
    check_shape(report)
    assert report["image"]["scale_source"] == "user"
    report["calibration"].pop("uncertainty")
    assert report["calibration"] == {"applied": False, "delta_e2000_mean": None,
                                     "delta_e2000_max": None, "note": "uncalibrated"}
    whole = report["regions"]["whole"]
    assert whole["area_mm2"] == pytest.approx(480 * 360 * 0.06 ** 2, rel=0.02)
    assert whole["wrinkles"]["length_mm"] == pytest.approx(
        phantom.truth["wrinkle_total_length_mm"], rel=0.1)
    assert whole["pigment"]["ita_deg"] == pytest.approx(phantom.truth["ita_deg"], abs=2)


def test_unknown_scale_reports_null_millimetres(phantom):
    report = analyze(phantom.rgb, use_face=False)
    check_shape(report)
    whole = report["regions"]["whole"]
    assert report["image"]["mm_per_px"] is None
    assert report["image"]["scale_source"] == "unknown"
    assert whole["area_mm2"] is None and whole["wrinkles"]["length_mm"] is None
    assert whole["pores"]["density_per_cm2"] is None
    assert whole["wrinkles"]["count"] >= 1


def test_masks_are_input_sized(phantom):
    result = run_analysis(phantom.rgb, mm_per_px=0.06, use_face=False, calibrate=False)
    masks = result.masks()
    for name in ("wrinkles", "spots", "redness", "pores"):
        assert masks[name].shape == (360, 480) and masks[name].dtype == bool
    assert masks["regions"].shape == (360, 480, 3)
    # The wrinkle mask lies on the true wrinkles.
    wr = masks["wrinkles"]
    assert (wr & phantom.masks["wrinkles"]).sum() / wr.sum() > 0.6


def test_colorchecker_is_used_and_excluded_from_skin():
    rng = np.random.default_rng(4)
    ph = make_phantom(random_spec(rng, width=800, height=600, colorchecker=True), rng)
    result = run_analysis(ph.rgb, mm_per_px=0.06, use_face=False)
    cal = result.report["calibration"]
    assert cal["applied"] is True and cal["delta_e2000_mean"] < 3.0
    assert "note" not in cal
    assert not (result.regions.masks["whole"] & ph.masks["chart"]).any()


def test_maps_in_a_window_around_the_skin_equal_those_of_the_whole_frame():
    # At 0.4 mm/px (the portrait grid) every map is computed at the native pixel, so the
    # window around the
    # skin must reproduce the whole frame's figures and masks exactly. One skin pixel in
    # the far corner stretches the window to the whole frame for the comparison.
    from dermatrack.imaging.regions import FaceRegions

    rng = np.random.default_rng(10)
    phantom = make_phantom(random_spec(rng, width=900, height=600, mm_per_px=0.4), rng)
    box = np.zeros((600, 900), bool)
    box[150:450, 420:780] = True
    stretched = box.copy()
    stretched[4, 4] = True

    def analyse(whole: np.ndarray):
        regions = FaceRegions(detected=False, masks={"whole": whole, "box": box},
                              landmarks=None, iris_diameter_px=None, skin_mask=whole)
        return run_analysis(phantom.rgb, mm_per_px=0.4, regions=regions, calibrate=False)

    tight, full = analyse(box), analyse(stretched)
    assert tight.window[0].start > 0 and tight.window[1].start > 0
    assert full.window[0].start == 0 and full.window[1].start == 0
    box_tight, box_full = tight.report["regions"]["box"], full.report["regions"]["box"]
    for group, figures in box_full.items():
        if not isinstance(figures, dict):  # area_mm2
            assert box_tight[group] == pytest.approx(figures, rel=1e-9)
            continue
        for name, value in figures.items():
            expected = pytest.approx(value, rel=1e-9) if isinstance(value, float) else value
            # Only the order of floating-point sums may differ.
            assert box_tight[group][name] == expected, (group, name)
    assert box_tight["wrinkles"]["count"] >= 1 and box_tight["pigment"]["spot_count"] >= 1
    assert box_tight["redness"]["red_area_fraction"] > 0
    masks_tight, masks_full = tight.masks(), full.masks()
    for name in ("wrinkles", "spots", "redness", "pores"):
        np.testing.assert_array_equal(masks_tight[name], masks_full[name], err_msg=name)
    np.testing.assert_array_equal(np.sort(tight.wrinkles.centreline_points(), axis=0),
                                  np.sort(full.wrinkles.centreline_points(), axis=0))


def test_no_face_computes_the_skin_mask_once(phantom, monkeypatch):
    # Without a face the analysis uses single_region, which keeps only the skin (a ruler
    # or the background beside a close-up is not measured); the colour skin mask of
    # face_regions (0.3-0.6 s on 12 MP) would be a second one, thrown away.
    from dermatrack.imaging import regions

    calls = []
    real = regions.skin_mask

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(regions, "skin_mask", counted)
    assert regions.face_regions(phantom.rgb, skin_without_face=False) is None
    assert calls == []
    # use_face=True: FaceMesh finds none, so the photograph is refused in face mode.
    with pytest.raises(InputError, match="no face found"):
        analyze(phantom.rgb, mm_per_px=0.06)
    calls.clear()
    report = analyze(phantom.rgb, mm_per_px=0.06, use_face=False)
    assert calls == [1]
    assert report["face"]["detected"] is False
    assert list(report["regions"]) == ["whole"]
