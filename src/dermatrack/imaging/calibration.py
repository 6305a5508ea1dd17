"""Colour calibration with an X-Rite ColorChecker Classic.

Calibration
-----------
:func:`calibrate_with_colorchecker` takes the swatch-grid proposals of
:mod:`.chart_detection` (a lattice search for the 4 x 6 swatches at several working
resolutions and, when that finds no usable chart, colour-checker-detection's
segmentation), samples the 24 swatches of each in the full-resolution image, and fits,
from the linearised measured swatches to the reference swatches in linear sRGB (D65):

1. a per-channel tone exponent from the six neutral swatches (a camera tone curve or
   gamma that differs from sRGB is not a linear map, so no matrix can undo it), then
2. a colour-correction matrix on the degree-2 root-polynomial expansion of Finlayson,
   Mackiewicz & Hurlbert (2015), which, unlike an ordinary polynomial, scales with
   exposure.

The choice was measured on rendered charts (``chart.render_colorchecker``) pasted into
a grey scene and distorted by a fixed 3x3 colour cast, gains of 0.7 and 1.0, gammas of
0.8 to 1.4 and Gaussian noise (σ = 0.01): mean ΔE2000 of the 24 swatches after
correction was

=========================================  ===========  ===================
model                                       gamma 1.0    gamma 0.8-1.4
=========================================  ===========  ===================
3x3 matrix (Cheung et al. 2004)             0.3          2.9-6.0
root-polynomial degree 2                    0.3          2.3-4.4
neutral-swatch tone exponents + 3x3         0.35         0.4-0.95
neutral-swatch tone exponents + root-poly   0.35         0.4-0.8 (max 2.3)
=========================================  ===========  ===================

so the last row is the model used (:data:`CORRECTION_METHOD`). About 1.8 ΔE of the
remaining maximum is the cyan swatch, which lies outside the sRGB gamut and so cannot
be rendered exactly in the test charts. With 24 swatches and 6 terms per channel the
fit is well over-determined.

The proposal kept is the one whose swatches fit best (lowest mean ΔE2000): which way up
the chart lies and which swatches a partial detection saw are settled by the colours,
and a proposal that is not a chart fits an order of magnitude worse. The kept fit is
then held to :data:`MAX_DELTA_E2000` and :data:`MAX_MEAN_DELTA_E2000`, which refuse a
chart shown on a screen.

References
----------
- Cheung, Westland, Connah & Ripamonti (2004), "A comparative study of the
  characterisation of colour cameras by means of neural networks and polynomial
  transforms", Coloration Technology 120(1):19-25.
- Finlayson, Mackiewicz & Hurlbert (2015), "Color correction using root-polynomial
  regression", IEEE Trans. Image Process. 24(5):1460-1470.
- Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation
  notes, supplementary test data, and mathematical observations", Color Res. Appl.
  30(1):21-30.
- IEC 61966-2-1:1999 (sRGB); CIE 15:2004 (CIELAB).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from dermatrack.imaging.chart import PATCH_PITCH_MM
from dermatrack.imaging.chart_detection import (
    GridCandidate,
    grid_centres,
    lattice_candidates,
    project_points,
    segmentation_candidates,
)
from dermatrack.imaging.colour import (
    _BLOCK_ROWS,
    _LUT_SIZE,
    _decode_lut,
    delta_e2000,
    linear_to_lab,
    linear_to_srgb,
    srgb_to_linear,
)

__all__ = [
    "CORRECTION_METHOD",
    "MAX_DELTA_E2000",
    "MAX_MEAN_DELTA_E2000",
    "ChartCalibration",
    "apply_calibration",
    "calibrate_with_colorchecker",
]

#: colour-science correction method and its options (see the module docstring).
CORRECTION_METHOD: dict[str, Any] = {
    "method": "Finlayson 2015", "degree": 2, "root_polynomial_expansion": True,
}


# Indices of the six neutral swatches (white 9.5 to black 2) in reading order.
_NEUTRALS = slice(18, 24)

# --------------------------------------------------------------------------------------
# ColorChecker calibration


@dataclass
class ChartCalibration:
    """Result of looking for a ColorChecker and fitting a colour correction.

    Attributes
    ----------
    applied:
        True when a chart was found and a correction fitted; False means the colour
        metrics are uncalibrated.
    matrix:
        ``(3, n_terms)`` correction matrix acting on the root-polynomial expansion of
        linear sRGB (:data:`CORRECTION_METHOD`), or None.
    delta_e2000_mean, delta_e2000_max:
        ΔE2000 of the 24 swatches after correction against the reference values.
    chart_mm_per_px:
        Physical scale from the swatch pitch (``chart.PATCH_PITCH_MM``), mm per pixel.
    chart_quad:
        ``(4, 2)`` pixel corners of the swatch grid, or None.
    chart_mask:
        Bool ``(H, W)`` mask of the chart (with a margin), for excluding it from analysis.
    swatch_order:
        ``"upright"`` when the chart lies within a quarter turn of its reading
        position (dark skin up and left of black), else ``"rotated_180"``.
    tone_exponents:
        ``(3,)`` per-channel exponents applied to linearised RGB before the matrix.
    detector:
        Which detector proposed the chart kept (``"lattice"`` or ``"segmentation"``).
    refused:
        Why a chart that was found is not used (fit too poor: a chart on a screen, under
        mixed light, or misread), or None.
    """

    applied: bool
    matrix: np.ndarray | None = None
    delta_e2000_mean: float | None = None
    delta_e2000_max: float | None = None
    chart_mm_per_px: float | None = None
    chart_quad: np.ndarray | None = None
    chart_mask: np.ndarray | None = None
    swatch_order: str | None = None
    tone_exponents: np.ndarray | None = None
    refused: str | None = None
    detector: str | None = None

    @classmethod
    def none(cls) -> ChartCalibration:
        """The result when no chart is in the image."""
        return cls(applied=False)


@lru_cache(maxsize=1)
def _reference_linear() -> np.ndarray:
    """Reference swatches in linear sRGB (D65), not clipped: the fit target."""
    import colour

    from dermatrack.imaging.chart import REFERENCE_DATASET

    chart = colour.CCS_COLOURCHECKERS[REFERENCE_DATASET]
    xyz = colour.xyY_to_XYZ(np.array(list(chart.data.values()), dtype=np.float64))
    linear = colour.XYZ_to_RGB(xyz, "sRGB", chart.illuminant,
                               chromatic_adaptation_transform="Bradford")
    return np.asarray(linear, dtype=np.float32)


def _tone_exponents(measured_linear: np.ndarray) -> np.ndarray:
    """Per-channel exponents mapping the measured neutral swatches onto the reference.

    A least-squares line through log(measured) -> log(reference) over the six neutral
    swatches (white to black) gives each channel's exponent; its offset (a gain) is left
    to the matrix that follows.
    """
    measured = np.maximum(measured_linear[_NEUTRALS], 1e-6)
    reference = np.maximum(_reference_linear()[_NEUTRALS].astype(np.float64), 1e-6)
    return np.array([np.polyfit(np.log(measured[:, channel]), np.log(reference[:, channel]), 1)[0]
                     for channel in range(3)])


def _fit(measured_linear: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit tone exponents and the correction matrix; return them and the per-swatch
    ΔE2000 after correction."""
    from colour.characterisation import (
        apply_matrix_colour_correction,
        matrix_colour_correction,
    )

    measured = np.maximum(measured_linear.astype(np.float64), 1e-6)
    exponents = _tone_exponents(measured)
    toned = measured ** exponents
    target = _reference_linear().astype(np.float64)
    matrix = matrix_colour_correction(toned, target, **CORRECTION_METHOD)
    corrected = apply_matrix_colour_correction(toned, matrix, **CORRECTION_METHOD)
    errors = delta_e2000(linear_to_lab(corrected.astype(np.float32)),
                         linear_to_lab(_reference_linear()))
    return exponents, np.asarray(matrix, dtype=np.float64), errors


