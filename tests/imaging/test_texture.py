"""Texture roughness against the phantom's band-limited texture field."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dermatrack.imaging.colour import srgb_to_lab
from dermatrack.imaging.phantom import make_phantom, random_spec
from dermatrack.imaging.texture import bandpass_luminance, exclusion_zone, texture_metrics

MPP = 0.06


def _roughness(ph):
    lum = srgb_to_lab(ph.rgb)[..., 0]
    features = ph.masks["wrinkles"] | ph.masks["spots"] | ph.masks["pores"]
    band = bandpass_luminance(lum, MPP)
    return texture_metrics(band, ph.masks["skin"], exclusion_zone(features, MPP)).roughness


@pytest.mark.parametrize("rms", [0.4, 1.0, 2.0])
def test_roughness_matches_truth(rms):
    spec = replace(random_spec(np.random.default_rng(8), width=400, height=300),
                   texture_rms_l=rms)
    ph = make_phantom(spec, np.random.default_rng(0))
    # Sensor noise adds a little band-pass energy: 15 % covers it at the smallest texture.
    assert _roughness(ph) == pytest.approx(ph.truth["texture_roughness_l"], rel=0.15)


def test_roughness_ignores_lighting_and_mottling():
    base = random_spec(np.random.default_rng(9), width=400, height=300)
    flat = make_phantom(replace(base, lighting_gradient=0.0, mottling_rms_l=0.0),
                        np.random.default_rng(0))
    uneven = make_phantom(replace(base, lighting_gradient=0.3, mottling_rms_l=2.5),
                          np.random.default_rng(0))
    assert _roughness(uneven) == pytest.approx(_roughness(flat), rel=0.1)


def test_too_small_region_gives_none():
    band = np.zeros((50, 50), np.float32)
    region = np.zeros((50, 50), bool)
    region[:5, :5] = True
    assert texture_metrics(band, region).roughness is None
