"""Redness metrics against phantom truth (target: red area error < 20 %)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatrack.imaging.colour import srgb_to_lab, srgb_to_linear
from dermatrack.imaging.phantom import ErythemaSpec, PhantomSpec, make_phantom, random_spec
from dermatrack.imaging.redness import red_area_mask, redness_metrics

MPP = 0.06


def _measure(ph):
    lab, lin = srgb_to_lab(ph.rgb), srgb_to_linear(ph.rgb)
    red = red_area_mask(lab, ph.masks["skin"], MPP)
    return redness_metrics(lab, lin, red, ph.masks["skin"]), red


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_red_area_fraction_within_twenty_percent(seed):
    rng = np.random.default_rng(seed)
    ph = make_phantom(random_spec(rng, width=480, height=360, n_erythema=2), rng)
    m, red = _measure(ph)
    assert ph.truth["red_area_fraction"] > 0
    assert m.red_area_fraction == pytest.approx(ph.truth["red_area_fraction"], rel=0.2)
    assert (red & ph.masks["redness"]).sum() / red.sum() > 0.85


def test_mean_a_star_and_erythema_index_rise_with_erythema():
    plain = make_phantom(PhantomSpec(width=300, height=200), np.random.default_rng(0))
    patch = ErythemaSpec(150, 100, 4.0, 12.0)
    red = make_phantom(PhantomSpec(width=300, height=200, erythema=(patch,)),
                       np.random.default_rng(0))
    m_plain, m_red = _measure(plain)[0], _measure(red)[0]
    assert m_plain.a_star == pytest.approx(11.0, abs=0.6)
    assert m_plain.red_area_fraction < 0.005
    assert m_red.a_star > m_plain.a_star + 1.0
    assert m_red.erythema_index > m_plain.erythema_index
