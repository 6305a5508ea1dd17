"""The demo's device readings: what a patient's skin is at a visit, and one visit's replica
profilometry, colorimeter and suction-device readings simulated and measured.

:func:`device_state` turns a patient's design and a visit into the skin the simulators
take; :func:`measure_devices` simulates the recordings (:mod:`dermatrack.demo.devices`)
and measures them with the devices core, each as a :class:`DeviceReading`;
:func:`device_mdc` is the MDC95 of every device metric from repeated captures of
unchanged skin. :mod:`dermatrack.demo.instruments` adds the spectral and elastography
series of some patients, as readings of the same kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dermatrack.demo.design import ITA_BY_TYPE, PatientDesign
from dermatrack.errors import InputError

#: The visits at which every patient's devices are read.
DEVICE_TIMEPOINTS = ("baseline", "month_3")


@dataclass(frozen=True)
class DeviceReading:
    """One instrument's reading at a visit, as ``record_observations`` takes it."""

    kind: str
    values: dict[str, float | None]
    units: dict[str, str]
    device: str
    method: str
    settings: dict[str, Any]

    def measurement(self, region: str) -> Any:
        """This reading as the observation service stores it, measured at ``region``."""
        from dermatrack.services.observations import Measurement

        return Measurement(region=region, kind=self.kind, values=self.values,
                           units=self.units, method=self.method, device=self.device,
                           settings=self.settings)


def device_state(design: PatientDesign, timepoint: str) -> dict[str, Any]:
    """What the patient's skin is at a visit, as the device simulators take it."""
    effect = design.effect_at(timepoint)
    return {"furrow_effect": effect if design.family in ("wrinkles", "texture") else 0.0,
            "erythema": 6.0 * (1.0 - effect) if design.family == "redness" else 1.0,
            "ita": ITA_BY_TYPE[design.fitzpatrick],
            "firming": effect if design.concern in ("laxity", "volume_loss", "wrinkles")
            else 0.0}


def measure_devices(state: dict[str, Any], surface_rng: np.random.Generator,
                    rng: np.random.Generator) -> list[DeviceReading]:
    """Simulate and measure one visit's replica, colorimeter and suction readings.

    ``state`` is :func:`device_state`; the colorimeter gives three readings, the others
    one each. Every random draw comes from the two generators, so a repeated capture of
    an unchanged patient is this function called again with fresh generators.
    """
    from dermatrack.demo import devices
    from dermatrack.devices.colorimetry import UNITS as COLOUR_UNITS
    from dermatrack.devices.colorimetry import parse_colour_csv
    from dermatrack.devices.elasticity import UNITS as ELASTICITY_UNITS
    from dermatrack.devices.elasticity import parse_elasticity_csv
    from dermatrack.devices.surface import HeightMap, measure_surface

    readings = []
    heights = devices.height_map(surface_rng, effect=state["furrow_effect"])
    surface = measure_surface(HeightMap(heights, devices.SPACING_UM, devices.SPACING_UM,
                                        source_format="array"), form="plane")
    values = {k: v for k, v in surface.values().items()
              if v is None or isinstance(v, (int, float))}
    readings.append(DeviceReading(
        "surface", values, {k: surface.units[k] for k in values},
        "synthetic replica profilometry (demo)",
        "dermatrack ISO 25178-2 / ISO 21920-2; form plane; S-filter off µm; L-filter off µm",
        surface.settings))
    for reading in parse_colour_csv(devices.colour_csv(rng, ita_deg=state["ita"],
                                                       erythema=state["erythema"])):
        colour_values = {k: v for k, v in reading.values().items()
                         if v is not None or k in ("l_star", "a_star", "b_star", "ita_deg")}
        readings.append(DeviceReading(
            "colour", colour_values, {k: COLOUR_UNITS[k] for k in colour_values},
            "synthetic colorimeter (demo)",
            "CIELAB D65/2°; ITA = atan2(L*-50, b*) (Chardon 1991)",
            {"row": reading.row, "ita_category": reading.ita_category}))
    recovery = float(np.clip(rng.normal(0.70, 0.02) + 0.3 * state["firming"], 0.5, 0.95))
    (result,) = parse_elasticity_csv(devices.suction_csv(rng, recovery=recovery))
    elastic = {k: (None if v is None else float(v)) for k, v in result.parameters.items()}
    readings.append(DeviceReading(
        "elasticity", elastic, {k: ELASTICITY_UNITS[k] for k in elastic},
        "synthetic suction device, 2 mm probe (demo)",
        "suction curve: Ue/Ur at 0.1 s, R0-R9, Q0-Q3 (dermatrack)", result.settings))
    return readings


def device_mdc(designs: list[PatientDesign], captures: int, seed: int
               ) -> list[dict[str, Any]]:
    """MDC95 of every device metric from repeated synthetic captures of unchanged skin.

    Each design's baseline skin is measured ``captures`` times, each time with fresh
    random draws (a new replica, new colorimeter readings, a new suction curve), which is
    all that varies between visits of an untreated patient in the demo
    (:func:`capture_mdc`).
    """
    return capture_mdc(designs, captures, lambda state, i, capture: measure_devices(
        state, np.random.default_rng([seed, 7, i, capture, 0]),
        np.random.default_rng([seed, 7, i, capture, 1])))


def capture_mdc(designs: list[Any], captures: int,
                measure: Callable[[dict[str, Any], int, int], list[DeviceReading]]
                ) -> list[dict[str, Any]]:
    """MDC95 of every metric ``measure(state, design_number, capture)`` reads from each
    design's baseline skin, captured ``captures`` times.

    The readings of one kind in a capture (the colorimeter's three, a visit's spectra)
    are averaged, as a visit's series averages them. The repeatability
    (:func:`dermatrack.outcomes.repeatability.repeatability`) of those captures gives the
    MDC95 of a visit's value, entries in the shape
    :func:`dermatrack.services.outcomes.save_mdc` takes (``kind`` set, all regions).
    """
    from dermatrack.outcomes.repeatability import repeatability

    per_capture: dict[tuple[str, str], np.ndarray] = {}
    for i, design in enumerate(designs):
        state = device_state(design, "baseline")
        for capture in range(captures):
            sums: dict[tuple[str, str], list[float]] = {}
            for reading in measure(state, i, capture):
                for metric, value in reading.values.items():
                    if value is not None and math.isfinite(value):
                        sums.setdefault((reading.kind, metric), []).append(value)
            for key, values in sums.items():
                matrix = per_capture.setdefault(key, np.full((len(designs), captures),
                                                             np.nan))
                matrix[i, capture] = float(np.mean(values))
    entries = []
    for (kind, metric), matrix in sorted(per_capture.items()):
        try:
            summary = repeatability(matrix)
        except InputError:
            continue  # too few subjects with two values: no MDC for this metric
        if math.isfinite(summary.mdc95):
            entries.append({"kind": kind, "metric": metric, "region": None,
                            "mdc95": summary.mdc95, "sem": summary.sem,
                            "n_subjects": summary.n_subjects})
    return entries
