"""End-to-end speed and memory of ``photo analyze`` on a 12-megapixel photograph.

The photograph: scikit-image's astronaut (head and shoulders; the face spans about a
third of the width, the skin about 7 % of the frame), enlarged to 4000x3000, with a
phantom's wrinkles, pores, spots and skin texture multiplied in (linear light), saved as
a JPEG (quality 92) in a temporary directory. ``--close-up`` adds a second photograph:
a 4000x3000 phantom of skin filling the frame at 0.05 mm/px, analysed as ``--no-face``
(one region of about 12 MP), the costliest case for the metric maps; Frangi is timed on
it too, side by side, so both speed-ups come from the same run.

Every measurement runs in a fresh subprocess, so that one does not inherit another's
memory or warm caches:

* the whole analysis, as ``photo analyze IMAGE`` runs it: read -> ColorChecker search
  -> face regions -> scale -> every metric map -> per-region reduction. One warm-up run
  (imports, models), then ``--runs`` runs (default 5): median and range of the wall
  time, and the CPU time (``time.process_time``, all threads) of each;
* the peak memory of one analysis: ``VmHWM`` (peak resident set, which counts OpenCV's
  and TensorFlow Lite's buffers, unlike tracemalloc) of a fresh process that imports,
  reads the image and analyses it once; and the ``VmHWM`` of the process above after
  all its runs (fragmentation and caches over repeated analyses);
* ``skimage.filters.frangi`` alone (5 scales, dark ridges) on the L* image of the same
  photograph at full resolution, ``--frangi-runs`` times (default 5), median.

The machine may be shared: the load average is printed before and after, and the CPU
times beside the wall times (CPU time is what other processes cannot inflate much).

Run: ``.venv/bin/python benchmarks/photo.py`` (``make bench``). ``--quick`` skips Frangi.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE = (4000, 3000)
FACE_CROP = (slice(10, 250), slice(110, 430))  # rows, cols of the astronaut (4:3)
CLOSE_UP_MM_PER_PX = 0.05


def _peak_rss_mb() -> float:
    """Peak resident set size of this process (MB), from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_photo(path: Path) -> None:
    """Write the 12 MP test photograph of a face to ``path`` (JPEG)."""
    import cv2
    import numpy as np
    from skimage import data

    from dermatrack.imaging.colour import linear_to_srgb, srgb_to_linear
    from dermatrack.imaging.io import write_jpeg
    from dermatrack.imaging.phantom import PhantomSpec, make_phantom, random_spec

    face = data.astronaut()[FACE_CROP].astype(np.float32) / 255.0
    big = cv2.resize(face, SIZE, interpolation=cv2.INTER_CUBIC).clip(0, 1)
    # Features at a clinical pixel size (0.06 mm), on a plain skin tone, as a ratio.
    rng = np.random.default_rng(12)
    spec = random_spec(rng, width=SIZE[0], height=SIZE[1], mm_per_px=0.06, n_wrinkles=12,
                       n_pores=400, n_erythema=0)
    plain = PhantomSpec(width=SIZE[0], height=SIZE[1], mm_per_px=0.06, ita_deg=spec.ita_deg,
                        texture_rms_l=0, mottling_rms_l=0, lighting_gradient=0,
                        sensor_noise_sd=0)
    featured = PhantomSpec(**{**plain.__dict__, "wrinkles": spec.wrinkles, "spots": spec.spots,
                              "pores": spec.pores, "texture_rms_l": 0.6})
    ratio = srgb_to_linear(make_phantom(featured, np.random.default_rng(1)).rgb) / np.maximum(
        srgb_to_linear(make_phantom(plain, np.random.default_rng(1)).rgb), 1e-4)
    write_jpeg(path, linear_to_srgb(srgb_to_linear(big) * ratio), quality=92)


def make_close_up(path: Path) -> None:
    """Write a 12 MP phantom of skin filling the frame (0.05 mm/px) to ``path`` (JPEG)."""
    import numpy as np

    from dermatrack.imaging.io import write_jpeg
    from dermatrack.imaging.phantom import make_phantom, random_spec

    spec = random_spec(np.random.default_rng(3), width=SIZE[0], height=SIZE[1],
                       mm_per_px=CLOSE_UP_MM_PER_PX, n_wrinkles=12, n_pores=400)
    write_jpeg(path, make_phantom(spec, np.random.default_rng(4)).rgb, quality=92)


