"""Registering a follow-up photograph onto its baseline.

Change per region is only meaningful when the same skin is compared, so the follow-up is
warped into the baseline's frame before the metrics are compared. Three stages, each
used when it can work, and the one that produced the result is reported:

1. **Landmarks.** When both photographs have FaceMesh landmarks, a similarity transform
   (rotation, uniform scale, shift) is fitted to the 468 mesh points with RANSAC
   (``cv2.estimateAffinePartial2D``), which ignores points moved by expression.
2. **Intensity refinement.** The enhanced correlation coefficient (ECC) maximisation of
   Evangelidis & Psarakis (2008) refines an affine transform on downscaled luminance
   (``cv2.findTransformECC``). ECC is invariant to brightness and contrast changes, so
   different exposure does not bias it. Its final correlation is the quality figure.
3. **Phase correlation.** For close-ups without landmarks, a translation from phase
   correlation starts ECC; if ECC does not converge the translation alone is used.

References
----------
- Evangelidis & Psarakis (2008), "Parametric image alignment using enhanced correlation
  coefficient maximization", IEEE Trans. PAMI 30(10):1858-1865.
- Kuglin & Hines (1975), "The phase correlation image alignment method", Proc. IEEE
  Int. Conf. Cybernetics and Society, 163-165.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ECC_SIZE", "Alignment", "align_to_baseline"]

#: Long side (pixels) of the luminance copies that ECC and phase correlation work on.
ECC_SIZE = 768

_MESH_POINTS = 468  # the iris points (468-477) move with gaze, not with the head
_ECC_CRITERIA = (3, 100, 1e-6)  # cv2.TERM_CRITERIA_COUNT | EPS, iterations, epsilon
_MIN_CONTRAST = 1e-3  # luminance SD below which an image has nothing to align on


@dataclass
class Alignment:
    """A follow-up photograph in the baseline's frame.

    Attributes
    ----------
    warped:
        ``(H, W, 3)`` float32 follow-up resampled onto the baseline's pixel grid.
    valid_mask:
        Bool ``(H, W)``: baseline pixels that the follow-up covers.
    matrix:
        ``(3, 3)`` transform from follow-up pixel coordinates to baseline pixel
        coordinates (homogeneous, last row ``[0, 0, 1]``).
    method:
        ``"landmarks+ecc"``, ``"landmarks"`` (ECC did not converge or was rejected),
        ``"ecc"`` (phase correlation then ECC), ``"phase_correlation"`` (a
        translation only: ECC did not converge; check ``ecc_correlation``) or
        ``"identity"`` (an image without contrast: nothing was aligned).
    landmark_rmse_px:
        Root-mean-square distance, baseline pixels, between the baseline landmarks and
        the transformed follow-up landmarks (RANSAC inliers), or None without landmarks.
    ecc_correlation:
        Correlation coefficient of the baseline and the aligned follow-up luminance on
        the downscaled copies (1 is a perfect match): ECC's own figure when ECC ran,
        else the zero-mean normalised correlation of the overlap; None when the images
        do not overlap or have no contrast.
    """

    warped: np.ndarray
    valid_mask: np.ndarray
    matrix: np.ndarray
    method: str
    landmark_rmse_px: float | None
    ecc_correlation: float | None


def _luminance(rgb: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if factor != 1.0:
        size = (max(8, round(grey.shape[1] * factor)), max(8, round(grey.shape[0] * factor)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey


def _as_3x3(affine: np.ndarray) -> np.ndarray:
    out = np.eye(3, dtype=np.float64)
    out[:2] = affine
    return out


def _scaling(factor: float) -> np.ndarray:
    return np.diag([factor, factor, 1.0])


def _landmark_similarity(baseline_landmarks, followup_landmarks, face_width: float):
    """Similarity (3x3, follow-up -> baseline) and RMSE over the RANSAC inliers."""
    import cv2

    source = np.asarray(followup_landmarks, dtype=np.float64)[:_MESH_POINTS]
    target = np.asarray(baseline_landmarks, dtype=np.float64)[:_MESH_POINTS]
    affine, inliers = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC,
        ransacReprojThreshold=max(2.0, 0.02 * face_width), maxIters=2000, confidence=0.995)
    if affine is None:
        return None, None
    matrix = _as_3x3(affine)
    keep = inliers.ravel().astype(bool) if inliers is not None else np.ones(len(source), bool)
    moved = source @ matrix[:2, :2].T + matrix[:2, 2]
    rmse = float(np.sqrt(np.mean(np.sum((moved[keep] - target[keep]) ** 2, axis=1))))
    return matrix, rmse


def _ecc(template: np.ndarray, moving: np.ndarray, initial: np.ndarray
         ) -> tuple[np.ndarray | None, float | None]:
    """ECC affine refinement. ``initial``/result map template -> moving coordinates."""
    import cv2

    warp = initial[:2].astype(np.float32).copy()
    try:
        correlation, warp = cv2.findTransformECC(template, moving, warp, cv2.MOTION_AFFINE,
                                                 _ECC_CRITERIA, None, 5)
    except cv2.error:
        return None, None
    if not np.all(np.isfinite(warp)):
        return None, None
    return _as_3x3(warp.astype(np.float64)), float(correlation)


def _phase_shift(template: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Translation (3x3, template -> moving coordinates) from phase correlation."""
    import cv2

    if moving.shape != template.shape:
        # Phase correlation needs equal sizes: crop or pad the moving image.
        canvas = np.zeros_like(template)
        height = min(template.shape[0], moving.shape[0])
        width = min(template.shape[1], moving.shape[1])
        canvas[:height, :width] = moving[:height, :width]
        moving = canvas
    window = cv2.createHanningWindow(template.shape[::-1], cv2.CV_32F)
    (shift_x, shift_y), _ = cv2.phaseCorrelate(template, moving, window)
    out = np.eye(3)
    out[0, 2], out[1, 2] = shift_x, shift_y
    return out


