"""Shear-wave elastography maps: per-region shear-wave speed and Young's modulus.

An ultrasound shear-wave elastography (SWE) system tracks a shear wave through the tissue and
exports, per pixel, its speed ``c`` (m/s) or a modulus computed from it (kPa). This module
takes such a map (core: arrays in, plain results out; files are read by
:mod:`dermatrack.devices.elastography_io`) and reports, for each region of interest (ROI),
the median and spread of the speed and of the Young's modulus.

Conversion (and its assumptions)
    ``E = 3 rho c^2`` and the shear modulus ``mu = rho c^2``, with ``rho`` the tissue
    density (default :data:`DEFAULT_DENSITY_KG_M3` = 1000 kg/m³, the value SWE systems
    assume; skin is nearer 1100 kg/m³, which would raise E by 10 %). They hold for a
    **linear, elastic, isotropic, homogeneous and incompressible** medium (Poisson's
    ratio 0.5, so E = 3 mu) in which the shear wave travels as a bulk wave. Skin departs from
    each: it is viscoelastic (the speed depends on the wave's frequency, so systems differ),
    anisotropic (speed depends on direction relative to Langer's lines), layered, and
    thinner than a shear wavelength (2-3 mm at 1-3 m/s and a few hundred Hz), so the wave is
    guided (Lamb-type) and the bulk formula underestimates the modulus of the dermis. Compare
    values from one system, probe, preset and direction; treat E as a conversion of the
    speed, not an independent measurement. Sarvazyan AP et al. Shear wave elasticity
    imaging. Ultrasound Med Biol 1998;24:1419-35; Bercoff J et al. Supersonic shear
    imaging. IEEE Trans Ultrason Ferroelectr Freq Control 2004;51:396-409; Shiina T et al.
    WFUMB guidelines and recommendations for clinical use of ultrasound elastography:
    Part 1. Ultrasound Med Biol 2015;41:1126-47.

Spread
    The interquartile range (IQR, 25th to 75th percentile) and IQR/median (%), the
    reliability measure of the WFUMB and EFSUMB guidelines (a ratio above 30 % marks an
    unreliable liver reading; no skin threshold is established), plus the mean and the
    standard deviation (ddof 1).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from dermatrack.errors import InputError

Quantity = Literal["speed", "young", "shear"]
QUANTITIES: tuple[str, ...] = ("speed", "young", "shear")

DEFAULT_DENSITY_KG_M3 = 1000.0
#: Plausible soft-tissue density, kg/m³: a value outside is a typing or unit error.
DENSITY_RANGE_KG_M3 = (800.0, 1500.0)
#: Shear-wave speeds above this (m/s) are not soft tissue (E = 3 GPa); a unit error.
MAX_SPEED_M_S = 1000.0
#: An ROI needs at least this many measured pixels for a median and an IQR.
MIN_ROI_PIXELS = 4

UNITS: dict[str, str] = {
    "speed_median_m_s": "m/s", "speed_iqr_m_s": "m/s", "speed_mean_m_s": "m/s",
    "speed_sd_m_s": "m/s", "speed_iqr_over_median_pct": "%",
    "youngs_modulus_median_kpa": "kPa", "youngs_modulus_iqr_kpa": "kPa",
    "youngs_modulus_mean_kpa": "kPa", "shear_modulus_median_kpa": "kPa",
    "valid_percent": "%", "roi_area_mm2": "mm²", "n_pixels": "1",
}

#: Map units accepted and the quantity they measure with their factor to m/s or kPa.
_UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "m/s": ("speed", 1.0), "ms-1": ("speed", 1.0), "m.s-1": ("speed", 1.0),
    "mm/ms": ("speed", 1.0), "cm/s": ("speed", 0.01), "mm/s": ("speed", 0.001),
    "kpa": ("modulus", 1.0), "pa": ("modulus", 1e-3), "mpa": ("modulus", 1e3),
}


def unit_factor(unit: str, *, field: str = "unit") -> tuple[str, float]:
    """(``"speed"`` or ``"modulus"``, factor to m/s or kPa) of a map unit."""
    key = unit.strip().lower().replace(" ", "").replace("[", "").replace("]", "")
    if key in _UNIT_FACTORS:
        return _UNIT_FACTORS[key]
    raise InputError(f"unknown elastography unit {unit!r} (use m/s, cm/s, kPa, Pa or MPa)",
                     field=field)


def youngs_modulus_kpa(speed_m_s: Any, density_kg_m3: float = DEFAULT_DENSITY_KG_M3) -> Any:
    """E = 3 rho c^2, in kPa, from the shear-wave speed (m/s); see the module docstring."""
    return 3.0 * density_kg_m3 * np.square(speed_m_s) / 1000.0


def speed_from_modulus(modulus_kpa: Any, quantity: Quantity,
                       density_kg_m3: float = DEFAULT_DENSITY_KG_M3) -> Any:
    """c = sqrt(E / (3 rho)) for Young's modulus, sqrt(mu / rho) for the shear modulus."""
    factor = 3.0 if quantity == "young" else 1.0
    return np.sqrt(np.asarray(modulus_kpa, dtype=np.float64) * 1000.0
                   / (factor * density_kg_m3))


