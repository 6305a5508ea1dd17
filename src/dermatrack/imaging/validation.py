"""Validation of the skin metrics against phantoms with exact ground truth.

Every series draws its phantoms at random from seeds (``phantom.random_spec``): feature
sizes, depths, positions and skin tone vary; nothing is tuned per run. The engine is the
one ``photo analyze`` runs (``analysis.run_analysis``), without the ColorChecker search
(the phantoms carry no chart).

Series
------
* detection: wrinkle precision, recall and F1 against the true centrelines (a detected
  centreline pixel is a true positive if it lies within ``TOLERANCE_PX`` input pixels
  of a true centreline, a true centreline pixel is found if a detected one lies within
  that distance), split by true depth (>= 5 L* and < 5 L*); total length error; spot
  count and area error; red area error; pore count and diameter error; texture error;
* tone: ITA error across ITA from 60 to -30 degrees;
* severity: the same layout with every wrinkle at depths from 3 to 14 L*; Spearman
  correlation of the severity index with depth;
* repeatability: each phantom under each capture perturbation; per metric and
  perturbation the coefficient of variation (SD / mean, %) of [unperturbed, perturbed
  repeats], and the minimal detectable change MDC95 = 1.96 sqrt(2) SEM, with SEM the
  root mean within-phantom variance (Weir 2005).

Targets (issue 4): F1 >= 0.9 on wrinkles >= 5 L* deep; length error < 10 %; ITA error
< 2 degrees; spot and red area error < 20 %; CV < 5 % for wrinkle length and severity.

References
----------
Weir JP. Quantifying test-retest reliability using the intraclass correlation
coefficient and the SEM. J Strength Cond Res 19(1):231-240, 2005.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dermatrack.imaging.phantom import PERTURBATIONS, make_phantom, random_spec

__all__ = ["TARGETS", "TOLERANCE_PX", "ValidationResult", "centreline_scores",
           "run_validation"]

TOLERANCE_PX = 3.0
DEEP_L = 5.0
TARGETS = {
    "wrinkle_f1_deep": (">=", 0.9),
    "wrinkle_length_error_pct": ("<", 10.0),
    "ita_error_deg": ("<", 2.0),
    "spot_area_error_pct": ("<", 20.0),
    "red_area_error_pct": ("<", 20.0),
    "cv_wrinkle_length_pct": ("<", 5.0),
    "cv_wrinkle_severity_pct": ("<", 5.0),
}


@dataclass
class ValidationResult:
    """report: JSON-ready figures, with ``targets`` (value, target, pass) and ``passed``;
    overlays: name -> uint8 RGB image for a person to look at."""

    report: dict[str, Any]
    overlays: dict[str, np.ndarray]


def centreline_scores(detected_xy: np.ndarray, truth_xy: np.ndarray, *,
                      ignore_xy: np.ndarray | None = None,
                      tolerance: float = TOLERANCE_PX) -> dict[str, float]:
    """Precision, recall and F1 of detected centreline points against true ones.

    Parameters
    ----------
    detected_xy, truth_xy : (n, 2) arrays of (x, y) pixel coordinates
    ignore_xy : (m, 2), optional
        True points of wrinkles outside the stratum scored: detections near them count
        neither as true nor as false positives.
    tolerance : float
        Matching distance in pixels.
    """
    from scipy.spatial import cKDTree

    det = np.asarray(detected_xy, float).reshape(-1, 2)
    tru = np.asarray(truth_xy, float).reshape(-1, 2)
    if ignore_xy is not None and len(ignore_xy) and len(det):
        far = cKDTree(ignore_xy).query(det)[0] > tolerance
        near_truth = cKDTree(tru).query(det)[0] <= tolerance if len(tru) else far & False
        det = det[far | near_truth]
    if len(det) == 0 or len(tru) == 0:
        precision = 1.0 if len(det) == 0 else 0.0
        recall = 1.0 if len(tru) == 0 else 0.0
    else:
        precision = float(np.mean(cKDTree(tru).query(det)[0] <= tolerance))
        recall = float(np.mean(cKDTree(det).query(tru)[0] <= tolerance))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _truth_points(phantom: Any, depth_min: float = -np.inf, depth_max: float = np.inf
                  ) -> np.ndarray:
    """Dense true centreline points (every 0.25 px) of wrinkles in a depth range."""
    pts = [np.asarray(w["centreline_px"], float) for w in phantom.truth["wrinkles"]
           if depth_min <= w["depth_l"] < depth_max]
    dense = []
    for p in pts:
        seg = np.hypot(*np.diff(p, axis=0).T)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        s = np.arange(0.0, arc[-1], 0.25)
        dense.append(np.stack([np.interp(s, arc, p[:, 0]), np.interp(s, arc, p[:, 1])], 1))
    h, w = phantom.rgb.shape[:2]
    out = np.concatenate(dense) if dense else np.zeros((0, 2))
    inside = (out[:, 0] >= 0) & (out[:, 0] <= w - 1) & (out[:, 1] >= 0) & (out[:, 1] <= h - 1)
    return out[inside]


def _relative_error(measured: float | None, truth: float) -> float | None:
    if measured is None or truth == 0:
        return None
    return 100.0 * abs(measured - truth) / truth


def _analyse(rgb: np.ndarray, mm_per_px: float) -> Any:
    from dermatrack.imaging.analysis import run_analysis

    return run_analysis(rgb, mm_per_px=mm_per_px, use_face=False, calibrate=False)


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def _overlay(rgb: np.ndarray, truth_mask: np.ndarray, detected: np.ndarray) -> np.ndarray:
    import cv2

    img = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)
    thick = cv2.dilate(detected.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    img[thick] = (255, 40, 40)
    img[truth_mask] = (40, 255, 40)
    return img


def run_validation(*, quick: bool = False, seed: int = 2026,
                   real_images: dict[str, np.ndarray] | None = None,
                   progress: Callable[[str], None] | None = None) -> ValidationResult:
    """Run the phantom series (and the real faces given) and score them.

    Parameters
    ----------
    quick : bool
        Small phantoms and few of them (seconds; for the test suite). The default size
        runs in a few minutes on two cores.
    seed : int
        Root seed; every phantom's seed derives from it.
    real_images : dict, optional
        Name -> (H, W, 3) sRGB float image of a real face (the CLI passes scikit-image's
        astronaut and matplotlib's grace_hopper): analysed with face regions, overlays
        saved, no truth.
    progress : callable, optional
        Called with a short label before each step.
    """
    tick = progress or (lambda label: None)
    size = (480, 360) if quick else (800, 600)
    n_detect = 3 if quick else 16
    itas = [60.0, 15.0, -30.0] if quick else [60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 0.0,
                                               -10.0, -20.0, -30.0]
    depths = [3.0, 7.0, 12.0] if quick else [3.0, 5.0, 7.0, 9.0, 11.0, 14.0]
    n_repeat_subjects = 1 if quick else 3
    mpp = 0.06
    rng_root = np.random.default_rng(seed)
    overlays: dict[str, np.ndarray] = {}

    def spec_for(s: int, **kw: Any) -> Any:
        return random_spec(np.random.default_rng(s), width=size[0], height=size[1],
                           mm_per_px=mpp, **kw)

    # --- detection series -------------------------------------------------------------
    rows = []
    all_det, all_deep, all_shallow = [], [], []
    for i in range(n_detect):
        tick(f"detection phantom {i + 1}/{n_detect}")
        s = int(rng_root.integers(1 << 31))
        ph = make_phantom(spec_for(s), np.random.default_rng(s + 1))
        res = _analyse(ph.rgb, mpp)
        whole = res.report["regions"]["whole"]
        det_xy = res.wrinkles.centreline_points()
        deep = _truth_points(ph, DEEP_L)
        shallow = _truth_points(ph, -np.inf, DEEP_L)
        score_all = centreline_scores(det_xy, _truth_points(ph))
        score_deep = centreline_scores(det_xy, deep, ignore_xy=shallow)
        all_det.append(det_xy)
        all_deep.append(score_deep)
        all_shallow.append(centreline_scores(det_xy, shallow, ignore_xy=deep))
        t = ph.truth
        rows.append({
            "seed": s, "ita_deg": t["ita_deg"], "wrinkles": t["wrinkle_count"],
            "f1": score_all["f1"], "precision": score_all["precision"],
            "recall": score_all["recall"], "f1_deep": score_deep["f1"],
            "true_length_mm": t["wrinkle_total_length_mm"],
            "length_mm": whole["wrinkles"]["length_mm"],
            "length_error_pct": _relative_error(whole["wrinkles"]["length_mm"],
                                                t["wrinkle_total_length_mm"]),
            "true_spots": t["spot_count"], "spots": whole["pigment"]["spot_count"],
            "spot_area_error_pct": _relative_error(whole["pigment"]["spot_area_fraction"],
                                                   t["spot_area_fraction"]),
            "red_area_error_pct": _relative_error(whole["redness"]["red_area_fraction"],
                                                  t["red_area_fraction"]),
            "true_pores": t["pore_count"], "pores": whole["pores"]["count"],
            "pore_diameter_error_pct": _relative_error(whole["pores"]["mean_diameter_mm"],
                                                       t["pore_mean_diameter_mm"] or 0.0),
            "roughness_error_pct": _relative_error(whole["texture"]["roughness"],
                                                   t["texture_roughness_l"]),
        })
        if i == 0:
            overlays["phantom_wrinkles"] = _overlay(ph.rgb, ph.masks["wrinkle_centrelines"],
                                                    res.masks()["wrinkles"])

    def pooled(scores: list[dict[str, float]]) -> dict[str, float]:
        p = float(np.mean([s["precision"] for s in scores]))
        r = float(np.mean([s["recall"] for s in scores]))
        return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}

    spot_count_err = [abs(r["spots"] - r["true_spots"]) / max(r["true_spots"], 1) * 100
                      for r in rows]
    pore_count_err = [abs(r["pores"] - r["true_pores"]) / max(r["true_pores"], 1) * 100
                      for r in rows]
    detection: dict[str, Any] = {
        "phantoms": rows,
        "wrinkles_all": pooled([{"precision": r["precision"], "recall": r["recall"]}
                                for r in rows]),
        "wrinkles_deep": pooled(all_deep),
        "wrinkles_shallow": pooled(all_shallow),
        "length_error_pct_mean": _mean([r["length_error_pct"] for r in rows]),
        "spot_count_error_pct_mean": _mean(spot_count_err),
        "spot_area_error_pct_mean": _mean([r["spot_area_error_pct"] for r in rows]),
        "red_area_error_pct_mean": _mean([r["red_area_error_pct"] for r in rows]),
        "pore_count_error_pct_mean": _mean(pore_count_err),
        "pore_diameter_error_pct_mean": _mean([r["pore_diameter_error_pct"] for r in rows]),
        "roughness_error_pct_mean": _mean([r["roughness_error_pct"] for r in rows]),
    }

    # --- tone series ----------------------------------------------------------------
    tone = []
    for ita in itas:
        tick(f"ITA {ita:+.0f}")
        s = int(rng_root.integers(1 << 31))
        ph = make_phantom(spec_for(s, ita_deg=ita), np.random.default_rng(s + 1))
        pig = _analyse(ph.rgb, mpp).report["regions"]["whole"]["pigment"]
        tone.append({"ita_true": ita, "ita_measured": pig["ita_deg"],
                     "error_deg": abs(pig["ita_deg"] - ita), "category": pig["ita_category"]})

    # --- severity series --------------------------------------------------------------
    s = int(rng_root.integers(1 << 31))
    layout = spec_for(s, n_wrinkles=4)
    severity = []
    for d in depths:
        tick(f"severity depth {d:g}")
        spec = replace(layout, wrinkles=tuple(replace(w, depth_l=d) for w in layout.wrinkles))
        ph = make_phantom(spec, np.random.default_rng(s + int(d * 10)))
        wr = _analyse(ph.rgb, mpp).report["regions"]["whole"]["wrinkles"]
        severity.append({"depth_l": d, "severity_index": wr["severity_index"],
                         "length_mm": wr["length_mm"]})
    from scipy.stats import spearmanr

    rho = float(spearmanr([r["depth_l"] for r in severity],
                          [r["severity_index"] for r in severity]).statistic)

    # --- repeatability ----------------------------------------------------------------
    tracked = {
        "wrinkle_length": ("wrinkles", "length_mm"),
        "wrinkle_severity": ("wrinkles", "severity_index"),
        "wrinkle_count": ("wrinkles", "count"),
        "spot_area_fraction": ("pigment", "spot_area_fraction"),
        "ita_deg": ("pigment", "ita_deg"),
        "red_area_fraction": ("redness", "red_area_fraction"),
        "roughness": ("texture", "roughness"),
        "pore_count": ("pores", "count"),
    }
    values: dict[str, dict[str, list[list[float]]]] = {
        p: {m: [] for m in tracked} for p in PERTURBATIONS if p != "none"}
    for subject in range(n_repeat_subjects):
        s = int(rng_root.integers(1 << 31))
        base = spec_for(s, n_erythema=1)
        tick(f"repeatability subject {subject + 1}/{n_repeat_subjects}")
        # Same skin (rng seed), a new capture (sensor noise) each time.
        ref = _analyse(make_phantom(base, np.random.default_rng(s + 1),
                                    np.random.default_rng(s + 2)).rgb, mpp)
        ref_whole = ref.report["regions"]["whole"]
        for k, (name, pert) in enumerate(PERTURBATIONS.items()):
            if name == "none":
                continue
            res = _analyse(make_phantom(replace(base, perturbation=pert),
                                        np.random.default_rng(s + 1),
                                        np.random.default_rng(s + 3 + k)).rgb, mpp)
            whole = res.report["regions"]["whole"]
            for metric, (group, key) in tracked.items():
                a, b = ref_whole[group][key], whole[group][key]
                if a is not None and b is not None:
                    values[name][metric].append([float(a), float(b)])
    repeat: dict[str, Any] = {}
    pooled_pairs: dict[str, list[list[float]]] = {m: [] for m in tracked}
    for name, per_metric in values.items():
        repeat[name] = {}
        for metric, pairs in per_metric.items():
            pooled_pairs[metric].extend(pairs)
            repeat[name][metric] = _repeatability(pairs)
    repeat["all"] = {m: _repeatability(p) for m, p in pooled_pairs.items()}

    # --- real faces ---------------------------------------------------------------------
    real = {}
    from dermatrack.imaging.analysis import run_analysis

    for name, rgb in (real_images or {}).items():
        tick(f"real face {name}")
        res = run_analysis(rgb, use_face=True)
        real[name] = {"face_detected": res.report["face"]["detected"],
                      "scale_source": res.report["image"]["scale_source"],
                      "regions": {k: v["wrinkles"] | {"ita_deg": v["pigment"]["ita_deg"]}
                                  for k, v in res.report["regions"].items()}}
        masks = res.masks()
        over = masks["regions"].copy()
        over[masks["wrinkles"]] = (255, 0, 0)
        overlays[f"{name}_regions"] = over

    ita_err = max(t["error_deg"] for t in tone)
    figures = {
        "wrinkle_f1_deep": detection["wrinkles_deep"]["f1"],
        "wrinkle_length_error_pct": detection["length_error_pct_mean"],
        "ita_error_deg": ita_err,
        "spot_area_error_pct": detection["spot_area_error_pct_mean"],
        "red_area_error_pct": detection["red_area_error_pct_mean"],
        "cv_wrinkle_length_pct": _max_cv(repeat, "wrinkle_length"),
        "cv_wrinkle_severity_pct": _max_cv(repeat, "wrinkle_severity"),
    }
    targets = {}
    for key, (op, goal) in TARGETS.items():
        value = figures[key]
        ok = value is not None and (value >= goal if op == ">=" else value < goal)
        targets[key] = {"value": value, "target": f"{op} {goal:g}", "pass": bool(ok)}
    report = {
        "quick": quick, "seed": seed, "image_size": list(size), "mm_per_px": mpp,
        "tolerance_px": TOLERANCE_PX,
        "targets": targets, "passed": all(t["pass"] for t in targets.values()),
        "detection": detection, "ita": tone,
        "severity": {"series": severity, "spearman_rho": rho},
        "repeatability": repeat, "real_images": real,
    }
    return ValidationResult(report=report, overlays=overlays)


def _repeatability(pairs: list[list[float]]) -> dict[str, float | None]:
    """CV (%) and MDC95 from [reference, perturbed] pairs (one pair per phantom)."""
    if not pairs:
        return {"cv_pct": None, "sem": None, "mdc95": None, "n": 0}
    arr = np.asarray(pairs, float)
    var = arr.var(axis=1, ddof=1)
    mean = arr.mean(axis=1)
    cv = [100.0 * math.sqrt(v) / abs(m) for v, m in zip(var, mean, strict=True) if m]
    sem = math.sqrt(float(var.mean()))
    return {"cv_pct": float(np.mean(cv)) if cv else None, "sem": sem,
            "mdc95": 1.96 * math.sqrt(2.0) * sem, "n": int(len(arr))}


def _max_cv(repeat: dict[str, Any], metric: str) -> float | None:
    cvs = [v[metric]["cv_pct"] for k, v in repeat.items()
           if k != "all" and v[metric]["cv_pct"] is not None]
    return max(cvs) if cvs else None


def report_markdown(report: dict[str, Any]) -> str:
    """The validation report as Markdown (what ``validate imaging`` saves as report.md)."""
    lines = ["# dermatrack imaging validation", "",
             f"Produced by `dermatrack validate imaging{' --quick' if report['quick'] else ''}`"
             f" (seed {report['seed']}, phantoms {report['image_size'][0]}x"
             f"{report['image_size'][1]} px at {report['mm_per_px']} mm/px, centreline "
             f"tolerance {report['tolerance_px']:g} px).", "",
             "## Targets", "", "| figure | value | target | result |", "|---|---|---|---|"]
    for key, t in report["targets"].items():
        v = "n/a" if t["value"] is None else f"{t['value']:.3f}"
        lines.append(f"| {key} | {v} | {t['target']} | {'pass' if t['pass'] else 'FAIL'} |")
    d = report["detection"]
    lines += ["", "## Wrinkle detection", "", "| stratum | precision | recall | F1 |",
              "|---|---|---|---|"]
    for key in ("wrinkles_all", "wrinkles_deep", "wrinkles_shallow"):
        s = d[key]
        lines.append(f"| {key.split('_')[1]} | {s['precision']:.3f} | {s['recall']:.3f} | "
                     f"{s['f1']:.3f} |")
    lines += ["", "## Errors against truth (mean over phantoms)", ""]
    for key in ("length_error_pct_mean", "spot_count_error_pct_mean",
                "spot_area_error_pct_mean", "red_area_error_pct_mean",
                "pore_count_error_pct_mean", "pore_diameter_error_pct_mean",
                "roughness_error_pct_mean"):
        v = d[key]
        lines.append(f"- {key}: {'n/a' if v is None else f'{v:.2f} %'}")
    lines += ["", "## ITA", "", "| true | measured | error (deg) | category |",
              "|---|---|---|---|"]
    for t in report["ita"]:
        lines.append(f"| {t['ita_true']:.0f} | {t['ita_measured']:.2f} | "
                     f"{t['error_deg']:.2f} | {t['category']} |")
    sev = report["severity"]
    lines += ["", f"## Severity index vs depth (Spearman rho = {sev['spearman_rho']:.3f})",
              "", "| depth L* | severity index | length mm |", "|---|---|---|"]
    for r in sev["series"]:
        si = "n/a" if r["severity_index"] is None else f"{r['severity_index']:.2f}"
        ln = "n/a" if r["length_mm"] is None else f"{r['length_mm']:.1f}"
        lines.append(f"| {r['depth_l']:g} | {si} | {ln} |")
    lines += ["", "## Repeatability under capture perturbations (CV %, MDC95)", "",
              "| perturbation | wrinkle length CV | severity CV | ITA MDC95 | spot area CV |"
              " roughness CV | pore count CV |", "|---|---|---|---|---|---|---|"]

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    for name, per in report["repeatability"].items():
        lines.append(f"| {name} | {fmt(per['wrinkle_length']['cv_pct'])} | "
                     f"{fmt(per['wrinkle_severity']['cv_pct'])} | "
                     f"{fmt(per['ita_deg']['mdc95'])} | "
                     f"{fmt(per['spot_area_fraction']['cv_pct'])} | "
                     f"{fmt(per['roughness']['cv_pct'])} | {fmt(per['pore_count']['cv_pct'])} |")
    if report["real_images"]:
        lines += ["", "## Real faces (no ground truth; overlays saved beside this report)", ""]
        for name, r in report["real_images"].items():
            lines.append(f"- {name}: face detected {r['face_detected']}, scale from "
                         f"{r['scale_source']}, regions {', '.join(r['regions'])}")
    if "filters" in report:
        fl = report["filters"]
        lines += ["", f"## Valley filters compared ({fl['phantoms']} phantoms "
                      f"{fl['size'][0]}x{fl['size'][1]}, oracle threshold each)", "",
                  "| filter | precision | recall | F1 | s per image |", "|---|---|---|---|---|"]
        for name, r in sorted(fl["filters"].items(), key=lambda kv: -kv[1]["f1"]):
            lines.append(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | "
                         f"{r['f1']:.3f} | {r['seconds_per_image']:.3f} |")
    lines.append("")
    return "\n".join(lines)


def _gabor_response(lum: np.ndarray, scales: list[float], n_orient: int = 8) -> np.ndarray:
    """Dark-line response of an even-symmetric Gabor bank (max over orientations and
    scales; Cula et al. 2013 use such a bank for wrinkles). The kernel is made zero-mean
    so flat skin answers 0, and negated so dark lines answer positively."""
    import cv2

    best = np.zeros(lum.shape, np.float32)
    for sigma in scales:
        size = int(6 * sigma) | 1
        for k in range(n_orient):
            kern: np.ndarray = cv2.getGaborKernel((size, size), sigma, np.pi * k / n_orient,
                                      lambd=4.0 * sigma, gamma=0.5, psi=0.0,
                                      ktype=cv2.CV_32F)
            kern -= kern.mean()
            kern /= np.abs(kern).sum()
            np.maximum(best, -cv2.filter2D(lum, cv2.CV_32F, kern), out=best)
    return best


def filter_lines(response: np.ndarray, threshold: float, pixel_mm: float,
                 min_length_mm: float) -> np.ndarray:
    """The post-processing every candidate valley filter gets when filters are compared
    (:func:`compare_valley_filters`, ``benchmarks/real_filters.py``): hysteresis at
    ``threshold`` / 2 to ``threshold``, the skeleton, and its 8-connected pieces at least
    ``min_length_mm`` long (bool, the shape of ``response``)."""
    import cv2
    from skimage.filters import apply_hysteresis_threshold
    from skimage.morphology import skeletonize

    from dermatrack.imaging._filters import skeleton_length_map

    if not threshold > 0:
        return np.zeros(response.shape, bool)
    skeleton = skeletonize(apply_hysteresis_threshold(response, threshold / 2.0, threshold))
    n, labels = cv2.connectedComponents(skeleton.astype(np.uint8), connectivity=8)
    length = np.bincount(labels.ravel(), weights=skeleton_length_map(skeleton).ravel(),
                         minlength=n)
    keep = length * pixel_mm >= min_length_mm
    keep[0] = False
    result: np.ndarray = keep[labels]
    return result


def compare_valley_filters(*, n_phantoms: int = 6, seed: int = 7, size: tuple[int, int] = (
        480, 360)) -> dict[str, Any]:
    """Wrinkle F1 of candidate valley filters on phantoms, each at its best threshold.

    Every filter gets the same scales (those of ``wrinkles``), the same working
    resolution, the same post-processing (hysteresis at t/2-t, skeleton, components
    shorter than ``MIN_LENGTH_MM`` removed) and its own best threshold, chosen as the
    per-image response quantile that maximises the mean F1 over the phantoms (an
    oracle threshold, which favours every filter equally). Returns, per filter, the
    mean precision, recall and F1 at that quantile and the filter's time per image.
    """
    import time

    from skimage.filters import frangi

    from dermatrack.imaging._filters import hessian_eigenvalues, resize_to
    from dermatrack.imaging.colour import srgb_to_lab
    from dermatrack.imaging.wrinkles import (
        EDGE_WEIGHT,
        MIN_LENGTH_MM,
        _scales_px,
        working_factor,
    )

    mpp = 0.06

    def hessian_family(lum: np.ndarray, scales: list[float]) -> dict[str, np.ndarray]:
        out = {k: np.full(lum.shape, -np.inf, np.float32)
               for k in ("hessian_l1", "hessian_minus_l2", "hessian_edge_suppressed")}
        for sigma in scales:
            l1, l2, g = hessian_eigenvalues(lum, sigma)
            np.maximum(out["hessian_l1"], l1, out=out["hessian_l1"])
            np.maximum(out["hessian_minus_l2"], l1 - np.abs(l2), out=out["hessian_minus_l2"])
            np.maximum(out["hessian_edge_suppressed"], l1 - np.abs(l2) - EDGE_WEIGHT * g,
                       out=out["hessian_edge_suppressed"])
        return out

    quantiles = [0.80, 0.85, 0.90, 0.93, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99, 0.995]
    scores: dict[str, list[list[dict[str, float]]]] = {}
    timing: dict[str, list[float]] = {}
    rng = np.random.default_rng(seed)
    for _ in range(n_phantoms):
        s = int(rng.integers(1 << 31))
        ph = make_phantom(random_spec(np.random.default_rng(s), width=size[0], height=size[1],
                                      mm_per_px=mpp), np.random.default_rng(s + 1))
        factor = working_factor(ph.rgb.shape[:2], mpp)
        shape = (round(size[1] / factor), round(size[0] / factor))
        lum = resize_to(srgb_to_lab(ph.rgb)[..., 0], shape)
        skin = resize_to(ph.masks["skin"], shape)
        pixel_mm = mpp * size[0] / shape[1]
        scales = _scales_px(pixel_mm)
        truth = _truth_points(ph)
        responses: dict[str, np.ndarray] = {}
        t0 = time.perf_counter()
        responses.update(hessian_family(lum, scales))
        t_h = (time.perf_counter() - t0) / 3
        for key in responses:
            timing.setdefault(key, []).append(t_h)
        t0 = time.perf_counter()
        responses["frangi"] = frangi(lum, sigmas=scales, black_ridges=True).astype(np.float32)
        timing.setdefault("frangi", []).append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        responses["gabor_bank"] = _gabor_response(lum, scales)
        timing.setdefault("gabor_bank", []).append(time.perf_counter() - t0)
        for name, resp in responses.items():
            resp = np.where(skin, resp, 0).astype(np.float32)
            row = []
            for q in quantiles:
                high = float(np.quantile(resp[skin], q))
                ys, xs = np.nonzero(filter_lines(resp, high, pixel_mm, MIN_LENGTH_MM))
                f = size[0] / shape[1]
                pts = np.stack([(xs + 0.5) * f - 0.5, (ys + 0.5) * f - 0.5], axis=1)
                row.append(centreline_scores(pts, truth))
            scores.setdefault(name, []).append(row)
    result = {}
    for name, per_image in scores.items():
        f1 = np.array([[c["f1"] for c in row] for row in per_image]).mean(axis=0)
        best = int(np.argmax(f1))
        result[name] = {
            "best_quantile": quantiles[best],
            "precision": float(np.mean([row[best]["precision"] for row in per_image])),
            "recall": float(np.mean([row[best]["recall"] for row in per_image])),
            "f1": float(f1[best]),
            "seconds_per_image": float(np.mean(timing[name])),
        }
    return {"phantoms": n_phantoms, "size": list(size), "mm_per_px": mpp, "seed": seed,
            "filters": result}
