"""Synthetic photographs of the demo patients at each visit (core: arrays in, arrays out).

Two kinds of photograph:

* **Phantoms** (:mod:`dermatrack.imaging.phantom`): a close-up of skin of the patient's
  ITA with wrinkles, spots, erythema, pores and fine texture, the concern's features
  made prominent (wrinkles 8-12 L* deep, where the detector finds them reliably).
  Treatment shrinks them by the patient's effect fraction *f*: wrinkles shorter by *f*
  and shallower by *f*/2, spot and erythema areas smaller by *f* (radii by
  sqrt(1 - f)) and half as much lighter or paler, a fraction *f* of the pores gone,
  texture amplitude lower by *f*. The phantom's truth gives the exact change.
* **Real faces** that ship in packages here: scikit-image's ``astronaut`` and
  matplotlib's ``grace_hopper`` sample image, upscaled twice. Wrinkles are drawn across
  the forehead and spots and erythema on the cheeks (regions from
  :func:`dermatrack.imaging.regions.face_regions`), rendered by the phantom generator as
  CIELAB differences from flat skin and added to the face's own CIELAB inside its skin
  mask; treatment shrinks them as on the phantoms.

Each visit is a new capture: exposure, white balance, focus, a small head rotation and
shift vary (about a third of the sizes of :data:`dermatrack.imaging.phantom.PERTURBATIONS`),
so repeated measurement varies as it does in a clinic. The skin itself (texture,
mottling, lighting direction) stays the patient's own across visits.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from dermatrack.demo.design import ITA_BY_TYPE, PatientDesign

PHANTOM_MM_PER_PX = 0.06
PHANTOM_SIZE = (1152, 864)
QUICK_PHANTOM_SIZE = (640, 480)
FACE_UPSCALE = 2
QUICK_FACE_UPSCALE = 2


def capture_perturbation(rng: np.random.Generator) -> Any:
    """A random ordinary re-capture: small exposure, white-balance, blur and pose changes."""
    from dermatrack.imaging.phantom import Perturbation

    gain = rng.normal(0.0, 0.015, 3)
    return Perturbation(
        name="visit", exposure_ev=float(rng.normal(0.0, 0.1)),
        wb_gains=(float(1 + gain[0]), 1.0, float(1 + gain[2])),
        blur_sigma_px=float(abs(rng.normal(0.0, 0.25))),
        noise_sd=0.004, jpeg_quality=None,
        rotation_deg=float(rng.normal(0.0, 1.0)),
        shift_px=(float(rng.normal(0.0, 3.0)), float(rng.normal(0.0, 3.0))))


def base_spec(design: PatientDesign, *, quick: bool) -> Any:
    """The patient's untreated skin: features of their concern made prominent."""
    from dermatrack.imaging.phantom import random_spec

    width, height = QUICK_PHANTOM_SIZE if quick else PHANTOM_SIZE
    scale = (width * height) / (800 * 600)  # feature counts grow with the field of view
    rng = np.random.default_rng(design.seed)
    counts: dict[str, Any] = {"n_wrinkles": 3, "n_spots": 2, "n_erythema": 1,
                              "n_pores": round(8 * scale)}
    family = design.family
    if family == "wrinkles":
        counts["n_wrinkles"] = max(4, round(4 * math.sqrt(scale)))
        # Deep enough to stay well above the detection threshold after treatment.
        counts["wrinkle_depth_l"] = float(rng.uniform(8.0, 12.0))
    elif family == "pigment":
        counts["n_spots"] = max(5, round(5 * scale))
    elif family == "redness":
        counts["n_erythema"] = max(3, round(3 * scale))
    elif family == "pores":
        counts["n_pores"] = round(25 * scale)
    ita = ITA_BY_TYPE[design.fitzpatrick] + float(rng.normal(0.0, 3.0))
    spec = random_spec(rng, width=width, height=height, mm_per_px=PHANTOM_MM_PER_PX,
                       ita_deg=ita, **counts)
    if family == "texture":
        spec = replace(spec, texture_rms_l=1.6)
    return spec


def treated_spec(spec: Any, family: str, effect: float) -> Any:
    """The same skin after treatment removed a fraction ``effect`` of the family's features."""
    keep = 1.0 - effect
    radius = math.sqrt(max(keep, 0.0))
    if family == "wrinkles":
        return replace(spec, wrinkles=tuple(replace(w, length_mm=w.length_mm * keep,
                                                    depth_l=w.depth_l * (1 - effect / 2))
                                            for w in spec.wrinkles))
    if family == "pigment":
        return replace(spec, spots=tuple(replace(s, semi_major_mm=s.semi_major_mm * radius,
                                                 semi_minor_mm=s.semi_minor_mm * radius,
                                                 delta_l=s.delta_l * (1 - effect / 2))
                                         for s in spec.spots))
    if family == "redness":
        return replace(spec, erythema=tuple(replace(e, radius_mm=e.radius_mm * radius,
                                                    delta_a=e.delta_a * (1 - effect / 2))
                                            for e in spec.erythema))
    if family == "pores":
        count = round(len(spec.pores) * keep)
        return replace(spec, pores=spec.pores[:max(count, 0)])
    if family == "texture":
        return replace(spec, texture_rms_l=spec.texture_rms_l * keep)
    raise ValueError(f"unknown feature family {family!r}")


