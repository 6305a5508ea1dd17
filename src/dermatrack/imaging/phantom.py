"""Synthetic skin photographs with exact ground truth (phantoms).

A phantom is built in CIELAB (D65) on a skin base colour chosen by its ITA, then
converted to sRGB. Every feature is drawn with a known profile, so its truth is exact:

* wrinkles: curved centrelines (quadratic Bezier) with a Gaussian valley profile across
  them, ``depth_l`` L* units darker than the surrounding skin at the centre, full width
  at half depth ``width_mm``, with a shading term (one wall lit, the other in shadow);
* pigmented spots: ellipses ``delta_l`` darker and ``delta_b`` yellower than the skin,
  with a short linear edge ramp;
* erythema: discs of raised a* with a soft edge;
* pores: small Gaussian dark blobs of full width at half depth ``diameter_mm``;
* fine texture: band-limited noise at the 0.1-1 mm scale;
* nuisances that are *not* features: mottling (smooth L* variation at ~1 cm scale) and
  an uneven lighting gradient (multiplicative on linear RGB).

Capture perturbations (exposure, white balance, blur, noise, JPEG, a small rotation and
shift) are applied after the truth is fixed; geometric ones move the truth masks and the
centreline points alike. Core module: arrays in, arrays out, no file I/O.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import cv2
import numpy as np
from scipy.spatial import cKDTree

from dermatrack.imaging._filters import bandpass, gaussian
from dermatrack.imaging.colour import lab_to_srgb, linear_to_srgb, srgb_to_linear

__all__ = [
    "PERTURBATIONS",
    "ErythemaSpec",
    "Perturbation",
    "Phantom",
    "PhantomSpec",
    "PoreSpec",
    "SpotSpec",
    "WrinkleSpec",
    "base_lab_from_ita",
    "make_phantom",
    "REAL_SKIN_TEXTURE_EXPONENT",
    "REAL_SKIN_TEXTURE_OCTAVES",
    "portrait_distractors",
    "portrait_spec",
    "random_spec",
]


@dataclass(frozen=True)
class WrinkleSpec:
    """One wrinkle: centre (px), length and width (mm), depth (L*), angle (deg), bend.

    ``bend`` is the sagitta of the curve as a fraction of its length (0 = straight).
    ``width_mm`` is the full width at half depth of the valley.
    """

    cx: float
    cy: float
    length_mm: float
    width_mm: float
    depth_l: float
    angle_deg: float
    bend: float = 0.0
    shading: float = 0.3


@dataclass(frozen=True)
class SpotSpec:
    """A pigmented ellipse: centre (px), semi-axes (mm), angle, darkening and yellowing."""

    cx: float
    cy: float
    semi_major_mm: float
    semi_minor_mm: float
    angle_deg: float
    delta_l: float
    delta_b: float


@dataclass(frozen=True)
class ErythemaSpec:
    """A red patch: centre (px), radius (mm) at half rise, and the a* rise at its centre."""

    cx: float
    cy: float
    radius_mm: float
    delta_a: float


@dataclass(frozen=True)
class PoreSpec:
    """A pore: centre (px), full width at half depth (mm) and darkening (L*)."""

    cx: float
    cy: float
    diameter_mm: float
    depth_l: float


@dataclass(frozen=True)
class Perturbation:
    """Capture changes applied after the truth is fixed.

    ``exposure_ev`` scales linear light by 2**EV; ``wb_gains`` multiply linear R, G, B;
    ``blur_sigma_px`` is a Gaussian defocus; ``noise_sd`` is additive Gaussian noise on
    the encoded [0, 1] values; ``jpeg_quality`` round-trips through a JPEG encoder;
    ``rotation_deg`` and ``shift_px`` move image and truth together.
    """

    name: str = "none"
    exposure_ev: float = 0.0
    wb_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    blur_sigma_px: float = 0.0
    noise_sd: float = 0.0
    jpeg_quality: int | None = None
    rotation_deg: float = 0.0
    shift_px: tuple[float, float] = (0.0, 0.0)


#: Named perturbations used by ``dermatrack phantom --perturb`` and by the validation.
#: Sizes are those of ordinary re-captures: a third of a stop, a 5 % white-balance
#: error, slight defocus, sensor noise, camera JPEG, a few degrees of head roll.
PERTURBATIONS: dict[str, Perturbation] = {
    "none": Perturbation(),
    "exposure_up": Perturbation("exposure_up", exposure_ev=0.33),
    "exposure_down": Perturbation("exposure_down", exposure_ev=-0.33),
    "white_balance": Perturbation("white_balance", wb_gains=(1.05, 1.0, 0.95)),
    "blur": Perturbation("blur", blur_sigma_px=0.8),
    "noise": Perturbation("noise", noise_sd=0.01),
    "jpeg": Perturbation("jpeg", jpeg_quality=80),
    "rotation": Perturbation("rotation", rotation_deg=3.0),
    "shift": Perturbation("shift", shift_px=(9.0, -6.0)),
}


@dataclass(frozen=True)
class PhantomSpec:
    """Everything that defines a phantom (sizes in px unless the name says mm)."""

    width: int = 800
    height: int = 600
    mm_per_px: float = 0.06
    ita_deg: float = 30.0
    b_star: float = 16.0
    a_star: float = 11.0
    wrinkles: tuple[WrinkleSpec, ...] = ()
    spots: tuple[SpotSpec, ...] = ()
    erythema: tuple[ErythemaSpec, ...] = ()
    pores: tuple[PoreSpec, ...] = ()
    texture_rms_l: float = 0.6
    mottling_rms_l: float = 1.0
    #: Skin texture at the scales a portrait shows: ``(fine_mm, coarse_mm, robust SD of L*
    #: in that band)`` per octave (:data:`REAL_SKIN_TEXTURE_OCTAVES`); empty for none.
    skin_texture_octaves: tuple[tuple[float, float, float], ...] = ()
    lighting_gradient: float = 0.12
    sensor_noise_sd: float = 0.003
    colorchecker: bool = False
    perturbation: Perturbation = field(default_factory=Perturbation)


@dataclass
class Phantom:
    """A synthetic photograph, its ground truth and truth masks.

    Attributes
    ----------
    rgb : (H, W, 3) float32, sRGB in [0, 1], quantised to 8 bits (PNG round-trips exactly)
    truth : dict, JSON-ready (see :func:`make_phantom`)
    masks : dict of (H, W) bool arrays: ``wrinkles`` (valley within half depth),
        ``wrinkle_centrelines`` (1 px), ``spots``, ``redness``, ``pores``, ``skin``
        (everything but the chart) and ``chart``.
    """

    rgb: np.ndarray
    truth: dict[str, Any]
    masks: dict[str, np.ndarray]


def base_lab_from_ita(ita_deg: float, b_star: float = 16.0) -> float:
    """L* of a skin colour with the given ITA and b*: ``L* = 50 + b* tan(ITA)``.

    ITA = atan((L* - 50) / b*) (Chardon 1991), solved for L*; clipped to [15, 95].
    """
    return float(np.clip(50.0 + b_star * math.tan(math.radians(ita_deg)), 15.0, 95.0))


def _bezier(w: WrinkleSpec, mm_per_px: float, step_px: float = 0.25) -> np.ndarray:
    length_px = w.length_mm / mm_per_px
    theta = math.radians(w.angle_deg)
    ux, uy = math.cos(theta), math.sin(theta)
    nx, ny = -uy, ux
    p0 = np.array([w.cx - ux * length_px / 2, w.cy - uy * length_px / 2])
    p2 = np.array([w.cx + ux * length_px / 2, w.cy + uy * length_px / 2])
    # A quadratic Bezier's sagitta is half the control point's offset.
    p1 = np.array([w.cx, w.cy]) + 2.0 * w.bend * length_px * np.array([nx, ny])
    dense = np.linspace(0.0, 1.0, 4096)[:, None]
    curve = (1 - dense) ** 2 * p0 + 2 * (1 - dense) * dense * p1 + dense ** 2 * p2
    seg = np.hypot(*np.diff(curve, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(int(arc[-1] / step_px) + 1, 2)
    s = np.linspace(0.0, arc[-1], n)
    return np.stack([np.interp(s, arc, curve[:, 0]), np.interp(s, arc, curve[:, 1])], axis=1)


def _polyline_length(points: np.ndarray) -> float:
    return float(np.hypot(*np.diff(points, axis=0).T).sum())


def _wrinkle_field(shape: tuple[int, int], w: WrinkleSpec, points: np.ndarray,
                   mm_per_px: float) -> tuple[np.ndarray, tuple[slice, slice], np.ndarray]:
    """Darkening (L*) of one wrinkle inside its bounding box, and its half-depth mask."""
    s = (w.width_mm / mm_per_px) / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    pad = int(math.ceil(4 * s)) + 2
    x0 = max(int(points[:, 0].min()) - pad, 0)
    x1 = min(int(points[:, 0].max()) + pad + 1, shape[1])
    y0 = max(int(points[:, 1].min()) - pad, 0)
    y1 = min(int(points[:, 1].max()) + pad + 1, shape[0])
    yy, xx = np.mgrid[y0:y1, x0:x1]
    query = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float64)
    dist, idx = cKDTree(points).query(query)
    tangent = np.gradient(points, axis=0)
    t = tangent[idx]
    rel = query - points[idx]
    side = np.sign(t[:, 0] * rel[:, 1] - t[:, 1] * rel[:, 0])
    d = (dist * side).reshape(yy.shape)
    # Side lighting: P(u) = exp(-u**2 / 2) (1 + a u) darkens one wall and lightens the
    # other. Its maximum (the valley floor) lies at u0 = (sqrt(1 + 4 a**2) - 1) / (2 a);
    # the profile is shifted and normalised so that the floor lies on the centreline
    # and is exactly ``depth_l`` deep.
    a = w.shading
    u0 = (math.sqrt(1.0 + 4.0 * a * a) - 1.0) / (2.0 * a) if a else 0.0
    u = d / s + u0
    peak = math.exp(-0.5 * u0 * u0) * (1.0 + a * u0)
    dark = w.depth_l * np.exp(-0.5 * u * u) * (1.0 + a * u) / peak
    window = (slice(y0, y1), slice(x0, x1))
    return dark.astype(np.float32), window, dark >= 0.5 * w.depth_l


def _band_noise(rng: np.random.Generator, shape: tuple[int, int], fine_px: float,
                coarse_px: float, rms: float) -> np.ndarray:
    if rms <= 0:
        return np.zeros(shape, np.float32)
    noise = bandpass(rng.standard_normal(shape).astype(np.float32), fine_px, coarse_px)
    return noise * np.float32(rms / max(float(noise.std()), 1e-9))


def _render_lab(spec: PhantomSpec, rng: np.random.Generator
                ) -> tuple[np.ndarray, dict[str, np.ndarray], list[dict[str, Any]],
                           np.ndarray, list[np.ndarray]]:
    from dermatrack.imaging.texture import ROUGHNESS_BAND_MM

    h, w = spec.height, spec.width
    mpp = spec.mm_per_px
    l0 = base_lab_from_ita(spec.ita_deg, spec.b_star)
    lab = np.empty((h, w, 3), np.float32)
    lab[..., 0] = l0
    lab[..., 1] = spec.a_star
    lab[..., 2] = spec.b_star
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    # Mottling: smooth L* variation at about 1 cm, not a feature.
    if spec.mottling_rms_l > 0:
        mott = gaussian(rng.standard_normal((h, w)).astype(np.float32), 8.0 / mpp)
        mott -= np.float32(mott.mean())  # a variation around the base colour
        lab[..., 0] += mott * np.float32(spec.mottling_rms_l / max(float(mott.std()), 1e-9))
    fine_px, coarse_px = (b / mpp for b in ROUGHNESS_BAND_MM)
    texture = _band_noise(rng, (h, w), fine_px, coarse_px, spec.texture_rms_l)
    lab[..., 0] += texture
    if spec.skin_texture_octaves:
        # From its own stream, so that the other fields of a seed stay as they were.
        lab[..., 0] += _skin_texture(spec, np.random.default_rng(rng.integers(2 ** 63)))

    masks = {k: np.zeros((h, w), bool) for k in
             ("wrinkles", "wrinkle_centrelines", "spots", "redness", "pores")}
    wrinkle_dark = np.zeros((h, w), np.float32)
    wrinkle_truth: list[dict[str, Any]] = []
    points: list[np.ndarray] = []
    for wr in spec.wrinkles:
        pts = _bezier(wr, mpp)
        points.append(pts)
        dark, win, half = _wrinkle_field((h, w), wr, pts, mpp)
        wrinkle_dark[win] = np.where(np.abs(dark) > np.abs(wrinkle_dark[win]), dark,
                                     wrinkle_dark[win])
        masks["wrinkles"][win] |= half
        keep = pts[(pts[:, 0] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] >= 0)
                   & (pts[:, 1] <= h - 1)]
        wrinkle_truth.append({
            "length_mm": _polyline_length(keep) * mpp,
            "depth_l": wr.depth_l, "width_mm": wr.width_mm, "angle_deg": wr.angle_deg,
        })
    lab[..., 0] -= wrinkle_dark

    for sp in spec.spots:
        t = math.radians(sp.angle_deg)
        dx, dy = xx - sp.cx, yy - sp.cy
        u = (dx * math.cos(t) + dy * math.sin(t)) / (sp.semi_major_mm / mpp)
        v = (-dx * math.sin(t) + dy * math.cos(t)) / (sp.semi_minor_mm / mpp)
        r = np.sqrt(u * u + v * v)
        edge = 0.2 / sp.semi_minor_mm  # 0.2 mm edge ramp, in units of the minor radius
        weight = np.clip((1.0 - r) / edge + 0.5, 0.0, 1.0)
        lab[..., 0] -= sp.delta_l * weight
        lab[..., 2] += sp.delta_b * weight
        masks["spots"] |= r <= 1.0

    for er in spec.erythema:
        r = np.hypot(xx - er.cx, yy - er.cy) * mpp
        # Logistic edge, 10-90 % rise over ~0.65 mm.
        weight = 1.0 / (1.0 + np.exp(np.clip((r - er.radius_mm) / 0.15, -50, 50)))
        lab[..., 1] += er.delta_a * weight
        masks["redness"] |= r <= er.radius_mm

    for po in spec.pores:
        s = (po.diameter_mm / mpp) / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        r = int(math.ceil(4 * s)) + 1
        y0, y1 = max(int(po.cy) - r, 0), min(int(po.cy) + r + 1, h)
        x0, x1 = max(int(po.cx) - r, 0), min(int(po.cx) + r + 1, w)
        d2 = (xx[y0:y1, x0:x1] - po.cx) ** 2 + (yy[y0:y1, x0:x1] - po.cy) ** 2
        lab[y0:y1, x0:x1, 0] -= po.depth_l * np.exp(-0.5 * d2 / s ** 2)
        masks["pores"][y0:y1, x0:x1] |= d2 <= (po.diameter_mm / mpp / 2.0) ** 2

    return lab, masks, wrinkle_truth, texture, points


def _rasterise(points_list: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    for pts in points_list:
        cv2.polylines(canvas, [np.round(pts * 16).astype(np.int32)], False, 255, 1,
                      lineType=cv2.LINE_8, shift=4)
    return canvas > 0


def _encode_jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    u8 = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("JPEG encoding failed")
    back = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if back is None:  # pragma: no cover - decoding what OpenCV just encoded
        raise RuntimeError("JPEG decoding failed")
    return cv2.cvtColor(back, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def make_phantom(spec: PhantomSpec, rng: np.random.Generator,
                 capture_rng: np.random.Generator | None = None) -> Phantom:
    """Render a phantom and its ground truth.

    Parameters
    ----------
    spec : PhantomSpec
        What to draw (see :func:`random_spec` for a randomised one).
    rng : numpy.random.Generator
        Source of the skin's texture and mottling fields and the lighting direction.
    capture_rng : numpy.random.Generator, optional
        Source of the sensor noise (default ``rng``). Re-captures of the same skin use the
        same ``rng`` and different ``capture_rng``.

    Returns
    -------
    Phantom
        ``truth`` holds ``mm_per_px``, ``ita_deg``, ``l_star``, ``b_star``, ``a_star``;
        ``wrinkles`` (per wrinkle: ``centreline_px`` every 2 px after the geometric
        perturbation, ``length_mm`` inside the frame, ``depth_l``, ``width_mm``),
        ``wrinkle_total_length_mm``; ``spot_count``, ``spot_area_fraction``;
        ``red_area_fraction``; ``pore_count``, ``pore_mean_diameter_mm``;
        ``texture_roughness_l`` (RMS of the band-passed texture field, L*), the
        perturbation and the full spec. Area fractions are relative to the skin
        (the frame minus the chart).
    """
    h, w = spec.height, spec.width
    lab, masks, wrinkle_truth, texture, points = _render_lab(spec, rng)
    linear = srgb_to_linear(lab_to_srgb(lab))

    # Uneven lighting: a linear ramp of illuminance in a random direction (mean 1).
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = ((xx - w / 2) * math.cos(theta) + (yy - h / 2) * math.sin(theta))
    ramp /= max(float(np.abs(ramp).max()), 1.0)
    linear *= (1.0 + spec.lighting_gradient * ramp)[..., None]

    chart_mask = np.zeros((h, w), bool)
    if spec.colorchecker:
        chart_mask = _add_chart(linear, spec)

    p = spec.perturbation
    linear *= np.float32(2.0 ** p.exposure_ev)
    linear *= np.asarray(p.wb_gains, np.float32)
    rgb = linear_to_srgb(np.clip(linear, 0, 1))

    # Geometric perturbation: the truth moves with the image.
    if p.rotation_deg or any(p.shift_px):
        m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), p.rotation_deg, 1.0)
        m[:, 2] += np.asarray(p.shift_px, float)
        rgb = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT_101)
        for key in list(masks) + ["chart"]:
            src = chart_mask if key == "chart" else masks[key]
            warped = cv2.warpAffine(src.astype(np.uint8), m, (w, h),
                                    flags=cv2.INTER_NEAREST, borderValue=0) > 0
            if key == "chart":
                chart_mask = warped
            else:
                masks[key] = warped
        points = [pt @ m[:, :2].T + m[:, 2] for pt in points]
    masks["wrinkle_centrelines"] = _rasterise(points, (h, w))
    for tr, pts in zip(wrinkle_truth, points, strict=True):
        tr["centreline_px"] = np.round(pts[::8], 2).tolist()

    if p.blur_sigma_px > 0:
        rgb = gaussian(rgb, p.blur_sigma_px)
    noise_sd = math.hypot(spec.sensor_noise_sd, p.noise_sd)
    if noise_sd > 0:
        noise_rng = rng if capture_rng is None else capture_rng
        rgb = rgb + noise_rng.normal(0.0, noise_sd, rgb.shape).astype(np.float32)
    rgb = np.clip(rgb, 0.0, 1.0)
    if p.jpeg_quality:
        rgb = _encode_jpeg(rgb, p.jpeg_quality)
    rgb = (np.round(rgb * 255.0) / 255.0).astype(np.float32)

    skin = ~chart_mask
    for key in masks:
        masks[key] &= skin
    masks["skin"] = skin
    masks["chart"] = chart_mask
    skin_px = max(int(skin.sum()), 1)

    from dermatrack.imaging.texture import ROUGHNESS_BAND_MM

    fine_px, coarse_px = (b / spec.mm_per_px for b in ROUGHNESS_BAND_MM)
    texture_bp = bandpass(texture, fine_px, coarse_px)
    pore_d = [po.diameter_mm for po in spec.pores]
    truth: dict[str, Any] = {
        "mm_per_px": spec.mm_per_px,
        "ita_deg": spec.ita_deg,
        "l_star": base_lab_from_ita(spec.ita_deg, spec.b_star),
        "a_star": spec.a_star,
        "b_star": spec.b_star,
        "wrinkles": wrinkle_truth,
        "wrinkle_count": len(wrinkle_truth),
        "wrinkle_total_length_mm": float(sum(t["length_mm"] for t in wrinkle_truth)),
        "spot_count": len(spec.spots),
        "spot_area_fraction": float(masks["spots"].sum() / skin_px),
        "red_area_fraction": float(masks["redness"].sum() / skin_px),
        "pore_count": len(spec.pores),
        "pore_mean_diameter_mm": float(np.mean(pore_d)) if pore_d else None,
        "texture_roughness_l": float(np.sqrt(np.mean(texture_bp ** 2))),
        "perturbation": asdict(p),
        "spec": _spec_dict(spec),
    }
    return Phantom(rgb=rgb.astype(np.float32), truth=truth, masks=masks)


def _spec_dict(spec: PhantomSpec) -> dict[str, Any]:
    d = asdict(spec)
    d.pop("perturbation")
    return d


def _add_chart(linear: np.ndarray, spec: PhantomSpec) -> np.ndarray:
    """Paste D1's rendered ColorChecker in the lower right corner (linear light)."""
    from dermatrack.imaging.chart import paste_chart, render_colorchecker

    h, w = spec.height, spec.width
    patch = max(min(h, w) // 16, 8)
    chart, _geometry = render_colorchecker(patch)
    ch, cw = chart.shape[:2]
    top_left = (h - ch - patch // 2, w - cw - patch // 2)
    srgb = linear_to_srgb(linear)
    pasted = paste_chart(srgb, chart, top_left)
    linear[...] = srgb_to_linear(np.clip(pasted, 0, 1))
    mask = np.zeros((h, w), bool)
    mask[top_left[0]:top_left[0] + ch, top_left[1]:top_left[1] + cw] = True
    return mask


def random_spec(rng: np.random.Generator, *, width: int = 800, height: int = 600,
                mm_per_px: float = 0.06, ita_deg: float | None = None,
                wrinkle_depth_l: float | None = None, wrinkle_width_mm: float | None = None,
                wrinkle_length_mm: float | None = None,
                wrinkle_angle_deg: float | None = None, n_wrinkles: int | None = None,
                n_spots: int | None = None, n_erythema: int | None = None,
                n_pores: int | None = None, colorchecker: bool = False,
                perturbation: Perturbation | None = None) -> PhantomSpec:
    """A phantom spec with features placed at random without overlapping.

    Ranges (physically typical, not tuned to the detector): wrinkle length 6-25 mm,
    width 0.3-1.2 mm at half depth, depth 3-14 L*, bend up to 8 % of the length; spots
    0.7-2.5 mm semi-axes, 6-14 L* darker, 2-6 b* yellower; erythema 2-5 mm radius with
    a* raised 6-14; pores 0.2-0.45 mm across, 3-8 L* dark; ITA from 60 to -30 degrees.
    A value given for ``ita_deg`` or a wrinkle's depth, width (full width at half depth),
    length or angle (degrees from the x axis towards the y axis, i.e. clockwise as seen,
    image rows running down) replaces the random draw; the length is still capped at
    80 % of the shorter side.
    """
    ita = float(rng.uniform(-30, 60)) if ita_deg is None else float(ita_deg)
    margin = 10
    clearance = 3.0 / mm_per_px  # px kept free around each wrinkle
    lines: list[np.ndarray] = []  # centreline points of the wrinkles placed
    discs: list[tuple[float, float, float]] = []  # (x, y, radius incl. clearance) in px

    def clear_of_lines(points: np.ndarray, radius: float) -> bool:
        if not lines:
            return True
        return bool(cKDTree(np.concatenate(lines)).query(points)[0].min() >= radius)

    def clear_of_discs(points: np.ndarray, radius: float) -> bool:
        return all(np.hypot(points[:, 0] - x, points[:, 1] - y).min() >= r + radius
                   for x, y, r in discs)

    wrinkles: list[WrinkleSpec] = []
    n_w = int(rng.integers(3, 7)) if n_wrinkles is None else n_wrinkles
    for _ in range(200):
        if len(wrinkles) >= n_w:
            break
        # Draws are skipped (not overridden) for given values, so that the random
        # phantoms of a seed stay the same when nothing is given.
        length = float(rng.uniform(6, 25)) if wrinkle_length_mm is None else wrinkle_length_mm
        length = min(length, 0.8 * min(width, height) * mm_per_px)
        wr = WrinkleSpec(
            cx=float(rng.uniform(0.15, 0.85) * width), cy=float(rng.uniform(0.15, 0.85) * height),
            length_mm=length,
            width_mm=float(rng.uniform(0.3, 1.2)) if wrinkle_width_mm is None
            else float(wrinkle_width_mm),
            depth_l=float(rng.uniform(3, 14)) if wrinkle_depth_l is None else wrinkle_depth_l,
            angle_deg=float(rng.uniform(0, 180)) if wrinkle_angle_deg is None
            else float(wrinkle_angle_deg),
            bend=float(rng.uniform(-0.08, 0.08)),
            shading=float(rng.choice([-0.3, 0.3])),
        )
        pts = _bezier(wr, mm_per_px, step_px=2.0)
        if (pts < margin).any() or (pts[:, 0] > width - margin).any() \
                or (pts[:, 1] > height - margin).any():
            continue
        if clear_of_lines(pts, 2 * clearance):
            lines.append(pts)
            wrinkles.append(wr)

    def place_disc(radius_px: float, gap_px: float) -> tuple[float, float] | None:
        if min(width, height) <= 2 * (radius_px + margin):
            return None  # does not fit in a small phantom
        for _ in range(100):
            cx = float(rng.uniform(radius_px + margin, width - radius_px - margin))
            cy = float(rng.uniform(radius_px + margin, height - radius_px - margin))
            centre = np.array([[cx, cy]])
            if clear_of_lines(centre, radius_px + clearance) and \
                    clear_of_discs(centre, radius_px + gap_px):
                discs.append((cx, cy, radius_px))
                return cx, cy
        return None

    erythema: list[ErythemaSpec] = []
    for _ in range(int(rng.integers(1, 3)) if n_erythema is None else n_erythema):
        r = float(rng.uniform(2, 5))
        at = place_disc(r / mm_per_px, 1.0 / mm_per_px)
        if at:
            erythema.append(ErythemaSpec(at[0], at[1], r, float(rng.uniform(6, 14))))
    spots: list[SpotSpec] = []
    for _ in range(int(rng.integers(2, 6)) if n_spots is None else n_spots):
        a = float(rng.uniform(0.9, 2.5))
        b = float(rng.uniform(0.7, 1.0)) * a
        at = place_disc(a / mm_per_px, 1.5 / mm_per_px)
        if at:
            spots.append(SpotSpec(at[0], at[1], a, b, float(rng.uniform(0, 180)),
                                  float(rng.uniform(6, 14)), float(rng.uniform(2, 6))))
    pores: list[PoreSpec] = []
    for _ in range(int(rng.integers(10, 30)) if n_pores is None else n_pores):
        d = float(rng.uniform(0.2, 0.45))
        at = place_disc(d / 2 / mm_per_px, 0.6 / mm_per_px)
        if at:
            pores.append(PoreSpec(at[0], at[1], d, float(rng.uniform(3, 8))))
    return PhantomSpec(width=width, height=height, mm_per_px=mm_per_px, ita_deg=ita,
                       wrinkles=tuple(wrinkles), spots=tuple(spots),
                       erythema=tuple(erythema), pores=tuple(pores),
                       colorchecker=colorchecker,
                       perturbation=perturbation or Perturbation())


def with_perturbation(spec: PhantomSpec, perturbation: Perturbation) -> PhantomSpec:
    """The same phantom under another capture perturbation."""
    return replace(spec, perturbation=perturbation)


#: Skin texture of real faces at portrait scales: for each octave (difference of
#: Gaussians of SD ``fine_mm`` and ``coarse_mm``), the robust SD (1.4826 x MAD) of the
#: band-passed L* over open skin (outside the exclusion bands and detected wrinkles),
#: median of the 8 real faces at 0.32-0.71 mm/px (scikit-image, matplotlib and
#: ../shared/realdata/faces; range 0.33-1.38, 0.74-2.15, 1.58-3.67), measured by
#: ``benchmarks/portrait_texture.py`` on 2026-12-04 (``texture.texture_octaves``). The
#: default phantom texture (``texture_rms_l``, 0.1-1 mm) and mottling (8 mm) leave these
#: bands nearly empty: 0.05, 0.07 and 0.2 L*.
REAL_SKIN_TEXTURE_OCTAVES = ((0.8, 1.6, 0.59), (1.6, 3.2, 0.93), (3.2, 6.4, 1.84))
#: Exponent of the texture's amplitude spectrum (``f ** -beta``): the octaves above rise
#: by 1.6x and 3.2x over the finest; beta = 1.8 gives 1.7x and 2.7-2.9x (1.7: 1.6x and
#: 2.3-2.5x; 1.9: 1.8x and 3.1-3.3x), from the same benchmark.
REAL_SKIN_TEXTURE_EXPONENT = 1.8
#: Grid (mm) on which the portrait texture is drawn before resampling, so that one seed
#: gives the same skin in mm at every pixel size.
_TEXTURE_GRID_MM = 0.2


def _skin_texture(spec: PhantomSpec, rng: np.random.Generator) -> np.ndarray:
    """An L* field of the phantom's size with the texture of real skin at portrait scales:
    a Gaussian field with amplitude spectrum ``f ** -REAL_SKIN_TEXTURE_EXPONENT``, drawn
    on a fixed mm grid over the field, scaled so that its octaves as
    ``texture.texture_octaves`` measures them match ``spec.skin_texture_octaves`` (least
    squares in log), and resampled to the phantom's pixels."""
    import cv2

    from dermatrack.imaging.texture import texture_octaves

    grid = _TEXTURE_GRID_MM
    h = max(int(round(spec.height * spec.mm_per_px / grid)), 1)
    w = max(int(round(spec.width * spec.mm_per_px / grid)), 1)
    frequency = np.hypot(np.fft.fftfreq(h, grid)[:, None], np.fft.rfftfreq(w, grid)[None, :])
    frequency[0, 0] = np.inf  # no mean offset
    spectrum = np.fft.rfft2(rng.standard_normal((h, w))) * frequency ** -REAL_SKIN_TEXTURE_EXPONENT
    field = np.fft.irfft2(spectrum, s=(h, w)).astype(np.float32)
    measured = texture_octaves(field, np.ones((h, w), bool), grid,
                               spec.skin_texture_octaves)
    gain = math.exp(float(np.mean([math.log(sd / max(m, 1e-12)) for (_, _, sd), m in
                                   zip(spec.skin_texture_octaves, measured, strict=True)])))
    field *= np.float32(gain)
    interp = cv2.INTER_AREA if spec.mm_per_px > grid else cv2.INTER_LINEAR
    return cv2.resize(field, (spec.width, spec.height), interpolation=interp)


def portrait_spec(rng: np.random.Generator, *, mm_per_px: float = 0.4,
                  field_mm: tuple[float, float] = (120.0, 90.0), n_wrinkles: int = 5,
                  skin_texture: bool = False) -> PhantomSpec:
    """A phantom at portrait resolution (0.2-0.6 mm/px): a 120 x 90 mm field of skin
    with the wrinkles a portrait can show (1.5-3.5 mm wide at half depth, 5-12 L* deep,
    15-35 mm long; ``wrinkles.PORTRAIT_WIDTH_RANGE_MM``), no pores (invisible at this
    resolution), sensor noise and mottling as in the close-up phantoms. The same ``rng``
    state gives the same skin in mm at any ``mm_per_px``, so resolutions can be compared.

    ``skin_texture`` adds the texture real faces show at portrait scales
    (:data:`REAL_SKIN_TEXTURE_OCTAVES`), which the default fields leave out. See
    :func:`portrait_distractors` for hair, brows, glasses rims and lid creases.
    """
    width = int(round(field_mm[0] / mm_per_px))
    height = int(round(field_mm[1] / mm_per_px))
    draws = [(float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8)),
              float(rng.uniform(15, 35)), float(rng.uniform(1.5, 3.5)),
              float(rng.uniform(5, 12)), float(rng.uniform(-60, 60)),
              float(rng.uniform(0, 0.06))) for _ in range(n_wrinkles)]
    wrinkles: list[WrinkleSpec] = []
    for fx, fy, length, wmm, depth, angle, bend in draws:
        # Keep them apart (at least 12 mm between centres) and inside the field.
        cx, cy = fx * width, fy * height
        if any(np.hypot(cx - w.cx, cy - w.cy) * mm_per_px < 12 for w in wrinkles):
            continue
        wrinkles.append(WrinkleSpec(cx=cx, cy=cy, length_mm=length, width_mm=wmm,
                                    depth_l=depth, angle_deg=angle, bend=bend))
    return PhantomSpec(width=width, height=height, mm_per_px=mm_per_px,
                       ita_deg=float(rng.uniform(10, 50)), wrinkles=tuple(wrinkles),
                       skin_texture_octaves=REAL_SKIN_TEXTURE_OCTAVES if skin_texture else ())


