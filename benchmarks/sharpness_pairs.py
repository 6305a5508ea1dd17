"""Blur or skin smoothing in one photograph of a pair: what it does to the wrinkle
figures, and whether ``photo compare`` can tell it from an ordinary capture.

Each real face (grace_hopper from matplotlib, and every face in
``../shared/realdata/faces`` where present) is analysed as it is, in the fourteen captures
of the real-photo validation (``realphoto.variants`` and ``realphoto.held_out_variants``:
resampled, rotated, moved by half a pixel, re-exposed, recompressed), blurred by a
Gaussian of 0.5, 0.7, 0.9 and 1.1 px (a camera slightly out of focus, or shaken),
smoothed by OpenCV's bilateral filter (9 px, colour SD 30 of 255 levels: an
edge-preserving smoother) over the whole frame and on the face's skin only (as a phone's
beauty mode applies it, the eyes, brows and lips kept), and blurred by 2 px on the skin
only. For each it prints, against the photograph as it is, the sharpness ratio
(``quality.sharpness``), the change of the whole-face wrinkle length and severity, and
the skin-detail ratio (``quality.skin_detail``: the skin's fine texture over that of the
eyes, brows, lips and nostrils): a skin smoother lowers the skin's and keeps the
features', blur lowers both. The last
row of each face is a treatment that works: the validation's forehead lines and crow's
feet drawn at 25 % and taken away again (the photograph with them against the one
without). The summary gives, per kind of capture, the range of each ratio, the range of
the length change and how many faces ``quality.SHARPNESS_TOLERANCE_RATIO`` names.

Run: ``.venv/bin/python benchmarks/sharpness_pairs.py`` (about eight minutes;
``--faces grace_hopper`` for one face).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
BLURS_PX = (0.5, 0.7, 0.9, 1.1)
#: Luminance deficit of the lines drawn and taken away again (a treatment that works).
LINES_TAKEN_AWAY_CONTRAST = 0.25


def _faces(only: list[str] | None) -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import read_image, sample_face

    faces = {"grace_hopper": sample_face("grace_hopper")}
    if SHARED_FACES.is_dir():
        for path in sorted(SHARED_FACES.iterdir()):
            if path.suffix.lower() in (".jpg", ".png") and path.stem != "Thor":
                faces[path.stem] = read_image(path).rgb
    return {k: v for k, v in faces.items() if not only or k in only}


def _measure(rgb: np.ndarray) -> tuple[float, float, float, float | None] | None:
    """Sharpness, whole-face wrinkle length (mm), severity and skin detail (the skin's fine
    texture over the features', ``quality.skin_detail``); None where not measured."""
    from dermatrack.errors import InputError
    from dermatrack.imaging.analysis import run_analysis

    try:
        report = run_analysis(rgb, calibrate=False).report
    except InputError:
        return None
    wrinkles = report["regions"]["whole"]["wrinkles"]
    quality = report["quality"]
    if wrinkles["length_mm"] is None or quality["sharpness"] is None:
        return None
    return (quality["sharpness"], wrinkles["length_mm"], wrinkles["severity_index"],
            quality["skin_detail"])


def _with_lines(rgb: np.ndarray) -> np.ndarray | None:
    """The photograph with the validation's forehead lines and crow's feet drawn at 25 %:
    taking them away again is what a treatment that works does."""
    from dataclasses import replace

    from dermatrack.imaging.realphoto import plan_wrinkles, render_wrinkles
    from dermatrack.imaging.regions import face_regions
    from dermatrack.imaging.scale import mm_per_px_from_iris

    regions = face_regions(rgb)
    if regions is None or regions.landmarks is None:
        return None
    mm_per_px = mm_per_px_from_iris(regions)
    if mm_per_px is None:
        return None
    lines = plan_wrinkles(regions.landmarks, mm_per_px, regions.open_skin)
    if not lines:
        return None
    return render_wrinkles(rgb, [replace(line, contrast=LINES_TAKEN_AWAY_CONTRAST)
                                 for line in lines], mm_per_px)


def _ranges(rows: list[tuple[float, float, float | None]]) -> str:
    from dermatrack.imaging.quality import SHARPNESS_TOLERANCE_RATIO, SKIN_DETAIL_TOLERANCE_RATIO

    sharp = [r[0] for r in rows]
    lengths = [r[1] for r in rows]
    detail = [r[2] for r in rows if r[2] is not None]
    named = sum(r < SHARPNESS_TOLERANCE_RATIO for r in sharp)
    text = (f"sharpness ratio {min(sharp):.2f}-{max(sharp):.2f} (named on {named} of "
            f"{len(rows)}), length {min(lengths):+.1f} to {max(lengths):+.1f} %")
    if detail:
        smoothed = sum(min(r, 1 / r) < SKIN_DETAIL_TOLERANCE_RATIO for r in detail)
        text += (f", skin detail ratio {min(detail):.2f}-{max(detail):.2f} (named on "
                 f"{smoothed} of {len(detail)})")
    return text


def main() -> None:
    import cv2

    from dermatrack.imaging.quality import SHARPNESS_TOLERANCE_RATIO
    from dermatrack.imaging.realphoto import held_out_variants, variants, with_skin_smoothed

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", nargs="*", help="only these faces (file stems)")
    args = parser.parse_args()
    groups: dict[str, list[tuple[float, float, float | None]]] = {}
    for name, rgb in _faces(args.faces).items():
        rgb = np.asarray(rgb, np.float32)
        own = _measure(rgb)
        if own is None:
            print(f"{name}: wrinkles not measurable, skipped")
            continue
        captures = {**variants(rgb), **held_out_variants(rgb)}
        captures.update({f"blur_{s:g}px": cv2.GaussianBlur(rgb, (0, 0), s) for s in BLURS_PX})
        rgb8 = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
        bilateral = cv2.bilateralFilter(rgb8, 9, 30, 9).astype(np.float32) / 255.0
        captures["bilateral"] = bilateral
        captures["skin_bilateral"] = with_skin_smoothed(rgb, bilateral)
        captures["skin_blur_2px"] = with_skin_smoothed(rgb, cv2.GaussianBlur(rgb, (0, 0), 2.0))
        print(f"{name}: sharpness {own[0]:.3f}, wrinkle length {own[1]:.0f} mm")
        measured_all = {capture: _measure(image) for capture, image in captures.items()}
        lined = _with_lines(rgb)
        before = None if lined is None else _measure(lined)
        for capture, measured in measured_all.items():
            if measured is None:
                print(f"  {capture:16s} not measurable")
                continue
            ratio = measured[0] / own[0]
            length = 100 * (measured[1] / own[1] - 1)
            severity = 100 * (measured[2] / own[2] - 1)
            detail = (None if measured[3] is None or own[3] is None
                      else measured[3] / own[3])
            print(f"  {capture:16s} sharpness ratio {ratio:4.2f}   length {length:+6.1f} %"
                  f"   severity {severity:+6.1f} %   skin detail "
                  f"{'n/a' if detail is None else f'{detail:4.2f}'}", flush=True)
            group = (capture if capture.startswith(("blur_", "bilateral", "skin_"))
                     else "captures")
            groups.setdefault(group, []).append((ratio, length, detail))
        if before is not None:
            # From the photograph with lines to the photograph without: a treatment.
            detail = None if before[3] is None or own[3] is None else own[3] / before[3]
            row = (own[0] / before[0], 100 * (own[1] / before[1] - 1), detail)
            print(f"  {'lines taken away':16s} sharpness ratio {row[0]:4.2f}   length "
                  f"{row[1]:+6.1f} %   skin detail "
                  f"{'n/a' if detail is None else f'{detail:4.2f}'}", flush=True)
            groups.setdefault("lines_taken_away", []).append(row)
    if "captures" not in groups:
        return
    print(f"\ntolerance of the sharpness ratio {SHARPNESS_TOLERANCE_RATIO:g}; ratios are of "
          "each capture against the photograph as it is")
    for group in ("captures", *(f"blur_{s:g}px" for s in BLURS_PX), "bilateral",
                  "skin_bilateral", "skin_blur_2px", "lines_taken_away"):
        if groups.get(group):
            print(f"{group}: {_ranges(groups[group])}")


if __name__ == "__main__":
    main()
