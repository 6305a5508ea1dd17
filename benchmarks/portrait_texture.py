"""Skin texture at portrait scales: real faces against the portrait phantoms, and what
the portrait tier of the wrinkle detector finds on phantoms given the real texture.

For each real face (the package-shipped faces and ``../shared/realdata/faces`` where
present; ``--faces DIR`` for another folder) at 0.8 mm/px or finer: the robust
SD of L* band-passed in three octaves (0.8-1.6, 1.6-3.2 and 3.2-6.4 mm) over the open
skin (the analysed skin outside the exclusion bands and the detected wrinkles), on the
0.4 mm portrait grid (``realphoto.open_skin_texture``). Then the same for portrait
phantoms as they are and with ``skin_texture=True`` (``phantom.REAL_SKIN_TEXTURE_OCTAVES``,
the medians measured here on 2026-12-04), and the whole-field wrinkle length the detector
reports on those phantoms (``realphoto.textured_phantom_scores``, as the real-photo
section of ``dermatrack validate imaging`` runs it): without wrinkles, where every
millimetre is a false detection, and with five wrinkles of known length.

Run: ``.venv/bin/python benchmarks/portrait_texture.py`` (seconds).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
NOT_FACES = {"Thor"}


def _real_faces(folder: Path | None) -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import SAMPLE_FACES, read_image, sample_face

    faces = {name: sample_face(name) for name in SAMPLE_FACES}
    folder = folder or (SHARED_FACES if SHARED_FACES.is_dir() else None)
    if folder is not None:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".jpg", ".jpeg", ".png") and path.stem not in NOT_FACES:
                faces[path.stem] = read_image(path).rgb
    return faces


def _octaves(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, help="folder of real face photographs")
    args = parser.parse_args()

    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.imaging.realphoto import (
        TEXTURED_PHANTOM_MM_PER_PX,
        TEXTURED_PHANTOM_SEEDS,
        open_skin_texture,
        textured_phantom_scores,
    )

    print("robust SD of band-passed L* over open skin, octaves 0.8-1.6 / 1.6-3.2 / "
          "3.2-6.4 mm")
    measured = []
    for name, rgb in _real_faces(args.faces).items():
        analysis = run_analysis(rgb, calibrate=False)
        mpp = analysis.report["image"]["mm_per_px"]
        texture = open_skin_texture(analysis)
        if texture is None:
            print(f"  {name:16s} skipped (no face, or no scale, or coarser than the "
                  "portrait tier's 0.8 mm/px)")
            continue
        measured.append(texture)
        print(f"  {name:16s} {mpp:.2f} mm/px  {_octaves(texture)}")
    if measured:
        medians = [statistics.median(column) for column in zip(*measured, strict=True)]
        print(f"  median of {len(measured)} faces      {_octaves(medians)}")

    print("portrait phantoms (120 x 90 mm field), seeds "
          f"{', '.join(map(str, TEXTURED_PHANTOM_SEEDS))}, at "
          f"{' and '.join(map(str, TEXTURED_PHANTOM_MM_PER_PX))} mm/px")
    for textured in (False, True):
        scores = textured_phantom_scores(skin_texture=textured)
        runs = scores["runs"]
        texture = [statistics.median(c) for c in zip(*(r["skin_texture_l"] for r in runs),
                                                      strict=True)]
        false_mm = [r["false_line_mm"] for r in runs]
        ratios = [r["length_ratio"] for r in runs]
        label = "with real-skin texture" if textured else "as they are"
        print(f"  {label}: texture {_octaves(texture)}; wrinkle-free field: "
              f"{statistics.median(false_mm):.0f} mm found (median; range "
              f"{min(false_mm):.0f}-{max(false_mm):.0f}; "
              f"{scores['false_line_mm_per_cm2']:.2f} mm/cm2); five wrinkles: found / true "
              f"length {statistics.median(ratios):.2f} (range {min(ratios):.2f}-"
              f"{max(ratios):.2f})")


if __name__ == "__main__":
    main()
