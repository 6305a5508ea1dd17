"""sRGB, linear light, CIELAB and the CIEDE2000 colour difference; the exposure at which
the maps see the skin (:func:`exposure_gain`), read by the analysis and by the regions'
tests on lightness.

Everything here works on float32 sRGB arrays in [0, 1] (shape ``(H, W, 3)``) and is
vectorised so that a 12-megapixel photograph converts in a fraction of a second.

Colour calibration with a ColorChecker Classic lives in :mod:`.calibration`, and finding
the chart in :mod:`.chart_detection`.

References
----------
- Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation
  notes, supplementary test data, and mathematical observations", Color Res. Appl.
  30(1):21-30.
- IEC 61966-2-1:1999 (sRGB); CIE 15:2004 (CIELAB).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "EXPOSURE_REFERENCE_L",
    "delta_e2000",
    "exposure_gain",
    "lab_to_srgb",
    "linear_to_lab",
    "linear_to_srgb",
    "normalise_exposure",
    "srgb_to_lab",
    "srgb_to_linear",
]

# sRGB (IEC 61966-2-1) primaries with the D65 white: linear RGB -> XYZ.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]], dtype=np.float32)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ.astype(np.float64)).astype(np.float32)
# CIE 1931 2° D65 white point, Y = 1 (xy 0.3127, 0.3290).
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)

_LUT_SIZE = 65536
_BLOCK_ROWS = 64


@lru_cache(maxsize=1)
def _decode_lut() -> np.ndarray:
    code = np.linspace(0.0, 1.0, _LUT_SIZE, dtype=np.float64)
    lin = np.where(code <= 0.04045, code / 12.92, ((code + 0.055) / 1.055) ** 2.4)
    return lin.astype(np.float32)


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """Decode sRGB values in [0, 1] to linear light (IEC 61966-2-1 EOTF).

    A 16-bit look-up table keeps this fast on large images; the quantisation error is
    below 1e-4 in linear units. Values are clipped to [0, 1] first.
    """
    codes = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0)
    index = (codes * np.float32(_LUT_SIZE - 1) + np.float32(0.5)).astype(np.uint16)
    return _decode_lut()[index]


@lru_cache(maxsize=1)
def _encode_lut() -> np.ndarray:
    lin = np.linspace(0.0, 1.0, _LUT_SIZE, dtype=np.float64)
    code = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return code.astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Encode linear light to sRGB in [0, 1] (inverse of :func:`srgb_to_linear`).

    Values are clipped to [0, 1]; a 16-bit look-up table keeps the error below 3e-4
    (under 0.1 of an 8-bit code).
    """
    lin = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    index = (lin * np.float32(_LUT_SIZE - 1) + np.float32(0.5)).astype(np.uint16)
    return _encode_lut()[index]


