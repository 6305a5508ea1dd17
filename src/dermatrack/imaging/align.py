"""Registering a follow-up photograph onto its baseline.

Change per region is only meaningful when the same skin is compared, so the follow-up is
warped into the baseline's frame before the metrics are compared. Everything runs on
downscaled copies (long side at most :data:`WORK_SIZE` pixels) and the matrix is scaled
back, so a 12 MP pair costs about as much as a 1 MP one.

1. **Detail images.** Registration works on band-passed luminance (a difference of
   Gaussians, :data:`DETAIL_SIGMAS_PX`), not on raw luminance. On smooth skin the raw
   image is dominated by the lighting gradient and by mottling a few millimetres across;
   both correlate almost as well shifted by ten pixels as in place, which left ECC stuck
   near its start. Pores, wrinkles and fine texture survive the band-pass and pin the
   alignment down.
2. **Initial estimates.** Candidates are (a) a similarity transform fitted to the 468
   FaceMesh points with RANSAC (``cv2.estimateAffinePartial2D``) when both photographs
   have landmarks; (b) ORB keypoints matched between the detail images, again with a
   RANSAC similarity, when enough matches agree; (c) phase correlation of the windowed
   detail images (Kuglin & Hines 1975) after undoing each rotation and scale of a small
   grid (:data:`ROTATION_GRID_DEG`, :data:`SCALE_GRID`), keeping the sharpest peak, which
   covers low-texture close-ups where keypoints are scarce.
3. **Coarse-to-fine ECC.** Each candidate is refined by ECC maximisation (Evangelidis &
   Psarakis 2008, ``cv2.findTransformECC``, affine) on the coarsest level of a Gaussian
   pyramid of detail images; the best is refined level by level up to the working size.
   ECC's correlation is invariant to brightness and contrast, so exposure changes do not
   bias it.
4. **Quality check.** The final ECC correlation of the detail images is the quality
   figure. Below :data:`MIN_DETAIL_CORRELATION` the alignment is reported as unreliable
   and the result falls back to the landmark fit (faces) or to no transform at all, so a
   comparison never silently uses a wrong registration. With landmarks, an ECC result
   that moves the landmarks much further from their baseline positions than the landmark
   fit does is rejected (ECC can lock onto the background instead of the face).

References
----------
- Evangelidis & Psarakis (2008), "Parametric image alignment using enhanced correlation
  coefficient maximization", IEEE Trans. PAMI 30(10):1858-1865.
- Kuglin & Hines (1975), "The phase correlation image alignment method", Proc. IEEE
  Int. Conf. Cybernetics and Society, 163-165.
- Rublee et al. (2011), "ORB: an efficient alternative to SIFT or SURF", ICCV, 2564-2571.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DETAIL_SIGMAS_PX", "MIN_DETAIL_CORRELATION", "ROTATION_GRID_DEG", "SCALE_GRID",
           "WORK_SIZE", "Alignment", "align_to_baseline", "detail_image"]

#: Long side (pixels) of the working copies; the pyramid halves it down to ~160 px.
WORK_SIZE = 1024
#: Inner and outer Gaussian sigmas (pixels of each pyramid level) of the band-pass.
#: The inner one suppresses sensor noise and JPEG blocks, the outer one removes
#: lighting gradients and mottling broader than about 5 % of the coarsest level.
DETAIL_SIGMAS_PX = (1.0, 5.0)
#: Rotations (degrees) and scales whose inverse is tried before phase correlation. The
#: steps are small enough that ECC's basin on the coarsest level covers the remainder.
ROTATION_GRID_DEG = (-6.0, -3.0, 0.0, 3.0, 6.0)
SCALE_GRID = (0.95, 1.0, 1.05)
#: Detail-image correlation below which no reliable alignment is claimed. Two captures
#: of the same skin correlate at 0.6-0.99 after alignment; a misregistration by more
#: than a pore width, or unrelated images, falls below 0.3.
MIN_DETAIL_CORRELATION = 0.4

_MESH_POINTS = 468  # the iris points (468-477) move with gaze, not with the head
_COARSEST_SIZE = 160  # long side (px) at which the pyramid stops
_ECC_COARSE = (3, 100, 1e-5)  # cv2.TERM_CRITERIA_COUNT | EPS, iterations, epsilon
_ECC_FINE = (3, 50, 1e-6)
_MIN_DETAIL_SD = 1e-4  # detail SD (luminance 0-1) below which there is nothing to align
_MIN_FEATURE_INLIERS = 12  # RANSAC inliers needed to trust an ORB similarity


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
        ``"landmarks+ecc"`` (landmarks, then ECC), ``"ecc"`` (ECC from an intensity
        estimate, see ``initial``), ``"landmarks"`` (ECC rejected or unreliable: the
        landmark fit alone) or ``"identity"`` (no reliable alignment, or an image
        without contrast: nothing was moved).
    landmark_rmse_px:
        Root-mean-square distance, baseline pixels, between the baseline landmarks and
        the transformed follow-up landmarks (RANSAC inliers), or None without landmarks.
    ecc_correlation:
        Correlation coefficient (1 is a perfect match) of the baseline's and the aligned
        follow-up's detail (band-passed luminance) images on the working copies; None
        when the images have no detail or do not overlap.
    reliable:
        True when the result can be trusted: the detail correlation reached
        :data:`MIN_DETAIL_CORRELATION`, or a landmark fit with a small residual was used.
    initial:
        The starting estimate that led to the best ECC result: ``"landmarks"``,
        ``"features"`` (ORB + RANSAC), ``"phase_correlation"`` or ``"none"`` (ECC did not
        run). Set also when that result failed the quality check.
    """

    warped: np.ndarray
    valid_mask: np.ndarray
    matrix: np.ndarray
    method: str
    landmark_rmse_px: float | None
    ecc_correlation: float | None
    reliable: bool = False
    initial: str = "none"


