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
(``capture.uncompared_fraction``), beside the share the web viewer, the report and the
API find from what is stored with each photograph: its screen copy's regions and the
screen copies' alignment (``services.derived.stored_pair_coverage``), and the largest
difference between the two over every region. grace_hopper and example_3 are no
larger than a screen copy (1024 px), biden2 a little larger, so biden2 enlarged to
12 MP, whose screen copy is a quarter of its size, is also compared with a fringe and
rotated by 3°. Then six phantom
close-ups (``--no-face``, 0.06 mm/px) compared with themselves with a white ruler laid
over the lower 6 mm (``realphoto.with_ruler``), without and with its shadow: the change
of the wrinkle length, spot area and red area. Last, a 12 MP pair (biden2 enlarged to
4000 x 3000, and the same rotated by 3°): median wall and CPU time of three comparisons.

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


def _stored_uncompared(before: np.ndarray, after: np.ndarray, **options) -> dict[str, float]:
    """The uncompared shares as the viewer finds them: each photograph analysed and its
    screen copy packed as on import, the screen copies aligned, the stored regions
    compared."""
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.services.derived import (
        _decode,
        compute_alignment,
        display_pack,
        pack_display,
        stored_pair_coverage,
    )

    packs = [display_pack(rgb, run_analysis(rgb, **options)) for rgb in (before, after)]
    matrix = np.asarray(compute_alignment(pack_display(packs[0]), pack_display(packs[1]))
                        ["matrix"], float)
    labels = [(_decode(pack["regions"], colour=False), pack["region_names"]) for pack in packs]
    return stored_pair_coverage(labels[0], labels[1], matrix,
                                source_shape=packs[0]["source_shape"],
                                mm_per_px=packs[0]["capture"]["quality"]["mm_per_px"])


def _row(name: str, pair: str, result, region: str | None, stored: dict[str, float]) -> None:
    regions = result.report["regions"]
    uncompared = result.report["capture"]["uncompared_fraction"]
    shown = region or max(uncompared, key=uncompared.get)
    named = [line.split(":")[0] for line in result.report["capture"]["differences"]]
    gap = max(abs(stored[k] - v) for k, v in uncompared.items())
    print(f"{name:14s} {pair:15s} whole {_percent(regions['whole']['wrinkles']['length_mm']):>20s}"
          f"   {shown:18s} {_percent(regions[shown]['wrinkles']['length_mm']):>20s}"
          f"   uncompared {uncompared[shown]:5.1%} (viewer {stored[shown]:5.1%}; "
          f"any region within {gap:.1%})   "
          f"named: {', '.join(sorted(set(named))) or '-'}")


def _twelve_megapixel_biden2() -> np.ndarray:
    import cv2

    from dermatrack.imaging.io import read_image

    return cv2.resize(read_image(SHARED_FACES / "biden2.jpg").rgb, (4000, 3000),
                      interpolation=cv2.INTER_CUBIC)


def _turned(rgb: np.ndarray, degrees: float) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    return cv2.warpAffine(rgb, cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0), (w, h),
                          borderMode=cv2.BORDER_REFLECT)


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
        captures = variants(rgb)
        pairs = {"fringe": (with_fringe(rgb, regions.masks["forehead"]), "forehead"),
                 "glasses": (with_glasses(rgb, regions.landmarks, mm_per_px),
                             "periorbital_left")}
        pairs |= {key: (captures[key], None)
                  for key in ("rotate_+10deg", "exposure_1.2x", "jpeg_70")}
        for pair, (after, region) in pairs.items():
            _row(name, pair, compare(rgb, after), region, _stored_uncompared(rgb, after))

    if (SHARED_FACES / "biden2.jpg").is_file():
        # At 12 MP the screen copies the viewer tests are a quarter of the photograph's size.
        big = _twelve_megapixel_biden2()
        forehead = face_regions(big).masks["forehead"]
        for pair, after, region in (("fringe", with_fringe(big, forehead), "forehead"),
                                    ("rotate_+3deg", _turned(big, 3), None)):
            _row("biden2 12 MP", pair, compare(big, after), region,
                 _stored_uncompared(big, after))

    from dermatrack.imaging.phantom import make_phantom, random_spec
    from dermatrack.imaging.realphoto import with_ruler

    for seed in range(6):
        rng = np.random.default_rng(seed)
        close_up = make_phantom(random_spec(rng), rng).rgb
        for shadow in (False, True):
            ruled = with_ruler(close_up, 0.06, shadow=shadow)
            report = compare(close_up, ruled, mm_per_px=0.06, use_face=False).report
            stored = _stored_uncompared(close_up, ruled, mm_per_px=0.06, use_face=False)
            whole = report["regions"]["whole"]
            figures = "   ".join(
                f"{label} {_percent(whole[group][metric]).split(' (')[0]:>8s}"
                for label, group, metric in (("lines", "wrinkles", "length_mm"),
                                             ("spots", "pigment", "spot_area_fraction"),
                                             ("red", "redness", "red_area_fraction")))
            named = [line.split(":")[0] for line in report["capture"]["differences"]]
            print(f"close-up {seed}    ruler{' + shadow' if shadow else '         '}   "
                  f"{figures}   uncompared "
                  f"{report['capture']['uncompared_fraction']['whole']:5.1%} "
                  f"(viewer {stored['whole']:5.1%})   named: "
                  f"{', '.join(sorted(set(named))) or '-'}")

    if args.no_timing or not (SHARED_FACES / "biden2.jpg").is_file():
        return
    big = _twelve_megapixel_biden2()
    turned = _turned(big, 3)
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
