"""A rendered X-Rite ColorChecker Classic: reference colours and physical geometry.

The phantom generator pastes this chart into synthetic photographs and the colour tests
detect it again, so the chart drawn here and the geometry used to derive a physical scale
from a detected chart come from the same constants.

Geometry of the ColorChecker Classic
------------------------------------
The card measures 279.4 x 215.9 mm (11 x 8.5 in, X-Rite's product specification; older
descriptions give 11 x 8.25 in) and carries 24 matte swatches in 4 rows of 6 on a black
frame (McCamy, Marcus & Davidson 1976, J. Appl. Photogr. Eng. 2:95). The swatches are
taken here as 40 mm squares on a 44 mm pitch (4 mm black gaps), which spans 260 x 172 mm,
leaving the rest of the card as frame. Those swatch figures are nominal values measured
from the published chart layout, not a manufacturer tolerance: a scale derived from a
detected chart inherits their uncertainty (about 1-2 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "CARD_HEIGHT_MM",
    "CARD_WIDTH_MM",
    "PATCH_PITCH_MM",
    "PATCH_SIZE_MM",
    "SWATCH_COLUMNS",
    "SWATCH_NAMES",
    "SWATCH_ROWS",
    "ChartGeometry",
    "paste_chart",
    "warp_chart",
    "reference_srgb",
    "render_colorchecker",
]

CARD_WIDTH_MM = 279.4
CARD_HEIGHT_MM = 215.9
PATCH_SIZE_MM = 40.0
PATCH_PITCH_MM = 44.0
SWATCH_COLUMNS = 6
SWATCH_ROWS = 4

#: colour-science data set whose reference values the chart reproduces (X-Rite's values
#: for charts made after the November 2014 pigment change, D50, CIE 1931 2° observer).
REFERENCE_DATASET = "ColorChecker24 - After November 2014"

SWATCH_NAMES = (
    "dark skin", "light skin", "blue sky", "foliage", "blue flower", "bluish green",
    "orange", "purplish blue", "moderate red", "purple", "yellow green", "orange yellow",
    "blue", "green", "red", "yellow", "magenta", "cyan",
    "white 9.5", "neutral 8", "neutral 6.5", "neutral 5", "neutral 3.5", "black 2",
)

# The frame is a very dark neutral; sRGB 0.1 is close to what cameras record for it.
_FRAME_SRGB = np.float32(0.10)


@dataclass(frozen=True)
class ChartGeometry:
    """Where the swatches of a rendered chart lie and how large they are physically.

    Attributes
    ----------
    patch_px, gap_px, border_px:
        Swatch side, gap between swatches and frame width, in pixels.
    width_px, height_px:
        Size of the rendered chart image, in pixels.
    mm_per_px:
        Physical size of one pixel of the rendered chart, in mm (``PATCH_PITCH_MM`` over
        the pixel pitch).
    swatch_boxes:
        ``(24, 4)`` int array of ``(x0, y0, x1, y1)`` swatch rectangles (x1, y1 exclusive),
        in reading order (row by row from the dark-skin swatch).
    grid_quad:
        ``(4, 2)`` float array: corners of the swatch grid (top-left, top-right,
        bottom-right, bottom-left), pixel coordinates.
    """

    patch_px: int
    gap_px: int
    border_px: int
    width_px: int
    height_px: int
    mm_per_px: float
    swatch_boxes: np.ndarray
    grid_quad: np.ndarray

    @property
    def grid_width_mm(self) -> float:
        """Physical width of the swatch grid, mm."""
        return SWATCH_COLUMNS * PATCH_PITCH_MM - (PATCH_PITCH_MM - PATCH_SIZE_MM)

    @property
    def grid_height_mm(self) -> float:
        """Physical height of the swatch grid, mm."""
        return SWATCH_ROWS * PATCH_PITCH_MM - (PATCH_PITCH_MM - PATCH_SIZE_MM)


@lru_cache(maxsize=1)
def _reference_srgb() -> np.ndarray:
    import colour

    chart = colour.CCS_COLOURCHECKERS[REFERENCE_DATASET]
    xyy = np.array(list(chart.data.values()), dtype=np.float64)
    xyz = colour.xyY_to_XYZ(xyy)
    # The references are measured under D50; adapt to sRGB's D65 white with Bradford,
    # the transform ICC colour management uses.
    srgb = colour.XYZ_to_sRGB(xyz, illuminant=chart.illuminant,
                              chromatic_adaptation_transform="Bradford",
                              apply_cctf_encoding=True)
    return np.clip(srgb, 0.0, 1.0).astype(np.float32)


def reference_srgb() -> np.ndarray:
    """sRGB-encoded (D65) reference colours of the 24 swatches, reading order.

    Returns
    -------
    numpy.ndarray
        ``(24, 3)`` float32 in [0, 1]. Computed from colour-science's
        ``CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]`` (xyY, D50) with
        Bradford adaptation to D65 and the sRGB encoding (IEC 61966-2-1).
    """
    return _reference_srgb().copy()


def render_colorchecker(patch_px: int, *, gap_px: int | None = None
                        ) -> tuple[np.ndarray, ChartGeometry]:
    """Draw a ColorChecker Classic with its reference colours.

    Parameters
    ----------
    patch_px:
        Side of one swatch in pixels (at least 4).
    gap_px:
        Black gap between swatches in pixels; by default the physical ratio
        ``(PATCH_PITCH_MM - PATCH_SIZE_MM) / PATCH_SIZE_MM`` of ``patch_px`` (at least 1).

    Returns
    -------
    chart:
        ``(H, W, 3)`` float32 sRGB image of the whole card, frame included, with the
        card's physical aspect ratio.
    geometry:
        Pixel layout and physical scale (:class:`ChartGeometry`).
    """
    if patch_px < 4:
        raise ValueError("patch_px must be at least 4 pixels")
    if gap_px is None:
        gap_px = max(1, round(patch_px * (PATCH_PITCH_MM - PATCH_SIZE_MM) / PATCH_SIZE_MM))
    pitch_px = patch_px + gap_px
    mm_per_px = PATCH_PITCH_MM / pitch_px
    grid_w = SWATCH_COLUMNS * pitch_px - gap_px
    grid_h = SWATCH_ROWS * pitch_px - gap_px
    width = max(grid_w + 2 * gap_px, round(CARD_WIDTH_MM / mm_per_px))
    height = max(grid_h + 2 * gap_px, round(CARD_HEIGHT_MM / mm_per_px))
    left = (width - grid_w) // 2
    top = (height - grid_h) // 2

    chart = np.full((height, width, 3), _FRAME_SRGB, dtype=np.float32)
    colours = _reference_srgb()
    boxes = np.zeros((SWATCH_ROWS * SWATCH_COLUMNS, 4), dtype=np.int64)
    for index in range(SWATCH_ROWS * SWATCH_COLUMNS):
        row, column = divmod(index, SWATCH_COLUMNS)
        x0 = left + column * pitch_px
        y0 = top + row * pitch_px
        chart[y0:y0 + patch_px, x0:x0 + patch_px] = colours[index]
        boxes[index] = (x0, y0, x0 + patch_px, y0 + patch_px)
    quad = np.array([[left, top], [left + grid_w, top], [left + grid_w, top + grid_h],
                     [left, top + grid_h]], dtype=np.float64)
    geometry = ChartGeometry(patch_px=patch_px, gap_px=gap_px, border_px=min(left, top),
                             width_px=width, height_px=height, mm_per_px=mm_per_px,
                             swatch_boxes=boxes, grid_quad=quad)
    return chart, geometry


def paste_chart(rgb: np.ndarray, chart: np.ndarray, top_left: tuple[int, int]) -> np.ndarray:
    """Return a copy of ``rgb`` with ``chart`` pasted at ``top_left``.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` float32 sRGB image.
    chart:
        ``(h, w, 3)`` chart image (for example from :func:`render_colorchecker`, possibly
        rotated by the caller).
    top_left:
        ``(row, column)`` of the chart's top-left pixel (numpy / scikit-image order, not
        OpenCV's ``(x, y)``); the chart must fit inside ``rgb``.
    """
    y, x = (int(v) for v in top_left)
    h, w = chart.shape[:2]
    if x < 0 or y < 0 or y + h > rgb.shape[0] or x + w > rgb.shape[1]:
        raise ValueError(f"chart of {w}x{h} px at row {y}, column {x} does not fit in a "
                         f"{rgb.shape[1]}x{rgb.shape[0]} px image")
    out = np.array(rgb, dtype=np.float32, copy=True)
    out[y:y + h, x:x + w] = chart
    return out


def warp_chart(rgb: np.ndarray, chart: np.ndarray, corners: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Return a copy of ``rgb`` with ``chart`` drawn in perspective onto ``corners``.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` float32 sRGB image.
    chart:
        ``(h, w, 3)`` chart image (for example from :func:`render_colorchecker`).
    corners:
        ``(4, 2)`` image ``(x, y)`` positions of the chart image's top-left, top-right,
        bottom-right and bottom-left corners (OpenCV order); they may lie partly outside
        the image.

    Returns
    -------
    image:
        The composite, float32 (the chart's edge is anti-aliased by the area coverage).
    homography:
        ``(3, 3)`` map from chart-image pixel ``(x, y)`` to image ``(x, y)``.
    """
    import cv2

    rgb = np.asarray(rgb, dtype=np.float32)
    chart = np.asarray(chart, dtype=np.float32)
    corners = np.asarray(corners, dtype=np.float32).reshape(4, 2)
    full_h, full_w = chart.shape[:2]
    full_source = np.array([[0, 0], [full_w, 0], [full_w, full_h], [0, full_h]], np.float32)
    # Shrink the chart to about its size in the image first (area averaging), so that
    # the warp does not alias the swatch edges.
    shrink = min(1.0, float(np.sqrt(cv2.contourArea(corners) / (full_w * full_h))))
    if shrink < 1.0:
        chart = cv2.resize(chart, (max(4, round(full_w * shrink)), max(4, round(full_h * shrink))),
                           interpolation=cv2.INTER_AREA)
    height, width = chart.shape[:2]
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(source, corners)
    size = (rgb.shape[1], rgb.shape[0])
    warped = cv2.warpPerspective(chart, warp, size, flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT)
    coverage = cv2.warpPerspective(np.ones((height, width), np.float32), warp, size,
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    coverage = coverage[..., None]
    homography = cv2.getPerspectiveTransform(full_source, corners)
    return rgb * (1 - coverage) + warped * coverage, homography
