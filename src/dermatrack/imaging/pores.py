"""Pores: dark round blobs found by a difference-of-Gaussians scale space on L*.

A pore opening appears as a small dark disc (shadowed). Modelled as a Gaussian dark blob
of depth ``h`` (L*) and profile SD ``s``, its response to the difference of Gaussians
``D(sigma) = G(k sigma) * L - G(sigma) * L`` (an approximation of the scale-normalised
Laplacian; Lowe 2004) at the blob centre is ``h [s^2/(s^2 + sigma^2) - s^2/(s^2 +
k^2 sigma^2)]``, maximal at ``sigma = s / sqrt(k)`` with value ``h (k - 1)/(k + 1)``.
The detector takes local maxima of ``D`` over space and scale, converts them to the
contrast ``h`` and diameter (full width at half depth, ``2.355 s``) by those formulas
(with parabolic interpolation between scales), and keeps blobs with:

* diameter within ``DIAMETER_RANGE_MM`` (0.1-0.6 mm; enlarged facial pores are about
  0.25-0.5 mm across; larger dark round areas are spots);
* contrast at least ``MIN_CONTRAST_L`` and ``NOISE_MULTIPLE`` robust SDs of the DoG
  response (noise plus skin texture);
* centres outside detected wrinkles and spots.

The wider levels are computed on the image shrunk by powers of two (an octave pyramid,
as in Lowe 2004), which keeps a 12 MP close-up to a fraction of a second.

Figures: ``count``, ``density_per_cm2`` (count per cm2 of region) and
``mean_diameter_mm``. Blobs below about 2 px across cannot be resolved: at a coarse
pixel size the count is a lower bound, so compare images taken at the same distance.

References
----------
Lindeberg T. Feature detection with automatic scale selection. IJCV 30(2):79-116, 1998.
Lowe DG. Distinctive image features from scale-invariant keypoints. IJCV 60(2):91-110,
2004. Haut.ai pore metrics (number and density) and VISIA (pores told from spots by size):
see the measurement reference, section 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from dermatrack.imaging._filters import gaussian, resize_to

__all__ = ["DIAMETER_RANGE_MM", "MIN_CONTRAST_L", "PoreDetection", "PoreMetrics",
           "detect_pores", "pore_metrics"]

FWHM_PER_SD = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: Pore diameters looked for (full width at half depth, mm).
DIAMETER_RANGE_MM = (0.1, 0.6)
#: A pore is at least this much darker than the skin around it (L*), about one
#: just-noticeable difference.
MIN_CONTRAST_L = 2.5
#: Contrast threshold in robust SDs of the DoG (noise and skin texture): a scale-space
#: maximum is tested at every pixel, so the one-sided tail must be tiny (5 SD: p = 2.9e-7,
#: under one false pore per megapixel for Gaussian texture).
NOISE_MULTIPLE = 5.0
#: Fewest skin pixels sampled for each level's noise estimate (the relative standard
#: error of the estimate is then about 0.2 %).
NOISE_SAMPLES = 2 ** 18
#: Ratio between successive DoG scales.
SCALE_RATIO = math.sqrt(2.0)
#: Finest resolvable Gaussian scale (px).
MIN_SIGMA_PX = 1.0
#: Diameter range in px when the physical scale is unknown.
UNKNOWN_SCALE_DIAMETER_PX = (2.5, 10.0)
#: Octave pyramid: a DoG level is computed on the image shrunk by the largest power of
#: two f at which the finest Gaussian it is compared with is still about this many
#: shrunk pixels wide (the same floor as ``MIN_SIGMA_PX``), so every sampled kernel stays
#: Gaussian; a level shrunk by f costs 1/f**2 of a full-size one.
OCTAVE_MIN_SIGMA_PX = MIN_SIGMA_PX


@dataclass
class PoreDetection:
    """Detected pores: centres (x, y) and diameters in px of the image given."""

    xy: np.ndarray
    diameter_px: np.ndarray
    contrast_l: np.ndarray
    mm_per_px: float | None
    shape: tuple[int, int]

    def mask(self, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Discs of the detected diameters, drawn at ``shape`` (default: detection size)."""
        shape = shape or self.shape
        scale = shape[1] / self.shape[1]
        canvas = np.zeros(shape, np.uint8)
        for (x, y), d in zip(self.xy * scale, self.diameter_px * scale, strict=True):
            cv2.circle(canvas, (int(round(x)), int(round(y))), max(int(round(d / 2)), 1),
                       255, -1)
        return canvas > 0


@dataclass(frozen=True)
class PoreMetrics:
    """Pore figures for one region (see the module docstring)."""

    count: int
    density_per_cm2: float | None
    mean_diameter_mm: float | None


