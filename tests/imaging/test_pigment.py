"""Pigment metrics against phantom truth (targets: ITA error < 2 deg, spot area < 20 %)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatrack.imaging.colour import srgb_to_lab, srgb_to_linear
from dermatrack.imaging.phantom import PhantomSpec, make_phantom, random_spec
from dermatrack.imaging.pigment import detect_spots, ita_category, pigment_metrics

MPP = 0.06


def _measure(ph):
    lab, lin = srgb_to_lab(ph.rgb), srgb_to_linear(ph.rgb)
    spots = detect_spots(lab, ph.masks["skin"], MPP, exclude=ph.masks["wrinkles"])
    return pigment_metrics(lab, lin, spots, ph.masks["skin"]), spots


@pytest.mark.parametrize("ita", [58.0, 25.0, -5.0, -28.0])
def test_ita_within_two_degrees(ita):
    rng = np.random.default_rng(int(ita) + 100)
    ph = make_phantom(random_spec(rng, width=400, height=300, ita_deg=ita), rng)
    m, _ = _measure(ph)
    assert abs(m.ita_deg - ita) < 2.0
    assert m.ita_category == ita_category(ita)


def test_ita_categories_follow_chardon_and_del_bino():
    assert [ita_category(v) for v in (60, 50, 30, 20, 0, -40)] == [
        "very light", "light", "intermediate", "tan", "brown", "dark"]
    assert ita_category(None) is None


@pytest.mark.parametrize("seed", [1, 2])
def test_spot_count_and_area(seed):
    rng = np.random.default_rng(seed)
    ph = make_phantom(random_spec(rng, width=480, height=360, n_spots=4), rng)
    m, spots = _measure(ph)
    assert m.spot_count == ph.truth["spot_count"]
    assert m.spot_area_fraction == pytest.approx(ph.truth["spot_area_fraction"], rel=0.2)
    assert m.spot_mean_delta_e > 2.0
    # Detected spots lie on true spots.
    assert (spots.mask & ph.masks["spots"]).sum() / spots.mask.sum() > 0.85


def test_melanin_index_and_evenness_directions():
    light = make_phantom(PhantomSpec(width=200, height=150, ita_deg=50, mottling_rms_l=0.5),
                         np.random.default_rng(0))
    dark = make_phantom(PhantomSpec(width=200, height=150, ita_deg=-20, mottling_rms_l=0.5),
                        np.random.default_rng(0))
    mottled = make_phantom(PhantomSpec(width=200, height=150, ita_deg=50, mottling_rms_l=3.0),
                           np.random.default_rng(0))
    m_light, m_dark, m_mottled = _measure(light)[0], _measure(dark)[0], _measure(mottled)[0]
    assert m_dark.melanin_index > m_light.melanin_index
    assert m_mottled.evenness > m_light.evenness  # higher = less even
