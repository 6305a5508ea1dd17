"""Skin texture at portrait scales: real faces against the portrait phantoms, and what
the portrait tier of the wrinkle detector finds on phantoms given the real texture.

For each real face (the package-shipped faces and ``../shared/realdata/faces`` where
present; ``--faces DIR`` for another folder) measured at 0.8 mm/px or finer: the robust
SD of L* band-passed in three octaves (0.8-1.6, 1.6-3.2 and 3.2-6.4 mm) over the open
skin (the analysed skin outside the exclusion bands and the detected wrinkles), on the
0.4 mm portrait grid (``texture.texture_octaves``). Then the same for portrait phantoms
as they are and with ``skin_texture=True`` (``phantom.REAL_SKIN_TEXTURE_OCTAVES``, the
medians measured here on 2026-12-04), and the whole-field wrinkle length the detector
reports on those phantoms, without wrinkles (every millimetre is a false detection) and
with five wrinkles of known length.

Run: ``.venv/bin/python benchmarks/portrait_texture.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
NOT_FACES = {"Thor"}
MAX_MM_PER_PX = 0.8
PIXEL_SIZES = (0.3, 0.5)
SEEDS = (0, 1, 2)


def _real_faces(folder: Path | None) -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import SAMPLE_FACES, read_image, sample_face

    faces = {name: sample_face(name) for name in SAMPLE_FACES}
    folder = folder or (SHARED_FACES if SHARED_FACES.is_dir() else None)
    if folder is not None:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".jpg", ".jpeg", ".png") and path.stem not in NOT_FACES:
                faces[path.stem] = read_image(path).rgb
    return faces


def _octaves(rgb: np.ndarray, mask: np.ndarray, mm_per_px: float) -> list[float]:
    from dermatrack.imaging.colour import srgb_to_lab
    from dermatrack.imaging.phantom import REAL_SKIN_TEXTURE_OCTAVES
    from dermatrack.imaging.texture import texture_octaves

    return texture_octaves(srgb_to_lab(rgb)[..., 0], mask, mm_per_px,
                           [(fine, coarse) for fine, coarse, _ in REAL_SKIN_TEXTURE_OCTAVES])


def _whole_field(rgb: np.ndarray, mm_per_px: float) -> float:
    """Wrinkle length (mm) over the whole phantom, no face regions."""
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.imaging.regions import FaceRegions

    whole = np.ones(rgb.shape[:2], bool)
    regions = FaceRegions(detected=False, masks={"whole": whole}, landmarks=None,
                          iris_diameter_px=None, skin_mask=whole, line_exclusion=None)
    report = run_analysis(rgb, mm_per_px=mm_per_px, regions=regions, calibrate=False).report
    return float(report["regions"]["whole"]["wrinkles"]["length_mm"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, help="folder of real face photographs")
    args = parser.parse_args()

    from dermatrack.imaging._filters import resize_to
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.imaging.phantom import make_phantom, portrait_spec

    print("robust SD of band-passed L* over open skin, octaves 0.8-1.6 / 1.6-3.2 / "
          "3.2-6.4 mm")
    measured = []
    for name, rgb in _real_faces(args.faces).items():
        analysis = run_analysis(rgb, calibrate=False)
        mpp = analysis.report["image"]["mm_per_px"]
        if mpp is None or mpp > MAX_MM_PER_PX or analysis.regions.line_exclusion is None:
            print(f"  {name:16s} skipped (scale {mpp}: coarser than {MAX_MM_PER_PX} mm/px "
                  "or no face)")
            continue
        mask = analysis.regions.masks["whole"] & ~analysis.regions.line_exclusion
        mask &= ~resize_to(analysis.wrinkles.mask, mask.shape)
        octaves = _octaves(analysis.rgb, mask, mpp)
        measured.append(octaves)
        print(f"  {name:16s} {mpp:.2f} mm/px  " + " / ".join(f"{v:.2f}" for v in octaves))
    if measured:
        medians = [statistics.median(column) for column in zip(*measured, strict=True)]
        print(f"  median of {len(measured)} faces      " +
              " / ".join(f"{v:.2f}" for v in medians))

    print("portrait phantoms (120 x 90 mm field), seeds "
          f"{', '.join(map(str, SEEDS))}, at {' and '.join(map(str, PIXEL_SIZES))} mm/px")
    for textured in (False, True):
        label = "with real-skin texture" if textured else "as they are"
        octaves, false_mm, ratios = [], [], []
        for seed in SEEDS:
            for mpp in PIXEL_SIZES:
                rng = np.random.default_rng(seed)
                bare = make_phantom(portrait_spec(rng, mm_per_px=mpp, n_wrinkles=0,
                                                  skin_texture=textured), rng)
                octaves.append(_octaves(bare.rgb, np.ones(bare.rgb.shape[:2], bool), mpp))
                false_mm.append(_whole_field(bare.rgb, mpp))
                rng = np.random.default_rng(seed)
                lined = make_phantom(portrait_spec(rng, mm_per_px=mpp, skin_texture=textured),
                                     rng)
                truth = lined.truth["wrinkle_total_length_mm"]
                ratios.append(_whole_field(lined.rgb, mpp) / truth)
        spread = [statistics.median(column) for column in zip(*octaves, strict=True)]
        print(f"  {label}: texture " + " / ".join(f"{v:.2f}" for v in spread)
              + f"; wrinkle-free field: {statistics.median(false_mm):.0f} mm found (median; "
              f"range {min(false_mm):.0f}-{max(false_mm):.0f}); five wrinkles: found / true "
              f"length {statistics.median(ratios):.2f} (range {min(ratios):.2f}-"
              f"{max(ratios):.2f})")


if __name__ == "__main__":
    main()