def detect_pores(lstar: np.ndarray, skin: np.ndarray, mm_per_px: float | None, *,
                 exclude: np.ndarray | None = None) -> PoreDetection:
    """Detect pores on an L* image (pixel size ``mm_per_px``; None if unknown)."""
    lum = np.asarray(lstar, np.float32)
    shape = lum.shape
    if mm_per_px is None:
        d_lo, d_hi = UNKNOWN_SCALE_DIAMETER_PX
    else:
        d_lo, d_hi = (d / mm_per_px for d in DIAMETER_RANGE_MM)
    k = SCALE_RATIO
    # DoG level sigma peaks for blobs of SD s = sigma sqrt(k).
    s_lo, s_hi = d_lo / FWHM_PER_SD, d_hi / FWHM_PER_SD
    sig_lo = max(s_lo / math.sqrt(k), MIN_SIGMA_PX)
    sig_hi = max(s_hi / math.sqrt(k), sig_lo)
    n_levels = int(math.ceil(math.log(sig_hi / sig_lo) / math.log(k))) + 3
    sigmas = [sig_lo * k ** (i - 1) for i in range(n_levels)]  # one level each side
    gain = np.float32((k + 1.0) / (k - 1.0))
    skin = np.asarray(skin, bool)
    # A blob cut by the frame, or by the edge of the skin, cannot be measured: keep
    # centres a blob radius inside both. (A ruler's tick marks touching the skin of a
    # close-up were counted as a row of pores along its edge.)
    edge = int(math.ceil(d_hi / 2.0)) + 1
    usable = skin.copy()
    if not skin.all():
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1))
        usable = cv2.erode(skin.astype(np.uint8), disc) > 0
    if exclude is not None:
        usable &= ~np.asarray(exclude, bool)
    usable[:edge, :] = usable[-edge:, :] = False
    usable[:, :edge] = usable[:, -edge:] = False

    # Level i (1 .. n - 2) peaks for blobs of SD sigmas[i] sqrt(k) and is compared with
    # levels i - 1 and i + 1; levels 0 and n - 1 only bound the others. The levels are
    # grouped into octaves (Lowe 2004; OCTAVE_MIN_SIGMA_PX): on a 12 MP close-up the
    # wider half of the levels runs on a quarter or a sixteenth of the pixels.
    octaves: dict[int, list[int]] = {}
    for i in range(1, n_levels - 1):
        octaves.setdefault(_octave(sigmas[i - 1]), []).append(i)
    xs, ys, ds, cs = [], [], [], []
    for factor, levels in octaves.items():
        found = _octave_peaks(lum, skin, usable, factor, levels, sigmas, gain)
        for i, (yy, xx, lo, mid, hi) in zip(levels, found, strict=True):
            sigma = sigmas[i] * k ** _vertex(lo, mid, hi)
            diameter = FWHM_PER_SD * sigma * math.sqrt(k)
            ok = (diameter >= d_lo) & (diameter <= d_hi)
            # A shrunk pixel j averages full-size pixels j f .. j f + f - 1.
            xs.append(xx[ok] * factor + (factor - 1) / 2.0)
            ys.append(yy[ok] * factor + (factor - 1) / 2.0)
            ds.append(diameter[ok])
            cs.append(mid[ok])
    if xs:
        xy = np.stack([np.concatenate(xs), np.concatenate(ys)], axis=1).astype(np.float64)
        diam = np.concatenate(ds).astype(np.float64)
        contrast = np.concatenate(cs).astype(np.float64)
        xy, diam, contrast = _suppress_overlaps(xy, diam, contrast)
    else:
        xy, diam, contrast = np.zeros((0, 2)), np.zeros(0), np.zeros(0)
    return PoreDetection(xy=xy, diameter_px=diam, contrast_l=contrast, mm_per_px=mm_per_px,
                         shape=shape)


def _octave(sigma: float) -> int:
    """Shrink factor for a DoG triple whose finest Gaussian has SD ``sigma`` (px)."""
    factor = 1
    while sigma >= OCTAVE_MIN_SIGMA_PX * factor * 2:
        factor *= 2
    return factor