@dataclass
class ElastographyMap:
    """A map of one elastography quantity.

    ``values`` are in m/s for ``speed`` and kPa for ``young`` and ``shear``, rows along the
    depth (y) axis, ``NaN`` where nothing was measured; ``dx_mm``/``dy_mm`` the pixel size.
    """

    values: np.ndarray
    quantity: Quantity
    dx_mm: float
    dy_mm: float
    source_format: str = "array"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Roi:
    """A region of interest in mm from the map's top-left corner (x across, y down).

    ``shape`` is ``rect`` (x, y = top-left corner, width, height) or ``circle``
    (x, y = centre, width = radius).
    """

    name: str
    shape: Literal["rect", "circle"]
    x_mm: float
    y_mm: float
    width_mm: float
    height_mm: float = 0.0

    def mask(self, ny: int, nx: int, dx_mm: float, dy_mm: float) -> np.ndarray:
        """Pixels whose centres lie inside the ROI."""
        ys = (np.arange(ny) + 0.5) * dy_mm
        xs = (np.arange(nx) + 0.5) * dx_mm
        if self.shape == "circle":
            return ((xs[None, :] - self.x_mm) ** 2 + (ys[:, None] - self.y_mm) ** 2
                    <= self.width_mm ** 2)
        inside_x = (xs >= self.x_mm) & (xs < self.x_mm + self.width_mm)
        inside_y = (ys >= self.y_mm) & (ys < self.y_mm + self.height_mm)
        return inside_y[:, None] & inside_x[None, :]

    def describe(self) -> str:
        if self.shape == "circle":
            return (f"circle centre ({self.x_mm:g}, {self.y_mm:g}) mm, radius "
                    f"{self.width_mm:g} mm")
        return (f"rectangle from ({self.x_mm:g}, {self.y_mm:g}) mm, {self.width_mm:g} x "
                f"{self.height_mm:g} mm")


_ROI_PATTERN = re.compile(r"^\s*([A-Za-z][\w.-]{0,39})\s*=\s*(?:(rect|circle)\s*:)?\s*(.+)$")


def parse_roi(text: str) -> Roi:
    """``name=x,y,w,h`` (rectangle, mm) or ``name=circle:cx,cy,r``.

    Raises
    ------
    InputError
        Anything else, or a non-positive size.
    """
    match = _ROI_PATTERN.match(text)
    if not match:
        raise InputError(f"ROI {text!r} must be NAME=x,y,width,height or NAME=circle:x,y,radius "
                         "(mm from the top-left corner)", field="roi")
    name, shape, numbers = match.group(1), match.group(2) or "rect", match.group(3)
    try:
        values = [float(part) for part in numbers.split(",")]
    except ValueError:
        raise InputError(f"ROI {text!r}: the coordinates must be numbers (mm)",
                         field="roi") from None
    expected = 3 if shape == "circle" else 4
    if len(values) != expected or not all(math.isfinite(v) for v in values):
        raise InputError(f"ROI {text!r}: a {shape} takes {expected} numbers", field="roi")
    if shape == "circle":
        if values[2] <= 0:
            raise InputError(f"ROI {name}: the radius must be positive", field="roi")
        return Roi(name, "circle", values[0], values[1], values[2])
    if values[2] <= 0 or values[3] <= 0:
        raise InputError(f"ROI {name}: width and height must be positive", field="roi")
    return Roi(name, "rect", *values)


@dataclass
class RoiResult:
    """Summary of one ROI: the parameters (:data:`UNITS`) and how they were obtained."""

    roi: str
    parameters: dict[str, float | None]
    settings: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"roi": self.roi, "parameters": dict(self.parameters),
                "units": {k: UNITS[k] for k in self.parameters}, "settings": dict(self.settings)}


def _check_map(emap: ElastographyMap, density: float) -> np.ndarray:
    values = np.asarray(emap.values, dtype=np.float64)
    if values.ndim != 2 or min(values.shape) < 1:
        raise InputError(f"an elastography map must be a 2-D grid, got shape {values.shape}",
                         field="shape")
    if emap.quantity not in QUANTITIES:
        raise InputError(f"quantity must be one of {', '.join(QUANTITIES)}", field="quantity")
    for label, spacing in (("x", emap.dx_mm), ("y", emap.dy_mm)):
        if not (math.isfinite(spacing) and spacing > 0):
            raise InputError(f"the {label} pixel size must be a positive length in mm",
                             field="spacing_mm")
    low, high = DENSITY_RANGE_KG_M3
    if not (math.isfinite(density) and low <= density <= high):
        raise InputError(f"density {density:g} kg/m³ is outside {low:g}-{high:g} (soft tissue "
                         "is about 1000-1100)", field="density")
    values = np.where(np.isfinite(values), values, np.nan)
    if np.nanmin(values, initial=np.inf) < 0:
        raise InputError("the map holds negative values; a speed or modulus cannot be "
                         "negative", field="values")
    return values


