"""Wrinkle detection and measurement on luminance (L*).

A wrinkle seen in a photograph is a *valley*: a line darker than the skin on both sides.
Across a valley the luminance has a positive second derivative and a zero first
derivative at the centre; along it, both are small. The detector:

1. resamples L* so the finest wrinkle scale is ``FINEST_SCALE_PX`` (``WORKING_PIXEL_MM``),
   float32;
2. at each scale ``sigma`` computes the scale-normalised Hessian eigenvalues
   ``l1 >= l2`` and gradient ``g`` (Lindeberg 1998) and the *edge-suppressed valleyness*
   ``V = l1 - |l2| - 2 g``: ``- |l2|`` removes blobs (pores, spots: ``l1 ~ l2``),
   ``- 2 g`` removes the dark side of step edges (see ``EDGE_WEIGHT``), while a valley
   floor has ``g = 0``. Combining the Hessian with the
   gradient is the idea of the Hybrid Hessian Filter (Ng et al. 2014);
3. keeps the maximum over scales, thresholds it with hysteresis relative to a robust
   noise estimate and a minimum visible depth, keeps elongated components at least
   ``MIN_LENGTH_MM`` long, rejects hair (very dark, very thin lines), and skeletonises.

For a Gaussian valley of depth ``h`` (L*) and profile SD ``s`` the normalised response
``sigma**2 * L''`` peaks at ``sigma = sqrt(2) s`` with value ``2 h / (3 sqrt 3)``; the
detector inverts this to estimate each wrinkle pixel's depth and width (full width at
half depth, ``2 sqrt(2 ln 2) s``). Lighting gradients and mottling have negligible
curvature at these scales and give no response.

References
----------
Lindeberg T. Edge detection and ridge detection with automatic scale selection. IJCV
30(2):117-156, 1998. Frangi AF et al. Multiscale vessel enhancement filtering. MICCAI
1998. Ng CC, Yap MH, Costen N, Li B. Automatic wrinkle detection using hybrid Hessian
filter. ACCV 2014, LNCS 9005. Cula GO et al. Assessing facial wrinkles: automatic
detection and quantification. Skin Res Technol 19(1), 2013.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from dermatrack.imaging._filters import hessian_eigenvalues, resize_to, skeleton_length_map

__all__ = [
    "EDGE_STEP_VISIBLE_L",
    "MIN_DEPTH_L",
    "MIN_LENGTH_MM",
    "WIDTH_RANGE_MM",
    "WORKING_PIXEL_MM",
    "WrinkleDetection",
    "WrinkleMetrics",
    "detect_wrinkles",
    "is_portrait",
    "measure_wrinkles",
    "widest_line_px",
    "wrinkle_metrics",
]

FWHM_PER_SD = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: Full width at half depth of the wrinkles looked for (mm): fine lines of 0.3 mm up to
#: moderate wrinkles of 2 mm; deeper folds are wider than a wrinkle.
WIDTH_RANGE_MM = (0.3, 2.0)
#: The finest scale (sigma = sqrt(2) * 0.3 mm / 2.355 = 0.18 mm) spans this many working
#: pixels: enough for the second differences to be accurate (error ~ 1/(12 sigma**2)).
FINEST_SCALE_PX = 1.2
WORKING_PIXEL_MM = math.sqrt(2.0) * WIDTH_RANGE_MM[0] / FWHM_PER_SD / FINEST_SCALE_PX
#: A valley must be at least this much darker than its surround (L*) to count: about
#: one just-noticeable colour difference (Delta E*ab ~ 2.3, Sharma & Trussell 1997).
MIN_DEPTH_L = 2.3
#: Noise multiple for the high hysteresis threshold (4 robust SD: ~3e-5 false alarms
#: per pixel for Gaussian noise); the low threshold is half the high one.
NOISE_MULTIPLE = 4.0
#: Shortest wrinkle counted (mm); shorter valleys are skin texture (the skin's
#: microrelief cells are ~0.5-1 mm across).
MIN_LENGTH_MM = 3.0
#: A component must be at least this many times longer than wide (length**2 / area).
MIN_ELONGATION = 4.0
#: Hair: darker than this below the surround (L*) and thinner than HAIR_MAX_WIDTH_MM.
HAIR_MIN_DEPTH_L = 30.0
HAIR_MAX_WIDTH_MM = 0.25
#: Weight of the gradient term. A blurred step edge of height H has, at distance
#: u sigma inside its dark side, l1 = H phi(u) |u| and g = H phi(u); with weight 2,
#: l1 - 2 g <= 0.009 H everywhere (maximum at |u| = 1 + sqrt 2), so the rims of spots and
#: shadows give no valley; a valley floor has g = 0 and keeps its full response.
EDGE_WEIGHT = 2.0
#: Ratio between successive scales of the valley filter.
SCALE_RATIO = 1.6
#: Without a physical scale the detector works at this long side (px) and its scales
#: are in working pixels (FINEST_SCALE_PX to 6.7 times that).
UNKNOWN_SCALE_LONG_SIDE = 1600

# Portrait tier. A photograph coarser than WORKING_PIXEL_MM (a portrait: 0.2-1 mm/px from
# the iris) cannot show the 0.3 mm fine lines; what it shows are the wider shadows of
# wrinkles and folds. So that the same face photographed at 0.3 or 0.8 mm/px gives the
# same millimetres, portraits are all resampled to one grid (PORTRAIT_PIXEL_MM) and
# filtered at scales no finer than the coarsest pixel accepted (PORTRAIT_MAX_MM_PER_PX):
# every accepted input resolves every scale used, so the result does not depend on the
# pixel count. Coarser photographs get no wrinkle figures (null with a reason).
#: Full width at half depth of the wrinkles looked for on portraits (mm): the finest
#: scale, sigma = sqrt(2) * 1.33 / 2.355 = 0.8 mm, is one pixel of the coarsest portrait
#: accepted; 4 mm is the widest crease that is still a line rather than a fold.
PORTRAIT_WIDTH_RANGE_MM = (1.33, 4.0)
#: Coarsest input pixel (mm) for portrait wrinkles: the finest filter scale in mm.
PORTRAIT_MAX_MM_PER_PX = 0.8
#: Grid of the portrait tier (mm): the finest scale spans 2 grid pixels.
PORTRAIT_PIXEL_MM = 0.4
#: Shortest wrinkle on a portrait (mm): 1.5 times the widest width looked for, so that a
#: round shadow of the widest scale cannot pass as a line.
PORTRAIT_MIN_LENGTH_MM = 6.0
#: Shading on a portrait: a face is curved on the scale of centimetres, so at portrait
#: resolution the light falls off across a forehead or a cheek by several L* within a
#: wrinkle's width, and the gradient term (EDGE_WEIGHT) would take such a slope for the
#: side of a step edge and suppress the wrinkle on it. On portraits the gradient is
#: therefore measured after removing the shading, a Gaussian mean over the skin with
#: this SD (mm): five times the widest wrinkle scale (2.4 mm), so the wrinkles
#: themselves are not part of it. A linear ramp is removed exactly; a step edge (hair,
#: glasses, the face contour) keeps its gradient. The curvatures, and so depth and
#: width, come from L* as it is.
SHADING_SIGMA_MM = 12.0
#: Gradient weight on portraits. Real skin at portrait resolution carries texture
#: (pores, mottling, fine lines below the tier) whose gradients are comparable to a
#: wrinkle's curvature, and weight 2 suppressed real and rendered wrinkles alike. The
#: strong step edges that weight 2 was for (hair, brows, glasses, lids, the face contour)
#: are excluded by the landmark bands on portraits; with weight 1 a blurred step of
#: height H still gives at most l1 - g = 0.067 H (1.6 SD inside its dark side), so only
#: steps above 13 L* (a deep shadow) can reach the 0.885 threshold.
PORTRAIT_EDGE_WEIGHT = 1.0

_DEPTH_PER_RESPONSE = 3.0 * math.sqrt(3.0) / 2.0


def _step_edge_response(edge_weight: float) -> float:
    """Largest valleyness ``l1 - w g`` on the dark side of a blurred step edge of unit
    height: ``max_u phi(u) (u - w)``, at ``u = (w + sqrt(w**2 + 4)) / 2`` (see
    ``EDGE_WEIGHT``)."""
    u = (edge_weight + math.sqrt(edge_weight ** 2 + 4.0)) / 2.0
    return math.exp(-u * u / 2.0) / math.sqrt(2.0 * math.pi) * (u - edge_weight)


#: The smallest luminance step (L*) whose dark side can reach the detection threshold
#: (the visible depth, ``MIN_DEPTH_L``) with the portrait tier's gradient weight, the
#: lower of the two tiers' (13.3 L*; with ``EDGE_WEIGHT`` it would be 98 L*). An edge
#: with a smaller step cannot be taken for a wrinkle, so it needs no exclusion band.
EDGE_STEP_VISIBLE_L = (MIN_DEPTH_L / _DEPTH_PER_RESPONSE
                       / _step_edge_response(PORTRAIT_EDGE_WEIGHT))


@dataclass
class WrinkleDetection:
    """Full-image wrinkle maps at the working resolution (computed once per image).

    Attributes
    ----------
    mask : (h, w) bool, pixels of kept valleys
    skeleton : (h, w) bool, their one-pixel centrelines
    length_px : (h, w) float32, centreline length each pixel contributes to the figures:
        its share of the centreline times the band edges' weight and the tests' weight
        (:func:`band_edge_weight`, :func:`pass_weight`); also on the centrelines of lines
        just short of the tests for a line, which are not in ``skeleton``
    depth_l : (h, w) float32, estimated depth below the surround (L*) on the skeleton
    contrast_pct : (h, w) float32, the same as a relative luminance deficit (Weber
        contrast, %), independent of exposure
    width_px : (h, w) float32, estimated full width at half depth on the skeleton
    labels : (h, w) int32, component label of each pixel with a centreline (0 elsewhere)
    pixel_mm : float or None, working pixel size (mm); None when the scale is unknown
    factor : float, working pixel size in input pixels
    noise : float, robust noise SD of the finest-scale response (L*)
    origin : (x, y) of the maps' top-left corner in input pixels (the analysis computes
        the maps in a window around the skin)
    """

    mask: np.ndarray
    skeleton: np.ndarray
    length_px: np.ndarray
    depth_l: np.ndarray
    contrast_pct: np.ndarray
    width_px: np.ndarray
    labels: np.ndarray
    pixel_mm: float | None
    factor: float
    noise: float
    origin: tuple[float, float] = (0.0, 0.0)

    def centreline_points(self) -> np.ndarray:
        """Skeleton pixel centres as (x, y) in input-image pixels, shape (n, 2)."""
        return self._pixel_centres(self.skeleton)

    def part_counted_points(self) -> np.ndarray:
        """Centreline pixel centres, as :meth:`centreline_points`, of the lines just
        short of the tests for a line, which add part of their length to the figures but
        are not lines found (see ``PEAK_SOFTNESS``)."""
        return self._pixel_centres((self.length_px > 0) & ~self.skeleton)

    def _pixel_centres(self, pixels: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(pixels)
        x0, y0 = self.origin
        return np.stack([(xs + 0.5) * self.factor - 0.5 + x0,
                         (ys + 0.5) * self.factor - 0.5 + y0], axis=1).astype(np.float64)


@dataclass(frozen=True)
class WrinkleMetrics:
    """Wrinkle figures for one region.

    count: wrinkles (skeleton components) touching the region; length_mm: total
    centreline length inside it (8-connected, diagonal steps sqrt 2); density_mm_per_cm2:
    length per cm2 of region; mean_width_mm: length-weighted mean full width at half
    depth; area_fraction: wrinkle pixels / region pixels; severity_index: sum over the
    centreline of depth x length, per cm2 of region, with depth the valley's Weber
    contrast (luminance deficit below the surrounding skin, %), so that the index grows
    with both depth and length and does not change with exposure (% mm / cm2; a 10 mm
    wrinkle 10 % darker than its surround in a 1 cm2 region scores 100). Millimetre
    figures are None when the physical scale is unknown.
    """

    count: int
    length_mm: float | None
    density_mm_per_cm2: float | None
    mean_width_mm: float | None
    area_fraction: float
    severity_index: float | None


def is_portrait(mm_per_px: float | None) -> bool:
    """True when a photograph of this pixel size (mm) is measured in the portrait tier
    (more than 2 % coarser than the close-up working pixel, ``WORKING_PIXEL_MM``; the
    margin absorbs the rounding of resampled image sizes)."""
    return mm_per_px is not None and mm_per_px > WORKING_PIXEL_MM * 1.02


def working_pixel_mm(mm_per_px: float | None) -> float | None:
    """The working pixel size (mm) of the wrinkle, spot and redness maps for a
    photograph of pixel size ``mm_per_px``: ``WORKING_PIXEL_MM`` for close-ups, where
    finer pixels are averaged down; ``PORTRAIT_PIXEL_MM`` for every portrait, whatever
    its own pixel size (resampled up or down); None when the scale is unknown."""
    if mm_per_px is None:
        return None
    if is_portrait(mm_per_px):
        return PORTRAIT_PIXEL_MM
    return max(WORKING_PIXEL_MM, mm_per_px)


def width_range_mm(pixel_mm: float | None) -> tuple[float, float]:
    """Widths (full width at half depth, mm) looked for at working pixel ``pixel_mm``."""
    return PORTRAIT_WIDTH_RANGE_MM if is_portrait(pixel_mm) else WIDTH_RANGE_MM


def working_factor(shape: tuple[int, int], mm_per_px: float | None) -> float:
    """Input pixels per working pixel for an image of ``shape``: >= 1 for close-ups
    and unknown scales; any value for portraits, which are brought to one grid."""
    if mm_per_px is None:
        return max(1.0, max(shape[:2]) / UNKNOWN_SCALE_LONG_SIDE)
    pixel = working_pixel_mm(mm_per_px)
    assert pixel is not None
    return pixel / mm_per_px


def widest_line_px(shape: tuple[int, int], mm_per_px: float | None) -> float:
    """Full width at half depth, in input pixels, of the widest line looked for in a
    photograph of ``shape`` and pixel size ``mm_per_px`` (mm, or None): a dark area wider
    than this is not a wrinkle."""
    pixel = working_pixel_mm(mm_per_px)
    widest_sd = _scales_px(pixel)[-1] / math.sqrt(2.0)  # the scale is sqrt(2) profile SDs
    return widest_sd * FWHM_PER_SD * working_factor(shape, mm_per_px)


def step_edge_reach_mm(mm_per_px: float) -> float:
    """Distance (mm) from a step up to something brighter (a ruler, a white sticker, a
    bright background) at which the widest filter scale's valleyness on the skin's side
    peaks: ``u* sigma``, with ``u* = (w + sqrt(w**2 + 4)) / 2`` scale SDs for the
    gradient weight ``w`` (see :func:`_step_edge_response`). Its peak is small (0.009 of
    the step with ``EDGE_WEIGHT``), but a step of 50 L* puts it at half the threshold,
    and skin texture then lifts stretches of it over into a line parallel to the edge."""
    pixel = working_pixel_mm(mm_per_px)
    assert pixel is not None
    weight = PORTRAIT_EDGE_WEIGHT if is_portrait(pixel) else EDGE_WEIGHT
    u = (weight + math.sqrt(weight * weight + 4.0)) / 2.0
    return u * _scales_px(pixel)[-1] * pixel


def _scales_px(pixel_mm: float | None) -> list[float]:
    lo_sd, hi_sd = (math.sqrt(2.0) * w / FWHM_PER_SD for w in width_range_mm(pixel_mm))
    if pixel_mm is None:
        lo, hi = FINEST_SCALE_PX, FINEST_SCALE_PX * hi_sd / lo_sd
    else:
        lo, hi = max(lo_sd / pixel_mm, 1.0), hi_sd / pixel_mm
    n = max(int(math.ceil(math.log(hi / lo) / math.log(SCALE_RATIO))), 0) + 1
    return [float(v) for v in np.geomspace(lo, hi, n)] if n > 1 else [lo]


def _robust_sd(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _scale_response(lum: np.ndarray, sigma: float, unshaded: np.ndarray | None = None,
                    edge_weight: float = EDGE_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """``l1`` and the valleyness ``l1 - |l2| - EDGE_WEIGHT g`` at scale ``sigma`` (px).

    Computed at full working resolution: the gradient magnitude has a kink at a valley
    floor, so a decimated computation would blur exactly the place that matters.
    ``unshaded``, when given, is ``lum`` without its shading (see ``SHADING_SIGMA_MM``):
    the gradient term is taken from it, the curvatures from ``lum``.
    """
    l1, l2, grad = hessian_eigenvalues(lum, sigma)
    if unshaded is not None:
        grad = hessian_eigenvalues(unshaded, sigma)[2]
    # In place: on a 12 MP photograph each temporary is tens of MB.
    np.abs(l2, out=l2)
    grad *= np.float32(edge_weight)
    l2 += grad
    return l1, np.subtract(l1, l2, out=grad)


def _valleyness_coarse(lum: np.ndarray, sigma: float, unshaded: np.ndarray | None = None
                       ) -> np.ndarray:
    """Valleyness at the large ``sigma`` used only to reject too-wide structures,
    computed at half resolution (a quarter of the cost; precise enough for a
    comparison, and never used for depth, width or position)."""
    if unshaded is not None:
        return _scale_response(lum, sigma, unshaded, PORTRAIT_EDGE_WEIGHT)[1]
    if sigma < 6.0 or min(lum.shape) < 32:
        return _scale_response(lum, sigma)[1]
    half = resize_to(lum, (lum.shape[0] // 2, lum.shape[1] // 2))
    return resize_to(_scale_response(half, sigma / 2.0)[1], lum.shape)


def _select_scale(responses: np.ndarray, scales: list[float], ys: np.ndarray,
                  xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale (px) and value of the maximum of ``responses`` over scales at pixels
    (ys, xs), refined by a parabola through the neighbouring scales in log sigma."""
    if ys.size == 0:
        return np.zeros(0), np.zeros(0)
    r = responses[:, ys, xs].astype(np.float64)
    k = np.argmax(r, axis=0)
    value = r[k, np.arange(k.size)]
    log_sigma = np.log(np.asarray(scales))[k]
    inner = (k > 0) & (k < len(scales) - 1)
    if inner.any():
        idx = np.nonzero(inner)[0]
        y0, y1, y2 = r[k[idx] - 1, idx], r[k[idx], idx], r[k[idx] + 1, idx]
        denom = y0 - 2 * y1 + y2
        off = np.where(denom < 0, 0.5 * (y0 - y2) / np.where(denom < 0, denom, -1), 0.0)
        off = np.clip(off, -0.5, 0.5)
        log_sigma[idx] += off * math.log(scales[1] / scales[0])
        value[idx] = y1 - 0.25 * (y0 - y2) * off
    return np.exp(log_sigma), value