def _octave_peaks(lum: np.ndarray, skin: np.ndarray, usable: np.ndarray, factor: int,
                  levels: list[int], sigmas: list[float], gain: np.float32
                  ) -> list[tuple[np.ndarray, ...]]:
    """Scale-space maxima of the DoG levels ``levels`` (consecutive) on ``lum`` shrunk by
    ``factor``: for each level, the peaks' rows and columns (shrunk pixels, refined to a
    fraction of a pixel) and the DoG of the level below, the level and the level above
    at them."""
    k = SCALE_RATIO
    if factor > 1:
        # Area averaging adds a box blur of variance (f**2 - 1) / 12 full-size px**2,
        # taken off each Gaussian below; the centre sample of usable keeps the rule
        # "the centre pixel is usable".
        h, w = lum.shape[0] // factor, lum.shape[1] // factor
        lum = cv2.resize(lum[:h * factor, :w * factor], (w, h), interpolation=cv2.INTER_AREA)
        centre = factor // 2
        skin = skin[centre::factor, centre::factor][:h, :w]
        usable = usable[centre::factor, centre::factor][:h, :w].copy()
        usable[0, :] = usable[-1, :] = usable[:, 0] = usable[:, -1] = False
    pre_blur = (factor * factor - 1) / 12.0

    def shrunk_sigma(j: int) -> float:
        sigma = sigmas[j] if j < len(sigmas) else sigmas[-1] * k
        return math.sqrt(max(sigma * sigma - pre_blur, 0.0)) / factor

    # The noise of each DoG level is estimated on a regular sample of the skin: every
    # other pixel, or sparser on very large images (at least NOISE_SAMPLES pixels).
    stride = max(2 if factor == 1 else 1,
                 int(math.sqrt(np.count_nonzero(skin) / NOISE_SAMPLES)))
    sub = skin[::stride, ::stride]
    blurred: dict[int, np.ndarray] = {}

    # Stream through the octave's levels, holding three DoG levels at a time.
    def level(i: int, thresholded: bool) -> tuple[np.ndarray, float]:
        for j in (i, i + 1):
            if j not in blurred:
                blurred[j] = gaussian(lum, shrunk_sigma(j))
        dog = np.subtract(blurred[i + 1], blurred.pop(i))
        dog *= gain
        if not thresholded:
            return dog, math.inf
        # Noise (and texture) differs between scales: one threshold per level.
        noise = _robust_sd(dog[::stride, ::stride][sub]) if sub.any() else 0.0
        return dog, max(MIN_CONTRAST_L, NOISE_MULTIPLE * noise)

    window = [level(levels[0] - 1, False), level(levels[0], True)]
    found: list[tuple[np.ndarray, ...]] = []
    for i in levels:
        window.append(level(i + 1, i + 1 in levels))
        (lo_dog, _), (mid_dog, thr), (hi_dog, _) = window
        window.pop(0)
        # Scale-space maxima, tested only where the level clears its threshold (few
        # pixels): at least its 8 neighbours, above the 9 below, at least the 9 above.
        # ``usable`` keeps the candidates off the frame, so the neighbours exist.
        yy, xx = np.nonzero((mid_dog >= thr) & usable)
        mid = mid_dog[yy, xx]
        peak = ((mid >= _neighbourhood_max(mid_dog, yy, xx))
                & (mid > _neighbourhood_max(lo_dog, yy, xx))
                & (mid >= _neighbourhood_max(hi_dog, yy, xx)))
        yy, xx = yy[peak], xx[peak]
        found.append((yy + _vertex(mid_dog[yy - 1, xx], mid_dog[yy, xx], mid_dog[yy + 1, xx]),
                      xx + _vertex(mid_dog[yy, xx - 1], mid_dog[yy, xx], mid_dog[yy, xx + 1]),
                      lo_dog[yy, xx], mid_dog[yy, xx], hi_dog[yy, xx]))
    return found


def _vertex(before: np.ndarray, at: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Offset (-0.5 to 0.5 samples) of the vertex of the parabola through three samples
    around a maximum: the sub-sample position of a peak in space or scale."""
    denom = before - 2 * at + after
    offset = np.where(np.abs(denom) > 1e-6, 0.5 * (before - after) / np.where(
        denom == 0, 1, denom), 0.0)
    return np.clip(offset, -0.5, 0.5)


def _suppress_overlaps(xy: np.ndarray, diam: np.ndarray, contrast: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the strongest of blobs whose centres lie within each other's radius."""
    from scipy.spatial import cKDTree

    order = np.argsort(-contrast)
    xy, diam, contrast = xy[order], diam[order], contrast[order]
    tree = cKDTree(xy)
    alive = np.ones(len(xy), bool)
    for i in range(len(xy)):
        if not alive[i]:
            continue
        for j in tree.query_ball_point(xy[i], r=max(diam[i] / 2.0, 1.0)):
            if j > i:
                alive[j] = False
    return xy[alive], diam[alive], contrast[alive]


def _neighbourhood_max(image: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Maximum of ``image`` over the 3x3 neighbourhood of each pixel (ys, xs), which
    must lie at least one pixel inside the frame (a sparse ``cv2.dilate``)."""
    out = image[ys, xs]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                np.maximum(out, image[ys + dy, xs + dx], out=out)
    return out


def _robust_sd(values: np.ndarray) -> float:
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def pore_metrics(pores: PoreDetection, region: np.ndarray) -> PoreMetrics:
    """Pore figures over ``region`` (bool mask, resampled to the detection's shape)."""
    reg = resize_to(np.asarray(region, bool), pores.shape)
    area_px = int(reg.sum())
    if len(pores.xy):
        ix = np.clip(np.round(pores.xy[:, 0]).astype(int), 0, pores.shape[1] - 1)
        iy = np.clip(np.round(pores.xy[:, 1]).astype(int), 0, pores.shape[0] - 1)
        inside = reg[iy, ix]
    else:
        inside = np.zeros(0, bool)
    count = int(inside.sum())
    mm = pores.mm_per_px
    if mm is None or area_px == 0:
        return PoreMetrics(count, None, None)
    area_cm2 = area_px * mm * mm / 100.0
    mean_d = float(np.mean(pores.diameter_px[inside]) * mm) if count else None
    return PoreMetrics(count=count, density_per_cm2=count / area_cm2,
                       mean_diameter_mm=mean_d)