def child_analyse(path: str, runs: int, mm_per_px: float | None, use_face: bool = True
                  ) -> dict:
    """Warm-up plus ``runs`` timed analyses (``runs`` = 0: one analysis, for memory)."""
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.imaging.io import read_image

    walls, cpus = [], []
    report = None
    for i in range(runs + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        report = run_analysis(read_image(path), mm_per_px=mm_per_px,
                              use_face=use_face).report
        if i:  # the first run loads modules and models
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    whole = report["regions"]["whole"]
    return {"walls": walls, "cpus": cpus, "peak_mb": _peak_rss_mb(),
            "face": report["face"]["detected"],
            "scale": [report["image"]["mm_per_px"], report["image"]["scale_source"]],
            "regions": len(report["regions"]), "wrinkles": whole["wrinkles"]["count"],
            "pores": whole["pores"]["count"], "spots": whole["pigment"]["spot_count"]}


def child_frangi(path: str, runs: int) -> dict:
    """Time ``skimage.filters.frangi`` on the full-resolution L* of the photograph."""
    import numpy as np
    from skimage.filters import frangi

    from dermatrack.imaging.colour import srgb_to_lab
    from dermatrack.imaging.io import read_image

    lum = srgb_to_lab(read_image(path).rgb)[..., 0].astype(np.float32)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        frangi(lum, sigmas=(1, 2, 3, 4, 5), black_ridges=True)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"walls": walls, "cpus": cpus, "peak_mb": _peak_rss_mb(),
            "shape": list(lum.shape)}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _bench_photo(label: str, path: Path, runs: int, mm_per_px: float | None,
                 use_face: bool = True) -> tuple[float, float]:
    """Print the figures of one photograph; return the median wall and CPU times."""
    scale = "" if mm_per_px is None else str(mm_per_px)
    face = "face" if use_face else "no-face"
    analysis = _child("analyse", str(path), str(runs), scale, face)
    single = _child("analyse", str(path), "0", scale, face)
    walls, cpus = analysis["walls"], analysis["cpus"]
    median = _median(walls)
    print(f"{label}: {SIZE[0]}x{SIZE[1]} JPEG ({path.stat().st_size / 1e6:.1f} MB); face "
          f"found: {analysis['face']}, scale {analysis['scale'][0]:.4f} mm/px "
          f"({analysis['scale'][1]}), {analysis['regions']} regions; whole skin: "
          f"{analysis['wrinkles']} wrinkles, {analysis['spots']} spots, "
          f"{analysis['pores'] if analysis['pores'] is not None else 'n/a'} pores")
    print(f"  whole analysis (read -> ColorChecker search -> regions -> metrics): median "
          f"{median:.2f} s wall of {len(walls)} runs (min {min(walls):.2f}, max "
          f"{max(walls):.2f}); CPU median {_median(cpus):.2f} s (all threads)")
    print(f"  peak memory (VmHWM): {single['peak_mb']:.0f} MB for one analysis in a fresh "
          f"process (imports and models included); {analysis['peak_mb']:.0f} MB over "
          f"{len(walls) + 1} analyses in one process")
    return median, _median(cpus)


def _bench_frangi(path: Path, runs: int, median: float, cpu: float) -> None:
    """Time Frangi on the same photograph (side by side with the analysis just timed)."""
    fr = _child("frangi", str(path), str(runs))
    fr_median = _median(fr["walls"])
    print(f"  skimage.filters.frangi alone (5 sigmas, same L* image "
          f"{fr['shape'][1]}x{fr['shape'][0]}): median {fr_median:.2f} s wall of "
          f"{len(fr['walls'])} runs (min {min(fr['walls']):.2f}, max "
          f"{max(fr['walls']):.2f}); CPU median {_median(fr['cpus']):.2f} s; "
          f"peak memory {fr['peak_mb']:.0f} MB")
    print(f"  speed-up of the whole analysis over frangi alone: "
          f"{fr_median / median:.1f}x (median wall times; "
          f"{_median(fr['cpus']) / cpu:.1f}x in CPU time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed analyses (median)")
    parser.add_argument("--frangi-runs", type=int, default=5, help="timed Frangi runs")
    parser.add_argument("--quick", action="store_true", help="skip Frangi")
    parser.add_argument("--close-up", action="store_true",
                        help="also time a phantom of skin filling the frame")
    args = parser.parse_args()
    import cv2

    print(f"{os.cpu_count()} CPUs, OpenCV {cv2.__version__} with {cv2.getNumThreads()} "
          f"threads, Python {platform.python_version()}; load average (1/5/15 min) "
          f"before: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "face_12mp.jpg"
        make_photo(path)
        median, cpu = _bench_photo("face photograph", path, args.runs, None)
        if not args.quick:
            _bench_frangi(path, args.frangi_runs, median, cpu)
        if args.close_up:
            close = Path(tmp) / "close_up_12mp.jpg"
            make_close_up(close)
            median, cpu = _bench_photo("close-up phantom (--no-face)", close, args.runs,
                                       CLOSE_UP_MM_PER_PX, use_face=False)
            if not args.quick:
                _bench_frangi(close, args.frangi_runs, median, cpu)
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        mode, rest = sys.argv[2], sys.argv[3:]
        if mode == "analyse":
            result = child_analyse(rest[0], int(rest[1]), float(rest[2]) if rest[2] else None,
                                   use_face=(rest[3] if len(rest) > 3 else "face") == "face")
        else:
            result = child_frangi(rest[0], int(rest[1]))
        print(json.dumps(result))
    else:
        main()
