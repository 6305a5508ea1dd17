"""Before/after comparison of two photographs of the same person.

The follow-up is aligned to the baseline (``align.align_to_baseline``: face landmarks,
then intensity-based ECC refinement); both are analysed with the *baseline's* region
masks, restricted to the skin visible in both: the pixels the aligned follow-up covers,
less what its own skin mask (moved onto the baseline's grid) shows hidden, so each region
measures the same skin in both images. The follow-up is measured on its own pixels, the
regions moved onto it: resampled onto the baseline first, grace_hopper moved by half a
pixel measured 17 % fewer lines. Lines are not counted in the bands of either
photograph (hairline, hair, glasses, the face's contour). A fringe, glasses or a hand in
one photograph only would otherwise be measured as skin: a fringe drawn over biden2's
forehead in the follow-up read as +431 % of forehead lines, glasses drawn into
example_3's as +159 % of the whole face's. How much of each region's skin the pair cannot
compare is reported, and beyond :data:`MAX_UNCOMPARED_FRACTION` named among the capture
differences (:func:`pair_coverage`; the web viewer and the reports run the same test on
the regions stored with each photograph's screen copy, :func:`region_labels`). The
change of every metric is reported per region, as the difference (after - before) and
as a percentage of the baseline value."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

__all__ = ["Comparison", "compare", "coverage_differences", "incomparable_regions",
           "metric_changes", "pair_coverage", "region_labels", "regions_from_labels",
           "within_rim"]

#: Pixels left out along the edge of the aligned follow-up's footprint.
RIM_PX = 3
#: Fraction of a region's skin (as the baseline shows it) that the pair may leave
#: uncompared (hidden in the follow-up, or inside the line bands of one photograph only:
#: a fringe, glasses worn in one of them, a hand) before the pair is named as differing;
#: the figures are then of the skin both show, less of the region than the baseline's.
#: Rotated, re-exposed and recompressed copies of three real faces leave at most 3-8 %
#: of a region uncompared (band edges move a little); glasses drawn into one photograph
#: 33-36 % of the left periorbital region and a fringe 57-79 % of the forehead
#: (``benchmarks/compare_pairs.py``).
MAX_UNCOMPARED_FRACTION = 0.2
#: Overlay colours (sRGB 0-255): wrinkles only before, only after, in both.
BEFORE_COLOUR = (0, 170, 255)
AFTER_COLOUR = (255, 60, 160)
BOTH_COLOUR = (255, 255, 255)
#: Hatching over the skin left out of the comparison (hidden in the follow-up).
UNCOMPARED_COLOUR = (150, 150, 150)


@dataclass
class Comparison:
    """report: JSON-ready dict; side_by_side and overlay: uint8 RGB images; compared:
    the skin both photographs show."""

    report: dict[str, Any]
    side_by_side: np.ndarray
    overlay: np.ndarray
    #: Bool mask on the baseline's grid: the skin compared (visible in both photographs).
    compared: np.ndarray


def _change(before: Any, after: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"before": before, "after": after, "change": None, "percent": None}
    numeric = (int, float)
    if isinstance(before, numeric) and isinstance(after, numeric) \
            and not isinstance(before, bool) and not isinstance(after, bool):
        entry["change"] = after - before
        entry["percent"] = 100.0 * (after - before) / abs(before) if before else None
    return entry


def metric_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Per region, group and metric: before, after, change and percent change.

    ``before`` and ``after`` are the ``regions`` objects of two analysis reports.
    Non-numeric metrics (the ITA category) carry ``change`` and ``percent`` null.
    """
    out: dict[str, Any] = {}
    for name, groups in before.items():
        if name not in after:
            continue
        out[name] = {"area_mm2": _change(groups.get("area_mm2"), after[name].get("area_mm2"))}
        for group, metrics in groups.items():
            if isinstance(metrics, dict):
                out[name][group] = {k: _change(v, after[name][group].get(k))
                                    for k, v in metrics.items()}
    return out


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(rgb, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _capture(rgb0: np.ndarray, rgb1: np.ndarray, regions0: Any, regions1: Any,
             mm_per_px: float | None) -> dict[str, Any]:
    """Capture quality of both photographs as taken and how they differ (pose, expression,
    sharpness, skin detail, scale, lighting; see
    :func:`~dermatrack.imaging.quality.capture_differences`)."""
    from dermatrack.imaging.quality import assess_capture, capture_differences, skin_colour_stats
    from dermatrack.imaging.scale import mm_per_px_from_iris

    face = bool(regions0.detected)
    mpp0 = mm_per_px if mm_per_px is not None else mm_per_px_from_iris(regions0)
    mpp1_iris = mm_per_px_from_iris(regions1)
    mpp1 = mpp1_iris if mpp1_iris is not None else (mm_per_px if mm_per_px else None)
    iris0 = mm_per_px_from_iris(regions0)
    if mm_per_px is not None and mpp1_iris is not None and iris0:
        # The user's figure is the baseline's; the follow-up's follows the iris ratio.
        mpp1 = mm_per_px * mpp1_iris / iris0
    q0 = assess_capture(rgb0, landmarks=regions0.landmarks,
                        landmark_depth=regions0.landmark_depth,
                        skin=regions0.masks["whole"], mm_per_px=mpp0, face_mode=face,
                        features=regions0.features)
    q1 = assess_capture(rgb1, landmarks=regions1.landmarks,
                        landmark_depth=regions1.landmark_depth,
                        skin=regions1.masks["whole"], mm_per_px=mpp1, face_mode=face,
                        features=regions1.features)
    differences = capture_differences(q0, q1, skin_colour_stats(rgb0, regions0.masks["whole"]),
                                      skin_colour_stats(rgb1, regions1.masks["whole"]))
    return {"before": q0.as_dict(), "after": q1.as_dict(), "differences": differences,
            "matched": not differences}


def compare(before: Any, after: Any, *, mm_per_px: float | None = None,
            use_face: bool = True) -> Comparison:
    """Align ``after`` to ``before`` and report the change of every metric per region.

    Parameters
    ----------
    before, after : LoadedImage or (H, W, 3) float sRGB arrays in [0, 1]
    mm_per_px : float, optional
        Scale of the baseline (the aligned follow-up shares its pixel grid).
    use_face : bool
        Use face landmarks for regions and alignment.

    Returns
    -------
    Comparison
        ``report`` = {"method_version": the photo method's version (both are measured
        by it), "before": image info, "after": image info, "alignment": {method,
        landmark_rmse_px, ecc_correlation, matrix}, "regions": per region/group/metric
        {before, after, change, percent}, "timing_s"}; ``side_by_side`` (baseline left,
        aligned follow-up right); ``overlay`` (baseline with wrinkles found only before,
        only after and in both in three colours).
    """
    from dermatrack.imaging.align import align_to_baseline
    from dermatrack.imaging.analysis import _image_info, run_analysis
    from dermatrack.imaging.regions import face_regions, single_region

    start = time.perf_counter()
    rgb0, info0 = _image_info(before)
    rgb1, info1 = _image_info(after)
    regions0 = face_regions(rgb0, skin_without_face=False) if use_face else None
    landmarks1 = None
    found1 = None
    if regions0 is not None and regions0.detected:
        found1 = face_regions(rgb1, skin_without_face=False)
        landmarks1 = found1.landmarks if found1 is not None else None
    else:
        regions0 = single_region(rgb0, mm_per_px=mm_per_px)
    regions1 = (found1 if found1 is not None and found1.detected
                else single_region(rgb1, mm_per_px=mm_per_px))
    capture = _capture(rgb0, rgb1, regions0, regions1, mm_per_px)
    alignment = align_to_baseline(
        rgb0, rgb1, baseline_landmarks=regions0.landmarks if landmarks1 is not None else None,
        followup_landmarks=landmarks1)
    valid = within_rim(alignment.valid_mask)
    shared, uncompared = _visible_in_both(regions0, regions1, alignment, valid,
                                          capture["before"]["mm_per_px"])
    capture["uncompared_fraction"] = {k: round(v, 3) for k, v in uncompared.items()}
    capture["differences"] += coverage_differences(uncompared)
    capture["matched"] = not capture["differences"]

    first = run_analysis(before, mm_per_px=mm_per_px, regions=shared)
    # The follow-up is measured on its own pixels, with the shared regions moved onto
    # it: warping it onto the baseline first would resample it, and a photograph
    # resampled twice (its capture, then the warp) loses the contrast of its finest
    # lines. grace_hopper against its own copy rotated by 10° measured 22 % fewer lines
    # that way.
    followed = _onto_follow_up(shared, alignment, rgb1.shape[:2])
    scale = math.sqrt(abs(np.linalg.det(np.asarray(alignment.matrix)[:2, :2])))
    mpp0 = first.report["image"]["mm_per_px"]
    second = run_analysis(after, mm_per_px=None if mpp0 is None else mpp0 * scale,
                          regions=followed)
    second.report["image"].update(info1)

    from dermatrack.imaging.overlays import warp_to

    wr0 = first.masks()["wrinkles"]
    wr1 = warp_to(second.masks()["wrinkles"], alignment.matrix, wr0.shape) & valid
    overlay = (_to_uint8(first.rgb).astype(np.float32) * 0.6).astype(np.uint8)
    # Hatched: the baseline's skin left out because the follow-up hides it.
    ys, xs = np.nonzero(regions0.masks["whole"] & valid & ~shared.masks["whole"])
    stripe = (xs + ys) // max(2, overlay.shape[1] // 200) % 2 == 0
    overlay[ys[stripe], xs[stripe]] = UNCOMPARED_COLOUR
    overlay[wr0 & ~wr1] = BEFORE_COLOUR
    overlay[wr1 & ~wr0] = AFTER_COLOUR
    overlay[wr0 & wr1] = BOTH_COLOUR
    side = np.concatenate([_to_uint8(rgb0), _to_uint8(alignment.warped)], axis=1)
    report = {
        "method_version": first.report["method_version"],
        "before": first.report["image"] | {"sha256": info0["sha256"]},
        "after": second.report["image"],
        "alignment": {
            "method": alignment.method,
            # False when no reliable alignment exists: the change figures then compare
            # unaligned images and must not be trusted region by region.
            "reliable": bool(alignment.reliable),
            "landmark_rmse_px": alignment.landmark_rmse_px,
            "ecc_correlation": alignment.ecc_correlation,
            "matrix": np.asarray(alignment.matrix).tolist(),
            "covered_fraction": float(valid.mean()),
        },
        "face": {"detected": bool(regions0.detected)},
        "capture": capture,
        "regions": metric_changes(first.report["regions"], second.report["regions"]),
        "timing_s": round(time.perf_counter() - start, 3),
    }
    return Comparison(report=report, side_by_side=side, overlay=overlay,
                      compared=shared.masks["whole"])


#: A region label image (:func:`region_labels`): the region's index in the low four bits
#: (regions do not overlap; :data:`_WHOLE_ONLY` for skin of "whole" beyond every region),
#: the skin colour mask and the line bands in the bits above.
_INDEX_BITS = 15
_WHOLE_ONLY = 15
_SKIN_BIT = 16
_BAND_BIT = 32


def region_labels(regions: Any) -> tuple[np.ndarray, list[str]]:
    """A photograph's regions in one uint8 image, and the region names its indices
    stand for (index 1 is the first name).

    The image holds the region masks, the skin colour mask (``skin_mask``) and the line
    bands (``line_exclusion``): what a comparison needs of a photograph, moved onto the
    other photograph's grid in one nearest-neighbour warp, and stored beside its screen
    copy (:mod:`dermatrack.services.derived`). Read back with :func:`regions_from_labels`.
    """
    names = [k for k in regions.masks if k != "whole"]
    assert len(names) < _WHOLE_ONLY, "region indices fill the label image's low four bits"
    labels = np.zeros(regions.masks["whole"].shape, np.uint8)
    for index, name in enumerate(names, start=1):
        labels[regions.masks[name]] = index
    labels[regions.masks["whole"] & (labels == 0)] = _WHOLE_ONLY
    labels[np.asarray(regions.skin_mask, bool)] |= _SKIN_BIT
    if regions.line_exclusion is not None:
        labels[regions.line_exclusion] |= _BAND_BIT
    return labels, names


def regions_from_labels(labels: np.ndarray, names: list[str]
                        ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The region masks (with ``"whole"``), the skin colour mask and the line bands of a
    :func:`region_labels` image (moved or reduced by nearest neighbour)."""
    region = labels & _INDEX_BITS
    masks = {name: region == index for index, name in enumerate(names, start=1)}
    masks["whole"] = region > 0
    return masks, (labels & _SKIN_BIT) > 0, (labels & _BAND_BIT) > 0


def _onto_follow_up(shared: Any, alignment: Any, shape: tuple[int, int]) -> Any:
    """The shared regions (baseline grid) moved onto the follow-up's own pixel grid of
    ``shape``: masks, skin and bands by nearest neighbour in one warp of a label image,
    landmarks by the transform."""
    from dermatrack.imaging.overlays import warp_to

    to_follow = np.linalg.inv(np.asarray(alignment.matrix, np.float64))
    labels, names = region_labels(shared)
    masks, skin, bands = regions_from_labels(
        warp_to(labels, to_follow, shape, nearest=True), names)
    landmarks = shared.landmarks
    if landmarks is not None:
        points = np.asarray(landmarks, np.float64)[:, :2]
        landmarks = points @ to_follow[:2, :2].T + to_follow[:2, 2]
    return replace(shared, masks=masks, skin_mask=skin,
                   line_exclusion=None if shared.line_exclusion is None else bands,
                   landmarks=landmarks, landmark_depth=None, exclusion_mask=None)


def within_rim(covered: np.ndarray) -> np.ndarray:
    """The pixels a follow-up covers (bool or 0/1 mask on the baseline's grid) less a
    rim of :data:`RIM_PX` along the footprint's edge, where the warp interpolates."""
    import cv2

    side = 2 * RIM_PX + 1
    return cv2.erode(np.asarray(covered, np.uint8), np.ones((side, side), np.uint8),
                     borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0


def incomparable_regions(uncompared: dict[str, float] | None) -> set[str]:
    """The regions whose figures two photographs measure on different skin when each is
    measured on the skin it shows: every region a pair leaves more than
    :data:`MAX_UNCOMPARED_FRACTION` of uncompared (``uncompared`` from
    :func:`pair_coverage`; None: not known), and ``"whole"``, which includes them (a
    close-up's only region is ``"whole"`` itself)."""
    named = {name for name, fraction in (uncompared or {}).items()
             if fraction > MAX_UNCOMPARED_FRACTION}
    return named | {"whole"} if named else named


def coverage_differences(uncompared: dict[str, float], *, shared: bool = True) -> list[str]:
    """The capture-difference sentences of the regions a pair leaves more than
    :data:`MAX_UNCOMPARED_FRACTION` of uncompared (``uncompared``: region -> fraction,
    from :func:`pair_coverage`). ``shared``: the figures beside them are of the skin both
    photographs show (``photo compare``), or each photograph's own (the web viewer and
    the report show each photograph's stored analysis)."""
    consequence = ("its figures are of the skin both show" if shared else
                   "each photograph's figures are of the skin it shows, so they measure "
                   "different skin")
    return [f"coverage: {fraction:.0%} of the {name.replace('_', ' ')} region's skin "
            "cannot be compared: hidden, or beside hair, glasses or a shadow, in one "
            f"photograph only (at most {MAX_UNCOMPARED_FRACTION:.0%}); {consequence}"
            for name, fraction in uncompared.items() if fraction > MAX_UNCOMPARED_FRACTION]


def pair_coverage(masks0: dict[str, np.ndarray], bands0: np.ndarray | None,
                  skin1: np.ndarray, bands1: np.ndarray | None, valid: np.ndarray,
                  widest_line_px: float) -> tuple[np.ndarray, dict[str, float]]:
    """What the follow-up hides of the baseline's skin, and per region the fraction of
    the baseline's skin the pair cannot compare (all on the baseline's grid).

    Parameters
    ----------
    masks0 : the baseline's region masks, with ``"whole"``
    bands0 : the baseline's line bands, or None (none)
    skin1, bands1 : the follow-up's skin colour mask and line bands (or None), moved onto
        the baseline's grid
    valid : the baseline's pixels the follow-up covers
    widest_line_px : width (baseline pixels) of the widest line looked for

    Returns
    -------
    hidden : bool mask
        What the follow-up's skin mask leaves out over the baseline's skin: areas wider
        than the widest wrinkle looked for (an opening), and narrower ones inside the
        follow-up's own bands (glasses rims). A line or a fold deepened enough to leave
        the skin colour range is the skin's own change, not something over it, and
        stays. The footprint ``valid`` is left aside: a follow-up framed tighter hides
        nothing.
    uncompared : dict
        Region name -> fraction of its skin (where the follow-up covers it) hidden, or
        inside the bands of one photograph only (glasses worn in one: thin rims hide
        little, their bands a lot). The whole face is its regions' sum and is left out;
        a close-up has only ``"whole"``. Bands nowhere and None are the same.
    """
    import cv2

    skin0 = masks0["whole"] & valid
    not_skin1 = skin0 & ~skin1
    side = int(np.ceil(widest_line_px)) | 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    hidden = cv2.morphologyEx(not_skin1.astype(np.uint8), cv2.MORPH_OPEN, disc) > 0
    if bands1 is not None:
        hidden |= not_skin1 & bands1  # narrower, inside the follow-up's bands: rims
    one_only = np.zeros_like(hidden)
    for band in (bands0, bands1):
        if band is not None:
            one_only ^= band
    lost = hidden | one_only
    uncompared = {}
    for name, mask in masks0.items():
        seen = int(np.count_nonzero(mask & valid))
        if seen and (name != "whole" or len(masks0) == 1):
            uncompared[name] = float(np.count_nonzero(mask & valid & lost)) / seen
    return hidden, uncompared


def _visible_in_both(regions0: Any, regions1: Any, alignment: Any, valid: np.ndarray,
                     mm_per_px: float | None) -> tuple[Any, dict[str, float]]:
    """The baseline's regions restricted to the skin both photographs show
    (:func:`pair_coverage`), with the line bands of both, and per region the fraction
    of the baseline's skin the pair cannot compare."""
    import cv2

    from dermatrack.imaging.overlays import warp_to
    from dermatrack.imaging.wrinkles import widest_line_px

    shape = valid.shape
    labels, names = region_labels(regions1)
    _, skin1, moved_bands = regions_from_labels(
        warp_to(labels, alignment.matrix, shape, nearest=True), names)
    bands1 = None if regions1.line_exclusion is None else moved_bands
    hidden, fractions = pair_coverage(regions0.masks, regions0.line_exclusion, skin1, bands1,
                                      valid, widest_line_px(shape, mm_per_px))
    masks = {k: m & valid & ~hidden for k, m in regions0.masks.items()}
    # Lines are not counted where either photograph has a band (glasses rims, a fringe's
    # edge), nor near what the follow-up hides, banded as the edge of any non-skin area
    # is (as wide as the baseline's own bands): a bandage lighter than the skin gets no
    # band of the follow-up's own.
    bands = [b for b in (regions0.line_exclusion, bands1) if b is not None]
    if hidden.any():
        reach = (regions0.edge_band_mm / mm_per_px if mm_per_px
                 else widest_line_px(shape, None))
        side = 2 * int(np.ceil(reach)) + 1
        bands.append(cv2.dilate(hidden.astype(np.uint8), cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (side, side))) > 0)
    union = np.logical_or.reduce(bands) if bands else None
    return replace(regions0, masks=masks, line_exclusion=union), fractions
