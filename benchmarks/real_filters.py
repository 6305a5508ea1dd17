"""Valley filters compared on real faces with wrinkles drawn into them (issue 10, point 3).

``dermatrack validate imaging --filters`` compares the candidate filters on phantoms,
each at an oracle threshold. On real faces no threshold can be chosen that way: without
annotations, a low threshold finds every drawn line and nothing says what else it finds.
So each filter is run at the same false-alarm budget instead. On each real face (the
package's grace_hopper and the shared faces fine enough for wrinkles, 0.3-0.8 mm/px):

* the portrait tier's own input is taken as the detector receives it (exposure-normalised
  L* at one sharpness on the 0.4 mm grid, the analysed skin and the exclusion bands);
* every filter answers at the tier's scales, and the same post-processing follows (zero
  outside open skin, hysteresis at t/2 to t, skeleton, pieces of at least the shortest
  portrait wrinkle, 6 mm);
* each filter's threshold t is set so that on the face as it is, before any line is
  drawn, it finds as much line per cm² of open skin as the detector as shipped: whatever
  on an unaltered face is not a wrinkle, each filter is allowed the same amount of it;
* at that threshold, the forehead lines and crow's feet of the real-photo validation
  (``realphoto.plan_wrinkles``) are drawn at a 15 % and a 25 % luminance deficit: recall
  is the share of their centreline within 2 mm of a line found, precision the share of
  the new line length (not found before) that lies on them.

Filters: ``detector`` (the kept valleyness, l1 - |l2| - g with the gradient of the
unshaded L*, and the rejection of structures wider than a wrinkle), ``hessian_l1``,
``hessian_minus_l2`` (no edge term), ``frangi`` (scikit-image, dark ridges, the same
scales; Frangi et al. 1998) and ``gabor_bank`` (even Gabor kernels, 8 orientations; Cula
et al. 2013). Ng et al.'s hybrid Hessian filter (ACCV 2014) is not re-implemented: its
idea, curvature with a gradient term, is the detector's.

Run: ``.venv/bin/python benchmarks/real_filters.py`` (a few minutes).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
CONTRASTS = (0.15, 0.25)
FILTERS = ("detector", "hessian_l1", "hessian_minus_l2", "frangi", "gabor_bank")


def _faces(folder: Path | None) -> dict[str, np.ndarray]:
    from dermatrack.imaging.io import IMAGE_SUFFIXES, read_image, sample_face

    faces = {"grace_hopper": sample_face("grace_hopper")}
    folder = folder or (SHARED_FACES if SHARED_FACES.is_dir() else None)
    if folder is not None:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.stem != "Thor":
                faces[path.stem] = np.asarray(read_image(path).rgb, np.float32)
    return faces


def _analysed(rgb: np.ndarray, **options: Any) -> tuple[Any, dict[str, Any]]:
    """The analysis and the arguments the wrinkle detector received in it."""
    from dermatrack.imaging import wrinkles
    from dermatrack.imaging.analysis import run_analysis

    seen: dict[str, Any] = {}
    original = wrinkles.detect_wrinkles

    def capture(lstar: np.ndarray, mask: np.ndarray, mm_per_px: float | None, *,
                exclude: np.ndarray | None = None) -> Any:
        seen.update(lstar=lstar, mask=mask, mm_per_px=mm_per_px, exclude=exclude)
        return original(lstar, mask, mm_per_px, exclude=exclude)

    wrinkles.detect_wrinkles = capture
    try:
        analysis = run_analysis(rgb, calibrate=False, **options)
    finally:
        wrinkles.detect_wrinkles = original
    return analysis, seen


def _grid(seen: dict[str, Any]) -> dict[str, Any]:
    """The detector's working grid: L*, skin, open skin, pixel (mm), scales, unshaded."""
    from dermatrack.imaging._filters import masked_gaussian, resize_to
    from dermatrack.imaging.wrinkles import (
        SHADING_SIGMA_MM,
        _scales_px,
        band_edge_weight,
        working_factor,
    )

    lstar, mpp = seen["lstar"], seen["mm_per_px"]
    factor = working_factor(lstar.shape, mpp)
    shape = (max(int(round(lstar.shape[0] / factor)), 1),
             max(int(round(lstar.shape[1] / factor)), 1))
    lum = resize_to(np.asarray(lstar, np.float32), shape)
    skin = resize_to(np.asarray(seen["mask"], bool), shape)
    pixel_mm = mpp * factor
    weight = band_edge_weight(resize_to(np.asarray(seen["exclude"], bool), shape), pixel_mm)
    return {"lum": lum, "skin": skin, "open": skin & (weight > 0), "pixel_mm": pixel_mm,
            "scales": _scales_px(pixel_mm),
            "unshaded": lum - masked_gaussian(lum, skin, SHADING_SIGMA_MM / pixel_mm)}


