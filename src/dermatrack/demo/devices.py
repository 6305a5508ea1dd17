"""Synthetic device recordings of the demo patients (core: numbers in, arrays and text out).

Each is made in the form the instrument exports, then measured by dermatrack's own device
code (:mod:`dermatrack.devices`), exactly as a real file would be:

* a profilometry **height map** of a 3.2 x 3.2 mm replica at 12.5 µm sampling: parallel
  furrows 0.4-0.8 mm apart whose depth (µm) falls with the wrinkle effect, over
  isotropic fine roughness; measured by :func:`dermatrack.devices.surface.measure_surface`;
* a **colorimeter** CSV of three L*, a*, b* readings: L* and b* from the patient's ITA,
  a* raised where erythema is the concern and falling with its effect; parsed by
  :func:`dermatrack.devices.colorimetry.parse_colour_csv`;
* a **suction curve** CSV (time, deformation, suction on/off; three 2 s on / 2 s off
  cycles at 100 Hz): immediate and delayed distension, and a recovery that grows with
  treatment of laxity or volume loss; analysed by
  :func:`dermatrack.devices.elasticity.parse_elasticity_csv`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

SPACING_UM = 12.5
SIDE_PX = 256
FURROW_DEPTH_UM = 45.0
ROUGHNESS_UM = 3.0

ON_S = OFF_S = 2.0
SAMPLE_S = 0.01
CYCLES = 3


@functools.cache
def _replica_grid() -> tuple[np.ndarray, np.ndarray]:
    """The replica's sample positions (µm), ``y`` and ``x``: the same for every map, so
    made once per process (read-only)."""
    y, x = np.mgrid[0:SIDE_PX, 0:SIDE_PX] * SPACING_UM
    y.flags.writeable = False
    x.flags.writeable = False
    return y, x


def height_map(rng: np.random.Generator, *, effect: float) -> np.ndarray:
    """Heights (µm, ``SIDE_PX`` square) of a skin replica after a wrinkle effect ``effect``."""
    from scipy.ndimage import gaussian_filter

    y, x = _replica_grid()
    angle = rng.uniform(0, math.pi)
    across = x * math.cos(angle) + y * math.sin(angle)
    period = rng.uniform(400.0, 800.0)
    phase = rng.uniform(0, 2 * math.pi)
    # Narrow valleys: the profile of a furrow is sharper than a sine.
    furrows = -FURROW_DEPTH_UM * (1.0 - effect) * np.cos(2 * math.pi * across / period
                                                         + phase) ** 8
    fine = gaussian_filter(rng.normal(0.0, 1.0, (SIDE_PX, SIDE_PX)), 1.5)
    fine *= ROUGHNESS_UM / fine.std()
    tilt = 0.02 * x + 0.01 * y  # the replica is never mounted perfectly flat
    return furrows + fine + tilt


def colour_csv(rng: np.random.Generator, *, ita_deg: float, erythema: float) -> str:
    """Three colorimeter readings; ``erythema`` is the a* rise over normal skin."""
    b_star = rng.normal(17.0, 1.5)
    l_star = 50.0 + b_star * math.tan(math.radians(ita_deg))
    lines = ["L,a,b"]
    for _ in range(3):
        lines.append(f"{l_star + rng.normal(0, 0.4):.2f},"
                     f"{10.0 + erythema + rng.normal(0, 0.5):.2f},"
                     f"{b_star + rng.normal(0, 0.4):.2f}")
    return "\n".join(lines) + "\n"


def suction_csv(rng: np.random.Generator, *, recovery: float) -> str:
    """Three suction cycles; ``recovery`` is the share of the distension recovered (R2)."""
    ue = rng.normal(0.32, 0.02)   # immediate distension, mm
    uv = rng.normal(0.10, 0.01)   # delayed (viscous) distension, mm
    lines = ["time_s,deformation_mm,suction"]
    step, residue = 0, 0.0
    per_on, per_off = round(ON_S / SAMPLE_S), round(OFF_S / SAMPLE_S)
    for cycle in range(CYCLES):
        for k in range(per_on):
            t = k * SAMPLE_S
            d = residue + ue * (1 - math.exp(-t / 0.02)) + uv * (1 - math.exp(-t / 0.6))
            lines.append(f"{step * SAMPLE_S:.2f},{d:.5f},1")
            step += 1
        top = residue + ue * (1 - math.exp(-ON_S / 0.02)) + uv * (1 - math.exp(-ON_S / 0.6))
        lost = (top - residue) * recovery
        last = per_off + 1 if cycle == CYCLES - 1 else per_off
        for k in range(last):
            t = k * SAMPLE_S
            d = top - lost * (0.8 * (1 - math.exp(-t / 0.03)) + 0.2 * (1 - math.exp(-t / 0.5)))
            lines.append(f"{step * SAMPLE_S:.2f},{d:.5f},0")
            step += 1
        residue = top - lost
    return "\n".join(lines) + "\n"