def _apply_3x3(pixels: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``pixels @ matrix.T`` for (..., 3) float32 arrays without float64 copies."""
    flat = pixels.reshape(-1, 1, 3)
    import cv2

    return cv2.transform(flat, matrix.astype(np.float32)).reshape(pixels.shape)


def _xyz_to_lab(xyz: np.ndarray) -> np.ndarray:
    scaled = xyz / _WHITE_D65
    epsilon = np.float32(216 / 24389)
    kappa = np.float32(24389 / 27)
    f = np.where(scaled > epsilon, np.cbrt(scaled), (kappa * scaled + 16) / 116)
    lab = np.empty_like(xyz, dtype=np.float32)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65 white) of linear sRGB values; not clipped, so out-of-gamut works."""
    linear = np.asarray(linear, dtype=np.float32)
    return _xyz_to_lab(_apply_3x3(linear, _RGB_TO_XYZ))


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert sRGB-encoded colours to CIELAB with the D65 reference white.

    Parameters
    ----------
    rgb:
        ``(..., 3)`` sRGB values in [0, 1] (float; clipped to that range).

    Returns
    -------
    numpy.ndarray
        float32 ``(..., 3)``: L* in [0, 100], a*, b* (CIE 15:2004 with the sRGB primaries
        and D65 white of IEC 61966-2-1, no chromatic adaptation).
    """
    import cv2

    linear = srgb_to_linear(rgb)
    # OpenCV's linear-RGB conversion uses the same sRGB primaries and D65 white; it is
    # about ten times faster than the numpy path on large images and agrees with
    # colour-science to within 0.03 units.
    # OpenCV parallelises over rows, so keep images 2-D (an N x 1 column is 10x slower).
    image = linear if linear.ndim == 3 else linear.reshape(1, -1, 3)
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_LRGB2Lab).reshape(linear.shape)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """Inverse of :func:`srgb_to_lab` (D65), clipped to the sRGB gamut."""
    lab = np.asarray(lab, dtype=np.float32)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    epsilon = np.float32(6 / 29)
    xyz = np.where(f > epsilon, f ** 3, 3 * epsilon ** 2 * (f - np.float32(4 / 29)))
    xyz = xyz * _WHITE_D65
    return linear_to_srgb(_apply_3x3(xyz.astype(np.float32), _XYZ_TO_RGB))


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between two CIELAB arrays (kL = kC = kH = 1).

    Parameters
    ----------
    lab1, lab2:
        Broadcastable ``(..., 3)`` CIELAB arrays.

    Returns
    -------
    numpy.ndarray
        ``(...)`` float32 ΔE00 values.

    References
    ----------
    Sharma, Wu & Dalal (2005), Color Res. Appl. 30(1):21-30, equations (1)-(17).
    """
    lab1 = np.asarray(lab1, dtype=np.float32)
    lab2 = np.asarray(lab2, dtype=np.float32)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_mean7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_mean7 / (c_mean7 + np.float32(25.0 ** 7))))
    a1p = (1 + g) * a1
    a2p = (1 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360

    dl = l2 - l1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0, dh)
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    l_mean = (l1 + l2) / 2
    c_mean = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) <= 180, h_sum / 2,
                      np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    h_mean = np.where(c1p * c2p == 0, h_sum, h_mean)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    c_mean_7 = c_mean ** 7
    r_c = 2 * np.sqrt(c_mean_7 / (c_mean_7 + np.float32(25.0 ** 7)))
    l_term = (l_mean - 50) ** 2
    s_l = 1 + 0.015 * l_term / np.sqrt(20 + l_term)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    de = np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dhh / s_h) ** 2
                 + r_t * (dc / s_c) * (dhh / s_h))
    return de.astype(np.float32)


#: L* at which the maps see the skin: the middle of the range of human skin L* (about
#: 30 to 75; Del Bino 2006). See :func:`exposure_gain`.
EXPOSURE_REFERENCE_L = 55.0


def exposure_gain(skin_lstar: np.ndarray) -> float:
    """Factor on (L* + 16) that brings the skin's median L* to EXPOSURE_REFERENCE_L.

    Multiplying the luminance Y by k multiplies (L* + 16) = 116 Y**(1/3) by k**(1/3),
    and a*, b* by the same factor (CIE 1976, above the dark toe, L* > 8). So the map
    detectors, whose thresholds are in L* and a*, see every photograph of the same skin
    at the same exposure: a photograph 20 % brighter gives the same wrinkles, spots and
    red areas. The colour figures (L*, b*, ITA, a*, indices) are measured on the
    photograph as taken: normalising them would erase skin tone.
    """
    values = np.asarray(skin_lstar, np.float64)
    if values.size == 0:
        return 1.0
    med = float(np.median(values))
    if not med > 8.0:
        return 1.0
    # Rounded to 0.1 %: finer than any effect on the maps (0.05 L*), and the gain then
    # does not move when a handful of pixels join or leave the skin mask.
    return round((EXPOSURE_REFERENCE_L + 16.0) / (med + 16.0), 3)


def normalise_exposure(lab_or_l: np.ndarray, gain: float) -> np.ndarray:
    """Apply :func:`exposure_gain` to a CIELAB image (..., 3) or an L* map (a copy)."""
    out = np.array(lab_or_l, dtype=np.float32, copy=True)
    if gain == 1.0:
        return out
    g = np.float32(gain)
    if out.ndim == 3 and out.shape[-1] == 3:
        out[..., 0] = (out[..., 0] + 16.0) * g - 16.0
        out[..., 1:] *= g
    else:
        out += 16.0
        out *= g
        out -= 16.0
    return out
