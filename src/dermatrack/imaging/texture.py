"""Skin texture: roughness of band-pass luminance at the 0.1-1 mm scale.

The skin's microrelief (the network of primary and secondary lines around hair follicles,
cells roughly 0.1-1 mm across) shows in a photograph as fine luminance variation. The
roughness figure is the RMS of a difference of Gaussians of L* that keeps exactly that
band: ``R = sqrt(mean((G(0.1 mm) * L - G(1 mm) * L)**2))`` in L* units over the region,
excluding pixels already explained by wrinkles, spots and pores (so texture is not a
second count of them) and the image border. Like the Visioscan SELS roughness or a
high-pass SD (Measurement reference, section 2), it is a photometric figure: it grows
with microrelief contrast and is not a height in micrometres.

References
----------
Tchvialeva L et al. Skin roughness assessment. In: New Developments in Biomedical
Engineering, 2010 (roughness from images as the spread of band-limited intensity).
Lagarde JM, Rouvrais C, Black D. Topography and anisotropy of the skin surface with
ageing. Skin Res Technol 11(2):110-119, 2005.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from dermatrack.imaging._filters import bandpass, resize_to

__all__ = ["ROUGHNESS_BAND_MM", "TextureMetrics", "bandpass_luminance", "exclusion_zone",
           "texture_metrics", "texture_octaves"]

#: Band of the roughness figure, as Gaussian sigmas in mm (fine, coarse).
ROUGHNESS_BAND_MM = (0.1, 1.0)
#: Margin around detected features left out of the statistic (mm, twice the coarse sigma).
EXCLUSION_MARGIN_MM = 2.0
#: With no physical scale, the band in pixels (fine, coarse).
UNKNOWN_SCALE_BAND_PX = (1.0, 10.0)


@dataclass(frozen=True)
class TextureMetrics:
    """roughness: RMS band-pass L* (L* units) over the region minus detected features."""

    roughness: float | None


def bandpass_luminance(lstar: np.ndarray, mm_per_px: float | None) -> np.ndarray:
    """The band-pass luminance map (L*) whose RMS is the roughness; computed once."""
    if mm_per_px is None:
        fine, coarse = UNKNOWN_SCALE_BAND_PX
    else:
        fine, coarse = (b / mm_per_px for b in ROUGHNESS_BAND_MM)
    return bandpass(np.asarray(lstar, np.float32), fine, coarse)


def exclusion_zone(features: np.ndarray, mm_per_px: float | None) -> np.ndarray:
    """Detected features grown by ``EXCLUSION_MARGIN_MM``: the band-pass response of a
    wrinkle or spot spreads about two coarse sigmas beyond its edge."""
    margin = EXCLUSION_MARGIN_MM / mm_per_px if mm_per_px else 2 * UNKNOWN_SCALE_BAND_PX[1]
    r = max(int(round(margin)), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.dilate(np.asarray(features, np.uint8), kernel) > 0


def texture_metrics(band: np.ndarray, region: np.ndarray, exclude: np.ndarray | None = None
                    ) -> TextureMetrics:
    """Roughness (RMS of ``band``, L*) over ``region`` minus ``exclude``.

    ``exclude`` is normally :func:`exclusion_zone` of the detected wrinkles, spots and
    pores. Masks of another size are resampled (nearest) to ``band``'s shape. Returns None
    when fewer than 100 pixels remain.
    """
    reg = resize_to(np.asarray(region, bool), band.shape)
    if exclude is not None:
        reg = reg & ~resize_to(np.asarray(exclude, bool), band.shape)
    values = band[reg]
    if values.size < 100:
        return TextureMetrics(None)
    return TextureMetrics(float(np.sqrt(np.mean(values.astype(np.float64) ** 2))))


def texture_octaves(lstar: np.ndarray, mask: np.ndarray, mm_per_px: float,
                    octaves: Sequence[Sequence[float]]) -> list[float]:
    """Robust SD (1.4826 x MAD, L*) of ``lstar`` band-passed in each octave over ``mask``.

    Parameters
    ----------
    lstar : (H, W) L*
    mask : (H, W) bool, the skin to measure
    mm_per_px : pixel size of ``lstar`` (mm)
    octaves : ``(fine_mm, coarse_mm, ...)`` per octave: the SDs of the difference of
        Gaussians (anything after them, such as a target spread, is ignored)

    Returns
    -------
    list of float
        One spread per octave, computed on the 0.4 mm portrait grid
        (``wrinkles.PORTRAIT_PIXEL_MM``), so that photographs of any pixel size compare.
    """
    from dermatrack.imaging.wrinkles import PORTRAIT_PIXEL_MM

    factor = PORTRAIT_PIXEL_MM / mm_per_px
    shape = (max(int(round(lstar.shape[0] / factor)), 1),
             max(int(round(lstar.shape[1] / factor)), 1))
    lum = resize_to(np.asarray(lstar, np.float32), shape)
    keep = resize_to(np.asarray(mask, bool), shape)
    out = []
    for fine, coarse, *_ in octaves:
        values = bandpass(lum, fine / PORTRAIT_PIXEL_MM, coarse / PORTRAIT_PIXEL_MM)[keep]
        centre = np.median(values)
        out.append(float(1.4826 * np.median(np.abs(values - centre))))
    return out