def phantom_visit(spec: Any, design: PatientDesign, timepoint: str, visit_number: int
                  ) -> tuple[np.ndarray, dict[str, Any]]:
    """(sRGB image, truth) of a phantom patient's photograph at a visit.

    ``spec`` is the patient's :func:`base_spec`.
    """
    from dermatrack.imaging.phantom import make_phantom

    spec = treated_spec(spec, design.family, design.effect_at(timepoint))
    capture = capture_perturbation(np.random.default_rng([design.seed, visit_number]))
    phantom = make_phantom(replace(spec, perturbation=capture),
                           np.random.default_rng(design.seed))
    truth = {key: phantom.truth[key] for key in
             ("wrinkle_total_length_mm", "spot_area_fraction", "red_area_fraction",
              "pore_count", "texture_roughness_l", "ita_deg")}
    return phantom.rgb, truth


# --- real faces ----------------------------------------------------------------------------

def face_image(name: str, *, quick: bool) -> np.ndarray:
    """A bundled real face as float32 sRGB, upscaled (``astronaut`` or ``grace_hopper``)."""
    import cv2

    from dermatrack.imaging.io import sample_face

    factor = QUICK_FACE_UPSCALE if quick else FACE_UPSCALE
    rgb = sample_face(name)
    if factor != 1:
        rgb = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return np.clip(rgb, 0.0, 1.0)


def _points_in(mask: np.ndarray, count: int, rng: np.random.Generator,
               margin: int) -> list[tuple[float, float]]:
    import cv2

    inner = cv2.erode(mask.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1),
                                                       np.uint8)) > 0
    ys, xs = np.nonzero(inner if inner.any() else mask)
    if ys.size == 0:
        return []
    picks = rng.choice(ys.size, size=min(count, ys.size), replace=False)
    return [(float(xs[i]), float(ys[i])) for i in picks]


def face_features(rgb: np.ndarray, seed: int) -> tuple[Any, np.ndarray, float]:
    """Features to draw on a face: (phantom spec, skin mask, mm per pixel).

    Three forehead wrinkles running across (within 8° of horizontal), three spots and one
    erythema patch on each cheek, marked enough (spots 14-20 L* darker, 2.5-4 mm across
    the long semi-axis; erythema a* +12-18) to be seen on a page-sized photograph.
    Sizes are physical: the scale comes from the iris (11.7 mm;
    :mod:`dermatrack.imaging.scale`), else a 140 mm face width. Wrinkles are
    1.0-1.9 mm wide (2.5 px where pixels are coarse), inside the 0.3-2 mm width range the
    wrinkle detector looks for (:data:`dermatrack.imaging.wrinkles.WIDTH_RANGE_MM`).
    """
    from dermatrack.imaging.phantom import ErythemaSpec, PhantomSpec, SpotSpec, WrinkleSpec
    from dermatrack.imaging.regions import face_regions
    from dermatrack.imaging.scale import IRIS_DIAMETER_MM

    regions = face_regions(rgb)
    if regions is None or not regions.detected:
        raise ValueError("no face found in the sample image")
    height, width = rgb.shape[:2]
    landmarks = regions.landmarks
    if regions.iris_diameter_px:
        mm_per_px = IRIS_DIAMETER_MM / regions.iris_diameter_px
    elif landmarks is not None:
        face_px = float(np.linalg.norm(landmarks[454] - landmarks[234]))
        mm_per_px = 140.0 / face_px
    else:
        raise ValueError("the face has no landmarks to measure it by")
    rng = np.random.default_rng(seed)
    forehead = regions.masks["forehead"]
    ys, xs = np.nonzero(forehead)
    wrinkles = []
    if ys.size:
        span_mm = (xs.max() - xs.min()) * mm_per_px
        rows = np.linspace(np.percentile(ys, 30), np.percentile(ys, 75), 3)
        centre_x = float(np.median(xs))
        for row in rows:
            wrinkles.append(WrinkleSpec(
                cx=centre_x + float(rng.normal(0, 0.05 * span_mm / mm_per_px)), cy=float(row),
                length_mm=float(0.55 * span_mm * rng.uniform(0.8, 1.0)),
                width_mm=float(np.clip(2.5 * mm_per_px, 1.0, 1.9)),
                depth_l=float(rng.uniform(12, 16)),
                angle_deg=float(rng.normal(0.0, 4.0)), bend=float(rng.uniform(-0.05, 0.05))))
    spots, erythema = [], []
    margin = max(2, round(4.0 / mm_per_px))
    for name in ("cheek_left", "cheek_right"):
        mask = regions.masks.get(name)
        if mask is None or not mask.any():
            continue
        for x, y in _points_in(mask, 3, rng, margin):
            size = float(rng.uniform(2.5, 4.0))
            spots.append(SpotSpec(x, y, size, size * 0.8, float(rng.uniform(0, 180)),
                                  float(rng.uniform(14, 20)), float(rng.uniform(4, 8))))
        for x, y in _points_in(mask, 1, rng, margin * 2):
            erythema.append(ErythemaSpec(x, y, float(rng.uniform(7, 10)),
                                         float(rng.uniform(12, 18))))
    spec = PhantomSpec(width=width, height=height, mm_per_px=mm_per_px, ita_deg=30.0,
                       wrinkles=tuple(wrinkles), spots=tuple(spots), erythema=tuple(erythema),
                       pores=(), texture_rms_l=0.0, mottling_rms_l=0.0,
                       lighting_gradient=0.0, sensor_noise_sd=0.0)
    return spec, regions.skin_mask & regions.masks["whole"], mm_per_px