def _responses(grid: dict[str, Any]) -> dict[str, np.ndarray]:
    from skimage.filters import frangi

    from dermatrack.imaging._filters import hessian_eigenvalues
    from dermatrack.imaging.validation import _gabor_response
    from dermatrack.imaging.wrinkles import (
        PORTRAIT_EDGE_WEIGHT,
        SCALE_RATIO,
        _scale_response,
        _valleyness_coarse,
    )

    lum, scales, unshaded = grid["lum"], grid["scales"], grid["unshaded"]
    out = {name: np.full(lum.shape, -np.inf, np.float32) for name in FILTERS[:3]}
    for sigma in scales:
        l1, l2, _ = hessian_eigenvalues(lum, sigma)
        np.maximum(out["hessian_l1"], l1, out=out["hessian_l1"])
        np.maximum(out["hessian_minus_l2"], l1 - np.abs(l2), out=out["hessian_minus_l2"])
        valley = _scale_response(lum, sigma, unshaded, PORTRAIT_EDGE_WEIGHT)[1]
        np.maximum(out["detector"], valley, out=out["detector"])
    wider = _valleyness_coarse(lum, scales[-1] * SCALE_RATIO, unshaded)
    out["detector"][wider > out["detector"]] = 0.0
    out["frangi"] = frangi(lum, sigmas=scales, black_ridges=True).astype(np.float32)
    out["gabor_bank"] = _gabor_response(lum, scales)
    return {k: np.where(grid["open"], v, 0).astype(np.float32) for k, v in out.items()}


def _lines(response: np.ndarray, threshold: float, pixel_mm: float) -> np.ndarray:
    """Skeleton of the pieces of at least the shortest portrait wrinkle."""
    from dermatrack.imaging.validation import filter_lines
    from dermatrack.imaging.wrinkles import PORTRAIT_MIN_LENGTH_MM

    return filter_lines(response, threshold, pixel_mm, PORTRAIT_MIN_LENGTH_MM)


def _density(skeleton: np.ndarray, grid: dict[str, Any]) -> float:
    """Line length per open-skin area (mm/cm²)."""
    from dermatrack.imaging._filters import skeleton_length_map

    area_cm2 = grid["open"].sum() * grid["pixel_mm"] ** 2 / 100.0
    return float(skeleton_length_map(skeleton).sum() * grid["pixel_mm"] / area_cm2)


def _threshold_for(response: np.ndarray, grid: dict[str, Any], density: float) -> float:
    """The threshold at which the filter finds ``density`` mm/cm² (bisection in log t:
    the density falls as the threshold rises)."""
    top = float(response.max())
    if top <= 0:
        return math.inf
    lo, hi = math.log(top) - 12.0, math.log(top)
    for _ in range(30):
        mid = (lo + hi) / 2.0
        if _density(_lines(response, math.exp(mid), grid["pixel_mm"]), grid) > density:
            lo = mid
        else:
            hi = mid
    return math.exp(hi)


