"""Colour overlays of the detected skin features on a photograph (core: arrays only).

A patient sheet shows, as VISIA-class systems do, where on the face the figures come
from: the wrinkles, pigmented spots, red areas and pores the analysis detected
(:meth:`dermatrack.imaging.analysis.Analysis.masks`), each in its own colour over the
photograph, with a legend. This module

* reduces a photograph and its masks to the screen size (:data:`DISPLAY_SIZE`) once,
  when the photograph is stored; a thin feature stays visible at the reduced size
  because a display pixel is marked when any part of it was detected
  (:func:`reduce_mask`);
* packs the four masks into one 8-bit image, one bit per feature
  (:func:`pack_masks`, :func:`unpack_masks`), so that one small PNG holds them;
* draws them (:func:`colour_overlay`, :func:`layer_rgba`), and moves a follow-up's
  image or masks onto its baseline with a stored alignment (:func:`warp_to`).

The colours are chosen to be told apart from each other and from skin, including by
the commonest colour-vision deficiencies (blue, yellow, magenta, violet; no red-green
pair): wrinkles blue, spots yellow, redness magenta, pores violet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["DISPLAY_SIZE", "FEATURES", "FEATURE_COLOURS", "FEATURE_LABELS", "colour_overlay",
           "display_shape", "layer_rgba", "pack_masks", "reduce_image", "reduce_mask",
           "unpack_masks", "warp_to"]

DISPLAY_SIZE = 1024
"""Long side (px) of the stored screen copy of a photograph and of its masks."""

FEATURES = ("wrinkles", "spots", "redness", "pores")
#: Bit of each feature in a packed mask image.
_BITS = {name: 1 << index for index, name in enumerate(FEATURES)}
#: Bit of the analysed skin (``Analysis.masks()["skin"]``), which before/after overlays
#: compare; packs stored before it existed have it nowhere.
_SKIN_BIT = 1 << 7
#: sRGB colour (0-1) of each feature on the overlays.
FEATURE_COLOURS: dict[str, tuple[float, float, float]] = {
    "wrinkles": (0.10, 0.55, 1.00), "spots": (1.00, 0.85, 0.00),
    "redness": (0.95, 0.15, 0.60), "pores": (0.60, 0.30, 1.00)}
#: What each colour marks, for legends.
FEATURE_LABELS = {"wrinkles": "Wrinkles and lines", "spots": "Pigmented spots",
                  "redness": "Red areas", "pores": "Pores"}
#: Opacity of a feature's colour over the photograph.
OVERLAY_ALPHA = {"wrinkles": 0.85, "spots": 0.6, "redness": 0.45, "pores": 0.85}


def display_shape(shape: tuple[int, ...], size: int = DISPLAY_SIZE) -> tuple[int, int]:
    """(rows, cols) of the screen copy of an image of ``shape``: long side at most
    ``size``, never enlarged."""
    height, width = int(shape[0]), int(shape[1])
    factor = min(1.0, size / max(height, width))
    return max(1, round(height * factor)), max(1, round(width * factor))


def reduce_image(rgb: np.ndarray, size: int = DISPLAY_SIZE) -> np.ndarray:
    """An sRGB float image reduced (area average) to its screen copy."""
    import cv2

    rows, cols = display_shape(rgb.shape, size)
    pixels = np.asarray(rgb, np.float32)
    if (rows, cols) == pixels.shape[:2]:
        return pixels
    return cv2.resize(pixels, (cols, rows), interpolation=cv2.INTER_AREA)


def reduce_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A bool mask reduced to ``shape``: a pixel is set when any part of it was set, so
    one-pixel-wide wrinkles and small pores survive the reduction."""
    import cv2

    mask = np.asarray(mask, bool)
    if mask.shape == tuple(shape):
        return mask.copy()
    cover = cv2.resize(mask.astype(np.float32), (shape[1], shape[0]),
                       interpolation=cv2.INTER_AREA)
    return cover > 0.0


