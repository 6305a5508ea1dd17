"""Agreement of the wrinkle detector with wrinkles a person drew.

The real-photo validation (:mod:`dermatrack.imaging.realphoto`) scores wrinkles the code
draws into real skin, at contrasts it chooses. Whether what the detector finds on real
skin is what a person counts as a wrinkle only annotated faces can say; dermatrack ships
none (public sets such as FFHQ-Wrinkle, Moon et al. 2024, arXiv:2408.10060, 1000 faces
with manual wrinkle masks, are licensed for non-commercial research and are downloaded
by the researcher). These functions score one analysed photograph against its annotation
mask, and summarise a set of them (``dermatrack validate annotations``).

Scoring follows the real-photo validation's, on centrelines:

- the annotation mask (wrinkles painted non-zero, any stroke width) is reduced to its
  centrelines (:func:`skimage.morphology.skeletonize`);
- **recall**: the fraction of the annotated centreline length within the tolerance
  (``realphoto.MATCH_TOLERANCE_MM``, 2 mm) of a line the detector found; given over all
  of it and over the part on open skin (the analysed skin outside the line-exclusion
  bands, where the detector looks), so that lines lost to the bands and to the edge of
  the analysed skin are told apart from lines the detector missed;
- **precision**: the fraction of the detected centreline length within the tolerance of
  an annotated centreline;
- **lengths**: the annotated centreline length (mm, from the photograph's own scale)
  against the whole-face and per-region wrinkle length the analysis reports, compared
  across photographs by Spearman's rank correlation: whether the figure ranks faces as
  the annotators do, which is what a severity figure is for.

All functions are pure (arrays in, dicts and arrays out); the CLI reads the files.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from dermatrack.imaging._filters import skeleton_length_map
from dermatrack.imaging.realphoto import MATCH_TOLERANCE_MM, points_near

__all__ = [
    "annotation_agreement",
    "annotation_markdown",
    "annotation_overlay",
    "annotation_mask",
    "summarise_agreement",
]

#: An annotation mask with more than this fraction of its pixels marked is refused: it is
#: inverted (lines drawn dark on white) or not a wrinkle annotation.
MAX_MARKED_FRACTION = 0.5


def annotation_mask(values: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """Bool ``shape`` mask of the wrinkles marked in an annotation image.

    ``values`` is the annotation as read (2-D, or 3-D with channels; any integer or float
    range). A label image whose largest value is at most 1 marks every non-zero pixel; an
    8- or 16-bit drawing (a stroke of 255 on 0, perhaps antialiased or JPEG-compressed)
    marks what is above half its largest value. A mask of another size than the
    photograph is brought to it (nearest neighbour) when the aspect ratios agree.

    Raises
    ------
    ValueError
        With a message naming ``name``: an empty annotation, one of another aspect
        ratio, or one marking more than half the picture (``MAX_MARKED_FRACTION``).
    """
    values = np.asarray(values)
    if values.ndim == 3:
        values = values.max(axis=2)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"{name}: an annotation must be a 2-D image")
    top = float(values.max())
    marked = values > 0 if top <= 1 else values > top / 2.0
    h, w = shape
    mh, mw = marked.shape
    if (mh, mw) != (h, w):
        if abs(mh / mw - h / w) > 0.01 * (h / w):
            turned = abs(mw / mh - h / w) <= 0.01 * (h / w) and h != w
            raise ValueError(
                f"{name}: the annotation is {mw}x{mh} px and the photograph {w}x{h} px; "
                + ("the annotation is turned a quarter against the photograph, which is "
                   "read as it is displayed (its EXIF orientation applied): draw the "
                   "annotation on the photograph as displayed" if turned else
                   "an annotation must cover the photograph as it is (same aspect ratio), "
                   "not a crop of it"))
        marked = cv2.resize(marked.astype(np.uint8), (w, h),
                            interpolation=cv2.INTER_NEAREST).astype(bool)
    fraction = float(marked.mean())
    if fraction > MAX_MARKED_FRACTION:
        raise ValueError(f"{name}: {fraction:.0%} of the annotation is marked; wrinkles are "
                         "drawn non-zero (white) on zero (black)")
    return marked


def _centreline(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) pixel centres of a one-pixel skeleton and the length (px) each carries."""
    ys, xs = np.nonzero(mask)
    lengths = skeleton_length_map(mask)[ys, xs].astype(np.float64)
    return np.stack([xs, ys], axis=1).astype(np.float64), lengths


def _fraction(weights: np.ndarray, selected: np.ndarray) -> float | None:
    total = float(weights.sum())
    return float(weights[selected].sum()) / total if total > 0 else None


