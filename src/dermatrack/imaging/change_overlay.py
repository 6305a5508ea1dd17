"""Before/after comparison of two photographs: the lightness change overlay.

The progress report and the web viewer show a follow-up photograph aligned onto its
baseline (:mod:`dermatrack.services.derived`, with the alignment of
:func:`dermatrack.imaging.align.align_to_baseline`) and a lightness change overlay
(:func:`lightness_overlay`). It colours the baseline where CIELAB L* changed by more
than :data:`OVERLAY_THRESHOLD_L` beyond the median change of the compared skin (which is
the capture's exposure difference, not the skin's): orange where the follow-up is darker
(new or deeper wrinkles, spots), blue where it is lighter (faded). 3 L* is about the
smallest lightness difference seen side by side on skin (a ΔE of 2-3; Mokrzycki & Tatol
2011). Only the skin both photographs show is compared
(``services.derived.AlignedDisplays.compared``).
"""

from __future__ import annotations

import numpy as np

OVERLAY_THRESHOLD_L = 3.0
"""L* change (CIELAB units) below which the overlay leaves a pixel uncoloured."""

_DARKER = np.array([1.0, 0.55, 0.0], np.float32)
_LIGHTER = np.array([0.1, 0.45, 1.0], np.float32)


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
