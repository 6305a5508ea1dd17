"""Time dermatrack's surface parameters against surfalize's on a 2000 x 2000 height map.

Both run the same work: plane levelling, an S-filter (2 µm) and an L-filter (80 µm), then
Sa, Sq, Sp, Sv, Sz, Ssk, Sku, Sdq, Sdr, Vmp, Vmc, Vvc, Vvv, Sk, Spk and Svk. dermatrack's
call also computes the profile parameters across the furrows and the furrow parameters,
which surfalize has no equivalent for. Prints the median of several runs of each.

surfalize is GPL-3 and a test-time dependency only; this script imports it, dermatrack
never does. Run with ``make bench`` or ``.venv/bin/python benchmarks/surface.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings

import numpy as np
from scipy import ndimage

from dermatrack.devices.surface import HeightMap, measure_surface

SIZE = 2000
STEP_UM = 1.0
LS_UM, LC_UM = 2.0, 80.0
REPEATS = 3
AREAL = ("Sa", "Sq", "Sp", "Sv", "Sz", "Ssk", "Sku", "Sdq", "Sdr",
         "Vmp", "Vmc", "Vvc", "Vvv", "Sk", "Spk", "Svk")


def make_map(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    rough = ndimage.gaussian_filter(rng.normal(size=(SIZE, SIZE)), 3.0) * 20.0
    return rough + 0.01 * x + 0.004 * y + 8.0 * np.sin(2 * np.pi * (x + 0.3 * y) / 150.0)


def run_dermatrack(z: np.ndarray) -> dict[str, float]:
    result = measure_surface(HeightMap(z, STEP_UM, STEP_UM), form="plane", ls_um=LS_UM,
                             lc_um=LC_UM, edge="reflect")
    return {name: result.areal[name] for name in AREAL}


def run_surfalize(z: np.ndarray) -> dict[str, float]:
    import surfalize
    from surfalize.filter import GaussianFilter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        surface = surfalize.Surface(z.copy(), STEP_UM, STEP_UM).level()
        surface = GaussianFilter(LS_UM, "lowpass")(surface)
        surface = GaussianFilter(LC_UM, "highpass")(surface)
        return {name: float(getattr(surface, name)()) for name in AREAL}


def median_time(function, z: np.ndarray) -> tuple[float, dict[str, float]]:
    times, values = [], {}
    for _ in range(REPEATS):
        start = time.perf_counter()
        values = function(z)
        times.append(time.perf_counter() - start)
    return statistics.median(times), values


def main() -> int:
    z = make_map()
    ours_s, ours = median_time(run_dermatrack, z)
    try:
        theirs_s, theirs = median_time(run_surfalize, z)
    except ImportError:
        print("surfalize is not installed (pip install -e '.[dev]'); dermatrack alone:")
        print(f"dermatrack  {ours_s:8.2f} s")
        return 0
    print(f"{SIZE} x {SIZE} map, plane + S-filter {LS_UM} µm + L-filter {LC_UM} µm, "
          f"median of {REPEATS}")
    print(f"{'':12}{'seconds':>10}")
    print(f"{'dermatrack':12}{ours_s:10.2f}")
    print(f"{'surfalize':12}{theirs_s:10.2f}")
    print(f"speed-up    {theirs_s / ours_s:10.1f}x")
    print(f"\n{'parameter':10}{'dermatrack':>16}{'surfalize':>16}{'rel. diff':>12}")
    for name in AREAL:
        a, b = ours[name], theirs[name]
        diff = abs(a - b) / abs(b) if b else abs(a - b)
        print(f"{name:10}{a:16.6g}{b:16.6g}{diff:12.2e}")
    return 0 if ours_s < theirs_s else 1


if __name__ == "__main__":
    sys.exit(main())
