"""Phantoms at portrait resolution (0.2-0.6 mm/px): the portrait tier of the wrinkle
detector measures the same millimetres at every pixel size, and hair strands and glasses
rims (non-skin, excluded by the edge band) are not counted as wrinkles."""

from __future__ import annotations

import numpy as np
import pytest

from dermatrack.imaging.analysis import run_analysis
from dermatrack.imaging.io import write_png
from dermatrack.imaging.phantom import make_phantom, portrait_distractors, portrait_spec
from dermatrack.imaging.regions import FaceRegions, non_skin_edge_band, skin_mask


def _analyse(rgb: np.ndarray, mpp: float, bands: np.ndarray | None = None):
    whole = np.ones(rgb.shape[:2], bool) if bands is None else skin_mask(rgb)
    regions = FaceRegions(detected=False, masks={"whole": whole}, landmarks=None,
                          iris_diameter_px=None, skin_mask=whole, line_exclusion=bands)
    return run_analysis(rgb, mm_per_px=mpp, regions=regions, calibrate=False)


@pytest.mark.parametrize("seed", [1, 2])
def test_portrait_wrinkle_length_holds_across_pixel_sizes(seed):
    lengths = {}
    for mpp in (0.25, 0.55):
        spec = portrait_spec(np.random.default_rng(seed), mm_per_px=mpp)
        ph = make_phantom(spec, np.random.default_rng(100 + seed))
        report = _analyse(ph.rgb, mpp).report
        assert report["measurability"]["wrinkle_tier"] == "portrait"
        truth = ph.truth["wrinkle_total_length_mm"]
        measured = report["regions"]["whole"]["wrinkles"]["length_mm"]
        assert measured == pytest.approx(truth, rel=0.2), (mpp, measured, truth)
        lengths[mpp] = measured
    assert lengths[0.55] == pytest.approx(lengths[0.25], rel=0.12)


def test_hair_and_glasses_rims_are_not_wrinkles(artifacts_dir):
    mpp = 0.4
    rng = np.random.default_rng(5)
    ph = make_phantom(portrait_spec(rng, mm_per_px=mpp, n_wrinkles=0), rng)
    rgb, where = portrait_distractors(ph.rgb, mpp, np.random.default_rng(6))
    write_png(artifacts_dir / "portrait_phantom_distractors.png", rgb)
    skin = skin_mask(rgb)
    bands = non_skin_edge_band(skin, 1.0 / mpp)
    found = _analyse(rgb, mpp, bands)
    pts = np.round(found.wrinkles.centreline_points()).astype(int)
    h, w = where.shape
    on_hair_or_rim = bands[pts[:, 1].clip(0, h - 1), pts[:, 0].clip(0, w - 1)] \
        if len(pts) else np.zeros(0, bool)
    assert not on_hair_or_rim.any()
    # Without the band the rims and strands are taken for wrinkles: the band matters.
    unbanded = _analyse(rgb, mpp, np.zeros_like(bands))
    assert len(unbanded.wrinkles.centreline_points()) > len(pts)