# --- images -----------------------------------------------------------------------------

def _luminance(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Luminance resized to ``size`` = (width, height) by area averaging."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    if (grey.shape[1], grey.shape[0]) != size:
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey


def detail_image(luminance: np.ndarray, sigmas_px: tuple[float, float] = DETAIL_SIGMAS_PX
                 ) -> np.ndarray:
    """Band-passed luminance: a difference of Gaussians (float32, zero mean).

    Parameters
    ----------
    luminance:
        ``(H, W)`` float luminance.
    sigmas_px:
        Inner and outer Gaussian sigmas in pixels.
    """
    import cv2

    luminance = np.asarray(luminance, np.float32)
    fine = cv2.GaussianBlur(luminance, (0, 0), sigmas_px[0], borderType=cv2.BORDER_REFLECT)
    coarse = cv2.GaussianBlur(luminance, (0, 0), sigmas_px[1], borderType=cv2.BORDER_REFLECT)
    out = fine - coarse
    return out - np.float32(out.mean())


def _level_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """(width, height) of each pyramid level, finest (the working size) first."""
    factor = min(1.0, WORK_SIZE / max(width, height))
    sizes = [(max(8, round(width * factor)), max(8, round(height * factor)))]
    while max(sizes[-1]) // 2 >= _COARSEST_SIZE:
        w, h = sizes[-1]
        sizes.append((max(8, round(w / 2)), max(8, round(h / 2))))
    return sizes


def _resize_map(fx: float, fy: float) -> np.ndarray:
    """3x3 map from an image's pixels to those of a copy resized by (fx, fy).

    Pixel centres are aligned (``cv2.resize``'s convention): ``q = (p + 0.5) f - 0.5``.
    Ignoring the half-pixel term would shift a 4x downscaled estimate by 1.5 px.
    """
    return np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1.0]])


def _to_grid(full: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """:func:`_resize_map` from a (width, height) ``full`` image to one of ``size``."""
    return _resize_map(size[0] / full[0], size[1] / full[1])


def _detail_pyramid(rgb: np.ndarray, sizes: list[tuple[int, int]]) -> list[np.ndarray]:
    """Detail images of each pyramid level (luminance downscaled level by level)."""
    import cv2

    luminance = _luminance(rgb, sizes[0])
    out = [detail_image(luminance)]
    for size in sizes[1:]:
        luminance = cv2.resize(luminance, size, interpolation=cv2.INTER_AREA)
        out.append(detail_image(luminance))
    return out


def _as_3x3(affine: np.ndarray) -> np.ndarray:
    out = np.eye(3, dtype=np.float64)
    out[:2] = affine
    return out


# --- initial estimates (all map template = baseline to moving = follow-up coordinates) ---

def _landmark_similarity(baseline_landmarks: np.ndarray, followup_landmarks: np.ndarray,
                         face_width: float) -> tuple[np.ndarray, float] | None:
    """Similarity (3x3, follow-up -> baseline, full pixels) and RMSE over the inliers.

    None when RANSAC finds no similarity.
    """
    import cv2

    source = np.asarray(followup_landmarks, dtype=np.float64)[:_MESH_POINTS]
    target = np.asarray(baseline_landmarks, dtype=np.float64)[:_MESH_POINTS]
    affine, inliers = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC,
        ransacReprojThreshold=max(2.0, 0.02 * face_width), maxIters=2000, confidence=0.995)
    if affine is None:
        return None
    matrix = _as_3x3(affine)
    keep = inliers.ravel().astype(bool) if inliers is not None else np.ones(len(source), bool)
    rmse = _landmark_rmse(matrix, source[keep], target[keep])
    return matrix, rmse