#: Half-width (mm) of the ramp over which a line's length goes from counted to not
#: counted across the edge of an exclusion band: about how far the band moves between
#: captures of one face. The bands are drawn from FaceMesh landmarks, which moved by
#: 0.4-1.1 mm (median; 0.9-2.8 mm at the 90th percentile) between a portrait and the same
#: portrait rotated by 5-15 degrees when one FaceMesh run drew them; with a hard edge, a
#: line lying along it is counted whole in one capture and not at all in the next. The
#: averaged landmarks (regions.LANDMARK_RUNS) move half as much (0.36 mm median, 0.84 mm
#: at the 90th percentile, 0.68 mm on the face contour), but 0.5 mm made the regions'
#: figures less steady (docs/metrics.md, "Soft tests for a line"), so 1 mm stays.
BAND_EDGE_SOFTNESS_MM = 1.0


# A line is found when its peak valleyness reaches the threshold, it is at least the
# shortest wrinkle long and its length squared is at least MIN_ELONGATION times its area.
# Between captures of one face each of the three moves (75th percentile of |ln(ratio)|
# over the lines matched between a real face and its capture resampled 1.5x, re-exposed
# 0.8x and 1.2x and recompressed at JPEG 70, on seven faces: peak 0.077 over 112 lines
# near the threshold; length 0.22 and elongation 0.36 over 607 lines of 3-12 mm), so a
# line near a limit was counted whole in one capture and not at all in the next. Each
# test therefore lets a line's length in over a ramp (:func:`pass_weight`) whose
# half-width, in ln(ratio to the limit), is that 75th percentile:
#: Half-width of the peak valleyness ramp (ln of the ratio to the detection threshold).
PEAK_SOFTNESS = 0.08
#: Half-width of the length ramp (ln of the ratio to the shortest wrinkle).
LENGTH_SOFTNESS = 0.2
#: Half-width of the elongation ramp (ln of length squared over MIN_ELONGATION x area).
ELONGATION_SOFTNESS = 0.35


