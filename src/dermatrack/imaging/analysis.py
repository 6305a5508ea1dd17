"""The analysis pipeline: one photograph in, every metric per region out.

Order of work (each map is computed once, then reduced per region):

1. colour: find a ColorChecker and correct the colours (``colour``), or mark the
   colour metrics uncalibrated. The search runs on a second thread while steps 2-5 run
   on the image as it is; when a chart is found they are run again on the corrected
   colours (see :func:`run_analysis`);
2. regions: FaceMesh region masks (``regions``), or one region for a close-up; the chart
   is never skin;
3. scale: user, chart, iris or unknown (``scale``);
4. maps, in the *window*: the bounding box of the analysed skin grown by the reach of
   the widest filter (:func:`_filter_reach_px`), so every skin pixel sees the same
   neighbourhood as in the whole image; on a face photograph the window is a fraction of
   the frame. Two working resolutions chosen from the scale:
   *coarse* (``wrinkles.WORKING_PIXEL_MM``, 0.15 mm): CIELAB, linear RGB, wrinkles,
   spots, red areas; *fine* (``FINE_PIXEL_MM``, 0.05 mm, or the native pixel if coarser):
   L* for pores and the texture band-pass;
5. reduce per region: the JSON object of ``dermatrack photo analyze``.

Downscaling is justified by the physics: the finest wrinkle scale looked for is 1.2
working pixels and the smallest pore 2 fine pixels across, so finer pixels carry only
noise for these metrics; colour statistics (medians, means) do not depend on resolution.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from dermatrack.imaging._filters import resize_to
from dermatrack.imaging.colour import EXPOSURE_REFERENCE_L, exposure_gain, normalise_exposure
from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION

__all__ = ["EXPOSURE_REFERENCE_L", "FINE_PIXEL_MM", "Analysis", "PhotoResult", "RegionMetric",
           "analyze", "colour_uncertainty", "exposure_gain", "normalise_exposure",
           "photo_result", "run_analysis"]

#: Pixel size (mm) for pores and texture: the smallest pore (0.1 mm) spans 2 px.
FINE_PIXEL_MM = 0.05
#: Without a physical scale the fine maps use at most this long side (px).
UNKNOWN_SCALE_FINE_LONG_SIDE = 4000


@dataclass
class Analysis:
    """Result of :func:`run_analysis`.

    Attributes
    ----------
    report : dict, the JSON object of ``photo analyze``
    regions : the FaceRegions used (``compare`` applies the baseline's to the follow-up)
    rgb : the (colour-corrected) image analysed
    wrinkles, spots, pores : the detections inside ``window``
    red : red-area mask at the coarse resolution, inside ``window``
    window : (rows, cols) slices of ``rgb`` holding every analysed skin pixel and the
        reach of the filters around them; the maps cover this window only
    """

    report: dict[str, Any]
    regions: Any
    rgb: np.ndarray
    wrinkles: Any
    spots: Any
    pores: Any
    red: np.ndarray
    window: tuple[slice, slice] = (slice(None), slice(None))

    def masks(self) -> dict[str, np.ndarray]:
        """Input-size masks: ``wrinkles``, ``spots``, ``redness``, ``pores``, ``skin``
        (the analysed skin, every region's pixels; bool) and ``regions`` (uint8 RGB
        overlay of the region masks)."""
        from dermatrack.imaging.regions import region_overlay

        shape = self.rgb.shape[:2]
        inner = self.rgb[self.window].shape[:2]

        def placed(mask: np.ndarray) -> np.ndarray:
            out = np.zeros(shape, bool)
            out[self.window] = resize_to(mask, inner)
            return out

        return {
            "wrinkles": placed(self.wrinkles.mask),
            "spots": placed(self.spots.mask),
            "redness": placed(self.red),
            "pores": placed(self.pores.mask(inner)),
            "skin": np.asarray(self.regions.masks["whole"], bool),
            "regions": region_overlay(self.rgb, self.regions),
        }


def _filter_reach_px(mm_per_px: float | None, coarse_factor: float) -> int:
    """How far (input px) the widest filter of the metrics reaches: 4 SD of the spots'
    local background (the widest Gaussian; OpenCV truncates its kernels at 4 SD), plus
    eight coarse pixels for resampling and for the shrunk copy on which wide Gaussians
    are computed (``_filters.gaussian``). Maps within that distance of the skin are the
    same whether computed on the whole image or on a window around the skin."""
    from dermatrack.imaging.pigment import BACKGROUND_SIGMA_MM, UNKNOWN_SCALE_PX

    if mm_per_px is None:
        sigma_px = UNKNOWN_SCALE_PX["background"] * coarse_factor
    else:
        sigma_px = BACKGROUND_SIGMA_MM / mm_per_px
    return int(math.ceil(4.0 * sigma_px + 8.0 * coarse_factor))


def _skin_window(skin: np.ndarray, reach_px: int) -> tuple[slice, slice]:
    """Row and column slices of the bounding box of ``skin`` grown by ``reach_px``
    (clipped to the image); the whole image when there is no skin.

    The window starts on even rows and columns, so that the noise estimates, which
    sample every other pixel, sample the same pixels as on the whole image.
    """
    rows = np.flatnonzero(skin.any(axis=1))
    if rows.size == 0:
        return slice(0, skin.shape[0]), slice(0, skin.shape[1])
    cols = np.flatnonzero(skin[rows[0]:rows[-1] + 1].any(axis=0))

    def span(first: int, last: int, size: int) -> slice:
        start = max(first - reach_px, 0)
        return slice(start - start % 2, min(last + 1 + reach_px, size))

    return (span(int(rows[0]), int(rows[-1]), skin.shape[0]),
            span(int(cols[0]), int(cols[-1]), skin.shape[1]))


def _shape_for(shape: tuple[int, int], factor: float) -> tuple[int, int]:
    return (max(int(round(shape[0] / factor)), 1), max(int(round(shape[1] / factor)), 1))


def _image_info(image: Any) -> tuple[np.ndarray, dict[str, Any]]:
    from dermatrack.imaging.io import LoadedImage

    if isinstance(image, LoadedImage):
        return image.rgb, {"width": image.width, "height": image.height,
                           "sha256": image.sha256}
    array = np.asarray(image)
    rgb = (array.astype(np.float32) / 255.0 if array.dtype == np.uint8
           else np.clip(array, 0.0, 1.0).astype(np.float32, copy=False))
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        from dermatrack.errors import InputError

        raise InputError(f"expected an (H, W, 3) RGB array, got shape {rgb.shape}",
                         field="image")
    digest = hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest()
    return rgb, {"width": int(rgb.shape[1]), "height": int(rgb.shape[0]), "sha256": digest}


def _fine_lstar(rgb: np.ndarray) -> np.ndarray:
    """L* of a large image through OpenCV's float sRGB->Lab path: several times faster
    than the exact transfer curve on 12 MP, within 0.35 L* of it and smooth, which does
    not matter to the band-pass and blob filters that use this map."""
    import cv2

    rgb = np.asarray(rgb, np.float32)  # already in [0, 1] (decoder, calibration, _image_info)
    out = np.empty(rgb.shape[:2], np.float32)
    # In strips of 256 rows: the three-channel Lab of a 12 MP image would be 144 MB.
    for top in range(0, rgb.shape[0], 256):
        strip = cv2.cvtColor(rgb[top:top + 256], cv2.COLOR_RGB2Lab)
        out[top:top + 256] = strip[..., 0]
    return out


def _portrait_blur(lstar: np.ndarray, mm_per_px: float | None, grid_mm: float | None
                   ) -> np.ndarray:
    """L* of a portrait on the portrait grid, blurred to the sharpness of the coarsest
    portrait accepted (``wrinkles.PORTRAIT_MAX_MM_PER_PX``).

    Brought to the grid by bilinear interpolation, a photograph of pixel p (mm) is blurred
    by its own pixels, variance about p**2 / 4 (the pixel's box, p**2 / 12, and the
    interpolation's triangle, p**2 / 6): a finer photograph is sharper on the grid, and
    skin texture near the detection threshold then shows as more lines. Adding a Gaussian
    of variance (P**2 - p**2) / 4, P the coarsest pixel accepted, gives every portrait the
    blur of P, so the figures do not follow the pixel count. Close-ups and unknown
    scales are returned as they are.
    """
    from dermatrack.imaging.wrinkles import PORTRAIT_MAX_MM_PER_PX, is_portrait

    if mm_per_px is None or grid_mm is None or not is_portrait(mm_per_px):
        return lstar
    pixel = min(mm_per_px, PORTRAIT_MAX_MM_PER_PX)
    sigma_px = math.sqrt(PORTRAIT_MAX_MM_PER_PX ** 2 - pixel ** 2) / 2.0 / grid_mm
    if sigma_px < 0.1:
        return lstar
    import cv2

    return cv2.GaussianBlur(np.asarray(lstar, np.float32), (0, 0), sigma_px)


def run_analysis(image: Any, *, mm_per_px: float | None = None, use_face: bool = True,
                 regions: Any = None, calibrate: bool = True) -> Analysis:
    """Analyse one photograph.

    Parameters
    ----------
    image : LoadedImage or (H, W, 3) float array (sRGB in [0, 1])
    mm_per_px : float, optional
        The user's scale; otherwise the chart's, the iris's, or unknown.
    use_face : bool
        Look for a face and report per facial region (False: one region).
    regions : FaceRegions, optional
        Region masks to use instead of finding them (``compare`` passes the baseline's).
    calibrate : bool
        Look for a ColorChecker.

    Returns
    -------
    Analysis

    Notes
    -----
    The ColorChecker search (about half a second to a second) runs on a
    second thread while the image is measured as it is. Most photographs hold no chart,
    and that measurement is then the result; when a chart is found, the measurement is
    made again on the corrected colours, without the chart, so the result is always that
    of searching first and measuring after.
    """
    from dermatrack.imaging import calibration as chart_calibration

    start = time.perf_counter()
    rgb, info = _image_info(image)
    refused = None
    options = {"mm_per_px": mm_per_px, "use_face": use_face, "regions": regions}
    if not calibrate:
        result = _measure(rgb, None, **options)
    else:
        from concurrent.futures import ThreadPoolExecutor

        # OpenCV and TensorFlow Lite release the GIL, so the two threads share the cores.
        with ThreadPoolExecutor(max_workers=1) as pool:
            search = pool.submit(chart_calibration.calibrate_with_colorchecker, rgb)
            result = _measure(rgb, None, **options)
            calibration = search.result()
        refused = calibration.refused
        if calibration.applied:
            del result
            corrected = chart_calibration.apply_calibration(rgb, calibration)
            result = _measure(corrected, calibration, **options)
    if calibrate and refused:
        result.report["calibration"]["chart_refused"] = refused
    result.report["image"] = {**info, **result.report["image"]}
    result.report["timing_s"] = round(time.perf_counter() - start, 3)
    return result


def _measure(rgb: np.ndarray, calibration: Any, *, mm_per_px: float | None, use_face: bool,
             regions: Any) -> Analysis:
    """Regions, scale, every map and the per-region report of an sRGB image, with the
    colour calibration already applied (``calibration``, or None when no chart)."""
    from dermatrack.errors import InputError
    from dermatrack.imaging import colour
    from dermatrack.imaging.pigment import detect_spots, pigment_metrics
    from dermatrack.imaging.pores import detect_pores, pore_metrics
    from dermatrack.imaging.quality import assess_capture
    from dermatrack.imaging.redness import red_area_mask, redness_metrics
    from dermatrack.imaging.regions import face_regions, face_turn, single_region
    from dermatrack.imaging.scale import resolve_scale
    from dermatrack.imaging.texture import bandpass_luminance, exclusion_zone, texture_metrics
    from dermatrack.imaging.wrinkles import (
        detect_wrinkles,
        is_portrait,
        width_range_mm,
        working_factor,
        working_pixel_mm,
        wrinkle_metrics,
    )

    shape = rgb.shape[:2]
    chart = calibration.chart_mask if calibration is not None else None
    given_regions = regions is not None
    if regions is None:
        regions = face_regions(rgb, skin_without_face=False) if use_face else None
        if regions is None or not regions.detected:
            # Without a face the scale is the user's or the chart's; the band along the
            # edges of what is not skin is built with it.
            regions = single_region(rgb, exclude=chart,
                                    mm_per_px=resolve_scale(mm_per_px, calibration).mm_per_px)
    masks = dict(regions.masks)
    if chart is not None:
        masks = {k: m & ~chart for k, m in masks.items()}
        regions = replace(regions, masks=masks)
    whole_full = masks["whole"]

    scale = resolve_scale(mm_per_px, calibration, regions)
    mpp = scale.mm_per_px

    face_mode = regions.detected if given_regions else use_face
    turn = face_turn(rgb) if face_mode and not regions.detected else None
    quality = assess_capture(rgb, landmarks=regions.landmarks,
                             landmark_depth=regions.landmark_depth, skin=whole_full,
                             mm_per_px=mpp, face_mode=face_mode, face_turn_deg=turn,
                             other_faces=regions.other_faces, features=regions.features)
    if quality.refused:
        raise InputError("photo refused: " + "; ".join(quality.reasons), field="image")

    # Resampling factors come from the whole image (without a scale the filters' sizes
    # are fixed in working pixels of the whole image); the maps are computed only in the
    # window around the skin. Portraits are all brought to one grid (factor < 1 enlarges).
    coarse_factor = working_factor(shape, mpp)
    if mpp is None:
        fine_factor = max(1.0, max(shape) / UNKNOWN_SCALE_FINE_LONG_SIDE)
    else:
        fine_factor = max(1.0, FINE_PIXEL_MM / mpp)
    window = _skin_window(whole_full, _filter_reach_px(mpp, max(coarse_factor, 1.0)))
    rgb_w = rgb[window]
    wshape = rgb_w.shape[:2]
    whole = whole_full[window]

    # Coarse maps: colour, wrinkles, spots, red areas.
    coarse_shape = _shape_for(wshape, coarse_factor)
    rgb_c = resize_to(rgb_w, coarse_shape)
    lab_c = colour.srgb_to_lab(rgb_c)
    # Linear reflectance enters only region means (melanin and erythema indices): every
    # other pixel in each direction is an unbiased sample at a quarter of the cost.
    lin_c = colour.srgb_to_linear(rgb_c[::2, ::2])
    whole_c = resize_to(whole, coarse_shape)
    mpp_c = None if mpp is None else mpp * wshape[1] / coarse_shape[1]
    # The maps see the skin at one exposure whatever the photograph's (see exposure_gain).
    gain = exposure_gain(lab_c[..., 0][whole_c])
    lab_n = normalise_exposure(lab_c, gain)
    bands_c = None
    if regions.line_exclusion is not None:
        bands_c = resize_to(regions.line_exclusion[window], coarse_shape)
    wrinkles = detect_wrinkles(_portrait_blur(lab_n[..., 0], mpp, mpp_c), whole_c, mpp_c,
                               exclude=bands_c)
    wrinkles.factor = wshape[1] / wrinkles.mask.shape[1]  # working px in input px
    wrinkles.origin = (float(window[1].start), float(window[0].start))
    wrinkle_c = resize_to(wrinkles.mask, coarse_shape)
    spots = detect_spots(lab_n, whole_c, mpp_c,
                         exclude=wrinkle_c if bands_c is None else wrinkle_c | bands_c)
    red = red_area_mask(lab_n, whole_c, mpp_c)
    del rgb_c

    # Fine maps: pores and texture, unless the resolution cannot show either (then their
    # figures are null, and computing them would be wasted: most of the cost of a
    # 12 MP portrait).
    missing = dict(quality.not_measurable)  # too coarse, or without colour
    features_c = wrinkle_c | spots.mask
    if "pores.count" in missing and "texture.roughness" in missing:
        from dermatrack.imaging.pores import PoreDetection

        fine_shape, mpp_f = coarse_shape, mpp_c
        pores = PoreDetection(xy=np.zeros((0, 2)), diameter_px=np.zeros(0),
                              contrast_l=np.zeros(0), mm_per_px=mpp_f, shape=fine_shape)
        band = np.zeros(coarse_shape, np.float32)
        excluded_f = exclusion_zone(features_c, mpp_c)
    else:
        fine_shape = _shape_for(wshape, fine_factor)
        lum_f = normalise_exposure(_fine_lstar(resize_to(rgb_w, fine_shape)), gain)
        mpp_f = None if mpp is None else mpp * wshape[1] / fine_shape[1]
        whole_f = resize_to(whole, fine_shape)
        pores = detect_pores(lum_f, whole_f, mpp_f,
                             exclude=resize_to(features_c, fine_shape))
        excluded_c = exclusion_zone(features_c | pores.mask(coarse_shape), mpp_c)
        band = bandpass_luminance(lum_f, mpp_f)
        del lum_f
        excluded_f = resize_to(excluded_c, fine_shape)

    order = ["whole"] + [k for k in masks if k != "whole"]
    out_regions: dict[str, Any] = {}
    for name in order:
        region = masks[name][window]  # the window holds every skin pixel
        reg_c = resize_to(region, coarse_shape)
        reg_f = resize_to(region, fine_shape)
        area = int(region.sum())
        pig = asdict(pigment_metrics(lab_c, lin_c, spots, reg_c))
        if reg_c.any():  # a spread: measured at the normalised exposure
            lum_n = lab_n[..., 0][reg_c]
            pig["evenness"] = float(1.4826 * np.median(np.abs(lum_n - np.median(lum_n))))
        pig.pop("spot_mean_delta_e")
        out_regions[name] = {
            "area_mm2": None if mpp is None else area * mpp * mpp,
            "wrinkles": asdict(wrinkle_metrics(wrinkles, reg_c)),
            "pigment": pig,
            "redness": asdict(redness_metrics(lab_c, lin_c, red, reg_c)),
            "texture": asdict(texture_metrics(band, reg_f, excluded_f)),
            "pores": asdict(pore_metrics(pores, reg_f)),
        }
        for code in missing:
            family, key = code.split(".", 1)
            if key in out_regions[name].get(family, {}):
                out_regions[name][family][key] = None
        if out_regions[name]["pigment"]["ita_deg"] is None:
            out_regions[name]["pigment"]["ita_category"] = None

    cal_json: dict[str, Any] = {"applied": bool(chart is not None),
                                "delta_e2000_mean": None, "delta_e2000_max": None}
    if chart is not None:
        cal_json["delta_e2000_mean"] = calibration.delta_e2000_mean
        cal_json["delta_e2000_max"] = calibration.delta_e2000_max
    else:
        cal_json["note"] = "uncalibrated"
        cal_json["uncertainty"] = colour_uncertainty(lab_c[..., 0][whole_c],
                                                     lab_c[..., 1][whole_c],
                                                     lab_c[..., 2][whole_c])
    pixel = working_pixel_mm(mpp)
    report = {
        "method_version": PHOTO_METHOD_VERSION,
        "image": {"mm_per_px": mpp, "scale_source": scale.source},
        "calibration": cal_json,
        "face": {"detected": bool(regions.detected)},
        "quality": quality.as_dict(),
        "measurability": {
            "mm_per_px": mpp,
            "not_measurable": missing,
            "wrinkle_tier": None if mpp is None else (
                "portrait" if is_portrait(mpp) else "close-up"),
            "wrinkle_width_range_mm": None if mpp is None else list(width_range_mm(pixel)),
            "working_pixel_mm": pixel,
            "exposure_gain": round(float(gain), 4),
        },
        "regions": out_regions,
        "timing_s": None,
    }
    return Analysis(report=report, regions=regions, rgb=rgb, wrinkles=wrinkles,
                    spots=spots, pores=pores, red=red, window=window)


#: Exposure change (both ways) behind the uncertainty of uncalibrated colour figures:
#: what an automatic exposure typically varies between two phone photographs.
UNCALIBRATED_EXPOSURE_RANGE = 0.2


def colour_uncertainty(lstar: np.ndarray, astar: np.ndarray, bstar: np.ndarray
                       ) -> dict[str, Any]:
    """Half-range of the median skin L*, a*, b* and ITA when the exposure of an
    uncalibrated photograph is off by ±``UNCALIBRATED_EXPOSURE_RANGE`` (same scaling as
    :func:`exposure_gain`): the uncertainty carried by uncalibrated colour figures."""
    if np.size(lstar) == 0:
        return {"basis": None}
    l_med = float(np.median(lstar))
    a_med = float(np.median(astar))
    b_med = float(np.median(bstar))
    out: dict[str, list[float]] = {"l_star": [], "a_star": [], "b_star": [], "ita_deg": []}
    for k in (1.0 - UNCALIBRATED_EXPOSURE_RANGE, 1.0 + UNCALIBRATED_EXPOSURE_RANGE):
        g = k ** (1.0 / 3.0)
        lv, av, bv = (l_med + 16.0) * g - 16.0, a_med * g, b_med * g
        out["l_star"].append(lv)
        out["a_star"].append(av)
        out["b_star"].append(bv)
        out["ita_deg"].append(math.degrees(math.atan2(lv - 50.0, bv)))
    result: dict[str, Any] = {k: round(abs(v[1] - v[0]) / 2.0, 2) for k, v in out.items()}
    result["basis"] = (f"exposure ±{UNCALIBRATED_EXPOSURE_RANGE:.0%} on an uncalibrated "
                       "photograph (white balance not included)")
    return result


def analyze(image: Any, *, mm_per_px: float | None = None, use_face: bool = True) -> dict:
    """The JSON object of ``dermatrack photo analyze`` for one image.

    See :func:`run_analysis`; this returns only ``report``.
    """
    return run_analysis(image, mm_per_px=mm_per_px, use_face=use_face).report


# --- the typed result that is stored ---------------------------------------------------------

@dataclass(frozen=True)
class RegionMetric:
    """One photo metric of one region, with its definition (:mod:`.definitions`; the unit
    in pixels when the photograph has no physical scale)."""

    region: str
    definition: Any  # dermatrack.metrics.MetricDefinition
    value: float | None

    @property
    def code(self) -> str:
        return self.definition.code

    @property
    def unit(self) -> str:
        return self.definition.unit


@dataclass(frozen=True)
class PhotoResult:
    """What the analysis of one photograph gives the store: every metric of
    :data:`~dermatrack.imaging.definitions.PHOTO_METRICS` per region, typed, and what
    they depend on (scale and its source, colour calibration, face detection). Small and
    picklable (no pixels): worker processes hand it back.

    Attributes
    ----------
    report : the JSON object of ``dermatrack photo analyze`` it was read from
    mm_per_px : physical scale (mm per pixel), None when unknown (lengths in px)
    scale_source : ``user``, ``chart``, ``iris`` or ``unknown``
    calibrated : colours corrected with a ColorChecker
    method_version : the version of the photo method that measured it
        (:data:`~dermatrack.imaging.definitions.PHOTO_METHOD_VERSION`)
    delta_e2000_mean : the chart fit's mean CIEDE2000 error, when calibrated
    face_detected : the face regions were found
    metrics : one :class:`RegionMetric` per region and metric, regions in report order
        (``whole`` first), metrics in definition order; a metric the photograph cannot
        measure has value None
    """

    report: dict[str, Any]
    mm_per_px: float | None
    scale_source: str | None
    calibrated: bool
    delta_e2000_mean: float | None
    face_detected: bool
    metrics: tuple[RegionMetric, ...]
    method_version: str | None = None

    @classmethod
    def of(cls, report: dict[str, Any]) -> PhotoResult:
        """The typed form of a report of :func:`run_analysis` (the one place that reads
        the report's layout; values that are not finite numbers become None)."""
        from dataclasses import replace as with_unit

        from dermatrack.imaging.definitions import PHOTO_METRICS, unscaled_unit

        image = report["image"]
        calibration = report["calibration"]
        mm_per_px = image.get("mm_per_px")
        metrics = []
        for region, families in report["regions"].items():
            for definition in PHOTO_METRICS:
                family, _, name = definition.code.partition(".")
                value = families.get(family) if not name else families[family].get(name)
                number = (float(value) if isinstance(value, (int, float))
                          and not isinstance(value, bool) and math.isfinite(value) else None)
                if mm_per_px is None:
                    definition = with_unit(definition, unit=unscaled_unit(definition.unit))
                metrics.append(RegionMetric(region=region, definition=definition,
                                            value=number))
        return cls(report=report, mm_per_px=mm_per_px, scale_source=image.get("scale_source"),
                   calibrated=bool(calibration.get("applied")),
                   delta_e2000_mean=calibration.get("delta_e2000_mean"),
                   face_detected=bool(report["face"]["detected"]), metrics=tuple(metrics),
                   method_version=report.get("method_version"))

    def regions(self) -> list[str]:
        """The regions measured, in report order."""
        return list(dict.fromkeys(m.region for m in self.metrics))

    def of_region(self, region: str) -> list[RegionMetric]:
        return [m for m in self.metrics if m.region == region]


def photo_result(analysis: Analysis) -> PhotoResult:
    """The typed, storable result of an :class:`Analysis`."""
    return PhotoResult.of(analysis.report)
