"""The live capture check's sharpness advice on real faces: which blur it names, and
whether it names a sharp frame.

Each real face (the package's astronaut and grace_hopper, and every face in
``../shared/realdata/faces`` where present) is the baseline, kept as the capture service
keeps it (a copy 640 px on its long side, ``services.capture.FRAME_SIDE_PX``). Camera
frames are made as the capture page sends them (480 px on the long side, JPEG quality 70)
from the photograph as it is, turned by 5 degrees, and blurred by a Gaussian of 1, 2 and
3 px at the photograph's own resolution (a camera out of focus). For each it prints the
frame's sharpness over the baseline's at the same pixels per face
(``pose.paired_sharpness``) and whether ``pose.check_frame`` names the frame blurred
(``*``); then, per capture, on how many faces it was named, the range of the ratios,
and the range of the frames' own sharpness (what a fixed limit without a baseline would
have to separate).

Run: ``.venv/bin/python benchmarks/live_sharpness.py`` (under a minute).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
FRAME_SIDE_PX = 480
FRAME_JPEG_QUALITY = 70
BLURS_PX = (1.0, 2.0, 3.0)


def _faces() -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import read_image, sample_face

    faces = {name: sample_face(name) for name in ("astronaut", "grace_hopper")}
    if SHARED_FACES.is_dir():
        for path in sorted(SHARED_FACES.iterdir()):
            if path.suffix.lower() in (".jpg", ".png") and path.stem != "Thor":
                faces[path.stem] = read_image(path).rgb
    return {k: (np.clip(v, 0, 1) * 255).round().astype(np.uint8) for k, v in faces.items()}


def _shrunk(rgb: np.ndarray, side: int) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    factor = min(1.0, side / max(h, w))
    return cv2.resize(rgb, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)


def _frame(rgb: np.ndarray) -> np.ndarray:
    import cv2

    small = _shrunk(rgb, FRAME_SIDE_PX)
    jpeg = cv2.imencode(".jpg", np.ascontiguousarray(small[..., ::-1]),
                        [cv2.IMWRITE_JPEG_QUALITY, FRAME_JPEG_QUALITY])[1]
    return np.ascontiguousarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1])


def _captures(rgb: np.ndarray) -> dict[str, np.ndarray]:
    import cv2

    h, w = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 5.0, 1.0)
    out = {"as taken": rgb,
           "turned 5°": cv2.warpAffine(rgb, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)}
    for blur in BLURS_PX:
        out[f"blur {blur:g} px"] = cv2.GaussianBlur(rgb, (0, 0), blur)
    return out


def main() -> None:
    from dermatrack.imaging.pose import baseline_face, check_frame
    from dermatrack.services.capture import FRAME_SIDE_PX as BASELINE_SIDE_PX

    named: dict[str, list[bool]] = {}
    ratios: dict[str, list[float]] = {}
    own: dict[str, list[float]] = {}
    for name, rgb in _faces().items():
        baseline = baseline_face(_shrunk(rgb, BASELINE_SIDE_PX))
        if baseline is None:
            print(f"{name}: no face in the baseline copy")
            continue
        cells = []
        for capture, image in _captures(rgb).items():
            check = check_frame(_frame(image), "front", baseline)
            if not check.sharpness or not check.baseline_sharpness:
                cells.append(f"{capture} n/a")
                continue
            ratio = check.sharpness / check.baseline_sharpness
            blurred = any("blurred" in line for line in check.advice)
            named.setdefault(capture, []).append(blurred)
            ratios.setdefault(capture, []).append(ratio)
            own.setdefault(capture, []).append(check.sharpness)
            cells.append(f"{capture} {ratio:4.2f}{'*' if blurred else ' '}")
        print(f"{name:18s} {rgb.shape[1]}x{rgb.shape[0]}  " + " | ".join(cells))
    print("\ncapture       named   ratio to the baseline   frame's own sharpness")
    for capture, flags in named.items():
        print(f"{capture:12s} {sum(flags):2d} of {len(flags):2d}   "
              f"{min(ratios[capture]):.2f}-{max(ratios[capture]):.2f}               "
              f"{min(own[capture]):.2f}-{max(own[capture]):.2f}")


if __name__ == "__main__":
    main()