def annotation_agreement(analysis: Any, annotated: np.ndarray, mm_per_px: float,
                         tolerance_mm: float = MATCH_TOLERANCE_MM) -> dict[str, Any]:
    """Score one analysed photograph against the wrinkles annotated on it.

    Parameters
    ----------
    analysis : :class:`~dermatrack.imaging.analysis.Analysis` of the photograph
    annotated : bool mask of the photograph's size (:func:`annotation_mask`)
    mm_per_px : the photograph's pixel size (mm), for the tolerance and the lengths
    tolerance_mm : how far (mm) a centreline may lie from the other and still match

    Returns
    -------
    dict
        ``recall``, ``recall_open_skin``, ``precision`` and ``f1`` (None where there is
        nothing to divide by); ``annotated_mm``, ``annotated_open_mm`` (the part on open
        skin), ``annotated_outside_skin_mm`` (beyond the analysed skin) and
        ``annotated_in_bands_mm`` (on the analysed skin inside the exclusion bands);
        ``detected_mm`` (the whole-face wrinkle length the analysis reports) and
        ``found_mm`` (the centreline length of the lines found); ``regions``: per region,
        ``annotated_mm``, ``detected_mm`` and ``recall``.
    """
    from skimage.morphology import skeletonize

    tol_px = tolerance_mm / mm_per_px
    truth, truth_len = _centreline(skeletonize(annotated))
    detection = analysis.wrinkles
    # The found lines' centrelines, in input pixels (the same order as their skeleton).
    found = detection.centreline_points()
    found_len = _centreline(detection.skeleton)[1] * detection.factor
    hit = points_near(truth, found, tol_px)
    matched = points_near(found, truth, tol_px)

    regions = analysis.regions
    xs, ys = truth[:, 0].astype(int), truth[:, 1].astype(int)
    whole = regions.masks["whole"][ys, xs]
    open_skin = regions.open_skin[ys, xs]
    recall = _fraction(truth_len, hit)
    precision = _fraction(found_len, matched)
    f1 = (2 * recall * precision / (recall + precision)
          if recall is not None and precision is not None and recall + precision > 0
          else None)
    per_region: dict[str, Any] = {}
    for name, mask in regions.masks.items():
        if name == "whole":
            continue
        inside = mask[ys, xs]
        report_region = analysis.report["regions"].get(name, {})
        per_region[name] = {
            "annotated_mm": float(truth_len[inside].sum() * mm_per_px),
            "detected_mm": (report_region.get("wrinkles") or {}).get("length_mm"),
            "recall": _fraction(truth_len[inside], hit[inside])}
    whole_report = analysis.report["regions"]["whole"].get("wrinkles") or {}
    return {
        "recall": recall,
        "recall_open_skin": _fraction(truth_len[open_skin], hit[open_skin]),
        "precision": precision,
        "f1": f1,
        "annotated_mm": float(truth_len.sum() * mm_per_px),
        "annotated_open_mm": float(truth_len[open_skin].sum() * mm_per_px),
        "annotated_outside_skin_mm": float(truth_len[~whole].sum() * mm_per_px),
        "annotated_in_bands_mm": float(truth_len[whole & ~open_skin].sum() * mm_per_px),
        "detected_mm": whole_report.get("length_mm"),
        "found_mm": float(found_len.sum() * mm_per_px),
        "regions": per_region,
    }


