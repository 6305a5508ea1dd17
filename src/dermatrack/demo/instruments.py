"""Synthetic spectrophotometer and shear-wave elastography series of some demo patients.

Every :data:`SERIES_EVERY`-th patient of the demo cohort (index 0, 5, 10, ...) who is treated
is also measured, at baseline, month 1 and month 3, with

* a **skin spectrophotometer**: three reflectance spectra (400-700 nm, 10 nm, in %) per
  visit, written as a CM-700d-style CSV and read by
  :func:`dermatrack.devices.colorimetry.parse_colour_csv` (CIELAB D65/2°, ITA°, Dawson and
  Diffey indices), stored as kind ``spectral``;
* an **elastography** system: a shear-wave speed map (64 x 96 pixels of 0.1 mm, in m/s)
  written as CSV, read by :func:`dermatrack.devices.elastography_io.read_elastography_map`
  and summarised over a dermis ROI by
  :func:`dermatrack.devices.elastography.measure_elastography`, stored as kind
  ``elastography``.

The spectra come from a simple absorbance model, synthetic and not fitted to any data:
``A(λ) = 0.17 + M (λ / 694 nm)^-3.33 + H [b(542, 14) + 0.9 b(577, 11) + 2.5 b(415, 18)]
+ 0.05 b(480, 25)``, with ``b(centre, width)`` a Gaussian band (nm) and ``R = 10^-A``.
Melanin ``M`` rises as the patient's ITA° falls (tuned by eye so that the computed ITA°
lands near the design's for types III-VI; types I-II come out lighter); the power law of
its absorption is from Jacques SL, Skin optics, Oregon Medical Laser Center News 1998.
Haemoglobin ``H`` rises with erythema (bands near the oxy-haemoglobin Q and Soret peaks).
The dermis's shear-wave speed rises with the same firming effect as the demo's suction
curves. The clinic's MDC95 of every metric comes from repeated synthetic captures of
unchanged skin (:func:`instrument_mdc`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dermatrack.demo.readings import DeviceReading, capture_mdc, device_state

SERIES_EVERY = 5
SERIES_TIMEPOINTS = ("baseline", "month_1", "month_3")
WAVELENGTHS_NM = np.arange(400.0, 701.0, 10.0)
MAP_SHAPE = (64, 96)
PIXEL_MM = 0.1
DERMIS_ROWS = (6, 24)  # 0.6-2.4 mm deep
DERMIS_ROI = "dermis=0.5,0.6,8.6,1.8"
SPEED_DERMIS_M_S = 2.6
SPEED_FAT_M_S = 1.4
SPECTRO = "synthetic spectrophotometer d/8, 8 mm aperture (demo)"
SWE = "synthetic shear-wave elastography, 18 MHz linear probe (demo)"


def wants_series(design: Any) -> bool:
    """Whether a demo patient gets the spectral and elastography series."""
    return design.index % SERIES_EVERY == 0


def _band(centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((WAVELENGTHS_NM - centre) / width) ** 2)


def reflectance(ita_deg: float, erythema: float,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """One synthetic skin reflectance spectrum (fraction) at :data:`WAVELENGTHS_NM`."""
    melanin = 0.03 + 0.45 * float(np.clip((58.0 - ita_deg) / 92.0, 0.0, 1.2)) ** 1.5
    blood = 0.16 + 0.03 * erythema
    if rng is not None:
        melanin *= 1.0 + rng.normal(0.0, 0.03)
        blood *= 1.0 + rng.normal(0.0, 0.05)
    absorbance = (0.17 + melanin * (WAVELENGTHS_NM / 694.0) ** -3.33
                  + blood * (_band(542, 14) + 0.9 * _band(577, 11) + 2.5 * _band(415, 18))
                  + 0.05 * _band(480, 25))
    values = 10.0 ** -absorbance
    if rng is not None:
        values = values * (1.0 + rng.normal(0.0, 0.004, values.size))
    return values


def spectral_csv(rng: np.random.Generator, *, ita_deg: float, erythema: float) -> str:
    """Three readings as a spectrophotometer's CSV export (reflectance in %)."""
    lines = ["Data Name," + ",".join(f"{w:g}nm" for w in WAVELENGTHS_NM)]
    for number in range(1, 4):
        values = reflectance(ita_deg, erythema, rng) * 100.0
        lines.append(f"T{number}," + ",".join(f"{v:.2f}" for v in values))
    return "\n".join(lines) + "\n"


