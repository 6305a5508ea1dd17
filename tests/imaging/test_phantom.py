"""The phantom generator: exact, reproducible truth that moves with the image."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dermatrack.imaging.colour import srgb_to_lab
from dermatrack.imaging.phantom import (
    PERTURBATIONS,
    PhantomSpec,
    WrinkleSpec,
    base_lab_from_ita,
    make_phantom,
    random_spec,
)


def _plain(**kw) -> PhantomSpec:
    base = dict(width=300, height=200, mm_per_px=0.06, texture_rms_l=0.0, mottling_rms_l=0.0,
                lighting_gradient=0.0, sensor_noise_sd=0.0)
    base.update(kw)
    return PhantomSpec(**base)


def test_base_colour_has_the_requested_ita():
    for ita in (55.0, 20.0, -25.0):
        ph = make_phantom(_plain(ita_deg=ita), np.random.default_rng(0))
        lab = srgb_to_lab(ph.rgb)
        measured = math.degrees(math.atan2(np.median(lab[..., 0]) - 50, np.median(lab[..., 2])))
        assert measured == pytest.approx(ita, abs=0.5)  # 8-bit quantisation only
    assert base_lab_from_ita(0.0) == pytest.approx(50.0)


def test_wrinkle_profile_has_the_requested_depth_and_width():
    wr = WrinkleSpec(cx=150, cy=100, length_mm=8, width_mm=0.9, depth_l=8.0, angle_deg=0,
                     shading=0.0)
    ph = make_phantom(_plain(wrinkles=(wr,)), np.random.default_rng(0))
    lum = srgb_to_lab(ph.rgb)[..., 0]
    column = lum[:, 150]
    surround = np.median(lum[:40, 150])
    assert surround - column.min() == pytest.approx(8.0, abs=0.3)
    # Full width at half depth (px) matches width_mm / mm_per_px.
    below = np.nonzero(surround - column >= 4.0)[0]
    assert (below.max() - below.min() + 1) * 0.06 == pytest.approx(0.9, abs=0.07)
    truth = ph.truth["wrinkles"][0]
    assert truth["length_mm"] == pytest.approx(8.0, rel=0.01)
    assert ph.masks["wrinkle_centrelines"][100, 150]


def test_same_seed_same_phantom_and_json_ready_truth():
    import json

    spec = random_spec(np.random.default_rng(5), width=320, height=240)
    a = make_phantom(spec, np.random.default_rng(1))
    b = make_phantom(spec, np.random.default_rng(1))
    assert np.array_equal(a.rgb, b.rgb)
    assert json.loads(json.dumps(a.truth))["wrinkle_count"] == len(spec.wrinkles)
    # 8-bit quantised, so a PNG round trip is exact.
    assert np.allclose(a.rgb * 255, np.round(a.rgb * 255), atol=1e-3)
    assert set(a.masks) >= {"wrinkles", "wrinkle_centrelines", "spots", "redness", "pores",
                            "skin", "chart"}


def test_features_do_not_overlap_and_counts_match_truth():
    spec = random_spec(np.random.default_rng(11), width=400, height=300)
    ph = make_phantom(spec, np.random.default_rng(0))
    t = ph.truth
    assert t["spot_count"] == len(spec.spots) and t["pore_count"] == len(spec.pores)
    assert not (ph.masks["spots"] & ph.masks["wrinkles"]).any()
    assert 0 < t["spot_area_fraction"] < 0.2


def test_geometric_perturbation_moves_truth_with_the_image():
    wr = WrinkleSpec(cx=150, cy=100, length_mm=9, width_mm=0.6, depth_l=10.0, angle_deg=30,
                     shading=0.0)
    spec = _plain(wrinkles=(wr,), perturbation=PERTURBATIONS["rotation"])
    ph = make_phantom(spec, np.random.default_rng(0))
    lum = srgb_to_lab(ph.rgb)[..., 0]
    pts = np.asarray(ph.truth["wrinkles"][0]["centreline_px"])
    inner = pts[len(pts) // 4: 3 * len(pts) // 4]
    on_line = lum[np.round(inner[:, 1]).astype(int), np.round(inner[:, 0]).astype(int)]
    assert np.median(lum) - on_line.mean() > 7.0  # the moved centreline is still the floor
    assert ph.masks["wrinkle_centrelines"].sum() > 0


def test_capture_perturbations_change_pixels_not_truth():
    spec = random_spec(np.random.default_rng(2), width=240, height=180)
    ref = make_phantom(spec, np.random.default_rng(0))
    for name in ("exposure_up", "white_balance", "blur", "jpeg"):
        from dataclasses import replace

        ph = make_phantom(replace(spec, perturbation=PERTURBATIONS[name]),
                          np.random.default_rng(0))
        assert not np.array_equal(ph.rgb, ref.rgb), name
        assert ph.truth["wrinkle_total_length_mm"] == ref.truth["wrinkle_total_length_mm"]


def test_colorchecker_is_rendered_and_masked():
    spec = random_spec(np.random.default_rng(3), width=640, height=480, colorchecker=True)
    ph = make_phantom(spec, np.random.default_rng(0))
    assert ph.masks["chart"].any()
    assert not (ph.masks["chart"] & ph.masks["skin"]).any()
