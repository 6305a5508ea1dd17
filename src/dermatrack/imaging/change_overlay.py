"""Before/after comparison of two photographs: the lightness change overlay.

:func:`dermatrack.imaging.compare.compare` aligns the follow-up photograph to the
baseline (face landmarks, then ECC intensity refinement), analyses both with the
baseline's regions and draws its wrinkle overlay (wrinkles found only before, only after,
in both). One view is added here from the aligned pair:

* a lightness change overlay (:func:`lightness_overlay`) colouring the baseline where
  CIELAB L* changed by more than :data:`OVERLAY_THRESHOLD_L` beyond the median change
  of the compared skin (which is the capture's exposure difference, not the skin's):
  orange where the follow-up is darker (new or deeper wrinkles, spots), blue where it is
  lighter (faded). 3 L* is about the smallest lightness difference seen side by side on
  skin (a ΔE of 2-3; Mokrzycki & Tatol 2011). Only the skin both photographs show is
  compared (a close-up: every pixel neither clipped nor black).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

OVERLAY_THRESHOLD_L = 3.0
"""L* change (CIELAB units) below which the overlay leaves a pixel uncoloured."""

WORKING_SIDE = 1024
"""Long side (px) the pair is reduced to before comparing: the page shows ~640 px."""

_DARKER = np.array([1.0, 0.55, 0.0], np.float32)
_LIGHTER = np.array([0.1, 0.45, 1.0], np.float32)


@dataclass
class BeforeAfter:
    """A baseline, its aligned follow-up and the overlays (float32 sRGB arrays)."""

    baseline: np.ndarray
    follow_up: np.ndarray
    overlay: np.ndarray
    wrinkle_overlay: np.ndarray
    darker_fraction: float
    lighter_fraction: float
    method: str
    changes: dict[str, Any] = field(default_factory=dict)


def _reduce(rgb: np.ndarray) -> np.ndarray:
    import cv2

    factor = min(1.0, WORKING_SIDE / max(rgb.shape[:2]))
    if factor >= 1.0:
        return np.asarray(rgb, np.float32)
    size = (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor))
    return cv2.resize(np.asarray(rgb, np.float32), size, interpolation=cv2.INTER_AREA)


def lightness_overlay(baseline: np.ndarray, aligned: np.ndarray, compared: np.ndarray
                      ) -> tuple[np.ndarray, float, float]:
    """Colour the baseline where L* changed beyond the threshold (module docstring).

    Parameters
    ----------
    baseline, aligned:
        ``(H, W, 3)`` float sRGB in [0, 1] on the same pixel grid.
    compared:
        Bool ``(H, W)``: pixels to compare (covered by the follow-up; skin).

    Returns
    -------
    overlay, darker_fraction, lighter_fraction
        The fractions are shares of the compared pixels.
    """
    import cv2

    l_base = cv2.cvtColor(np.clip(baseline, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)[..., 0]
    l_after = cv2.cvtColor(np.clip(aligned, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)[..., 0]
    # Smooth a little so that sensor noise and a pixel of misregistration do not speckle.
    change = cv2.GaussianBlur(l_after - l_base, (0, 0), 1.5)
    if compared.any():
        # A different exposure shifts every pixel alike: only local changes are shown.
        change -= np.float32(np.median(change[compared]))
    darker = (change < -OVERLAY_THRESHOLD_L) & compared
    lighter = (change > OVERLAY_THRESHOLD_L) & compared
    overlay = np.asarray(baseline, np.float32).copy()
    overlay[darker] = 0.45 * overlay[darker] + 0.55 * _DARKER
    overlay[lighter] = 0.45 * overlay[lighter] + 0.55 * _LIGHTER
    n = max(int(compared.sum()), 1)
    return overlay, float(darker.sum() / n), float(lighter.sum() / n)


def before_after(baseline_rgb: np.ndarray, follow_up_rgb: np.ndarray, *,
                 mm_per_px: float | None = None, use_face: bool = True) -> BeforeAfter:
    """Compare a follow-up photograph with its baseline (:func:`imaging.compare.compare`).

    Parameters
    ----------
    baseline_rgb, follow_up_rgb:
        ``(H, W, 3)`` float sRGB in [0, 1]; sizes may differ.
    mm_per_px:
        The baseline's scale, when known (a close-up's user-given scale).
    use_face:
        Use face landmarks for regions and alignment.

    Returns
    -------
    BeforeAfter
        On the (reduced) baseline grid: the aligned follow-up, the lightness overlay,
        compare's wrinkle overlay and its per-region metric changes.
    """
    from dermatrack.imaging.compare import compare

    base = _reduce(baseline_rgb)
    factor = base.shape[1] / baseline_rgb.shape[1]
    scale = None if mm_per_px is None else mm_per_px / factor
    comparison = compare(base, _reduce(follow_up_rgb), mm_per_px=scale, use_face=use_face)
    width = base.shape[1]
    aligned = comparison.side_by_side[:, width:].astype(np.float32) / 255.0
    # The warp leaves uncovered pixels black.
    covered = np.asarray(aligned.any(axis=2), dtype=bool)
    # The skin both photographs show: not what a fringe or glasses hide.
    overlay, darker, lighter = lightness_overlay(base, aligned, covered & comparison.compared)
    return BeforeAfter(baseline=base, follow_up=aligned, overlay=overlay,
                       darker_fraction=darker, lighter_fraction=lighter,
                       method=comparison.report["alignment"]["method"],
                       wrinkle_overlay=comparison.overlay.astype(np.float32) / 255.0,
                       changes=comparison.report.get("regions", {}))
