"""Blur in one photograph of a pair: what it does to the wrinkle figures, and whether
``photo compare`` can tell it from an ordinary capture by the sharpness ratio.

Each real face (grace_hopper from matplotlib, and every face in
``../shared/realdata/faces`` where present) is analysed as it is, in the fourteen captures
of the real-photo validation (``realphoto.variants`` and ``realphoto.held_out_variants``:
resampled, rotated, moved by half a pixel, re-exposed, recompressed), and blurred by a
Gaussian of 0.5, 0.7, 0.9 and 1.1 px (a camera slightly out of focus, or shaken), and
smoothed by OpenCV's bilateral filter (9 px, colour SD 30 of 255 levels: an
edge-preserving skin smoother, as a phone's beauty mode applies). For
each it prints the sharpness (``quality.sharpness``) against the photograph's own, and the
change of the whole-face wrinkle length and severity. The summary gives the lowest
sharpness ratio over the captures and, per blur, the range of ratios, the range of the
length change and how many faces ``quality.SHARPNESS_TOLERANCE_RATIO`` names.

Run: ``.venv/bin/python benchmarks/sharpness_pairs.py`` (about five minutes;
``--faces grace_hopper`` for one face).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
BLURS_PX = (0.5, 0.7, 0.9, 1.1)


def _faces(only: list[str] | None) -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import read_image, sample_face

    faces = {"grace_hopper": sample_face("grace_hopper")}
    if SHARED_FACES.is_dir():
        for path in sorted(SHARED_FACES.iterdir()):
            if path.suffix.lower() in (".jpg", ".png") and path.stem != "Thor":
                faces[path.stem] = read_image(path).rgb
    return {k: v for k, v in faces.items() if not only or k in only}


def _measure(rgb: np.ndarray) -> tuple[float, float, float] | None:
    """Sharpness, whole-face wrinkle length (mm) and severity; None where not measured."""
    from dermatrack.errors import InputError
    from dermatrack.imaging.analysis import run_analysis

    try:
        report = run_analysis(rgb, calibrate=False).report
    except InputError:
        return None
    wrinkles = report["regions"]["whole"]["wrinkles"]
    if wrinkles["length_mm"] is None or report["quality"]["sharpness"] is None:
        return None
    return report["quality"]["sharpness"], wrinkles["length_mm"], wrinkles["severity_index"]


def main() -> None:
    import cv2

    from dermatrack.imaging.quality import SHARPNESS_TOLERANCE_RATIO
    from dermatrack.imaging.realphoto import held_out_variants, variants

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", nargs="*", help="only these faces (file stems)")
    args = parser.parse_args()
    capture_ratios: list[float] = []
    blurred: dict[float, list[tuple[float, float]]] = {s: [] for s in BLURS_PX}
    smoothed: list[tuple[float, float]] = []
    for name, rgb in _faces(args.faces).items():
        rgb = np.asarray(rgb, np.float32)
        own = _measure(rgb)
        if own is None:
            print(f"{name}: wrinkles not measurable, skipped")
            continue
        captures = {**variants(rgb), **held_out_variants(rgb)}
        captures.update({f"blur_{s:g}px": cv2.GaussianBlur(rgb, (0, 0), s) for s in BLURS_PX})
        rgb8 = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
        captures["bilateral"] = cv2.bilateralFilter(rgb8, 9, 30, 9).astype(np.float32) / 255.0
        print(f"{name}: sharpness {own[0]:.3f}, wrinkle length {own[1]:.0f} mm")
        for capture, image in captures.items():
            measured = _measure(image)
            if measured is None:
                print(f"  {capture:16s} not measurable")
                continue
            ratio = measured[0] / own[0]
            length = 100 * (measured[1] / own[1] - 1)
            severity = 100 * (measured[2] / own[2] - 1)
            print(f"  {capture:16s} sharpness ratio {ratio:4.2f}   length {length:+6.1f} %"
                  f"   severity {severity:+6.1f} %", flush=True)
            if capture.startswith("blur_"):
                blurred[float(capture[5:-2])].append((ratio, length))
            elif capture == "bilateral":
                smoothed.append((ratio, length))
            else:
                capture_ratios.append(min(ratio, 1 / ratio))
    if not capture_ratios:
        return
    print(f"\nlowest sharpness ratio over the captures: {min(capture_ratios):.2f} "
          f"({len(capture_ratios)} captures); tolerance {SHARPNESS_TOLERANCE_RATIO:g}")
    for sigma, rows in [*blurred.items(), ("bilateral", smoothed)]:
        if rows:
            ratios, lengths = zip(*rows, strict=True)
            named = sum(r < SHARPNESS_TOLERANCE_RATIO for r in ratios)
            label = sigma if isinstance(sigma, str) else f"blur {sigma:g} px"
            print(f"{label}: ratio {min(ratios):.2f}-{max(ratios):.2f}, length "
                  f"{min(lengths):+.1f} to {max(lengths):+.1f} %, named on {named} of "
                  f"{len(rows)} faces")


if __name__ == "__main__":
    main()