def portrait_distractors(rgb: np.ndarray, mm_per_px: float, rng: np.random.Generator
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Add what portraits show besides wrinkles, drawn over a phantom: a band of dark
    hair with loose strands along the top, two brows, a glasses rim (a thin dark ellipse
    outline) and a lid crease under each brow.

    Returns the image and a bool mask of the distractors grown by 2 mm (where no wrinkle
    may be reported when they are excluded).
    """
    import cv2

    out = np.array(rgb, np.float32, copy=True)
    h, w = out.shape[:2]
    px = 1.0 / mm_per_px
    mask = np.zeros((h, w), np.uint8)
    hair = np.array([0.12, 0.08, 0.06], np.float32)
    top = int(12 * px)
    out[:top] = hair
    mask[:top] = 1
    for _ in range(6):  # loose strands 0.2 mm wide reaching 10 mm onto the skin
        x0 = float(rng.uniform(0.1, 0.9) * w)
        pts = np.array([[x0, top], [x0 + rng.uniform(-8, 8) * px, top + 10 * px]], np.int32)
        cv2.polylines(mask, [pts], False, 1, max(1, int(round(0.4 * px))))
        strand = np.zeros((h, w), np.uint8)
        cv2.polylines(strand, [pts], False, 1, max(1, int(round(0.2 * px))))
        out[strand.astype(bool)] = hair
    for cx in (0.3 * w, 0.7 * w):
        cy = 0.45 * h
        brow = np.zeros((h, w), np.uint8)
        cv2.ellipse(brow, (int(cx), int(cy)), (int(18 * px), int(3 * px)), 0, 0, 360, 1, -1)
        out[brow.astype(bool)] = 0.6 * out[brow.astype(bool)] + 0.4 * hair
        mask |= brow
        crease = np.zeros((h, w), np.uint8)
        cv2.ellipse(crease, (int(cx), int(cy + 9 * px)), (int(14 * px), int(3 * px)), 0,
                    10, 170, 1, max(1, int(round(1.0 * px))))
        out[crease.astype(bool)] *= 0.8
        mask |= crease
        rim = np.zeros((h, w), np.uint8)
        cv2.ellipse(rim, (int(cx), int(cy + 14 * px)), (int(24 * px), int(16 * px)), 0, 0,
                    360, 1, max(1, int(round(1.2 * px))))
        out[rim.astype(bool)] = np.array([0.15, 0.15, 0.17], np.float32)
        mask |= rim
    grow = max(1, int(round(2 * px)))
    grown = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return out, np.asarray(grown).astype(bool)
