"""Follow-up to baseline registration recovers known transforms."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dermatrack.imaging import align
from dermatrack.imaging.align import MIN_DETAIL_CORRELATION, align_to_baseline, detail_image
from dermatrack.imaging.phantom import PhantomSpec, make_phantom, random_spec
from dermatrack.imaging.regions import face_regions

CHECK_POINTS = np.array([[150, 200], [350, 200], [250, 300], [170, 420], [340, 420]], float)


def _grace_hopper() -> np.ndarray:
    import matplotlib.cbook
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        return np.asarray(Image.open(handle).convert("RGB"), dtype=np.float32) / 255


def _astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut().astype(np.float32) / 255


def _similarity(shape, *, angle_deg, scale, shift) -> np.ndarray:
    """3x3 baseline -> follow-up transform about the image centre."""
    height, width = shape[:2]
    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D((width / 2, height / 2), angle_deg, scale)
    matrix[:2, 2] += shift
    return matrix


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def _grid_points(shape, n: int = 4) -> np.ndarray:
    """Points spread over the central 60 % of an image (x, y)."""
    height, width = shape[:2]
    xs, ys = np.meshgrid(np.linspace(0.2, 0.8, n) * width, np.linspace(0.2, 0.8, n) * height)
    return np.column_stack([xs.ravel(), ys.ravel()])


def _max_error(result, truth: np.ndarray, points: np.ndarray) -> float:
    """Largest distance (px) between recovered and true follow-up -> baseline positions."""
    expected = np.linalg.inv(truth)
    return float(np.abs(_apply(result.matrix, points) - _apply(expected, points)).max())


def _follow_up(baseline: np.ndarray, base_to_follow: np.ndarray, *, exposure=1.08):
    height, width = baseline.shape[:2]
    moved = cv2.warpAffine(baseline, base_to_follow[:2], (width, height),
                           flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    # A different exposure at the follow-up visit.
    return np.clip(moved * exposure + 0.02, 0, 1).astype(np.float32)


def _relit(rgb: np.ndarray, strength: float = 0.15) -> np.ndarray:
    """The follow-up lit from another side: a ramp of +-strength across the frame."""
    height, width = rgb.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = 0.6 * (2 * xx / width - 1) - 0.8 * (2 * yy / height - 1)
    return np.clip(rgb * (1 + strength * ramp)[..., None], 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def baseline():
    rgb = _grace_hopper()
    return rgb, face_regions(rgb)


@pytest.fixture(scope="module")
def smooth_skin():
    """A featureless-looking phantom (texture and mottling only) and a re-capture of it
    with independent sensor noise, 400 x 300 px."""
    spec = PhantomSpec(width=400, height=300)
    return (make_phantom(spec, np.random.default_rng(1)).rgb,
            make_phantom(spec, np.random.default_rng(1), np.random.default_rng(2)).rgb)


@pytest.fixture(scope="module")
def textured_skin():
    """A phantom with wrinkles, spots, erythema and pores, and a re-capture of it."""
    spec = random_spec(np.random.default_rng(40), width=400, height=300)
    return (make_phantom(spec, np.random.default_rng(1)).rgb,
            make_phantom(spec, np.random.default_rng(1), np.random.default_rng(2)).rgb)


def test_landmarks_then_ecc_recover_a_similarity_within_a_pixel(baseline):
    rgb, regions = baseline
    truth = _similarity(rgb.shape, angle_deg=3.0, scale=1.03, shift=(9.0, -6.0))
    follow = _follow_up(rgb, truth)
    follow_regions = face_regions(follow)
    assert follow_regions.detected
    result = align_to_baseline(rgb, follow, baseline_landmarks=regions.landmarks,
                               followup_landmarks=follow_regions.landmarks)
    assert result.method == "landmarks+ecc" and result.reliable
    assert _max_error(result, truth, CHECK_POINTS) < 1.0
    assert result.landmark_rmse_px < 3.0
    assert result.ecc_correlation > 0.95
    # The warped follow-up lies on the baseline where both cover the scene.
    inner = result.valid_mask.copy()
    inner[:40], inner[-40:], inner[:, :40], inner[:, -40:] = False, False, False, False
    difference = np.abs(result.warped * 1.0 - np.clip(rgb * 1.08 + 0.02, 0, 1))[inner]
    assert np.median(difference) < 0.02


# Translations up to 5 % of the frame, rotations up to 5 degrees, scale changes of 5 %.
PHANTOM_MOTIONS = [
    pytest.param(0.0, 1.0, (9.0, -6.0), id="shift-9-6"),
    pytest.param(0.0, 1.0, (12.0, 0.0), id="shift-12"),
    pytest.param(0.0, 1.0, (-20.0, 15.0), id="shift-5pc"),
    pytest.param(5.0, 1.0, (0.0, 0.0), id="rotate+5"),
    pytest.param(-5.0, 1.0, (8.0, 6.0), id="rotate-5+shift"),
    pytest.param(0.0, 1.05, (0.0, 0.0), id="scale+5pc"),
    pytest.param(0.0, 0.95, (6.0, -4.0), id="scale-5pc+shift"),
    pytest.param(5.0, 1.05, (20.0, -12.0), id="all-at-once"),
]


@pytest.mark.parametrize(("angle", "scale", "shift"), PHANTOM_MOTIONS)
@pytest.mark.parametrize("skin", ["smooth_skin", "textured_skin"])
def test_phantoms_without_faces_align_within_a_pixel(request, skin, angle, scale, shift):
    before, recapture = request.getfixturevalue(skin)
    truth = _similarity(before.shape, angle_deg=angle, scale=scale, shift=shift)
    follow = _relit(_follow_up(recapture, truth, exposure=1.05))
    result = align_to_baseline(before, follow)
    assert result.method == "ecc" and result.reliable
    assert result.ecc_correlation > 0.9
    assert _max_error(result, truth, _grid_points(before.shape)) < 1.0


@pytest.mark.parametrize(("angle", "scale", "shift"), [
    (0.0, 1.0, (12.0, -9.0)), (-5.0, 0.95, (-16.0, 15.0)), (4.0, 1.05, (10.0, 5.0))])
def test_phase_correlation_alone_starts_ecc_on_smooth_skin(smooth_skin, monkeypatch,
                                                           angle, scale, shift):
    # Without keypoints (as on low-texture skin) the rotation/scale grid of phase
    # correlations must bring ECC into its basin on its own.
    monkeypatch.setattr(align, "_feature_similarity", lambda template, moving: None)
    before, recapture = smooth_skin
    truth = _similarity(before.shape, angle_deg=angle, scale=scale, shift=shift)
    result = align_to_baseline(before, _follow_up(recapture, truth))
    assert result.initial == "phase_correlation" and result.reliable
    assert _max_error(result, truth, _grid_points(before.shape)) < 1.0


@pytest.mark.parametrize("face", [_astronaut, _grace_hopper], ids=["astronaut", "hopper"])
@pytest.mark.parametrize(("angle", "scale", "shift_fraction"), [
    (0.0, 1.0, (0.05, -0.05)), (5.0, 1.0, (0.03, 0.02)), (-5.0, 1.05, (-0.05, 0.04)),
    (4.0, 0.95, (0.05, 0.05))])
def test_real_faces_align_without_landmarks(face, angle, scale, shift_fraction):
    rgb = face()
    height, width = rgb.shape[:2]
    shift = (shift_fraction[0] * width, shift_fraction[1] * height)
    truth = _similarity(rgb.shape, angle_deg=angle, scale=scale, shift=shift)
    result = align_to_baseline(rgb, _follow_up(rgb, truth))
    assert result.method == "ecc" and result.reliable
    assert _max_error(result, truth, _grid_points(rgb.shape)) < 1.0


def test_ecc_alone_for_a_close_up():
    # A close-up with no face: a crop of the cheek and mouth.
    rgb = _grace_hopper()[300:500, 150:400].copy()
    truth = _similarity(rgb.shape, angle_deg=2.0, scale=1.02, shift=(5.0, 3.0))
    follow = _follow_up(rgb, truth)
    result = align_to_baseline(rgb, follow)
    assert result.method == "ecc"
    assert result.landmark_rmse_px is None
    points = np.array([[60, 60], [190, 60], [125, 100], [60, 140], [190, 140]], float)
    assert _max_error(result, truth, points) < 1.0


def test_shift_direction_and_coverage():
    rgb = _grace_hopper()[300:500, 150:400].copy()
    truth = np.eye(3)
    truth[:2, 2] = (12.0, -7.0)  # baseline point p is at p + (12, -7) in the follow-up
    height, width = rgb.shape[:2]
    follow = cv2.warpAffine(rgb, truth[:2], (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT)
    result = align_to_baseline(rgb, follow)
    np.testing.assert_allclose(result.matrix[:2, 2], (-12.0, 7.0), atol=0.5)
    np.testing.assert_allclose(result.matrix[:2, :2], np.eye(2), atol=0.01)
    # Baseline pixels near the top and right edges were never seen by the follow-up.
    assert not result.valid_mask[:5, :].any() and not result.valid_mask[:, -10:].any()
    assert result.valid_mask[20:-20, 20:-20].all()


def test_large_photograph_is_aligned_on_a_downscaled_copy_to_a_full_resolution_pixel():
    # 2400 x 1800 px is worked on at 1024 x 768: the matrix must be scaled back exactly
    # (pixel centres included), or the error grows with the downscaling factor.
    rgb = cv2.resize(_grace_hopper(), (2400, 1800), interpolation=cv2.INTER_CUBIC)
    truth = _similarity(rgb.shape, angle_deg=3.0, scale=1.03, shift=(90.0, -60.0))
    result = align_to_baseline(rgb, _follow_up(rgb, truth))
    assert result.reliable
    assert _max_error(result, truth, _grid_points(rgb.shape)) < 1.0


def test_follow_up_at_another_resolution():
    rgb = _grace_hopper()
    truth = _similarity(rgb.shape, angle_deg=3.0, scale=1.02, shift=(10.0, -8.0))
    follow = _follow_up(rgb, truth)
    height, width = rgb.shape[:2]
    small = cv2.resize(follow, (width * 3 // 4, height * 3 // 4), interpolation=cv2.INTER_AREA)
    result = align_to_baseline(rgb, small)
    assert result.reliable and result.warped.shape == rgb.shape
    # Small follow-up pixels q relate to full ones p by q = 0.75 (p + 0.5) - 0.5.
    to_small = np.array([[0.75, 0, -0.125], [0, 0.75, -0.125], [0, 0, 1]])
    points = np.array([[80, 100], [300, 150], [150, 400], [330, 420]], float)
    assert _max_error(result, to_small @ truth, points) < 1.0


def test_unrelated_images_are_reported_unreliable_and_left_unmoved():
    face = _grace_hopper()
    other = _astronaut()[:face.shape[0], :face.shape[1]].copy()
    result = align_to_baseline(face, other)
    assert result.method == "identity" and not result.reliable
    np.testing.assert_allclose(result.matrix, np.eye(3))
    assert result.ecc_correlation is not None
    assert result.ecc_correlation < MIN_DETAIL_CORRELATION


def test_featureless_images_are_reported_not_hidden():
    flat = np.full((120, 160, 3), 0.5, np.float32)
    result = align_to_baseline(flat, flat.copy())
    assert result.method == "identity" and not result.reliable
    assert result.ecc_correlation is None  # nothing to correlate: quality unknown, said so
    assert result.matrix.shape == (3, 3)
    assert result.warped.shape == flat.shape


def test_detail_image_removes_a_lighting_gradient_and_keeps_pores():
    yy, xx = np.mgrid[0:120, 0:160].astype(np.float32)
    ramp = 0.3 + 0.004 * xx + 0.002 * yy
    pore = np.exp(-((xx - 80) ** 2 + (yy - 60) ** 2) / (2 * 1.5 ** 2))
    detail = detail_image(ramp - 0.05 * pore)
    # Away from the border (where reflection bends the ramp) only the pore is left.
    inner = detail[20:-20, 20:-20]
    assert np.abs(inner).max() == pytest.approx(np.abs(detail[60, 80]), rel=1e-6)
    assert detail[60, 80] < -0.01
    quiet = np.abs(detail_image(ramp)[20:-20, 20:-20]).max()
    assert quiet < 1e-4
