"""Faces small in the frame: found or not, where the landmarks land, and the time.

Each real face (the package-shipped faces, and biden2 and toni-collette from
``../shared/realdata/faces`` where present; ``--faces DIR`` for another folder) is
re-rendered into a 4000 x 3000 grey frame so that its width (cheek to cheek, FaceMesh
landmarks 234-454) is a given fraction of the frame's width, as the same face
photographed from farther away. ``regions.face_regions`` is run on the frame; the
landmarks are compared with those of the face in its own photograph, scaled and moved
to where it was drawn (median distance, % of the face width). The faces that fill their
own photograph are the reference, so the figure is the agreement between a face close
and far, not an error against a truth.

Run: ``.venv/bin/python benchmarks/small_faces.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
#: Shared faces that fill their photograph (the reference must be a close face).
CLOSE_FACES = ("biden2", "toni-collette")
FRACTIONS = (0.2, 0.15, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03)
FRAME = (3000, 4000)


def _faces(folder: Path | None) -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import SAMPLE_FACES, read_image, sample_face

    faces = {name: sample_face(name) for name in SAMPLE_FACES}
    folder = folder or (SHARED_FACES if SHARED_FACES.is_dir() else None)
    if folder is not None:
        for path in sorted(folder.iterdir()):
            wanted = path.stem in CLOSE_FACES or folder != SHARED_FACES
            if wanted and path.suffix.lower() in (".jpg", ".jpeg", ".png"):
                faces[path.stem] = np.asarray(read_image(path).rgb, np.float32)
    return faces


def _framed(rgb: np.ndarray, landmarks: np.ndarray, fraction: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """The photograph scaled so the face is ``fraction`` of the frame's width, its
    centre at the frame's centre; and the landmarks where they were drawn."""
    import cv2

    width = float(np.linalg.norm(landmarks[454] - landmarks[234]))
    scale = fraction * FRAME[1] / width
    image = cv2.resize(rgb, None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    frame = np.full(FRAME + (3,), 0.45, np.float32)
    cx, cy = landmarks.mean(axis=0) * scale
    ox, oy = int(FRAME[1] / 2 - cx), int(FRAME[0] / 2 - cy)
    y0, x0 = max(oy, 0), max(ox, 0)
    y1, x1 = min(oy + image.shape[0], FRAME[0]), min(ox + image.shape[1], FRAME[1])
    frame[y0:y1, x0:x1] = image[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return frame, landmarks * scale + [ox, oy]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, help="folder of close face photographs")
    args = parser.parse_args()

    from dermatrack.imaging.regions import face_regions

    print("face | " + " | ".join(f"{f:.0%}" for f in FRACTIONS))
    for name, rgb in _faces(args.faces).items():
        reference = face_regions(rgb, skin_without_face=False)
        if reference is None:
            print(f"{name}: no face in its own photograph")
            continue
        cells = []
        for fraction in FRACTIONS:
            frame, expected = _framed(rgb, reference.landmarks, fraction)
            start = time.process_time()
            found = face_regions(frame, skin_without_face=False)
            cpu = time.process_time() - start
            if found is None:
                cells.append(f"none ({cpu:.1f} s)")
                continue
            width = fraction * FRAME[1]
            error = np.median(np.linalg.norm(found.landmarks - expected, axis=1)) / width
            cells.append(f"{100 * error:.2f} % ({cpu:.1f} s)")
        print(f"{name} | " + " | ".join(cells))
    print("cells: median landmark distance, % of the face width (CPU time of face_regions)")


if __name__ == "__main__":
    main()
