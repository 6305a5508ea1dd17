"""Redness: mean a*, erythema index and red area fraction.

Definitions
-----------
* ``a_star``: mean CIELAB a* over the region; a* tracks the erythema index closely
  (Wagner 2002, n = 397).
* ``erythema_index``: ``EI = 100 [log10(1/G) - log10(1/R)] = 100 log10(R / G)`` with
  ``R`` and ``G`` the mean linear red and green reflectances over the region (Diffey
  1984; camera form: Yamamoto/Takiwaki 2008). Depends on camera and lighting unless
  the image was calibrated.
* ``red_area_fraction``: fraction of the region where a* exceeds the baseline of all
  analysed skin (its median a*) by at least ``RED_MIN_RISE_A`` after light smoothing
  within the analysed skin (a normalised convolution: what is not skin, the lips, a
  ruler, hair or background beside it, does not tint the skin's a*). The baseline is the
  whole skin's rather than the region's, so that a region that is red all over still
  counts as red.

References
----------
Diffey BL, Oliver RJ, Farr PM. A portable instrument for quantifying erythema induced by
ultraviolet radiation. Br J Dermatol 111(6):663-672, 1984. Wagner JK et al. Comparing
quantitative measures of erythema, pigmentation and skin response using reflectometry.
Pigment Cell Res 15(5):379-384, 2002. Yamamoto T et al. Skin Res Technol 14(1):26-34,
2008.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dermatrack.imaging._filters import masked_gaussian, resize_to

__all__ = ["RED_MIN_RISE_A", "RednessMetrics", "red_area_mask", "redness_metrics"]

#: Rise of a* above the skin baseline that counts as red: well above one
#: just-noticeable colour difference (Delta E*ab ~ 2.3), so that mottling and noise
#: are not counted.
RED_MIN_RISE_A = 4.0
#: Smoothing before thresholding (mm; px when the scale is unknown).
SMOOTHING_SIGMA_MM = 0.25
UNKNOWN_SCALE_SMOOTHING_PX = 2.0


@dataclass(frozen=True)
class RednessMetrics:
    """Redness figures for one region (definitions in the module docstring)."""

    a_star: float | None
    erythema_index: float | None
    red_area_fraction: float


def red_area_mask(lab: np.ndarray, skin: np.ndarray, mm_per_px: float | None) -> np.ndarray:
    """Pixels whose a*, smoothed within ``skin``, is ``RED_MIN_RISE_A`` above the skin's
    median a*.

    Smoothed over the skin only: with a plain Gaussian a white ruler laid beside a red
    patch on a phantom close-up lowered the a* of the patch's rim, and ``photo compare``
    read 11 % less red area on the skin both photographs show."""
    skin = np.asarray(skin, bool)
    if not skin.any():
        return np.zeros(skin.shape, bool)
    sigma = UNKNOWN_SCALE_SMOOTHING_PX if mm_per_px is None else SMOOTHING_SIGMA_MM / mm_per_px
    a = masked_gaussian(lab[..., 1], skin, sigma)
    baseline = float(np.median(lab[..., 1][skin]))
    return (a - baseline >= RED_MIN_RISE_A) & skin


def redness_metrics(lab: np.ndarray, linear_rgb: np.ndarray, red_mask: np.ndarray,
                    region: np.ndarray) -> RednessMetrics:
    """Redness figures over ``region`` (bool mask, resampled to ``lab``'s shape).

    ``linear_rgb`` may be a subsampled copy (it enters only region means).
    """
    reg = resize_to(np.asarray(region, bool), lab.shape[:2])
    n = int(reg.sum())
    if n == 0:
        return RednessMetrics(None, None, 0.0)
    reg_lin = resize_to(reg, linear_rgb.shape[:2])
    red = float(np.mean(linear_rgb[..., 0][reg_lin])) if reg_lin.any() else 0.0
    green = float(np.mean(linear_rgb[..., 1][reg_lin])) if reg_lin.any() else 0.0
    ei = 100.0 * math.log10(red / green) if red > 0 and green > 0 else None
    return RednessMetrics(a_star=float(np.mean(lab[..., 1][reg])), erythema_index=ei,
                          red_area_fraction=float((red_mask & reg).sum() / n))