def annotation_overlay(analysis: Any, annotated: np.ndarray,
                       tolerance_mm: float = MATCH_TOLERANCE_MM) -> np.ndarray:
    """uint8 RGB: the detections drawn as the real-photo overlays draw them
    (:func:`realphoto.detection_overlay`: bands blue, analysed skin outlined, lines found
    red, lines counted in part yellow), with the annotated centrelines green where a line
    found lies within the tolerance and magenta where none does (missed), and a legend
    below (``realphoto.OVERLAY_COLOURS``)."""
    from skimage.morphology import skeletonize

    from dermatrack.imaging.overlays import with_legend
    from dermatrack.imaging.realphoto import OVERLAY_COLOURS, detection_overlay

    rgb = detection_overlay(analysis)
    truth, _ = _centreline(skeletonize(annotated))
    mpp = analysis.report["image"]["mm_per_px"]
    found = analysis.wrinkles.centreline_points()
    hit = points_near(truth, found, tolerance_mm / mpp) if mpp else np.zeros(len(truth), bool)
    for key, selected in (("truth", hit), ("missed", ~hit)):
        for x, y in truth[selected].astype(int):
            cv2.circle(rgb, (int(x), int(y)), 1, OVERLAY_COLOURS[key][0], -1)
    legend = [(label, (r / 255.0, g / 255.0, b / 255.0))
              for (r, g, b), label in OVERLAY_COLOURS.values()]
    return (np.clip(with_legend(rgb, legend), 0, 1) * 255 + 0.5).astype(np.uint8)


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _spearman(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """Spearman's rho (and its two-sided p) over (annotated, measured) pairs."""
    pairs = [(a, m) for a, m in pairs if a is not None and m is not None
             and math.isfinite(a) and math.isfinite(m)]
    out: dict[str, Any] = {"rho": None, "p": None, "n": len(pairs)}
    if len(pairs) >= 3 and len({a for a, _ in pairs}) > 1 and len({m for _, m in pairs}) > 1:
        from scipy.stats import spearmanr

        result = spearmanr([a for a, _ in pairs], [m for _, m in pairs])
        out["rho"], out["p"] = float(result.statistic), float(result.pvalue)
    return out


def summarise_agreement(scored: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Median and worst of the scores over the photographs, the share of the annotated
    length the detector cannot see (beyond the analysed skin, in the bands), and the
    rank correlation of annotated and measured length, whole face and per region."""
    out: dict[str, Any] = {"photographs": len(scored)}
    for key in ("recall", "recall_open_skin", "precision", "f1"):
        values = [s[key] for s in scored.values() if s[key] is not None]
        out[key] = {"median": _median(values), "worst": min(values) if values else None,
                    "n": len(values)}
    annotated = sum(s["annotated_mm"] for s in scored.values())
    for key in ("annotated_outside_skin_mm", "annotated_in_bands_mm"):
        share = sum(s[key] for s in scored.values()) / annotated if annotated else None
        out[key.removesuffix("_mm") + "_share"] = share
    out["length_rank_correlation"] = _spearman(
        [(s["annotated_mm"], s["detected_mm"]) for s in scored.values()])
    out["open_length_rank_correlation"] = _spearman(
        [(s["annotated_open_mm"], s["detected_mm"]) for s in scored.values()])
    names = sorted({r for s in scored.values() for r in s["regions"]})
    out["regions"] = {
        name: {"recall": _median([s["regions"][name]["recall"] for s in scored.values()
                                  if name in s["regions"]
                                  and s["regions"][name]["recall"] is not None]),
               "length_rank_correlation": _spearman(
                   [(s["regions"][name]["annotated_mm"], s["regions"][name]["detected_mm"])
                    for s in scored.values() if name in s["regions"]])}
        for name in names}
    return out


def _fmt(value: Any, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def annotation_markdown(report: dict[str, Any], command: str) -> str:
    """``report.md`` of ``validate annotations``: the summary, per region, per photograph
    and the photographs not scored, with the command that produced it."""
    summary = report["summary"]
    rho = summary["length_rank_correlation"]
    rho_open = summary["open_length_rank_correlation"]
    lines = [
        "# dermatrack: wrinkles found against wrinkles annotated", "",
        f"Produced by `{command}` (photo method {report['method_version']}). Centrelines "
        f"match within {report['tolerance_mm']:g} mm. Recall: the share of the annotated "
        "centreline length near a line found; on open skin: of the part on the analysed "
        "skin outside the exclusion bands, where the detector looks. Precision: the share "
        "of the found centreline length near an annotated one.", "",
        "| figure | median | worst | photographs |", "|---|---|---|---|"]
    for key, label in (("recall", "recall"), ("recall_open_skin", "recall on open skin"),
                       ("precision", "precision"), ("f1", "F1")):
        row = summary[key]
        lines.append(f"| {label} | {_fmt(row['median'])} | {_fmt(row['worst'])} | "
                     f"{row['n']} |")
    lines += [
        "",
        f"Of the annotated length, {_fmt(_pct(summary['annotated_outside_skin_share']), 1)} % "
        "lies beyond the analysed skin and "
        f"{_fmt(_pct(summary['annotated_in_bands_share']), 1)} % in the exclusion bands "
        "(eyelids, brows, lips, nostrils, the edges of hair, glasses and the face).", "",
        "Spearman's rank correlation of the annotated length with the whole-face wrinkle "
        f"length the analysis reports: rho {_fmt(rho['rho'])} (p {_fmt(rho['p'], 3)}, "
        f"{rho['n']} photographs); with the annotated length on open skin: rho "
        f"{_fmt(rho_open['rho'])} (p {_fmt(rho_open['p'], 3)}).", "",
        "| region | recall (median) | rank correlation of length | photographs |",
        "|---|---|---|---|"]
    for name, row in summary["regions"].items():
        corr = row["length_rank_correlation"]
        lines.append(f"| {name} | {_fmt(row['recall'])} | {_fmt(corr['rho'])} | "
                     f"{corr['n']} |")
    lines += ["", "| photograph | mm/px | recall | on open skin | precision | annotated mm | "
              "in bands mm | reported mm |", "|---|---|---|---|---|---|---|---|"]
    for name, s in report["photographs"].items():
        lines.append(f"| {name} | {s['mm_per_px']:.3f} | {_fmt(s['recall'])} | "
                     f"{_fmt(s['recall_open_skin'])} | {_fmt(s['precision'])} | "
                     f"{s['annotated_mm']:.1f} | {s['annotated_in_bands_mm']:.1f} | "
                     f"{_fmt(s['detected_mm'], 1)} |")
    if report["not_scored"]:
        lines += ["", "| not scored | why |", "|---|---|"]
        lines += [f"| {name} | {why} |" for name, why in report["not_scored"].items()]
    return "\n".join(lines) + "\n"


def _pct(share: float | None) -> float | None:
    return None if share is None else 100.0 * share