def _points(skeleton: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(skeleton)
    return np.stack([xs, ys], axis=1).astype(np.float64)


def _scores(before: np.ndarray, after: np.ndarray, truth: np.ndarray, tol: float
            ) -> tuple[float, float | None]:
    from dermatrack.imaging.realphoto import points_near

    found = _points(after)
    recall = float(points_near(truth, found, tol).mean())
    new = ~points_near(found, _points(before), tol)
    on_truth = points_near(found, truth, tol)
    tp, fp = int((on_truth).sum()), int((new & ~on_truth).sum())
    return recall, (tp / (tp + fp) if tp + fp else None)


def compare(faces: dict[str, np.ndarray]) -> dict[str, Any]:
    from dermatrack.imaging.realphoto import (
        MATCH_TOLERANCE_MM,
        plan_wrinkles,
        render_wrinkles,
    )
    from dermatrack.imaging.wrinkles import is_portrait

    out: dict[str, Any] = {}
    for name, rgb in faces.items():
        base, seen = _analysed(rgb)
        mpp = base.report["image"]["mm_per_px"]
        if mpp is None or not is_portrait(mpp) or base.regions.landmarks is None or \
                "wrinkles.length_mm" in base.report["measurability"]["not_measurable"]:
            continue
        grid = _grid(seen)
        planned = plan_wrinkles(base.regions.landmarks, mpp, base.regions.open_skin)
        detection = base.wrinkles
        # The drawn centrelines on the grid (input pixels -> working pixels).
        truth = np.concatenate([w.points for w in planned])
        truth = (truth - np.asarray(detection.origin) + 0.5) / detection.factor - 0.5
        target = _density(detection.skeleton & grid["open"], grid)
        responses = _responses(grid)
        thresholds = {f: _threshold_for(responses[f], grid, target) for f in FILTERS}
        tol = MATCH_TOLERANCE_MM / grid["pixel_mm"]
        row: dict[str, Any] = {"mm_per_px": mpp, "density_mm_per_cm2": target}
        for contrast in CONTRASTS:
            lines = [replace(w, contrast=contrast) for w in planned]
            _, drawn_seen = _analysed(render_wrinkles(rgb, lines, mpp), mm_per_px=mpp,
                                      regions=base.regions)
            drawn = _responses(_grid(drawn_seen))
            for f in FILTERS:
                before = _lines(responses[f], thresholds[f], grid["pixel_mm"])
                after = _lines(drawn[f], thresholds[f], grid["pixel_mm"])
                row[f"{f}@{contrast:.2f}"] = _scores(before, after, truth, tol)
        out[name] = row
        print(name, f"{mpp:.3f} mm/px, {target:.2f} mm/cm2:", "; ".join(
            f"{f} " + " ".join(f"{row[f'{f}@{c:.2f}'][0]:.2f}" for c in CONTRASTS)
            for f in FILTERS), flush=True)
    return out


def _median(values: list[float | None]) -> str:
    kept = [v for v in values if v is not None]
    return f"{np.median(kept):.2f}" if kept else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=None,
                        help="folder of real face photographs (default: the shared ones)")
    args = parser.parse_args()
    results = compare(_faces(args.faces))
    print(f"\n{len(results)} faces; median (worst) over faces, recall / precision of the "
          "drawn lines, each filter at the detector's line density on the face as it is")
    print("| filter | " + " | ".join(f"{c:.0%} recall | {c:.0%} precision" for c in CONTRASTS)
          + " |")
    print("|---|" + "---|" * (2 * len(CONTRASTS)))
    for f in FILTERS:
        cells = []
        for c in CONTRASTS:
            pairs = [r[f"{f}@{c:.2f}"] for r in results.values()]
            recalls = [p[0] for p in pairs]
            precisions = [p[1] for p in pairs]
            cells += [f"{_median(recalls)} ({min(recalls):.2f})",
                      f"{_median(precisions)} "
                      f"({min(p for p in precisions if p is not None):.2f})"]
        print(f"| {f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
