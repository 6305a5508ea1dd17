"""Physical scale of a photograph in millimetres per pixel.

Lengths, areas and densities are reported in mm only when the scale is known. The scale
comes, in order of trust, from the user (a ruler in the frame, a fixed capture rig),
from a detected ColorChecker (its swatch pitch is a known length), from the iris (whose
visible diameter varies little between adults), and otherwise it is unknown and lengths
stay in pixels.

References
----------
- Vakunov & Lagun (2020), "MediaPipe Iris: real-time iris tracking & depth estimation",
  Google AI Blog: the horizontal iris diameter "remains roughly constant at 11.7 ± 0.5 mm
  across a wide population", which MediaPipe uses for metric depth.
- Rüfer, Schröder & Erb (2005), "White-to-white corneal diameter: normal values in
  healthy humans obtained with the Orbscan II topography system", Cornea 24(3):259-261
  (mean 11.71 ± 0.42 mm, n = 457).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dermatrack.errors import InputError

__all__ = ["IRIS_DIAMETER_MM", "Scale", "mm_per_px_from_iris", "resolve_scale"]

#: Horizontal visible iris diameter of adults, mm (see the module references). Its
#: between-person spread (SD about 0.4-0.5 mm) makes an iris-derived scale uncertain by
#: roughly ±4 % (one SD) before any landmark error.
IRIS_DIAMETER_MM = 11.7

ScaleSource = Literal["user", "colorchecker", "iris", "unknown"]


@dataclass(frozen=True)
class Scale:
    """Millimetres per pixel and where the figure came from.

    Attributes
    ----------
    mm_per_px:
        Physical size of one pixel, mm; None when unknown.
    source:
        ``"user"``, ``"colorchecker"``, ``"iris"`` or ``"unknown"``.
    """

    mm_per_px: float | None
    source: ScaleSource

    @property
    def known(self) -> bool:
        """True when lengths can be given in mm."""
        return self.mm_per_px is not None


def mm_per_px_from_iris(regions) -> float | None:
    """Scale from the iris landmarks of a :class:`~dermatrack.imaging.regions.FaceRegions`.

    Parameters
    ----------
    regions:
        Face regions with ``iris_diameter_px`` (mean horizontal iris diameter in pixels).

    Returns
    -------
    float or None
        ``IRIS_DIAMETER_MM / iris_diameter_px``; None when no face or iris was found or
        the iris is under 4 pixels across (too small to measure).
    """
    diameter = getattr(regions, "iris_diameter_px", None)
    if diameter is None or not diameter >= 4.0:
        return None
    return IRIS_DIAMETER_MM / float(diameter)


def resolve_scale(user_mm_per_px: float | None, calibration=None, regions=None) -> Scale:
    """Choose the scale: the user's figure, else the chart's, else the iris, else unknown.

    Parameters
    ----------
    user_mm_per_px:
        Scale given by the user (``--mm-per-px``), mm per pixel, or None.
    calibration:
        A :class:`~dermatrack.imaging.calibration.ChartCalibration` or None.
    regions:
        A :class:`~dermatrack.imaging.regions.FaceRegions` or None.

    Raises
    ------
    InputError
        If the user's figure is not a positive finite number.
    """
    if user_mm_per_px is not None:
        value = float(user_mm_per_px)
        if not (value > 0 and value < float("inf")):
            raise InputError(f"mm per pixel must be a positive number, got {user_mm_per_px}",
                             field="mm_per_px")
        return Scale(value, "user")
    if calibration is not None and getattr(calibration, "applied", False):
        chart_scale = getattr(calibration, "chart_mm_per_px", None)
        if chart_scale is not None and chart_scale > 0:
            return Scale(float(chart_scale), "colorchecker")
    if regions is not None:
        iris_scale = mm_per_px_from_iris(regions)
        if iris_scale is not None:
            return Scale(iris_scale, "iris")
    return Scale(None, "unknown")