def draw_features(rgb: np.ndarray, spec: Any, skin: np.ndarray) -> np.ndarray:
    """Add a feature spec's CIELAB differences from flat skin to a photograph's skin."""
    import cv2

    from dermatrack.imaging.phantom import base_lab_from_ita, make_phantom

    rendered = make_phantom(spec, np.random.default_rng(0))
    lab = cv2.cvtColor(rendered.rgb, cv2.COLOR_RGB2Lab)
    flat = np.array([base_lab_from_ita(spec.ita_deg, spec.b_star), spec.a_star, spec.b_star],
                    np.float32)
    delta = lab - flat
    delta[np.abs(delta) < 0.6] = 0.0  # the flat skin's rounding, not a feature
    face_lab = cv2.cvtColor(np.asarray(rgb, np.float32), cv2.COLOR_RGB2Lab)
    # Soften the skin mask's edge so that a feature cut by it does not end in a step.
    weight = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), 2.0)[..., None]
    out = cv2.cvtColor(face_lab + delta * weight, cv2.COLOR_Lab2RGB)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def recapture(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same scene photographed again: slight exposure change, head shift and roll."""
    import cv2

    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(rng.normal(0, 0.8)), 1.0)
    matrix[:, 2] = matrix[:, 2] + rng.normal(0.0, 3.0, 2)
    moved = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT_101)
    exposure = float(2.0 ** rng.normal(0.0, 0.08))
    linear = np.where(moved <= 0.04045, moved / 12.92, ((moved + 0.055) / 1.055) ** 2.4)
    linear = np.clip(linear * exposure, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(srgb + rng.normal(0.0, 0.004, srgb.shape), 0.0, 1.0).astype(np.float32)


def face_visit(face: np.ndarray, features: tuple[Any, np.ndarray, float],
               design: PatientDesign, timepoint: str, visit_number: int) -> np.ndarray:
    """A real-face patient's photograph at a visit, features shrunk by the effect so far.

    ``face`` is :func:`face_image` and ``features`` its :func:`face_features`.
    """
    spec, skin, _ = features
    effect = design.effect_at(timepoint)
    keep = 1.0 - effect
    radius = math.sqrt(max(keep, 0.0))
    treated = replace(
        spec,
        wrinkles=tuple(replace(w, length_mm=w.length_mm * keep,
                               depth_l=w.depth_l * (1 - effect / 2))
                       for w in spec.wrinkles),
        spots=tuple(replace(s, semi_major_mm=s.semi_major_mm * radius,
                            semi_minor_mm=s.semi_minor_mm * radius,
                            delta_l=s.delta_l * (1 - effect / 2))
                    for s in spec.spots),
        erythema=tuple(replace(e, radius_mm=e.radius_mm * radius) for e in spec.erythema))
    drawn = draw_features(face, treated, skin)
    return recapture(drawn, np.random.default_rng([design.seed, visit_number]))


class PatientPhotographer:
    """Photographs one patient at successive visits (the untreated scene is made once)."""

    def __init__(self, design: PatientDesign, *, quick: bool):
        self.design = design
        if design.photo_source == "phantom":
            self.spec = base_spec(design, quick=quick)
        else:
            self.face = face_image(design.photo_source, quick=quick)
            self.features = face_features(self.face, design.seed)

    def photograph(self, timepoint: str, visit_number: int
                   ) -> tuple[np.ndarray, dict[str, Any] | None]:
        """(sRGB image, phantom truth or None for a real face) at a visit."""
        if self.design.photo_source == "phantom":
            return phantom_visit(self.spec, self.design, timepoint, visit_number)
        return face_visit(self.face, self.features, self.design, timepoint,
                          visit_number), None