def _correlation(template: np.ndarray, moving: np.ndarray, template_to_moving: np.ndarray
                 ) -> float:
    """Zero-mean normalised correlation of the template and the warped moving image."""
    import cv2

    height, width = template.shape
    warped = cv2.warpAffine(moving, template_to_moving[:2], (width, height),
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)
    valid = np.isfinite(warped)
    if valid.sum() < 16:
        return float("nan")
    a = template[valid] - template[valid].mean()
    b = warped[valid] - warped[valid].mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def align_to_baseline(baseline_rgb: np.ndarray, followup_rgb: np.ndarray, *,
                      baseline_landmarks: np.ndarray | None = None,
                      followup_landmarks: np.ndarray | None = None) -> Alignment:
    """Warp a follow-up photograph onto its baseline.

    Parameters
    ----------
    baseline_rgb, followup_rgb:
        ``(H, W, 3)`` float32 sRGB images in [0, 1]; sizes may differ.
    baseline_landmarks, followup_landmarks:
        ``(478, 2)`` (or at least 468) FaceMesh landmarks in pixel coordinates, as in
        ``FaceRegions.landmarks``; landmarks are used only when both are given.

    Returns
    -------
    Alignment
        The warped follow-up, the mask of covered pixels, the follow-up -> baseline
        matrix, the method used and its quality figures.

    Notes
    -----
    ECC runs on copies whose long side is :data:`ECC_SIZE` pixels, so on a 12 MP
    photograph one downscaled pixel is about 5 full-resolution pixels and ECC's
    sub-pixel accuracy there is roughly a pixel or two at full resolution. A landmark
    estimate is kept when ECC would move the landmarks more than twice as far from
    their baseline positions (plus 2 px) as the landmark fit does: ECC can lock onto the
    background instead of the face.
    """
    import cv2

    baseline_rgb = np.asarray(baseline_rgb, dtype=np.float32)
    followup_rgb = np.asarray(followup_rgb, dtype=np.float32)
    base_h, base_w = baseline_rgb.shape[:2]
    factor_base = min(1.0, ECC_SIZE / max(base_h, base_w))
    factor_follow = min(1.0, ECC_SIZE / max(followup_rgb.shape[:2]))
    template = _luminance(baseline_rgb, factor_base)
    moving = _luminance(followup_rgb, factor_follow)
    # Small-image coordinates: p_small = S p_full.
    to_small_base, to_small_follow = _scaling(factor_base), _scaling(factor_follow)

    method, rmse, correlation = "identity", None, None
    follow_to_base = np.eye(3)
    have_landmarks = baseline_landmarks is not None and followup_landmarks is not None
    if have_landmarks:
        base_points = np.asarray(baseline_landmarks, dtype=np.float64)
        face_width = float(np.ptp(base_points[:_MESH_POINTS, 0]))
        similarity, rmse = _landmark_similarity(base_points, followup_landmarks, face_width)
        if similarity is not None:
            follow_to_base, method = similarity, "landmarks"

    # ECC works in template (baseline) -> moving (follow-up) small coordinates.
    def to_small(follow_to_base_full: np.ndarray) -> np.ndarray:
        return to_small_follow @ np.linalg.inv(follow_to_base_full) @ np.linalg.inv(to_small_base)

    def to_full(template_to_moving: np.ndarray) -> np.ndarray:
        return np.linalg.inv(np.linalg.inv(to_small_follow) @ template_to_moving @ to_small_base)

    featureless = min(float(template.std()), float(moving.std())) < _MIN_CONTRAST
    if featureless and method == "identity":
        # Nothing to align on (ECC would report a perfect correlation of 1 here).
        refined, ecc_value = None, None
    else:
        if method == "identity":
            follow_to_base = to_full(_phase_shift(template, moving))
            method = "phase_correlation"
        refined, ecc_value = _ecc(template, moving, to_small(follow_to_base))
    if refined is not None:
        candidate = to_full(refined)
        accept = True
        if have_landmarks and rmse is not None:
            follow_points = np.asarray(followup_landmarks, dtype=np.float64)[:_MESH_POINTS]
            base_points = np.asarray(baseline_landmarks, dtype=np.float64)[:_MESH_POINTS]
            moved = follow_points @ candidate[:2, :2].T + candidate[:2, 2]
            ecc_rmse = float(np.sqrt(np.mean(np.sum((moved - base_points) ** 2, axis=1))))
            accept = ecc_rmse <= 2 * rmse + 2.0
            if accept:
                rmse = ecc_rmse
        if accept:
            follow_to_base, correlation = candidate, ecc_value
            method = "landmarks+ecc" if method == "landmarks" else "ecc"
    if correlation is None and not featureless:
        value = _correlation(template, moving, to_small(follow_to_base))
        correlation = value if np.isfinite(value) else None

    base_to_follow = np.linalg.inv(follow_to_base)
    warped = cv2.warpAffine(followup_rgb, base_to_follow[:2], (base_w, base_h),
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    coverage = cv2.warpAffine(np.ones(followup_rgb.shape[:2], dtype=np.uint8),
                              base_to_follow[:2], (base_w, base_h),
                              flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return Alignment(warped=warped, valid_mask=coverage.astype(bool),
                     matrix=follow_to_base / follow_to_base[2, 2], method=method,
                     landmark_rmse_px=rmse, ecc_correlation=correlation)