def _landmark_rmse(follow_to_base: np.ndarray, follow_points: np.ndarray,
                   base_points: np.ndarray) -> float:
    moved = follow_points @ follow_to_base[:2, :2].T + follow_to_base[:2, 2]
    return float(np.sqrt(np.mean(np.sum((moved - base_points) ** 2, axis=1))))


def _to_uint8(detail: np.ndarray) -> np.ndarray:
    """Detail image stretched to uint8 (±3 SD) for the keypoint detector."""
    sd = float(detail.std()) or 1.0
    return np.clip(128 + detail * (128 / (3 * sd)), 0, 255).astype(np.uint8)


def _feature_similarity(template: np.ndarray, moving: np.ndarray) -> np.ndarray | None:
    """Similarity (3x3, template -> moving) from ORB matches and RANSAC, or None."""
    import cv2

    orb = cv2.ORB.create(nfeatures=1500, fastThreshold=10)
    kp_t, des_t = orb.detectAndCompute(_to_uint8(template), None)
    kp_m, des_m = orb.detectAndCompute(_to_uint8(moving), None)
    if des_t is None or des_m is None or len(kp_t) < _MIN_FEATURE_INLIERS \
            or len(kp_m) < _MIN_FEATURE_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_t, des_m, k=2)
    # Lowe's ratio test keeps matches clearly better than the runner-up.
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < _MIN_FEATURE_INLIERS:
        return None
    source = np.asarray([kp_t[m.queryIdx].pt for m in good], dtype=np.float32)
    target = np.asarray([kp_m[m.trainIdx].pt for m in good], dtype=np.float32)
    affine, inliers = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC,
                                                  ransacReprojThreshold=2.0)
    if affine is None or inliers is None or int(inliers.sum()) < _MIN_FEATURE_INLIERS:
        return None
    return _as_3x3(affine)


