"""End-to-end speed of ``photo analyze`` on a 12-megapixel photograph.

The photograph: scikit-image's astronaut, cropped to the face and enlarged to 4000x3000
(so the face fills the frame, as in a clinical photograph), with a phantom's wrinkles,
pores, spots and skin texture multiplied in (linear light), saved as a JPEG (quality 92)
in a temporary directory.

Measured, each in a fresh subprocess so the peak memory (``VmHWM`` from
``/proc/self/status``, which counts OpenCV's buffers, unlike tracemalloc) is that of the
work alone:

* the whole analysis: read -> colour calibration search -> face regions -> scale ->
  every metric map -> per-region reduction; one warm-up run (imports, model load), then
  the median of ``RUNS`` runs;
* the peak memory of a single analysis in a fresh process (as the CLI runs one image);
* ``skimage.filters.frangi`` alone (5 scales, dark ridges) on the L* image of the same
  photograph, once.

Run: ``.venv/bin/python benchmarks/photo.py`` (``make bench``). ``--quick`` skips Frangi.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5
SIZE = (4000, 3000)
FACE_CROP = (slice(10, 250), slice(110, 430))  # rows, cols of the astronaut's face (4:3)


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_photo(path: Path) -> None:
    """Write the 12 MP test photograph to ``path`` (JPEG)."""
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


def child_analyse(path: str, runs: int = RUNS) -> None:
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.imaging.io import read_image

    times = []
    report = None
    for i in range(runs + 1):
        start = time.perf_counter()
        report = run_analysis(read_image(path)).report
        if i:  # the first run loads modules and models
            times.append(time.perf_counter() - start)
    print(json.dumps({"times": times or [float("nan")], "peak_mb": _peak_rss_mb(),
                      "face": report["face"]["detected"],
                      "scale": [report["image"]["mm_per_px"], report["image"]["scale_source"]],
                      "regions": len(report["regions"]),
                      "wrinkles": report["regions"]["whole"]["wrinkles"]["count"]}))


def child_frangi(path: str) -> None:
    import numpy as np
    from skimage.filters import frangi

    from dermatrack.imaging.colour import srgb_to_lab
    from dermatrack.imaging.io import read_image

    lum = srgb_to_lab(read_image(path).rgb)[..., 0].astype(np.float32)
    start = time.perf_counter()
    frangi(lum, sigmas=(1, 2, 3, 4, 5), black_ridges=True)
    print(json.dumps({"time": time.perf_counter() - start, "peak_mb": _peak_rss_mb()}))


def _child(mode: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, f"--child-{mode}", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick: bool = False) -> None:
    import os
    import platform

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "face_12mp.jpg"
        make_photo(path)
        analysis = _child("analyse", path)
        # Peak memory of one analysis as ``photo analyze IMAGE`` runs it: a fresh process,
        # one image (repeated runs in one process add allocator fragmentation).
        single = _child("analyse-once", path)
        median = statistics.median(analysis["times"])
        print(f"photo: {SIZE[0]}x{SIZE[1]} JPEG ({path.stat().st_size / 1e6:.1f} MB), "
              f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
        print(f"  face found: {analysis['face']}, scale {analysis['scale'][0]:.4f} mm/px "
              f"({analysis['scale'][1]}), {analysis['regions']} regions, "
              f"{analysis['wrinkles']} wrinkles")
        print(f"  whole analysis (read -> calibrate -> regions -> metrics): median "
              f"{median:.2f} s of {len(analysis['times'])} runs "
              f"(min {min(analysis['times']):.2f}, max {max(analysis['times']):.2f})")
        print(f"  peak memory: {single['peak_mb']:.0f} MB for one analysis in a fresh process "
              f"(imports and models included); {analysis['peak_mb']:.0f} MB over "
              f"{len(analysis['times']) + 1} analyses in one process")
        if quick:
            return
        fr = _child("frangi", path)
        print(f"  skimage.filters.frangi alone (5 sigmas, same L* image): {fr['time']:.2f} s; "
              f"peak memory {fr['peak_mb']:.0f} MB")
        print(f"  speed-up of the whole analysis over frangi alone: {fr['time'] / median:.1f}x")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child-analyse":
        child_analyse(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--child-analyse-once":
        child_analyse(sys.argv[2], runs=0)
    elif len(sys.argv) == 3 and sys.argv[1] == "--child-frangi":
        child_frangi(sys.argv[2])
    else:
        main(quick="--quick" in sys.argv)
