"""The coverage test of a before/after pair on plain arrays (``compare.pair_coverage``),
and the label image that carries a photograph's regions, skin and bands through a warp
and into storage (``compare.region_labels``)."""

from __future__ import annotations

import numpy as np

from dermatrack.imaging.compare import (
    MAX_UNCOMPARED_FRACTION,
    RIM_PX,
    coverage_differences,
    incomparable_regions,
    pair_coverage,
    region_labels,
    regions_from_labels,
    within_rim,
)
from dermatrack.imaging.regions import FaceRegions


def _regions(shape=(100, 120), bands: bool = True) -> FaceRegions:
    whole = np.zeros(shape, bool)
    whole[10:90, 10:110] = True
    upper, lower = whole.copy(), whole.copy()
    upper[50:] = False
    lower[:50] = False
    skin = np.zeros(shape, bool)
    skin[5:95, 5:115] = True
    band = np.zeros(shape, bool)
    band[10:14, 10:110] = True
    return FaceRegions(detected=True, masks={"upper": upper, "lower": lower, "whole": whole},
                       landmarks=None, iris_diameter_px=None, skin_mask=skin,
                       line_exclusion=band if bands else None)


def test_labels_carry_regions_skin_and_bands():
    regions = _regions()
    labels, names = region_labels(regions)
    masks, skin, bands = regions_from_labels(labels, names)
    assert names == ["upper", "lower"]
    for name, mask in regions.masks.items():
        assert np.array_equal(masks[name], mask), name
    assert np.array_equal(skin, regions.skin_mask)
    assert np.array_equal(bands, regions.line_exclusion)


def test_a_close_up_is_whole_only_and_without_bands():
    skin = np.ones((40, 50), bool)
    close_up = FaceRegions(detected=False, masks={"whole": skin}, landmarks=None,
                           iris_diameter_px=None, skin_mask=skin, line_exclusion=None)
    masks, _, bands = regions_from_labels(*region_labels(close_up))
    assert list(masks) == ["whole"] and masks["whole"].all() and not bands.any()


def test_hidden_skin_is_counted_in_its_region_only():
    regions = _regions()
    valid = np.ones(regions.skin_mask.shape, bool)
    skin1 = regions.skin_mask.copy()
    skin1[10:40, 10:110] = False  # a fringe over three quarters of the upper region
    hidden, uncompared = pair_coverage(regions.masks, regions.line_exclusion, skin1,
                                       regions.line_exclusion, valid, widest_line_px=5)
    assert hidden[20, 50] and not hidden[70, 50]
    assert abs(uncompared["upper"] - 0.75) < 0.01  # the opening rounds its corners
    assert uncompared["lower"] == 0.0
    assert "whole" not in uncompared  # the face is its regions' sum
    named = coverage_differences(uncompared)
    assert len(named) == 1 and named[0].startswith("coverage: 75% of the upper region")
    assert not coverage_differences({"upper": MAX_UNCOMPARED_FRACTION})


def test_a_line_leaving_the_skin_colour_is_not_hidden():
    """A wrinkle deepened until it leaves the skin colour range is the skin's own
    change: narrower than the widest line looked for, it is not taken for something
    over the skin."""
    regions = _regions(bands=False)
    skin1 = regions.skin_mask.copy()
    skin1[60:63, 20:100] = False  # a 3 px dark line
    hidden, uncompared = pair_coverage(regions.masks, None, skin1, None,
                                       np.ones(skin1.shape, bool), widest_line_px=5)
    assert not hidden.any() and uncompared["lower"] == 0.0


def test_bands_in_one_photograph_only_are_uncompared():
    regions = _regions()
    valid = np.ones(regions.skin_mask.shape, bool)
    _, with_both = pair_coverage(regions.masks, regions.line_exclusion, regions.skin_mask,
                                 regions.line_exclusion, valid, widest_line_px=5)
    _, with_one = pair_coverage(regions.masks, regions.line_exclusion, regions.skin_mask,
                                None, valid, widest_line_px=5)
    assert with_both["upper"] == 0.0
    assert abs(with_one["upper"] - 0.1) < 1e-9  # the 4 of 40 rows of band, in one only


def test_regions_measured_on_different_skin():
    """A region beyond the limit, and the whole face that includes it; a close-up's
    only region is the whole; nothing when the coverage is not known."""
    assert incomparable_regions({"forehead": 0.8, "chin": 0.02}) == {"forehead", "whole"}
    assert incomparable_regions({"forehead": MAX_UNCOMPARED_FRACTION}) == set()
    assert incomparable_regions({"whole": 0.27}) == {"whole"}
    assert incomparable_regions(None) == set()


def test_the_rim_of_the_footprint_is_left_out():
    covered = np.zeros((40, 40), bool)
    covered[5:35, 5:35] = True
    inner = within_rim(covered)
    assert inner[5 + RIM_PX, 20] and not inner[5 + RIM_PX - 1, 20]
    assert inner.sum() == (30 - 2 * RIM_PX) ** 2