def _phase_similarity(template: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Similarity (3x3, template -> moving) from phase correlation over a rotation/scale grid.

    For each grid rotation and scale ``R`` (about the image centre) the moving image is
    resampled as ``moving(R q)``; phase correlation then finds the shift ``d`` with
    ``moving(R (p + d)) = template(p)``, so the transform is ``R T(d)``. The grid point
    with the highest correlation peak wins.
    """
    import cv2

    height, width = template.shape
    if moving.shape != template.shape:  # phase correlation needs equal sizes
        moving = _crop_or_pad(moving, template.shape)
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    centre = (width / 2 - 0.5, height / 2 - 0.5)
    best, best_response = np.eye(3), -np.inf
    for angle in ROTATION_GRID_DEG:
        for scale in SCALE_GRID:
            rotation = _as_3x3(cv2.getRotationMatrix2D(centre, angle, scale))
            resampled = cv2.warpAffine(moving, rotation[:2], (width, height),
                                       flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            # phaseCorrelate multiplies its inputs by the window in place (OpenCV 4.x).
            (dx, dy), response = cv2.phaseCorrelate(template.copy(), resampled, window)
            if response > best_response:
                shift = np.eye(3)
                shift[0, 2], shift[1, 2] = dx, dy
                best, best_response = rotation @ shift, response
    return best


def _crop_or_pad(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape, np.float32)
    height, width = min(shape[0], image.shape[0]), min(shape[1], image.shape[1])
    canvas[:height, :width] = image[:height, :width]
    return canvas


# --- refinement -------------------------------------------------------------------------

def _ecc(template: np.ndarray, moving: np.ndarray, initial: np.ndarray, criteria
         ) -> tuple[np.ndarray | None, float | None]:
    """ECC affine refinement of ``initial`` (3x3, template -> moving coordinates)."""
    import cv2

    warp = initial[:2].astype(np.float32).copy()
    try:
        # The inputs are already smoothed band-pass images: ECC's own blur stays minimal.
        # OpenCV's stubs do not admit None for the optional input mask.
        correlation, warp = cv2.findTransformECC(  # type: ignore[call-overload]
            template, moving, warp, cv2.MOTION_AFFINE, criteria, None, 1)
    except cv2.error:  # did not converge, or the overlap vanished
        return None, None
    if not np.all(np.isfinite(warp)):
        return None, None
    return _as_3x3(warp.astype(np.float64)), float(correlation)


def _correlation(template: np.ndarray, moving: np.ndarray, template_to_moving: np.ndarray
                 ) -> float | None:
    """Zero-mean normalised correlation of the template and the warped moving image."""
    import cv2

    height, width = template.shape
    warped = cv2.warpAffine(moving, template_to_moving[:2], (width, height),
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)
    valid = np.isfinite(warped)
    if valid.sum() < 64:
        return None
    a = template[valid] - template[valid].mean()
    b = warped[valid] - warped[valid].mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else None


def _rescale(template_to_moving: np.ndarray, base_sizes: list[tuple[int, int]],
             follow_sizes: list[tuple[int, int]], old: int, new: int) -> np.ndarray:
    """Carry a template -> moving matrix from pyramid level ``old`` to level ``new``."""
    def change(sizes):
        return _to_grid(sizes[old], sizes[new])
    return change(follow_sizes) @ template_to_moving @ np.linalg.inv(change(base_sizes))


def _refine(templates: list[np.ndarray], movings: list[np.ndarray],
            base_sizes: list[tuple[int, int]], follow_sizes: list[tuple[int, int]],
            starts: list[tuple[str, np.ndarray]]) -> tuple[str, np.ndarray, float | None]:
    """Coarse-to-fine ECC from the best of several starts.

    Every start (template -> moving on the coarsest level) gets ECC on the coarsest level,
    which is cheap; the one with the highest correlation is refined level by level.
    Returns its name, its matrix on the working level (0) and the detail correlation
    there.
    """
    coarse = len(templates) - 1
    best: tuple[float, str, np.ndarray] | None = None
    for name, start in starts:
        refined, value = _ecc(templates[coarse], movings[coarse], start, _ECC_COARSE)
        if refined is None:
            refined = start
            value = _correlation(templates[coarse], movings[coarse], start)
        if value is not None and (best is None or value > best[0]):
            best = (value, name, refined)
    if best is None:  # no start leaves an overlap
        return "none", np.eye(3), None
    _, name, estimate = best
    for level in range(coarse - 1, -1, -1):
        estimate = _rescale(estimate, base_sizes, follow_sizes, level + 1, level)
        refined, _ = _ecc(templates[level], movings[level], estimate, _ECC_FINE)
        if refined is not None:
            estimate = refined
    return name, estimate, _correlation(templates[0], movings[0], estimate)


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
        matrix, the method used, the starting estimate and the quality figures.

    Notes
    -----
    Designed for re-captures of the same skin: translations up to about 5 % of the image,
    rotations up to about 6 degrees and scale changes of about ±5 % without landmarks
    (larger with landmarks or with enough ORB keypoints). ECC converges to a fraction of
    a pixel of the working copy, so on a 12 MP photograph (4x downscaled) the error is
    about a pixel at full resolution or less.
    """
    import cv2

    baseline_rgb = np.asarray(baseline_rgb, dtype=np.float32)
    followup_rgb = np.asarray(followup_rgb, dtype=np.float32)
    base_h, base_w = baseline_rgb.shape[:2]
    follow_h, follow_w = followup_rgb.shape[:2]
    base_sizes = _level_sizes(base_w, base_h)
    follow_sizes = _level_sizes(follow_w, follow_h)
    if abs(follow_w * base_h - base_w * follow_h) <= 0.01 * base_w * follow_h:
        # Same framing at another resolution: equal working grids keep the pixel scales
        # equal, as phase correlation and the rotation/scale grid assume.
        follow_sizes = base_sizes
    levels = min(len(base_sizes), len(follow_sizes))
    base_sizes, follow_sizes = base_sizes[:levels], follow_sizes[:levels]
    templates = _detail_pyramid(baseline_rgb, base_sizes)
    movings = _detail_pyramid(followup_rgb, follow_sizes)
    coarse = levels - 1

    # Full-resolution follow-up -> baseline  <->  template -> moving on a level.
    def to_level(follow_to_base: np.ndarray, level: int) -> np.ndarray:
        return (_to_grid((follow_w, follow_h), follow_sizes[level])
                @ np.linalg.inv(follow_to_base)
                @ np.linalg.inv(_to_grid((base_w, base_h), base_sizes[level])))

    def to_full(template_to_moving: np.ndarray) -> np.ndarray:
        return np.linalg.inv(np.linalg.inv(_to_grid((follow_w, follow_h), follow_sizes[0]))
                             @ template_to_moving @ _to_grid((base_w, base_h), base_sizes[0]))

    # Landmarks: a starting point and a guard against ECC drifting off the face.
    base_points = np.empty((0, 2))
    follow_points = np.empty((0, 2))
    landmark_fit: tuple[np.ndarray, float] | None = None  # (follow -> base matrix, RMSE px)
    if baseline_landmarks is not None and followup_landmarks is not None:
        base_points = np.asarray(baseline_landmarks, dtype=np.float64)[:_MESH_POINTS]
        follow_points = np.asarray(followup_landmarks, dtype=np.float64)[:_MESH_POINTS]
        landmark_fit = _landmark_similarity(base_points, follow_points,
                                            float(np.ptp(base_points[:, 0])))
    rmse: float | None = landmark_fit[1] if landmark_fit is not None else None

    featureless = min(float(templates[0].std()), float(movings[0].std())) < _MIN_DETAIL_SD
    initial = "none"
    estimate: np.ndarray | None = None
    correlation: float | None = None
    if not featureless:  # (on flat images ECC reports a perfect correlation of 1)
        starts: list[tuple[str, np.ndarray]] = []
        if landmark_fit is not None:
            starts.append(("landmarks", to_level(landmark_fit[0], coarse)))
        features = _feature_similarity(templates[0], movings[0])
        if features is not None:
            starts.append(("features", _rescale(features, base_sizes, follow_sizes,
                                                0, coarse)))
        starts.append(("phase_correlation",
                       _phase_similarity(templates[coarse], movings[coarse])))
        initial, estimate, correlation = _refine(templates, movings, base_sizes,
                                                 follow_sizes, starts)

    # The refined estimate, kept only while it passes the checks below.
    accepted: np.ndarray | None = None
    if estimate is not None and correlation is not None \
            and correlation >= MIN_DETAIL_CORRELATION:
        accepted = estimate
    if accepted is not None and landmark_fit is not None:
        # FaceMesh residuals of the landmark fit are normal; more than twice them (plus
        # 2 px) means ECC followed the background or the hair rather than the face.
        drift = _landmark_rmse(to_full(accepted), follow_points, base_points)
        if not drift <= 2 * landmark_fit[1] + 2.0:  # (written so that NaN rejects)
            accepted = None
    if accepted is not None:
        follow_to_base, reliable = to_full(accepted), True
        if landmark_fit is not None:
            method = "landmarks+ecc"
            rmse = _landmark_rmse(follow_to_base, follow_points, base_points)
        else:
            method = "ecc"
    elif landmark_fit is not None:
        # No trustworthy refinement: keep the landmark fit; its residual says whether it
        # can be trusted.
        follow_to_base, method = landmark_fit[0], "landmarks"
        reliable = landmark_fit[1] <= max(3.0, 0.02 * float(np.ptp(base_points[:, 0])))
    else:
        # No reliable alignment exists: say so and move nothing rather than warp by a
        # guess.
        follow_to_base, method, reliable = np.eye(3), "identity", False
    if accepted is None and not featureless:
        correlation = _correlation(templates[0], movings[0], to_level(follow_to_base, 0))

    base_to_follow = np.linalg.inv(follow_to_base)
    warped = cv2.warpAffine(followup_rgb, base_to_follow[:2], (base_w, base_h),
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    coverage = cv2.warpAffine(np.ones((follow_h, follow_w), dtype=np.uint8),
                              base_to_follow[:2], (base_w, base_h),
                              flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return Alignment(warped=warped, valid_mask=coverage.astype(bool),
                     matrix=follow_to_base / follow_to_base[2, 2], method=method,
                     landmark_rmse_px=rmse, ecc_correlation=correlation,
                     reliable=bool(reliable), initial=initial)