def pack_masks(masks: Mapping[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The feature masks of :data:`FEATURES` (any size) as one uint8 image of ``shape``,
    one bit per feature, and the analysed skin (``"skin"``) when given: a pixel of it
    is skin when most of it was. Missing masks stay zero."""
    import cv2

    packed = np.zeros(shape, np.uint8)
    for name in FEATURES:
        if name in masks:
            packed[reduce_mask(masks[name], shape)] |= _BITS[name]
    if "skin" in masks:
        skin = cv2.resize(np.asarray(masks["skin"], np.float32), (shape[1], shape[0]),
                          interpolation=cv2.INTER_AREA) >= 0.5
        packed[skin] |= _SKIN_BIT
    return packed


def unpack_masks(packed: np.ndarray) -> dict[str, np.ndarray]:
    """The bool masks of a :func:`pack_masks` image; ``"skin"`` only when the pack holds
    it (packs stored before it was added do not)."""
    packed = np.asarray(packed, np.uint8)
    masks = {name: (packed & bit) > 0 for name, bit in _BITS.items()}
    skin = (packed & _SKIN_BIT) > 0
    if skin.any():
        masks["skin"] = skin
    return masks


def colour_overlay(rgb: np.ndarray, masks: Mapping[str, np.ndarray],
                   features: Iterable[str] = FEATURES) -> np.ndarray:
    """The photograph with each chosen feature painted in its colour (float sRGB).

    Redness is painted first and wrinkles last, so a thin line over a red area stays
    visible.
    """
    out = np.asarray(rgb, np.float32).copy()
    wanted = set(features)
    for name in ("redness", "spots", "pores", "wrinkles"):
        if name not in wanted or name not in masks:
            continue
        mask = np.asarray(masks[name], bool)
        alpha = OVERLAY_ALPHA[name]
        out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(FEATURE_COLOURS[name],
                                                                 np.float32)
    return out


def layer_rgba(mask: np.ndarray, feature: str) -> np.ndarray:
    """One feature as a transparent RGBA layer (float in [0, 1]) for the web viewer."""
    mask = np.asarray(mask, bool)
    layer = np.zeros((*mask.shape, 4), np.float32)
    layer[..., :3] = FEATURE_COLOURS[feature]
    layer[..., 3] = np.where(mask, OVERLAY_ALPHA[feature], 0.0)
    return layer


def warp_to(image: np.ndarray, matrix: np.ndarray, shape: tuple[int, int],
            *, nearest: bool = False) -> np.ndarray:
    """``image`` (a follow-up's screen copy or mask) moved onto a baseline grid of
    ``shape`` by the 3x3 follow-up -> baseline ``matrix`` (screen-copy pixels).

    Pixels the follow-up does not cover are zero (black, or unset for masks)."""
    import cv2

    source = np.asarray(image)
    as_bool = source.dtype == bool
    if as_bool:
        source = source.astype(np.uint8)
    flags = cv2.INTER_NEAREST if (nearest or as_bool) else cv2.INTER_LINEAR
    warped = cv2.warpPerspective(source, np.asarray(matrix, np.float64), (shape[1], shape[0]),
                                 flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped > 0 if as_bool else warped


def with_legend(rgb: np.ndarray, entries: Iterable[tuple[str, tuple[float, float, float]]]
                ) -> np.ndarray:
    """The image with a legend band below it: a colour swatch and a label per entry,
    lettering sized to the image so that it is readable at any resolution."""
    import cv2

    image = np.asarray(rgb, np.float32)
    if image.dtype != np.float32 or image.max() > 1.0:
        image = image / 255.0
    height, width = image.shape[:2]
    scale = max(0.5, width / 1400)
    row = int(round(44 * scale))
    side = int(row * 0.55)
    font, size, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.75 * scale, max(1, int(round(1.5 * scale)))
    items = list(entries)
    # Columns as wide as the longest label needs, so that no label runs into the next
    # or off the image.
    widest = max((cv2.getTextSize(label, font, size, thickness)[0][0] for label, _ in items),
                 default=0)
    column = widest + side + int(34 * scale)
    per_row = max(1, min(len(items), width // max(column, 1)))
    rows = -(-len(items) // per_row)
    band = np.ones((rows * row + row // 3, width, 3), np.float32)
    for index, (label, colour) in enumerate(items):
        x = int((index % per_row) * width / per_row + 12 * scale)
        y = int((index // per_row) * row + row // 3)
        band[y:y + side, x:x + side] = colour
        cv2.rectangle(band, (x, y), (x + side, y + side), (0.3, 0.3, 0.3), 1)
        cv2.putText(band, label, (x + side + int(10 * scale), y + side - 2), font, size,
                    (0.1, 0.1, 0.1), thickness, cv2.LINE_AA)
    return np.concatenate([image, band], axis=0)


def feature_legend_entries() -> list[tuple[str, tuple[float, float, float]]]:
    """(label, colour) of each feature, for :func:`with_legend`."""
    return [(FEATURE_LABELS[name], FEATURE_COLOURS[name]) for name in FEATURES]