def measure_elastography(emap: ElastographyMap, rois: list[Roi] | None = None, *,
                         density_kg_m3: float = DEFAULT_DENSITY_KG_M3) -> list[RoiResult]:
    """Median and spread of the shear-wave speed and Young's modulus per ROI.

    Parameters
    ----------
    emap:
        The map (speed in m/s, or Young's or shear modulus in kPa).
    rois:
        Regions of interest; ``None`` or empty: the whole map, as one ROI named ``map``.
    density_kg_m3:
        Tissue density for the conversion (module docstring).

    Returns
    -------
    list of RoiResult
        One per ROI, with ``speed_median_m_s``, ``speed_iqr_m_s`` (75th - 25th
        percentile), ``speed_iqr_over_median_pct``, ``speed_mean_m_s``, ``speed_sd_m_s``,
        ``youngs_modulus_median_kpa``, ``youngs_modulus_iqr_kpa``,
        ``youngs_modulus_mean_kpa``, ``shear_modulus_median_kpa``, ``n_pixels``,
        ``valid_percent`` (measured pixels among the ROI's) and ``roi_area_mm2``.
        Percentiles use linear interpolation (numpy's default). Every pixel is converted
        first, so the modulus statistics are those of the per-pixel moduli.

    Raises
    ------
    InputError
        A map that is not 2-D, negative values, a non-positive pixel size, a density outside
        800-1500 kg/m³, speeds above 1000 m/s, a repeated ROI name, an ROI outside the map or
        with fewer than 4 measured pixels.
    """
    values = _check_map(emap, density_kg_m3)
    if emap.quantity == "speed":
        speed = values
    else:
        speed = speed_from_modulus(values, emap.quantity, density_kg_m3)
    if np.nanmax(speed, initial=0.0) > MAX_SPEED_M_S:
        raise InputError(f"speeds above {MAX_SPEED_M_S:g} m/s are not soft tissue; check the "
                         "map's unit", field="unit")
    modulus = youngs_modulus_kpa(speed, density_kg_m3)
    ny, nx = values.shape
    chosen = list(rois) if rois else [Roi("map", "rect", 0.0, 0.0, nx * emap.dx_mm,
                                          ny * emap.dy_mm)]
    names = [roi.name for roi in chosen]
    if len(set(names)) != len(names):
        raise InputError("ROI names must be unique", field="roi")
    results = []
    for roi in chosen:
        inside = roi.mask(ny, nx, emap.dx_mm, emap.dy_mm)
        if not inside.any():
            raise InputError(f"ROI {roi.name} ({roi.describe()}) holds no pixel of the "
                             f"{nx * emap.dx_mm:g} x {ny * emap.dy_mm:g} mm map", field="roi")
        measured = inside & np.isfinite(speed)
        count = int(measured.sum())
        if count < MIN_ROI_PIXELS:
            raise InputError(f"ROI {roi.name} has {count} measured pixels; at least "
                             f"{MIN_ROI_PIXELS} are needed", field="roi")
        c = speed[measured]
        e = modulus[measured]
        q25, median, q75 = np.percentile(c, [25, 50, 75])
        e25, e_median, e75 = np.percentile(e, [25, 50, 75])
        parameters: dict[str, float | None] = {
            "speed_median_m_s": float(median),
            "speed_iqr_m_s": float(q75 - q25),
            "speed_iqr_over_median_pct": (float(100.0 * (q75 - q25) / median)
                                          if median > 0 else None),
            "speed_mean_m_s": float(c.mean()),
            "speed_sd_m_s": float(c.std(ddof=1)),
            "youngs_modulus_median_kpa": float(e_median),
            "youngs_modulus_iqr_kpa": float(e75 - e25),
            "youngs_modulus_mean_kpa": float(e.mean()),
            "shear_modulus_median_kpa": float(e_median / 3.0),
            "n_pixels": float(count),
            "valid_percent": float(100.0 * count / inside.sum()),
            "roi_area_mm2": float(inside.sum() * emap.dx_mm * emap.dy_mm),
        }
        results.append(RoiResult(roi.name, parameters, {
            "roi": roi.describe(), "map_quantity": emap.quantity,
            "density_kg_m3": density_kg_m3,
            "conversion": "E = 3 rho c^2 (linear elastic, isotropic, incompressible)",
            "dx_mm": emap.dx_mm, "dy_mm": emap.dy_mm, "shape": [ny, nx],
            "source_format": emap.source_format}))
    return results
