"""Wrinkle detection against phantom truth.

Tolerances follow the issue's targets (F1 >= 0.9 on wrinkles >= 5 L* deep, length error
< 10 %). Width and depth estimates are held to 25 %: the scales are interpolated, but skin
texture and the 2x resampling to the working pixel widen and flatten narrow valleys
(measured: +20 % width, -15 % depth at 0.4 mm without any tuning).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dermatrack.imaging._filters import skeleton_length_map
from dermatrack.imaging.colour import srgb_to_lab
from dermatrack.imaging.phantom import (
    PhantomSpec,
    PoreSpec,
    SpotSpec,
    WrinkleSpec,
    make_phantom,
    random_spec,
)
from dermatrack.imaging.validation import centreline_scores
from dermatrack.imaging.wrinkles import detect_wrinkles, measure_wrinkles, wrinkle_metrics

MPP = 0.06


def _lum(ph):
    return srgb_to_lab(ph.rgb)[..., 0]


@pytest.fixture(scope="module", params=[7, 19])
def deep_phantom(request):
    rng = np.random.default_rng(request.param)
    spec = random_spec(rng, width=480, height=360, wrinkle_depth_l=None)
    return make_phantom(spec, rng)


def test_detects_deep_wrinkles_with_target_f1_and_length(deep_phantom):
    ph = deep_phantom
    det = detect_wrinkles(_lum(ph), ph.masks["skin"], MPP)
    deep = [np.asarray(w["centreline_px"]) for w in ph.truth["wrinkles"] if w["depth_l"] >= 5]
    shallow = [np.asarray(w["centreline_px"]) for w in ph.truth["wrinkles"]
               if w["depth_l"] < 5]
    dense = lambda lines: np.concatenate([_densify(p) for p in lines]) if lines else None  # noqa: E731
    scores = centreline_scores(det.centreline_points(), dense(deep), ignore_xy=dense(shallow))
    assert scores["f1"] >= 0.9
    m = wrinkle_metrics(det, ph.masks["skin"])
    assert m.length_mm == pytest.approx(ph.truth["wrinkle_total_length_mm"], rel=0.10)
    assert m.count == ph.truth["wrinkle_count"]


def _densify(points):
    seg = np.hypot(*np.diff(points, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.arange(0.0, arc[-1], 0.25)
    return np.stack([np.interp(s, arc, points[:, 0]), np.interp(s, arc, points[:, 1])], 1)


@pytest.mark.parametrize("width_mm", [0.5, 1.0])
def test_width_and_depth_estimates(width_mm):
    wr = WrinkleSpec(cx=200, cy=150, length_mm=12, width_mm=width_mm, depth_l=8.0,
                     angle_deg=20, shading=0.0)
    ph = make_phantom(PhantomSpec(width=400, height=300, wrinkles=(wr,)),
                      np.random.default_rng(1))
    det = detect_wrinkles(_lum(ph), ph.masks["skin"], MPP)
    m = wrinkle_metrics(det, ph.masks["skin"])
    assert m.count == 1
    assert m.mean_width_mm == pytest.approx(width_mm, rel=0.25)
    depth = det.depth_l[det.skeleton]
    assert np.median(depth) == pytest.approx(8.0, rel=0.25)


def test_severity_grows_with_depth_and_length():
    def severity(depth, length):
        wr = WrinkleSpec(cx=200, cy=150, length_mm=length, width_mm=0.6, depth_l=depth,
                         angle_deg=0)
        ph = make_phantom(PhantomSpec(width=400, height=300, wrinkles=(wr,)),
                          np.random.default_rng(2))
        return measure_wrinkles(_lum(ph), ph.masks["skin"], MPP).severity_index

    assert severity(4, 10) < severity(8, 10) < severity(12, 10)
    assert severity(8, 6) < severity(8, 14)


def test_spots_pores_and_lighting_are_not_wrinkles():
    spots = tuple(SpotSpec(80 + 110 * i, 120, 2.0, 1.5, 30 * i, 12.0, 4.0) for i in range(3))
    pores = tuple(PoreSpec(40 + 30 * i, 240, 0.35, 7.0) for i in range(10))
    spec = PhantomSpec(width=400, height=300, spots=spots, pores=pores, lighting_gradient=0.3,
                       mottling_rms_l=2.0)
    ph = make_phantom(spec, np.random.default_rng(3))
    m = measure_wrinkles(_lum(ph), ph.masks["skin"], MPP)
    assert m.count == 0 and m.length_mm == 0.0


def test_unknown_scale_gives_no_millimetres():
    spec = random_spec(np.random.default_rng(4), width=320, height=240, n_wrinkles=2)
    ph = make_phantom(spec, np.random.default_rng(0))
    m = measure_wrinkles(_lum(ph), ph.masks["skin"], None)
    assert m.length_mm is None and m.density_mm_per_cm2 is None
    assert m.mean_width_mm is None and m.severity_index is None
    assert m.count >= 1 and m.area_fraction > 0


def test_skeleton_length_counts_diagonals_as_root_two():
    line = np.zeros((20, 20), bool)
    line[5, 2:12] = True  # 10 px horizontal: 9 links
    assert skeleton_length_map(line).sum() == pytest.approx(9.0)
    diag = np.eye(10, dtype=bool)  # 9 diagonal links
    assert skeleton_length_map(diag).sum() == pytest.approx(9 * math.sqrt(2))
    step = np.zeros((5, 5), bool)
    step[1, 1:3] = step[2, 2:4] = True  # an L-step: 3 orthogonal links, no diagonal
    assert skeleton_length_map(step).sum() == pytest.approx(3.0)


@pytest.mark.parametrize("pixel_mm", [0.15, 0.4])
def test_band_edge_weight_ramps_over_the_same_millimetres_at_any_pixel_size(pixel_mm):
    from dermatrack.imaging.wrinkles import BAND_EDGE_SOFTNESS_MM, band_edge_weight

    band = np.zeros((200, 40), bool)
    band[:100] = True  # the edge lies between rows 99 and 100
    profile = band_edge_weight(band, pixel_mm)[:, 20]
    rows = np.arange(200)
    signed_mm = (rows + 0.5 - 100) * pixel_mm  # > 0 outside the band
    expected = np.clip(0.5 + signed_mm / (2 * BAND_EDGE_SOFTNESS_MM), 0, 1)
    assert profile == pytest.approx(expected, abs=1e-5)
    # Without a scale the edge stays hard.
    assert np.array_equal(band_edge_weight(band, None), (~band).astype(np.float32))


def test_a_line_along_a_band_edge_is_counted_gradually_not_whole_or_nothing():
    """Bands are drawn from landmarks that move by about a millimetre between captures. A
    wrinkle lying along a band's edge must then change its counted length by about as
    much, not jump between its whole length and nothing (the hard edge did: 100 % in
    one 0.24 mm step)."""
    wr = WrinkleSpec(cx=200, cy=150, length_mm=12, width_mm=0.6, depth_l=8.0, angle_deg=0,
                     shading=0.0)
    ph = make_phantom(PhantomSpec(width=400, height=300, wrinkles=(wr,)),
                      np.random.default_rng(5))
    lum, skin = _lum(ph), ph.masks["skin"]
    lengths = []
    for edge_row in range(100, 204, 4):  # the band's edge from 3 mm above to 3 mm below
        band = np.zeros_like(skin)
        band[:edge_row] = True
        det = detect_wrinkles(lum, skin, MPP, exclude=band)
        lengths.append(wrinkle_metrics(det, skin).length_mm)
    full = lengths[0]
    assert full == pytest.approx(12.0, rel=0.15) and lengths[-1] == 0.0
    steps = np.abs(np.diff(lengths))
    assert steps.max() <= 0.25 * full
    on_edge = lengths[(150 - 100) // 4]  # the edge through the line's centre
    assert 0.3 * full <= on_edge <= 0.7 * full


@pytest.mark.parametrize("softness", [0.08, 0.2, 0.35])
def test_pass_weight_ramps_in_the_log_of_the_ratio_to_the_limit(softness):
    from dermatrack.imaging.wrinkles import pass_weight

    ratios = np.exp([-1.0, -softness, -softness / 2, 0.0, softness / 2, softness, 1.0])
    assert pass_weight(ratios, softness) == pytest.approx([0, 0, 0.25, 0.5, 0.75, 1, 1])
    assert pass_weight(np.array([0.0]), softness)[0] == 0.0


def test_a_line_as_deep_as_the_threshold_is_counted_gradually_not_whole_or_nothing():
    """A line's peak valleyness, length and shape move between captures of one face
    (PEAK_SOFTNESS and after). A wrinkle made deeper in 2 % steps through the detection
    threshold must then start to count with a small part of its length, not a third of
    it at once (the hard tests did: 0 to 3.9 of 11.9 mm in one step); and a line under
    the threshold is not a line found: it adds length, but no count and no centreline."""
    lengths, found = [], []
    for depth in np.geomspace(1.0, 4.0, 71):  # L*, 2 % steps
        wr = WrinkleSpec(cx=200, cy=150, length_mm=12, width_mm=0.6, depth_l=float(depth),
                         angle_deg=20, shading=0.0)
        ph = make_phantom(PhantomSpec(width=400, height=300, wrinkles=(wr,)),
                          np.random.default_rng(5))
        skin = ph.masks["skin"]
        det = detect_wrinkles(_lum(ph), skin, MPP)
        metrics = wrinkle_metrics(det, skin)
        assert (metrics.count > 0) == det.skeleton.any() == det.mask.any()
        if metrics.length_mm > 0 and metrics.count == 0:  # drawn apart on the overlays
            assert len(det.part_counted_points()) > 0
            assert len(det.centreline_points()) == 0
        lengths.append(metrics.length_mm)
        found.append(metrics.count > 0)
    lengths, found = np.array(lengths), np.array(found)
    full = lengths[-1]
    assert full == pytest.approx(12.0, rel=0.15) and lengths[0] == 0.0
    first = lengths[lengths > 0][0]
    assert first < 0.1 * full
    assert ((lengths > 0) & ~found).any()