def _sample_swatches(rgb: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Mean sRGB of the central 40 % (linear size) of each swatch, reading order."""
    import cv2

    centres = project_points(homography, grid_centres())
    pitch = float(np.median(np.linalg.norm(
        project_points(homography, grid_centres() + [1.0, 0.0]) - centres, axis=1)))
    half = max(1, int(round(0.2 * pitch)))
    height, width = rgb.shape[:2]
    samples = np.empty((len(centres), 3), dtype=np.float64)
    for index, (x, y) in enumerate(centres):
        x0, x1 = int(round(x)) - half, int(round(x)) + half + 1
        y0, y1 = int(round(y)) - half, int(round(y)) + half + 1
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            return np.empty((0, 3))
        samples[index] = cv2.mean(rgb[y0:y1, x0:x1])[:3]
    return samples


#: Largest ΔE2000 of any swatch after correction for a calibration to be used. A printed
#: chart under one light fits to a few units with the root-polynomial correction; a
#: swatch more than 10 units off (a clearly different colour) means the chart is not a
#: reflective print under the scene's light (a screen: emissive, another gamut and
#: white) or was misread.
MAX_DELTA_E2000 = 10.0
#: Largest mean ΔE2000 over the 24 swatches (twice the 2-3 units counted significant for
#: skin colour).
MAX_MEAN_DELTA_E2000 = 5.0


def _evaluate(rgb: np.ndarray, candidate: GridCandidate
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Sample the 24 swatches where ``candidate`` puts them and fit; None when a swatch
    falls outside the image or no fit is possible."""
    samples = _sample_swatches(rgb, candidate.homography)
    if len(samples) != 24:
        return None
    measured = srgb_to_linear(samples.astype(np.float32)).astype(np.float64)
    try:
        exponents, matrix, errors = _fit(measured)
    except np.linalg.LinAlgError:  # samples no fit can use: not a chart
        return None
    if not np.isfinite(errors).all():
        return None
    return exponents, matrix, errors


def _acceptable(errors: np.ndarray) -> bool:
    return float(errors.max()) <= MAX_DELTA_E2000 and float(errors.mean()) <= MAX_MEAN_DELTA_E2000


def calibrate_with_colorchecker(rgb: np.ndarray) -> ChartCalibration:
    """Find a ColorChecker Classic in ``rgb`` and fit a colour correction to it.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` float32 sRGB image in [0, 1].

    Returns
    -------
    ChartCalibration
        ``applied`` is False when no chart with 24 readable swatches is found, or when
        the best fit exceeds :data:`MAX_DELTA_E2000` or :data:`MAX_MEAN_DELTA_E2000`
        (then ``refused`` says so and gives the figures). Otherwise the tone exponents
        and correction matrix (:data:`CORRECTION_METHOD`) from linearised measured
        swatches to the reference swatches in linear sRGB, the ΔE2000 of the 24
        swatches after correction (mean and max) against colour-science's
        ``"ColorChecker24 - After November 2014"`` values adapted to D65 (Bradford),
        the chart's corners, a mask covering it, and the scale from the swatch pitch.

    Notes
    -----
    Every proposal of :func:`.chart_detection.lattice_candidates` is read and fitted,
    and the one with the lowest mean ΔE2000 kept; only when none of them is acceptable
    are colour-checker-detection's proposals (:func:`.chart_detection.segmentation_candidates`)
    tried as well. The lattice search takes about 0.3-0.8 s of CPU on an 8-megapixel
    photograph, the segmentation about 0.5 s; ``analysis.run_analysis`` runs the search
    on a second thread. The scale assumes a full-size chart (44 mm swatch pitch): a
    printed reduction of the chart calibrates colour correctly but gives a wrong scale.
    """
    import cv2

    rgb = np.asarray(rgb, dtype=np.float32)
    best: tuple[GridCandidate, np.ndarray, np.ndarray, np.ndarray] | None = None
    for propose in (lattice_candidates, segmentation_candidates):
        for candidate in propose(rgb):
            fitted = _evaluate(rgb, candidate)
            if fitted is None:
                continue
            if best is None or float(fitted[2].mean()) < float(best[3].mean()):
                best = (candidate, *fitted)
        if best is not None and _acceptable(best[3]):
            break
    if best is None:
        return ChartCalibration.none()
    candidate, exponents, matrix, errors = best
    homography = candidate.homography
    centres = project_points(homography, grid_centres())
    pitch_px = float(np.mean([
        np.linalg.norm(centres[5] - centres[0]) / 5,
        np.linalg.norm(centres[23] - centres[18]) / 5,
        np.linalg.norm(centres[18] - centres[0]) / 3,
        np.linalg.norm(centres[23] - centres[5]) / 3,
    ]))
    corners = project_points(homography, np.array([[0, 0], [6, 0], [6, 4], [0, 4]], float))
    # Which way up the chart lies: upright when the diagonal from the dark-skin swatch to
    # the black one points the way it does on an upright chart (right and down).
    diagonal = centres[23] - centres[0]
    swatch_order = "upright" if diagonal @ np.array([5.0, 3.0]) >= 0 else "rotated_180"
    mean, worst = float(errors.mean()), float(errors.max())
    if not _acceptable(errors):
        return ChartCalibration(
            applied=False, delta_e2000_mean=mean, delta_e2000_max=worst, chart_quad=corners,
            detector=candidate.detector,
            refused=(f"a ColorChecker was found but its fit is too poor to calibrate: "
                     f"ΔE2000 mean {mean:.1f}, max {worst:.1f} (limits "
                     f"{MAX_MEAN_DELTA_E2000:g} and {MAX_DELTA_E2000:g}); a chart shown "
                     f"on a screen, mixed light or a partly hidden chart gives this. "
                     f"Colour stays uncalibrated"))
    # The mask covers the card frame too: the grid scaled about its centre by the
    # card-to-grid ratio (about 1.1 horizontally, 1.25 vertically), here a uniform 1.3.
    centre = corners.mean(axis=0)
    outline = centre + (corners - centre) * 1.3
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
    return ChartCalibration(
        applied=True, matrix=matrix, tone_exponents=exponents, delta_e2000_mean=mean,
        delta_e2000_max=worst, chart_mm_per_px=PATCH_PITCH_MM / pitch_px,
        chart_quad=corners, chart_mask=mask.astype(bool), swatch_order=swatch_order,
        detector=candidate.detector)


def apply_calibration(rgb: np.ndarray, calibration: ChartCalibration) -> np.ndarray:
    """Colour-correct an sRGB image with a fitted :class:`ChartCalibration`.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` float32 sRGB image in [0, 1].
    calibration:
        Result of :func:`calibrate_with_colorchecker`; when ``applied`` is False the
        image is returned unchanged (as float32).

    Returns
    -------
    numpy.ndarray
        Corrected float32 sRGB image, clipped to [0, 1].
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    if not calibration.applied or calibration.matrix is None:
        return rgb
    matrix = np.asarray(calibration.matrix, dtype=np.float32)
    if matrix.shape != (3, 6):
        raise ValueError(f"calibration matrix has shape {matrix.shape}, expected (3, 6)")
    exponents = (np.ones(3) if calibration.tone_exponents is None
                 else np.asarray(calibration.tone_exponents, dtype=np.float64))
    # Decoding and the tone exponent are a function of each channel's code alone, and
    # sqrt(RG) = sqrt(R) sqrt(G): per-channel 16-bit look-up tables of the toned value
    # and of its square root replace every power and square root on the image.
    decoded = np.maximum(_decode_lut().astype(np.float64), 1e-6)
    toned = [(decoded ** exponent).astype(np.float32) for exponent in exponents]
    roots = [np.sqrt(table) for table in toned]
    corrected = np.empty_like(rgb)
    scale, half = np.float32(_LUT_SIZE - 1), np.float32(0.5)
    # Blocks of rows keep the intermediates in cache.
    for start in range(0, rgb.shape[0], _BLOCK_ROWS):
        codes = np.clip(rgb[start:start + _BLOCK_ROWS], 0.0, 1.0)
        index = (codes * scale + half).astype(np.uint16)
        red, green, blue = (toned[c][index[..., c]] for c in range(3))
        root_red, root_green, root_blue = (roots[c][index[..., c]] for c in range(3))
        # Root-polynomial degree 2 terms in colour-science's order
        # (polynomial_expansion_Finlayson2015): R, G, B, sqrt(RG), sqrt(GB), sqrt(RB).
        terms = (red, green, blue, root_red * root_green, root_green * root_blue,
                 root_red * root_blue)
        block = np.empty(codes.shape, dtype=np.float32)
        for channel in range(3):
            weights = matrix[channel]
            accumulator = terms[0] * weights[0]
            for term, weight in zip(terms[1:], weights[1:], strict=True):
                accumulator += term * weight
            block[..., channel] = accumulator
        corrected[start:start + _BLOCK_ROWS] = linear_to_srgb(block)
    return corrected