def pass_weight(ratio: np.ndarray, softness: float) -> np.ndarray:
    """Weight (0-1) of a line's length from ``ratio``, its value over a test's limit:
    0.5 at the limit, linear in ln(ratio) from 0 at ``exp(-softness)`` to 1 at
    ``exp(softness)`` (see ``PEAK_SOFTNESS``)."""
    log_ratio = np.log(np.maximum(np.asarray(ratio, np.float64), 1e-12))
    return np.clip(0.5 + log_ratio / (2.0 * softness), 0.0, 1.0)


def _label_maxima(labels: np.ndarray, values: np.ndarray, where: np.ndarray, n: int
                  ) -> np.ndarray:
    """Maximum of ``values`` per label (0 to n - 1) over the pixels ``where`` (-inf for a
    label with none there)."""
    peak = np.full(n, -np.inf)
    np.maximum.at(peak, labels[where], values[where].astype(np.float64))
    return peak


def band_edge_weight(band: np.ndarray, pixel_mm: float | None) -> np.ndarray:
    """Weight (0-1) of a line's length at each pixel, given the exclusion ``band``.

    1 on open skin more than ``BAND_EDGE_SOFTNESS_MM`` from the band, 0 deeper than that
    inside it, and linear in the signed distance to the band's edge in between (0.5 on
    the edge), so that a band edge moved by a fraction of a millimetre changes the
    length counted by as much, not by the whole line. Without a scale the edge is hard.
    """
    band = np.asarray(band, bool)
    if pixel_mm is None or not band.any():
        return (~band).astype(np.float32)
    outside = cv2.distanceTransform((~band).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    inside = cv2.distanceTransform(band.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # Distances are to the nearest pixel centre across the edge; the edge lies half a
    # pixel before it.
    signed_mm = np.where(band, 0.5 - inside, outside - 0.5) * np.float32(pixel_mm)
    weight = 0.5 + signed_mm / np.float32(2.0 * BAND_EDGE_SOFTNESS_MM)
    return np.clip(weight, 0.0, 1.0).astype(np.float32)


def detect_wrinkles(lstar: np.ndarray, mask: np.ndarray, mm_per_px: float | None, *,
                    exclude: np.ndarray | None = None) -> WrinkleDetection:
    """Detect wrinkles on a luminance image.

    Parameters
    ----------
    lstar : (H, W) float array
        CIE L* (0-100). Any resolution; it is resampled to the working pixel size.
    mask : (H, W) bool array
        Skin to analyse (True); valleys outside it are ignored.
    mm_per_px : float or None
        Pixel size of ``lstar`` in mm; None when unknown.
    exclude : (H, W) bool array, optional
        Bands where dark lines are not wrinkles (eyelids, lashes, brows, lips, nostrils,
        the edges of hair, glasses and the face: ``regions.line_exclusion_bands``). A
        valley is cut ``BAND_EDGE_SOFTNESS_MM`` inside them, and its length counts in
        full on open skin and less and less across the band's edge
        (:func:`band_edge_weight`), so a band that moves a little between captures
        changes the length a little.

    Returns
    -------
    WrinkleDetection
        Maps at the working resolution; reduce them per region with
        :func:`wrinkle_metrics`.
    """
    factor = working_factor(lstar.shape, mm_per_px)
    shape = (max(int(round(lstar.shape[0] / factor)), 1),
             max(int(round(lstar.shape[1] / factor)), 1))
    lum = resize_to(np.asarray(lstar, np.float32), shape)
    skin = resize_to(np.asarray(mask, bool), shape)
    pixel_mm = None if mm_per_px is None else mm_per_px * factor
    band_weight = None
    open_skin = skin
    if exclude is not None:
        band_weight = band_edge_weight(resize_to(np.asarray(exclude, bool), shape), pixel_mm)
        open_skin = skin & (band_weight > 0)

    best = np.full(shape, -np.inf, np.float32)
    noise = 0.0
    scales = _scales_px(pixel_mm)
    if not is_portrait(pixel_mm) and not skin.all() and skin.any():
        # What is not skin and brighter than the skin around it (a ruler, a white
        # sticker, a bright background beside a close-up) is brought down to the skin's
        # own local level before filtering: its edge would be a step up, whose dark side,
        # the skin, the widest scales answer millimetres in (step_edge_reach_mm), and
        # texture there joins that answer into lines along the edge. Without the step
        # there is nothing to answer; the skin's pixels are unchanged. Something darker
        # (hair) is left as it is: the skin is the bright side of that step. (The
        # portrait tier has its own treatment of steps: the shading removed from the
        # gradient term and the landmark bands.)
        from dermatrack.imaging._filters import gaussian, masked_gaussian

        reach = 2.0 * scales[-1] * SCALE_RATIO  # twice the scale beyond the widest
        level = masked_gaussian(lum, skin, reach)
        # Far from any skin the normalised convolution has no weight: the skin's median.
        level[gaussian(skin.astype(np.float32), reach) <= 1e-3] = np.median(lum[skin])
        lum = np.where(~skin & (lum > level), level, lum).astype(np.float32)
    # l1 per scale, for scale selection on the skeleton (float16: 3 significant digits
    # are plenty for a parabola through three values, at half the memory).
    responses = np.empty((len(scales),) + shape, np.float16)
    unshaded = None
    if is_portrait(pixel_mm):
        from dermatrack.imaging._filters import masked_gaussian

        assert pixel_mm is not None
        unshaded = lum - masked_gaussian(lum, skin, SHADING_SIGMA_MM / pixel_mm)
    for i, sigma in enumerate(scales):
        l1, valley = _scale_response(lum, sigma, unshaded,
                                     EDGE_WEIGHT if unshaded is None else PORTRAIT_EDGE_WEIGHT)
        responses[i] = l1
        if i == 0:
            noise = _robust_sd(l1[::2, ::2][skin[::2, ::2]])  # a quarter is plenty
        np.maximum(best, valley, out=best)
    # One scale beyond the widest wrinkle: where it answers more strongly the dark
    # structure is wider than a wrinkle (a spot, a fold, a shadow), so it is not counted.
    wider = _valleyness_coarse(lum, scales[-1] * SCALE_RATIO, unshaded)
    best[(wider > best) | ~open_skin] = 0.0

    if is_portrait(pixel_mm):
        # On a portrait the finest scale (0.8 mm) averages sensor noise away, and what
        # the robust SD of the response measures is the skin's own texture and wrinkles:
        # a threshold on it would rise with the wrinkles and with JPEG blocking. So the
        # threshold is the visible depth alone, on the exposure-normalised L*.
        high = MIN_DEPTH_L / _DEPTH_PER_RESPONSE
    else:
        high = max(NOISE_MULTIPLE * noise, MIN_DEPTH_L / _DEPTH_PER_RESPONSE)
    from skimage.morphology import skeletonize

    # Hysteresis (as skimage's apply_hysteresis_threshold: 4-connected pieces above the
    # low threshold, kept by their peak): the pieces that reach the threshold, and apart
    # from them the faint ones down to the foot of the peak ramp (PEAK_SOFTNESS),
    # labelled after them, so that a faint piece touching a line found does not join it
    # and change its length or shape tests. Peaks over the low pixels only (a few per
    # cent of the image).
    low = best > high / 2.0
    pieces, n_pieces = ndimage.label(low)
    piece_peak = _label_maxima(pieces, best, low, n_pieces + 1)
    strong = (piece_peak > high)[pieces]
    faint = (piece_peak > high * math.exp(-PEAK_SOFTNESS))[pieces] & ~strong
    del pieces
    n, comp = cv2.connectedComponents(strong.astype(np.uint8), connectivity=8)
    n_faint, comp_faint = cv2.connectedComponents(faint.astype(np.uint8), connectivity=8)
    comp[faint] = comp_faint[faint] + (n - 1)
    n += n_faint - 1
    del comp_faint
    skeleton = skeletonize(strong)
    faint_skeleton = skeletonize(faint)
    length_map = skeleton_length_map(skeleton) + skeleton_length_map(faint_skeleton)
    skeleton |= faint_skeleton
    del strong, faint, faint_skeleton
    # Everything below is computed on the skeleton pixels only (sparse), then scattered.
    ys, xs = np.nonzero(skeleton)
    # Scale selection on l1 alone (Lindeberg's ridge strength, gamma = 1): the gradient
    # term of the valleyness would bias it towards coarse scales off the exact floor.
    sigma_sk, l1_sk = _select_scale(responses, scales, ys, xs)
    del responses
    depth = np.maximum(l1_sk * _DEPTH_PER_RESPONSE, 0.0)
    # Weber contrast of the valley: since L* + 16 = 116 Y**(1/3), a valley depth dL*
    # below a surround L*_s is a relative luminance deficit of about 3 dL* / (L*_s + 16),
    # which an exposure change (Y -> kY) leaves unchanged.
    contrast = 300.0 * depth / np.maximum(lum[ys, xs] + depth + 16.0, 1.0)
    width = sigma_sk * (FWHM_PER_SD / math.sqrt(2.0))
    sk_lab = comp[ys, xs]
    w = length_map[ys, xs].astype(np.float64)
    # The line's existence below is decided on its whole length on open skin; the length
    # reported has the band edges' and the tests' weights applied.
    comp_len = np.bincount(sk_lab, weights=w, minlength=n)
    comp_area = np.bincount(comp.ravel(), minlength=n).astype(np.float64)
    comp_peak = _label_maxima(comp, best, low, n)
    wsum = np.maximum(comp_len, 1e-9)
    comp_depth = np.bincount(sk_lab, weights=w * depth, minlength=n) / wsum
    comp_width = np.bincount(sk_lab, weights=w * width, minlength=n) / wsum
    min_len_mm = PORTRAIT_MIN_LENGTH_MM if is_portrait(pixel_mm) else MIN_LENGTH_MM
    min_len_px = min_len_mm / pixel_mm if pixel_mm else 25.0
    ratios = (comp_peak / high, comp_len / min_len_px,
              comp_len ** 2 / np.maximum(MIN_ELONGATION * comp_area, 1e-9))
    softness = (PEAK_SOFTNESS, LENGTH_SOFTNESS, ELONGATION_SOFTNESS)
    comp_weight = np.prod([pass_weight(r, k) for r, k in zip(ratios, softness, strict=True)],
                          axis=0)
    keep = np.ones(n, bool)
    if pixel_mm:
        keep &= ~((comp_depth >= HAIR_MIN_DEPTH_L)
                  & (comp_width * pixel_mm <= HAIR_MAX_WIDTH_MM))  # hair
    keep[0] = False
    # The lines found pass all three tests; the ones just short of them (their ramps,
    # PEAK_SOFTNESS) add part of their length to the figures but are not lines found: not
    # counted, not in the mask, not drawn.
    found = keep & np.all([r >= 1.0 for r in ratios], axis=0)
    measured = keep & (comp_weight > 0)
    counted = w * comp_weight[sk_lab]
    if band_weight is not None:
        counted *= band_weight[ys, xs]
    kept = found[comp]
    on = measured[sk_lab]
    ys, xs = ys[on], xs[on]

    def scatter(values: np.ndarray, dtype: type = np.float32) -> np.ndarray:
        out: np.ndarray = np.zeros(shape, dtype)
        out[ys, xs] = values[on]
        return out

    skeleton = np.zeros(shape, bool)
    skeleton[ys, xs] = found[sk_lab[on]]
    return WrinkleDetection(
        mask=kept, skeleton=skeleton,
        length_px=scatter(counted), depth_l=scatter(depth),
        contrast_pct=scatter(contrast), width_px=scatter(width),
        labels=scatter(sk_lab, np.int32), pixel_mm=pixel_mm,
        factor=float(lstar.shape[1] / shape[1]), noise=noise,
    )


def wrinkle_metrics(detection: WrinkleDetection, region: np.ndarray) -> WrinkleMetrics:
    """Reduce a :class:`WrinkleDetection` over one region (a bool mask, any size).

    The region mask is resampled (nearest) to the working resolution.
    """
    reg = resize_to(np.asarray(region, bool), detection.mask.shape)
    area_px = int(reg.sum())
    count = int(np.unique(detection.labels[detection.skeleton & reg]).size)
    # Lengths over every centreline that carries some (see WrinkleDetection.length_px).
    sk = (detection.length_px > 0) & reg
    length_px = float(detection.length_px[sk].sum())
    area_fraction = float((detection.mask & reg).sum() / area_px) if area_px else 0.0
    mm = detection.pixel_mm
    if mm is None or area_px == 0:
        return WrinkleMetrics(count, None, None, None, area_fraction, None)
    area_cm2 = area_px * mm * mm / 100.0
    length_mm = length_px * mm
    weights = detection.length_px[sk]
    mean_width = float((weights * detection.width_px[sk]).sum() / length_px * mm) \
        if length_px else None
    severity = float((weights * detection.contrast_pct[sk]).sum() * mm / area_cm2)
    return WrinkleMetrics(count=count, length_mm=length_mm,
                          density_mm_per_cm2=length_mm / area_cm2,
                          mean_width_mm=mean_width, area_fraction=area_fraction,
                          severity_index=severity)


def measure_wrinkles(lstar: np.ndarray, mask: np.ndarray, mm_per_px: float | None
                     ) -> WrinkleMetrics:
    """Detect and measure wrinkles over ``mask`` in one call (see :func:`detect_wrinkles`)."""
    return wrinkle_metrics(detect_wrinkles(lstar, mask, mm_per_px), mask)
