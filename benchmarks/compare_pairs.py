"""``photo compare`` on pairs of real photographs: what an occluder in one of them does to
the change figures, how much of each region ordinary capture changes leave uncompared,
and the time of a 12 MP pair.

Each face (grace_hopper from matplotlib, and biden2 and example_3 from
``../shared/realdata/faces`` where present) is compared with itself

- with a fringe drawn over the upper half of its forehead (``realphoto.with_fringe``),
- with glasses drawn round its eyes (``realphoto.with_glasses``), and
- rotated by 10°, exposed 1.2x and saved at JPEG quality 70 (``realphoto.variants``):
  captures of an unchanged face, which must not be named as differing.

For each pair it prints the change of the whole face's wrinkle length and of the
region the occluder covers (%), and the share of that region's skin (or, for the
ordinary captures, of any region's) the pair leaves uncompared
(``capture.uncompared_fraction``). Then six phantom close-ups (``--no-face``, 0.06 mm/px)
compared with themselves with a white ruler laid over the lower 6 mm
(``realphoto.with_ruler``), without and with its shadow: the change of the wrinkle length,
spot area and red area. Last, a 12 MP pair (biden2 enlarged to 4000 x 3000, and the same
rotated by 3°): median wall and CPU time of three comparisons.

Run: ``.venv/bin/python benchmarks/compare_pairs.py`` (about two minutes; ``--no-timing``
skips the 12 MP pair).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
SHARED = ("biden2.jpg", "example_3.png")


def _faces() -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import read_image, sample_face

    faces = {"grace_hopper": sample_face("grace_hopper")}
    for name in SHARED:
        if (SHARED_FACES / name).is_file():
            faces[Path(name).stem] = read_image(SHARED_FACES / name).rgb
    return faces


def _percent(entry: dict) -> str:
    """The change as ``+1.2 % (+3.4 mm)``; n/a where the baseline measured nothing."""
    if entry["change"] is None:
        return "n/a"
    share = "n/a" if entry["percent"] is None else f"{entry['percent']:+.1f} %"
    return f"{share} ({entry['change']:+.1f} mm)"


def _row(name: str, pair: str, result, region: str | None) -> None:
    regions = result.report["regions"]
    uncompared = result.report["capture"]["uncompared_fraction"]
    shown = region or max(uncompared, key=uncompared.get)
    named = [line.split(":")[0] for line in result.report["capture"]["differences"]]
    print(f"{name:14s} {pair:15s} whole {_percent(regions['whole']['wrinkles']['length_mm']):>20s}"
          f"   {shown:18s} {_percent(regions[shown]['wrinkles']['length_mm']):>20s}"
          f"   uncompared {uncompared[shown]:5.1%}   named: {', '.join(sorted(set(named))) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-timing", action="store_true", help="Skip the 12 MP pair.")
    args = parser.parse_args()

    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.realphoto import variants, with_fringe, with_glasses
    from dermatrack.imaging.regions import face_regions

    for name, rgb in _faces().items():
        regions = face_regions(rgb)
        mm_per_px = 11.7 / regions.iris_diameter_px
        _row(name, "fringe", compare(rgb, with_fringe(rgb, regions.masks["forehead"])),
             "forehead")
        _row(name, "glasses", compare(rgb, with_glasses(rgb, regions.landmarks, mm_per_px)),
             "periorbital_left")
        captures = variants(rgb)
        for key in ("rotate_+10deg", "exposure_1.2x", "jpeg_70"):
            _row(name, key, compare(rgb, captures[key]), None)

    from dermatrack.imaging.phantom import make_phantom, random_spec
    from dermatrack.imaging.realphoto import with_ruler

    for seed in range(6):
        rng = np.random.default_rng(seed)
        close_up = make_phantom(random_spec(rng), rng).rgb
        for shadow in (False, True):
            report = compare(close_up, with_ruler(close_up, 0.06, shadow=shadow),
                             mm_per_px=0.06, use_face=False).report
            whole = report["regions"]["whole"]
            figures = "   ".join(
                f"{label} {_percent(whole[group][metric]).split(' (')[0]:>8s}"
                for label, group, metric in (("lines", "wrinkles", "length_mm"),
                                             ("spots", "pigment", "spot_area_fraction"),
                                             ("red", "redness", "red_area_fraction")))
            named = [line.split(":")[0] for line in report["capture"]["differences"]]
            print(f"close-up {seed}    ruler{' + shadow' if shadow else '         '}   "
                  f"{figures}   uncompared "
                  f"{report['capture']['uncompared_fraction']['whole']:5.1%}   named: "
                  f"{', '.join(sorted(set(named))) or '-'}")

    if args.no_timing or not (SHARED_FACES / "biden2.jpg").is_file():
        return
    import cv2

    from dermatrack.imaging.io import read_image

    big = cv2.resize(read_image(SHARED_FACES / "biden2.jpg").rgb, (4000, 3000),
                     interpolation=cv2.INTER_CUBIC)
    turned = cv2.warpAffine(big, cv2.getRotationMatrix2D((2000, 1500), 3, 1.0), (4000, 3000),
                            borderMode=cv2.BORDER_REFLECT)
    compare(big[::4, ::4], turned[::4, ::4])  # models loaded, caches warm
    walls, cpus = [], []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        compare(big, turned)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(f"12 MP pair: median {statistics.median(walls):.2f} s wall, "
          f"{statistics.median(cpus):.2f} s CPU (three runs)")


if __name__ == "__main__":
    main()
