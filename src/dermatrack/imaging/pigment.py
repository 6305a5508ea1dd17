"""Pigmentation: skin tone (L*, b*, ITA), melanin index, pigmented spots, evenness.

Definitions
-----------
* ``l_star``, ``b_star``: medians over the region (CIELAB D65).
* ``ita_deg``: Individual Typology Angle from those medians,
  ``ITA = atan2(L* - 50, b*) * 180 / pi`` (atan2 avoids dividing by b* ~ 0; Chardon
  1991). Category bins (Chardon 1991; brown and dark from Del Bino 2006): > 55 very
  light, 41-55 light, 28-41 intermediate, 10-28 tan, -30-10 brown, < -30 dark.
* ``melanin_index``: ``MI = 100 log10(1 / R)`` with ``R`` the mean linear red
  reflectance over the region (Dawson 1980; camera form: Takiwaki/Yamamoto 2008).
  Values depend on camera, distance and lighting unless the image was calibrated.
* pigmented spots: areas at least ``SPOT_MIN_DARKENING_L`` darker than the local
  background (a normalised Gaussian mean of L* over skin, ``BACKGROUND_SIGMA_MM``, with
  the spots themselves and the wrinkles left out), bounded where they are half as dark
  as at their darkest, of equivalent diameter >= ``SPOT_MIN_DIAMETER_MM`` (smaller dark
  dots are pores; VISIA separates the two by size), at most ``SPOT_MAX_ASPECT`` times
  longer than wide, not touching a detected wrinkle and not touching the edge of the
  analysed skin (hairline, brows, lash line, lips, nostrils, jaw shadow, a chart; the
  image frame is not an edge). A dark area cut by that edge cannot be measured, since
  its extent beyond the mask is unknown, and at the edge of a face's skin mask it is
  nearly always hair or shadow blended into the border pixels: such pieces come and go
  as the photograph moves by one pixel. ``spot_count``,
  ``spot_area_fraction`` (of the region) and ``spot_mean_delta_e`` (mean CIEDE2000
  between each spot's mean colour and the background colour under it).
* ``evenness``: robust spread of L* over the region, 1.4826 x median absolute deviation
  (L* units). Higher means *less* even (like Antera 3D's "variation").

References
----------
Chardon A, Cretois I, Hourseau C. Skin colour typology and suntanning pathways. Int J
Cosmet Sci 13(4):191-208, 1991. Del Bino S et al. Relationship between skin response to
ultraviolet exposure and skin color type. Pigment Cell Res 19(6):606-614, 2006.
Dawson JB et al. A theoretical and experimental study of light absorption and scattering
by in vivo skin. Phys Med Biol 25(4):695-709, 1980. Yamamoto T, Takiwaki H et al.
Derivation and clinical application of special imaging by means of digital cameras and
Image J freeware for quantification of erythema and pigmentation. Skin Res Technol
14(1):26-34, 2008. Sharma G, Wu W, Dalal EN. The CIEDE2000 color-difference formula.
Color Res Appl 30(1):21-30, 2005.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from dermatrack.imaging._filters import gaussian, masked_gaussian, resize_to

__all__ = [
    "BACKGROUND_SIGMA_MM",
    "SPOT_MAX_ASPECT",
    "SPOT_MIN_DARKENING_L",
    "SPOT_MIN_DIAMETER_MM",
    "SUBPIXEL_MM",
    "PigmentMetrics",
    "SpotDetection",
    "detect_spots",
    "ita_category",
    "pigment_metrics",
]

#: A spot is at least this much darker than the surrounding skin (L*): above one
#: just-noticeable colour difference (Delta E*ab ~ 2.3).
SPOT_MIN_DARKENING_L = 3.0
#: Smallest spot (equivalent diameter, mm). Pores are 0.1-0.5 mm across.
SPOT_MIN_DIAMETER_MM = 1.0
#: Spots are round to oval (lentigines, melasma patches); a dark area more than this
#: many times longer than wide is a wrinkle or a shadow line, not a spot.
SPOT_MAX_ASPECT = 3.0
#: Scale of the local background (Gaussian sigma, mm): larger than a lentigo (<= 5 mm
#: across) so a spot does not lift its own background, smaller than the lighting
#: gradients and mottling it must remove.
BACKGROUND_SIGMA_MM = 4.0
#: Light smoothing before thresholding (mm), below the smallest spot.
SMOOTHING_SIGMA_MM = 0.2
#: Pixel (mm) on which a spot's extent is drawn: the darkening map is interpolated
#: (bicubic) to at most this pixel before thresholding, a tenth of the smallest spot's
#: diameter. On the 0.4 mm portrait grid a 1 mm spot covers about 5 pixels, and counting
#: whole pixels made its area jump by a fifth when the photograph moved by a fraction of a
#: pixel; on the finer grid the area and the size test vary smoothly (see detect_spots).
SUBPIXEL_MM = SPOT_MIN_DIAMETER_MM / 10.0
#: Pixel versions when the physical scale is unknown (working pixels).
UNKNOWN_SCALE_PX = {"background": 33.0, "min_diameter": 8.0, "smoothing": 1.5}

_CATEGORIES = ((55.0, "very light"), (41.0, "light"), (28.0, "intermediate"),
               (10.0, "tan"), (-30.0, "brown"))


def ita_category(ita_deg: float | None) -> str | None:
    """Chardon/Del Bino category of an ITA in degrees (see module docstring)."""
    if ita_deg is None or not math.isfinite(ita_deg):
        return None
    for bound, name in _CATEGORIES:
        if ita_deg > bound:
            return name
    return "dark"


@dataclass
class SpotDetection:
    """Spot maps (computed once per image, at the resolution of the Lab image given).

    mask: spot pixels (at least half covered by a spot); labels: component label per
    spot pixel; delta_e: mean CIEDE2000 of each label against its background (index =
    label; 0 unused); darkening: local background minus L* (L*); coverage: fraction of
    each pixel covered by spots, measured on the sub-pixel grid (``SUBPIXEL_MM``), from
    which spot areas are summed (None: ``mask`` itself).
    """

    mask: np.ndarray
    labels: np.ndarray
    delta_e: np.ndarray
    darkening: np.ndarray
    coverage: np.ndarray | None = None

    def area_px(self, region: np.ndarray) -> float:
        """Spot area (pixels of ``mask``, fractional) inside the bool mask ``region``."""
        if self.coverage is None:
            return float((self.mask & region).sum())
        return float(self.coverage[region].sum(dtype=np.float64))


@dataclass(frozen=True)
class PigmentMetrics:
    """Pigment figures for one region (see the module docstring for definitions)."""

    l_star: float | None
    b_star: float | None
    ita_deg: float | None
    ita_category: str | None
    melanin_index: float | None
    spot_count: int
    spot_area_fraction: float
    spot_mean_delta_e: float | None
    evenness: float | None


def _aspect_ratios(labels: np.ndarray, n: int) -> np.ndarray:
    """Major/minor axis ratio of each labelled component (from second moments)."""
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    cnt = np.maximum(np.bincount(lab, minlength=n), 1).astype(np.float64)
    mx = np.bincount(lab, xs, n) / cnt
    my = np.bincount(lab, ys, n) / cnt
    dx, dy = xs - mx[lab], ys - my[lab]
    cxx = np.bincount(lab, dx * dx, n) / cnt + 1 / 12
    cyy = np.bincount(lab, dy * dy, n) / cnt + 1 / 12
    cxy = np.bincount(lab, dx * dy, n) / cnt
    root = np.sqrt(((cxx - cyy) / 2) ** 2 + cxy ** 2)
    big, small = (cxx + cyy) / 2 + root, np.maximum((cxx + cyy) / 2 - root, 1e-9)
    return np.sqrt(big / small)


def _skin_edge(skin: np.ndarray) -> np.ndarray:
    """Skin pixels 8-adjacent to a non-skin pixel of the image (the image frame is not
    an edge: a close-up's skin runs on beyond it)."""
    outside = np.pad(~skin, 1, constant_values=False).astype(np.uint8)
    return (cv2.dilate(outside, np.ones((3, 3), np.uint8))[1:-1, 1:-1] > 0) & skin


def subpixel_factor(mm_per_px: float | None) -> int:
    """Sub-pixels per pixel (each way) on which spot extents are drawn: the smallest
    integer that makes the sub-pixel at most ``SUBPIXEL_MM`` (1 without a scale)."""
    if mm_per_px is None or mm_per_px <= SUBPIXEL_MM:
        return 1
    return int(math.ceil(mm_per_px / SUBPIXEL_MM - 1e-9))


def _upsample(image: np.ndarray, factor: int, *, nearest: bool = False) -> np.ndarray:
    """``image`` on a grid ``factor`` times finer each way, pixel centres aligned (each
    pixel becomes a ``factor`` x ``factor`` block); bicubic or nearest neighbour."""
    h, w = image.shape[:2]
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_CUBIC
    src = image.astype(np.uint8) if image.dtype == bool else image
    out = cv2.resize(src, (w * factor, h * factor), interpolation=interp)
    return out > 0 if image.dtype == bool else out


def _blocks(image: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, factor**2) view of an (H*factor, W*factor) image, one row per block."""
    h, w = image.shape[0] // factor, image.shape[1] // factor
    return (image.reshape(h, factor, w, factor).transpose(0, 2, 1, 3)
            .reshape(h, w, factor * factor))


def detect_spots(lab: np.ndarray, skin: np.ndarray, mm_per_px: float | None, *,
                 exclude: np.ndarray | None = None) -> SpotDetection:
    """Find pigmented spots on a CIELAB image.

    Parameters
    ----------
    lab : (H, W, 3) float32 CIELAB
    skin : (H, W) bool, skin analysed
    mm_per_px : pixel size of ``lab`` in mm, or None if unknown
    exclude : (H, W) bool, optional
        Pixels that are not spots whatever their colour (wrinkles), left out of the
        background estimate too.

    Returns
    -------
    SpotDetection
        Maps at the resolution of ``lab``; ``coverage`` holds the fraction (0-1) of each
        pixel inside a spot.

    Notes
    -----
    The darkening (local background minus L*, in L*) is computed on ``lab``'s grid and
    then interpolated (bicubic: the map is smooth at that scale, having been blurred by
    ``SMOOTHING_SIGMA_MM`` and by the photograph's own pixels) to sub-pixels of at most
    ``SUBPIXEL_MM`` (0.1 mm: 4 x 4 sub-pixels per 0.4 mm portrait pixel), where the
    threshold, the half-depth extent, the size and shape tests are applied. On the
    portrait grid the smallest spot (1 mm) covers about 5 whole pixels, so counting
    whole pixels made its area, and whether it passed the 1 mm test at all, jump by a
    fifth when the photograph moved by a fraction of a pixel (a rotation, a resampling,
    the window's offset); most spots on real portraits are that small and that faint,
    so they came and went between captures. The rules about wrinkles and the edge of
    the skin are decided on ``lab``'s grid as before.
    """
    if mm_per_px is None:
        bg_sigma = UNKNOWN_SCALE_PX["background"]
        min_area = math.pi / 4 * UNKNOWN_SCALE_PX["min_diameter"] ** 2
        smooth = UNKNOWN_SCALE_PX["smoothing"]
    else:
        bg_sigma = BACKGROUND_SIGMA_MM / mm_per_px
        min_area = math.pi / 4 * (SPOT_MIN_DIAMETER_MM / mm_per_px) ** 2
        smooth = SMOOTHING_SIGMA_MM / mm_per_px
    skin = np.asarray(skin, bool)
    usable = skin.copy()
    if exclude is not None:
        usable &= ~np.asarray(exclude, bool)
    lum = gaussian(lab[..., 0], smooth)
    background = masked_gaussian(lum, usable, bg_sigma)
    # Second pass: leave the first-pass candidates out of their own background.
    first = (background - lum) >= SPOT_MIN_DARKENING_L
    background = masked_gaussian(lum, usable & ~first, bg_sigma)
    darkening = background - lum
    # Extents are drawn on sub-pixels (see Notes); the rules below are the same there.
    sub = subpixel_factor(mm_per_px)
    dark_s = _upsample(darkening, sub) if sub > 1 else darkening
    usable_s = _upsample(usable, sub, nearest=True) if sub > 1 else usable
    candidate = (dark_s >= SPOT_MIN_DARKENING_L) & usable_s
    n, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=8)
    # A spot's edge is where it is half as dark as at its darkest (the half-depth
    # convention used for wrinkle widths and pore diameters too).
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, labels[candidate], dark_s[candidate])
    candidate &= dark_s >= 0.5 * peak[labels]
    labels[~candidate] = 0
    area = np.bincount(labels.ravel(), minlength=n)
    keep = (area >= min_area * sub * sub) & (_aspect_ratios(labels, n) <= SPOT_MAX_ASPECT)
    if exclude is not None:
        # Dark pieces touching a wrinkle (its ends and flanks) belong to the wrinkle.
        near = cv2.dilate(np.asarray(exclude, np.uint8), np.ones((5, 5), np.uint8)) > 0
        if sub > 1:
            near = _upsample(near, sub, nearest=True)
        keep[np.unique(labels[near & candidate])] = False
    # Dark pieces cut by the edge of the analysed skin are not measured as spots.
    edge = _skin_edge(skin)
    if sub > 1:
        edge = _upsample(edge, sub, nearest=True)
    keep[np.unique(labels[edge & candidate])] = False
    keep[0] = False
    remap = np.zeros(n, np.int32)
    remap[keep] = np.arange(1, int(keep.sum()) + 1)
    labels = remap[labels]
    coverage = None
    if sub > 1:
        # Back on lab's grid: the covered fraction of each pixel, and the label of the
        # spot covering it (pixels at least half covered form the mask).
        blocks = _blocks(labels, sub)
        coverage = (blocks > 0).mean(axis=2, dtype=np.float32)
        labels = blocks.max(axis=2)
        labels[coverage < 0.5] = 0
    mask = labels > 0
    m = int(keep.sum())
    delta_e = np.zeros(m + 1)
    if m:
        from skimage.color import deltaE_ciede2000

        bg_lab = np.stack([background,
                           masked_gaussian(lab[..., 1], usable & ~mask, bg_sigma),
                           masked_gaussian(lab[..., 2], usable & ~mask, bg_sigma)], axis=-1)
        counts = np.maximum(np.bincount(labels[mask], minlength=m + 1), 1)
        spot_mean = np.stack([np.bincount(labels[mask], weights=lab[..., c][mask],
                                          minlength=m + 1) / counts for c in range(3)], 1)
        bg_mean = np.stack([np.bincount(labels[mask], weights=bg_lab[..., c][mask],
                                        minlength=m + 1) / counts for c in range(3)], 1)
        delta_e = deltaE_ciede2000(spot_mean, bg_mean)
        delta_e[0] = 0.0
    return SpotDetection(mask=mask, labels=labels, delta_e=np.asarray(delta_e),
                         darkening=darkening.astype(np.float32), coverage=coverage)


def pigment_metrics(lab: np.ndarray, linear_rgb: np.ndarray, spots: SpotDetection,
                    region: np.ndarray) -> PigmentMetrics:
    """Pigment figures over ``region`` (bool mask, resampled to ``lab``'s shape).

    ``linear_rgb`` may be a subsampled copy (it enters only region means).
    """
    reg = resize_to(np.asarray(region, bool), lab.shape[:2])
    n = int(reg.sum())
    if n == 0:
        return PigmentMetrics(None, None, None, None, None, 0, 0.0, None, None)
    lum = lab[..., 0][reg]
    l_med = float(np.median(lum))
    b_med = float(np.median(lab[..., 2][reg]))
    ita = math.degrees(math.atan2(l_med - 50.0, b_med))
    reg_lin = resize_to(reg, linear_rgb.shape[:2])
    red = float(np.mean(linear_rgb[..., 0][reg_lin])) if reg_lin.any() else 0.0
    mi = 100.0 * math.log10(1.0 / red) if red > 0 else None
    labels = np.unique(spots.labels[reg & spots.mask])
    labels = labels[labels > 0]
    mean_de = float(np.mean(spots.delta_e[labels])) if labels.size else None
    spread = float(1.4826 * np.median(np.abs(lum - l_med)))
    return PigmentMetrics(
        l_star=l_med, b_star=b_med, ita_deg=ita, ita_category=ita_category(ita),
        melanin_index=mi, spot_count=int(labels.size),
        spot_area_fraction=spots.area_px(reg) / n,
        spot_mean_delta_e=mean_de, evenness=spread,
    )