def speed_map(rng: np.random.Generator, *, firming: float) -> np.ndarray:
    """A shear-wave speed map (m/s): epidermis/gel unmeasured, dermis, subcutaneous fat."""
    speed = np.full(MAP_SHAPE, SPEED_FAT_M_S)
    top, bottom = DERMIS_ROWS
    speed[top:bottom] = SPEED_DERMIS_M_S * (1.0 + 0.15 * firming) * (1.0 + rng.normal(0, 0.02))
    speed = speed + rng.normal(0.0, 0.12, MAP_SHAPE)
    speed[:3] = np.nan  # coupling gel and epidermis: no shear-wave estimate
    dropout = rng.random(MAP_SHAPE) < 0.03
    speed[dropout] = np.nan
    return np.clip(speed, 0.2, None)


def elastography_csv(rng: np.random.Generator, *, firming: float) -> str:
    """The map as a CSV export with its unit and pixel size."""
    rows = ["# unit: m/s", f"# spacing_mm: {PIXEL_MM:g}", "# device: synthetic SWE (demo)"]
    for row in speed_map(rng, firming=firming):
        rows.append(",".join("" if math.isnan(v) else f"{v:.3f}" for v in row))
    return "\n".join(rows) + "\n"


def measure_instruments(state: dict[str, Any], rng: np.random.Generator
                        ) -> list[DeviceReading]:
    """Simulate and measure one visit's spectra and elastography map.

    ``state`` is the demo's device state (``ita``, ``erythema``, ``firming``); the result
    is a list of :class:`dermatrack.demo.readings.DeviceReading`.
    """
    import tempfile
    from pathlib import Path

    from dermatrack.devices import spectra
    from dermatrack.devices.colorimetry import parse_colour_csv
    from dermatrack.devices.elastography import UNITS, measure_elastography, parse_roi
    from dermatrack.devices.elastography_io import read_elastography_map

    readings = []
    for reading in parse_colour_csv(spectral_csv(rng, ita_deg=state["ita"],
                                                 erythema=state["erythema"])):
        values = {k: v for k, v in reading.values().items() if v is not None}
        readings.append(DeviceReading(
            "spectral", values, {k: spectra.UNITS[k] for k in values}, SPECTRO,
            "reflectance spectrum: CIELAB D65/2° (ASTM E308, colour-science); ITA (Chardon "
            "1991); melanin/erythema indices (Dawson 1980; Diffey 1984)",
            {"row": reading.row, "illuminant": "D65", "observer": "2",
             "reflectance_scale": reading.reflectance_scale}))
    # The map goes through the file reader, as an exported CSV would.
    with tempfile.TemporaryDirectory(prefix="dermatrack-swe-") as folder:
        path = Path(folder) / "swe.csv"
        path.write_text(elastography_csv(rng, firming=state["firming"]), encoding="utf-8")
        emap = read_elastography_map(path)
    (result,) = measure_elastography(emap, [parse_roi(DERMIS_ROI)])
    values = {k: v for k, v in result.parameters.items() if v is not None}
    readings.append(DeviceReading(
        "elastography", values, {k: UNITS[k] for k in values}, SWE,
        "shear-wave elastography map: per-ROI median and IQR; E = 3 rho c^2 (rho 1000 kg/m3)",
        {"roi_name": result.roi, **result.settings}))
    return readings


def series_readings(design: Any) -> dict[str, list[DeviceReading]]:
    """The series of one demo patient by visit (none unless :func:`wants_series`).

    Every series visit is simulated; the recorder keeps those the patient attended.
    """
    if not wants_series(design):
        return {}
    return {timepoint: measure_instruments(device_state(design, timepoint),
                                           np.random.default_rng([design.seed, 18, number]))
            for number, timepoint in enumerate(SERIES_TIMEPOINTS)}


def record_series(store: Any, design: Any, patient_id: str, visits: dict[str, Any], *,
                  actor: str, readings: dict[str, list[DeviceReading]] | None = None) -> int:
    """Record the series of one demo patient (if :func:`wants_series`); return the count.

    ``readings`` is :func:`series_readings` when simulated elsewhere (a worker process).
    """
    from dermatrack.services.observations import record_measurements

    if readings is None:
        readings = series_readings(design)
    stored = 0
    for timepoint, visit_readings in readings.items():
        if timepoint not in visits:
            continue
        record_measurements(store, patient_id=patient_id, visit_id=visits[timepoint].id,
                            actor=actor, measurements=[reading.measurement(design.region)
                                                       for reading in visit_readings])
        stored += len(visit_readings)
    return stored


def instrument_mdc(designs: list[Any], captures: int, seed: int) -> list[dict[str, Any]]:
    """MDC95 of the spectral and elastography metrics from repeated synthetic captures.

    As :func:`dermatrack.demo.readings.device_mdc`: each design's baseline skin is measured
    ``captures`` times with fresh draws, the three spectra of a capture averaged.
    """
    return capture_mdc(designs, captures, lambda state, i, capture: measure_instruments(
        state, np.random.default_rng([seed, 18, i, capture])))
