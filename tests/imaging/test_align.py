"""Follow-up to baseline registration recovers known transforms."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dermatrack.imaging.align import align_to_baseline
from dermatrack.imaging.regions import face_regions

CHECK_POINTS = np.array([[150, 200], [350, 200], [250, 300], [170, 420], [340, 420]], float)


def _grace_hopper() -> np.ndarray:
    import matplotlib.cbook
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        return np.asarray(Image.open(handle).convert("RGB"), dtype=np.float32) / 255


def _similarity(shape, *, angle_deg, scale, shift) -> np.ndarray:
    """3x3 baseline -> follow-up transform about the image centre."""
    height, width = shape[:2]
    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D((width / 2, height / 2), angle_deg, scale)
    matrix[:2, 2] += shift
    return matrix


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def _follow_up(baseline: np.ndarray, base_to_follow: np.ndarray, *, exposure=1.08):
    height, width = baseline.shape[:2]
    moved = cv2.warpAffine(baseline, base_to_follow[:2], (width, height),
                           flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    # A different exposure at the follow-up visit.
    return np.clip(moved * exposure + 0.02, 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def baseline():
    rgb = _grace_hopper()
    return rgb, face_regions(rgb)


def test_landmarks_then_ecc_recover_a_similarity_within_a_pixel(baseline):
    rgb, regions = baseline
    truth = _similarity(rgb.shape, angle_deg=3.0, scale=1.03, shift=(9.0, -6.0))
    follow = _follow_up(rgb, truth)
    follow_regions = face_regions(follow)
    assert follow_regions.detected
    result = align_to_baseline(rgb, follow, baseline_landmarks=regions.landmarks,
                               followup_landmarks=follow_regions.landmarks)
    assert result.method == "landmarks+ecc"
    expected = np.linalg.inv(truth)  # follow-up -> baseline
    error = np.abs(_apply(result.matrix, CHECK_POINTS) - _apply(expected, CHECK_POINTS))
    assert error.max() < 1.0
    assert result.landmark_rmse_px < 3.0
    assert result.ecc_correlation > 0.95
    # The warped follow-up lies on the baseline where both cover the scene.
    inner = result.valid_mask.copy()
    inner[:40], inner[-40:], inner[:, :40], inner[:, -40:] = False, False, False, False
    difference = np.abs(result.warped * 1.0 - np.clip(rgb * 1.08 + 0.02, 0, 1))[inner]
    assert np.median(difference) < 0.02


def test_ecc_alone_for_a_close_up():
    # A close-up with no face: a crop of the cheek and mouth.
    rgb = _grace_hopper()[300:500, 150:400].copy()
    truth = _similarity(rgb.shape, angle_deg=2.0, scale=1.02, shift=(5.0, 3.0))
    follow = _follow_up(rgb, truth)
    result = align_to_baseline(rgb, follow)
    assert result.method == "ecc"
    assert result.landmark_rmse_px is None
    points = np.array([[60, 60], [190, 60], [125, 100], [60, 140], [190, 140]], float)
    error = np.abs(_apply(result.matrix, points) - _apply(np.linalg.inv(truth), points))
    assert error.max() < 1.0


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


def test_featureless_images_are_reported_not_hidden():
    flat = np.full((120, 160, 3), 0.5, np.float32)
    result = align_to_baseline(flat, flat.copy())
    assert result.method == "identity"
    assert result.ecc_correlation is None  # nothing to correlate: quality unknown, said so
    assert result.matrix.shape == (3, 3)
    assert result.warped.shape == flat.shape
