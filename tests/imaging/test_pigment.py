"""Pigment metrics against phantom truth (targets: ITA error < 2 deg, spot area < 20 %)."""

from __future__ import annotations

import cv2
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


def _rim_scene(shift: int):
    """Plain skin (L* 65) at 0.15 mm/px with a non-skin block (hair) whose dark colour
    bleeds one to two pixels into the skin mask, as at a hairline or brow, and one true
    spot (2 mm, 8 L* dark) in the open skin and one cut by the image frame; everything
    moved right by ``shift`` px."""
    h, w = 160, 200
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lab = np.zeros((h, w, 3), np.float32)
    lab[..., 0], lab[..., 1], lab[..., 2] = 65.0, 11.0, 16.0
    x0 = 60 + shift
    hair = (yy >= 40) & (yy < 100) & (xx >= x0) & (xx < x0 + 50)
    skin = ~hair
    # A soft dark halo around the block: 25 L* darker at its edge, fading over 4 px.
    dist = np.maximum(np.maximum(x0 - xx, xx - (x0 + 49)), np.maximum(40 - yy, yy - 99))
    halo = np.clip(1.0 - np.maximum(dist, 0) / 4.0, 0, 1) * 25.0
    lab[..., 0] -= halo
    lab[..., 0][hair] = 20.0
    spots = [(30, 150 + shift), (130, w - 3)]  # (row, col): open skin, frame edge
    for r, c in spots:
        lab[..., 0] -= 8.0 * (np.hypot(yy - r, xx - c) <= 6.7)
    return lab, skin


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_dark_rim_at_the_edge_of_the_skin_is_not_a_spot(shift):
    # Regression: on a 12 MP face photograph, hair and shadow blended into the border of
    # the skin mask were taken for spots, and came and went with a 1-px shift (whole-face
    # spot area 0.0155, 0.0103, 0.0104, 0.018 for shifts of 0, 1 right, 1 down, 2+2).
    lab, skin = _rim_scene(shift)
    spots = detect_spots(lab, skin, 0.15)
    lin = np.full(lab.shape, 0.3, np.float32)
    m = pigment_metrics(lab, lin, spots, skin)
    assert m.spot_count == 2  # the open-skin spot and the one cut by the image frame
    assert not (spots.mask & ~skin).any()
    near_hair = (np.abs(np.arange(200) - (85 + shift)) < 35)[None, :] & \
        (np.abs(np.arange(160) - 70) < 40)[:, None]
    assert not (spots.mask & near_hair).any()
    true_area = np.pi * 6.7 ** 2 * 1.5  # one whole disc and about half of the other
    assert spots.mask.sum() == pytest.approx(true_area, rel=0.2)


def _portrait_spots(dx: float, dy: float) -> tuple[np.ndarray, float]:
    """Plain skin (L* 65) photographed at the portrait grid's 0.4 mm/px with three round
    spots (1.2, 1.6 and 2.2 mm across, 8 L* dark), the camera's pixels averaging a scene
    moved by (dx, dy) pixels; returns the Lab image and the spots' true area (mm²)."""
    mpp, fine, h, w = 0.4, 8, 40, 60
    yy, xx = (np.mgrid[0:h * fine, 0:w * fine].astype(np.float32) + 0.5) / fine
    lum = np.full(yy.shape, 65.0, np.float32)
    diameters = (1.2, 1.6, 2.2)
    for k, d in enumerate(diameters):
        lum -= 8.0 * (np.hypot(xx - (12 + 18 * k + dx), yy - (20 + dy)) <= d / 2 / mpp)
    lab = np.zeros((h, w, 3), np.float32)
    lab[..., 0] = cv2.resize(lum, (w, h), interpolation=cv2.INTER_AREA)
    lab[..., 1], lab[..., 2] = 11.0, 16.0
    return lab, float(sum(np.pi * d * d / 4 for d in diameters))


def test_spot_area_does_not_jump_when_a_portrait_moves_by_part_of_a_pixel():
    # Regression (issue 10): on the 0.4 mm portrait grid a 1-2 mm spot covers 5-20 whole
    # pixels, and counting them made the spot area of the same skin move by 5.5 % (CV)
    # and up to 17 % from the truth as the scene moved by quarter pixels (rotated or
    # resampled captures of real faces lost or gained such spots). Drawn on 0.1 mm
    # sub-pixels, the area moves by < 1 %.
    areas = []
    for dx in (0.0, 0.25, 0.5, 0.75):
        for dy in (0.0, 0.25, 0.5, 0.75):
            lab, truth = _portrait_spots(dx, dy)
            skin = np.ones(lab.shape[:2], bool)
            spots = detect_spots(lab, skin, 0.4)
            m = pigment_metrics(lab, np.full(lab.shape, 0.3, np.float32), spots, skin)
            assert m.spot_count == 3
            areas.append(m.spot_area_fraction * skin.sum() * 0.4 * 0.4)
    areas_mm2 = np.array(areas)
    assert (areas_mm2.max() - areas_mm2.min()) / areas_mm2.mean() < 0.05  # was 0.18
    assert np.abs(areas_mm2 / truth - 1.0).max() < 0.12  # was 0.17
    assert spots.coverage is not None and spots.mask.sum() > 0
