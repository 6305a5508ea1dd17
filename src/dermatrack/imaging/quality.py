"""Capture quality: is this photograph fit for the skin metrics, and if not, why.

:func:`assess_capture` is a pure function of an image (and, when known, its face
landmarks, skin mask and pixel size) returning a typed :class:`CaptureQuality`: whether a
face was found, the head pose from the landmarks, sharpness, exposure clipping on the
skin, how much of the frame looks like skin, the resolution against each metric's need
(:mod:`dermatrack.imaging.definitions`), and a plain verdict with its reasons. It does no
I/O and keeps no state, so the same function can judge a frame in a capture page before
the photograph is taken and a stored photograph during analysis.

Verdicts
--------
``refused``: the metrics must not be computed: in face mode no face was found; in
close-up mode (``face_mode=False``) too little of the frame has the colour of skin.
``poor``: metrics are computed but a figure is likely off: head turned or tilted more
than :data:`MAX_POSE_DEG`, blurred, or more than :data:`MAX_CLIPPED_FRACTION` of the skin
clipped. ``usable``: fine, but some metrics are not measurable at this resolution.
``good``: everything measurable.

Head pose
---------
From three landmark pairs of MediaPipe FaceMesh (x, y in pixels, z in the same units,
smaller is nearer): yaw is the angle of the cheek-to-cheek vector (234 -> 454) out of the
image plane, roll its angle in the image plane, pitch the angle of the brow-to-chin
vector (9 -> 152) out of the image plane. Zero is the pose of a face looking straight at
the camera with the mesh's own proportions; the figures are approximate (a few
degrees), enough to tell a frontal photograph from a turned one and to compare two
visits.

Sharpness
---------
The ratio of the luminance energy in the finest octave (Gaussian sigma 0.5-1 px) to
the next one (1-2 px), on the skin, at the wrinkle working grid (so the same photograph
at any pixel count gives the same figure). Images of natural scenes have a power spectrum
falling as about 1/f**2, which gives equal energy per octave (ratio ~1); defocus and
motion blur remove the finest octave first, so the ratio falls. Below
:data:`MIN_SHARPNESS` (half the energy gone from the finest octave) the photograph is
reported blurred.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np

__all__ = [
    "MAX_CLIPPED_FRACTION",
    "MAX_FACE_OUTSIDE",
    "MAX_POSE_DEG",
    "MIN_SHARPNESS",
    "MIN_SKIN_CHROMA",
    "MIN_SKIN_FRACTION_CLOSEUP",
    "SIDEWAYS_ROLL_DEG",
    "CaptureQuality",
    "assess_capture",
    "capture_differences",
    "fine_detail_differs",
    "head_pose",
    "median_chroma",
    "mouth_shape",
    "sharpness",
    "skin_colour_fraction",
    "skin_colour_mask",
    "skin_colour_stats",
    "skin_detail",
]

#: Yaw, pitch or roll beyond this (degrees) makes a photograph ``poor``: the apparent
#: area and shading of the cheeks change by 1 - cos(20°) = 6 % and more.
MAX_POSE_DEG = 20.0
#: Skin whose median chroma C*ab is under one just-noticeable colour difference
#: (Delta E*ab 2.3, Sharma & Trussell 1997) shows no colour: a black-and-white
#: photograph (C* = 0), where skin tone and redness read b* = a* = 0 whatever the skin.
#: Skin in colour photographs has far more: 17-40 on the real faces of the validation.
MIN_SKIN_CHROMA = 2.3
#: A head rolled beyond this (degrees) is a photograph stored sideways, not a tilted
#: head: halfway to a quarter turn.
SIDEWAYS_ROLL_DEG = 45.0
#: Fraction of the face's landmarks that may fall outside the frame (FaceMesh places
#: them beyond its edge when the face is cut) before the verdict is ``poor``: ten of the
#: 478, a sliver of the contour. toni-collette cut a quarter of its width into the face
#: has 17 % outside and measured 8 % less wrinkle length; grace_hopper, 15 % and 27 %.
MAX_FACE_OUTSIDE = 0.02
#: Fraction of the skin with a clipped channel (>= 250/255) or crushed (luma <= 5/255)
#: beyond which a photograph is ``poor``: clipped skin has no texture to measure.
MAX_CLIPPED_FRACTION = 0.05
#: Fine-to-coarse octave energy ratio below which a photograph is blurred (see module).
MIN_SHARPNESS = 0.5
#: A close-up must have at least this fraction of its frame in the colour range of skin
#: (Chai & Ngan 1999 Cr/Cb ranges); a room or an object does not.
MIN_SKIN_FRACTION_CLOSEUP = 0.3

Verdict = Literal["good", "usable", "poor", "refused"]


@dataclass(frozen=True)
class CaptureQuality:
    """Result of :func:`assess_capture` (the ``quality`` object of ``photo analyze``).

    Attributes
    ----------
    face_mode : whether a face was expected
    face_found : whether FaceMesh landmarks were given (found)
    yaw_deg, pitch_deg, roll_deg : head pose, degrees (None without a face)
    sharpness : octave energy ratio (dimensionless; ~1 sharp, < 0.5 blurred)
    clipped_fraction : fraction of skin pixels clipped bright or crushed dark
    skin_fraction : fraction of the frame in the colour range of skin
    mm_per_px : pixel size (mm) or None when unknown
    face_outside_fraction : fraction of the face's landmarks outside the frame (a face
        cut by the frame's edge), or None without a face
    mouth_width, mouth_opening : the mouth's width (corner to corner) and opening (inner
        lips apart), in face widths (:func:`mouth_shape`), or None without a face
    skin_chroma : median CIELAB chroma C*ab of the skin (of the frame without a skin
        mask), sRGB as stored; under :data:`MIN_SKIN_CHROMA` the photograph has no colour
    skin_detail : the skin's fine texture over that of the eyes, brows, lips and
        nostrils (:func:`skin_detail`; dimensionless), or None without a face
    not_measurable : metric code -> reason for the metrics this photograph cannot give
        (too coarse for them, or without colour for skin tone and redness)
    verdict : ``good``, ``usable``, ``poor`` or ``refused``
    reasons : plain sentences explaining a verdict other than ``good``
    """

    face_mode: bool
    face_found: bool
    yaw_deg: float | None
    pitch_deg: float | None
    roll_deg: float | None
    sharpness: float | None
    clipped_fraction: float
    skin_fraction: float
    mm_per_px: float | None
    face_outside_fraction: float | None = None
    skin_chroma: float | None = None
    mouth_width: float | None = None
    mouth_opening: float | None = None
    skin_detail: float | None = None
    not_measurable: dict[str, str] = field(default_factory=dict)
    verdict: Verdict = "good"
    reasons: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        """True when the metrics must not be computed."""
        return self.verdict == "refused"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaptureQuality:
        """The quality object from its :meth:`as_dict` (as stored with a photograph)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["reasons"] = tuple(values.get("reasons", ()))
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (floats rounded to what is meaningful)."""
        out = asdict(self)
        for key in ("yaw_deg", "pitch_deg", "roll_deg", "skin_chroma"):
            if out[key] is not None:
                out[key] = round(out[key], 1)
        for key in ("sharpness", "clipped_fraction", "skin_fraction", "face_outside_fraction",
                    "mouth_width", "mouth_opening", "skin_detail"):
            if out[key] is not None:
                out[key] = round(out[key], 3)
        out["reasons"] = list(self.reasons)
        return out


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    import cv2

    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return rgb
    # Saturating, rounding conversion in one OpenCV pass (values are sRGB in [0, 1]).
    return cv2.convertScaleAbs(np.ascontiguousarray(rgb, dtype=np.float32), alpha=255.0)


#: Darkest 8-bit luma at which :func:`skin_colour_mask` tells skin by its colour (Chai &
#: Ngan 1999): darker, the chroma of 8-bit pixels is too coarse to tell.
SKIN_COLOUR_MIN_LUMA = 40


def skin_colour_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels in the Cr/Cb range of skin (Chai & Ngan 1999: Cr 133-173, Cb 77-127,
    luma >= ``SKIN_COLOUR_MIN_LUMA``/255): a fixed range that needs no face, for telling
    skin from not."""
    import cv2

    luma, cr, cb = cv2.split(cv2.cvtColor(np.ascontiguousarray(_to_uint8(rgb)),
                                          cv2.COLOR_RGB2YCrCb))
    mask: np.ndarray = ((cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
                        & (luma >= SKIN_COLOUR_MIN_LUMA))
    return mask


def _small_copy(rgb: np.ndarray) -> np.ndarray:
    """8-bit copy at most 512 px on its long side (area averaging)."""
    import cv2

    rgb8 = _to_uint8(rgb)
    factor = min(1.0, 512.0 / max(rgb8.shape[:2]))
    if factor < 1.0:
        rgb8 = cv2.resize(rgb8, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return rgb8


def skin_colour_fraction(rgb: np.ndarray) -> float:
    """Fraction of pixels of :func:`skin_colour_mask`, on a copy at most 512 px on its
    long side."""
    return float(skin_colour_mask(_small_copy(rgb)).mean())


def too_dark_fraction(rgb: np.ndarray) -> float:
    """Fraction of pixels too dark for :func:`skin_colour_mask` to tell their colour
    (luma under ``SKIN_COLOUR_MIN_LUMA``), on the same copy as
    :func:`skin_colour_fraction`."""
    import cv2

    luma = cv2.cvtColor(np.ascontiguousarray(_small_copy(rgb)), cv2.COLOR_RGB2GRAY)
    return float((luma < SKIN_COLOUR_MIN_LUMA).mean())


def _too_dark_words(rgb8: np.ndarray) -> str:
    """The refusal's note when most of the frame is too dark to tell skin by its colour
    (then the colour test cannot say it is not skin), else nothing."""
    dark = too_dark_fraction(rgb8)
    if dark <= 0.5:
        return ""
    return (f"; {dark:.0%} of the frame is too dark to tell its colour (luma under "
            f"{SKIN_COLOUR_MIN_LUMA}/255): if that is skin, the photograph is "
            "under-exposed for it (very dark skin needs more light or exposure)")


def mouth_shape(landmarks: np.ndarray) -> tuple[float, float]:
    """The mouth's width (corners, FaceMesh landmarks 61 and 291) and opening (inner
    lips, 13 and 14), in face widths (cheek to cheek, 234 to 454): the same for a face
    turned in the frame or photographed from nearer. A smile widens the mouth: 0.47-0.53
    on the smiling real faces of the validation, 0.37-0.42 on the relaxed ones, whose
    mouths are closed (opening under 0.01; 0.06-0.11 with the teeth showing)."""
    pts = np.asarray(landmarks, np.float64)
    face = float(np.linalg.norm(pts[454, :2] - pts[234, :2]))
    return (float(np.linalg.norm(pts[291, :2] - pts[61, :2])) / face,
            float(np.linalg.norm(pts[14, :2] - pts[13, :2])) / face)


def head_pose(landmarks: np.ndarray, depth: np.ndarray | None = None
              ) -> tuple[float, float, float]:
    """Yaw, pitch and roll (degrees) from FaceMesh landmarks.

    Parameters
    ----------
    landmarks : (N >= 468, 2) x, y in pixels
    depth : (N,) z in the same pixel units (MediaPipe's z times the image width), or
        None: yaw is then estimated from the nose tip's offset between the cheeks and
        pitch from its offset between brow and chin (2-D only, less accurate).

    Returns
    -------
    (yaw, pitch, roll) in degrees; positive yaw turns the face to the image's right,
    positive pitch tips the chin towards the camera, positive roll is clockwise.
    """
    pts = np.asarray(landmarks, np.float64)
    right, left, brow, chin, nose = pts[234], pts[454], pts[9], pts[152], pts[1]
    across = left - right
    roll = math.degrees(math.atan2(across[1], across[0]))
    width = float(np.hypot(*across))
    down = chin - brow
    height = float(np.hypot(*down))
    if depth is not None:
        z = np.asarray(depth, np.float64)
        yaw = math.degrees(math.atan2(z[454] - z[234], width))
        pitch = math.degrees(math.atan2(z[152] - z[9], height))
        return yaw, pitch, roll
    # 2-D: the nose tip sits in front of the cheek line by about 0.35 face widths
    # (FaceMesh canonical geometry), so its sideways offset is sin(yaw) * 0.35 width.
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    rot = np.array([[c, -s], [s, c]])
    mid = (right + left) / 2.0
    offset = rot @ (nose - mid)
    yaw = math.degrees(math.asin(float(np.clip(offset[0] / (0.35 * width), -1, 1))))
    centre = (brow + chin) / 2.0
    off_v = rot @ (nose - centre)
    pitch = math.degrees(math.asin(float(np.clip(off_v[1] / (0.35 * height), -1, 1))))
    return yaw, pitch, roll


def sharpness(rgb8: np.ndarray, skin: np.ndarray | None, mm_per_px: float | None
              ) -> float | None:
    """Sharpness of ``skin`` (bool mask; the whole frame when None) in an 8-bit RGB image:
    the RMS of the finest difference-of-Gaussians octave (0.5-1 px) over that of the next
    (1-2 px), on the wrinkle maps' working grid when ``mm_per_px`` is known. About 1 for
    a sharp photograph (the octaves of a 1/f**2 spectrum have equal energy, and the ratio
    is normalised so), lower the more it is blurred; None when the skin is too small to
    tell. Dimensionless; compare two photographs at the same pixels per face."""
    import cv2

    from dermatrack.imaging.wrinkles import working_pixel_mm

    gray = cv2.cvtColor(np.ascontiguousarray(rgb8), cv2.COLOR_RGB2GRAY)
    pixel = working_pixel_mm(mm_per_px)
    factor = pixel / mm_per_px if (pixel and mm_per_px) else max(1.0, max(gray.shape) / 1600)
    if skin is not None:
        rows = np.flatnonzero(skin.any(axis=1))
        cols = np.flatnonzero(skin.any(axis=0))
        if rows.size < 8 or cols.size < 8:
            return None
        sl = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        gray, skin = gray[sl], skin[sl]
    if factor > 1.0:
        shape = (max(int(gray.shape[1] / factor), 1), max(int(gray.shape[0] / factor), 1))
        gray = cv2.resize(np.ascontiguousarray(gray), shape, interpolation=cv2.INTER_AREA)
        if skin is not None:
            skin = cv2.resize(skin.astype(np.uint8), shape,
                              interpolation=cv2.INTER_NEAREST).astype(bool)
    gray = np.asarray(gray, np.float32)
    if min(gray.shape) < 16:
        return None
    g05 = cv2.GaussianBlur(gray, (0, 0), 0.5)
    g1 = cv2.GaussianBlur(gray, (0, 0), 1.0)
    g2 = cv2.GaussianBlur(gray, (0, 0), 2.0)
    fine, coarse = g05 - g1, g1 - g2
    if skin is not None:
        # The crop's edge counts as the skin's edge: else the skin's last rows, at the
        # crop's edge, keep what lies just beyond them (the tick marks of a ruler laid on
        # a close-up made it twice as "sharp" as the same skin without the ruler).
        inner = cv2.erode(skin.astype(np.uint8), np.ones((5, 5), np.uint8),
                          borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        if inner.sum() < 64:
            return None
        fine, coarse = fine[inner], coarse[inner]
    e_coarse = float(np.mean(coarse.astype(np.float64) ** 2))
    if e_coarse <= 1e-9:
        return None
    # Octave energies of a 1/f**2 spectrum are equal; the octave ratio of the DoG bands
    # is normalised by that of white noise's ideal (fine band 4x the coarse) / 4 = 1.
    return float(np.sqrt(np.mean(fine.astype(np.float64) ** 2) / e_coarse))


def skin_detail(rgb8: np.ndarray, skin: np.ndarray, features: np.ndarray,
                mm_per_px: float | None) -> float | None:
    """The skin's fine texture over that of the eyes, brows, lips and nostrils: the RMS
    (L*) of the finest band of lightness, a Gaussian of 0.5 px minus one of 2 px on the
    wrinkle maps' working grid when the scale is known, over ``skin`` divided by the
    same over ``features`` (bool masks; dimensionless), or None when either is too small.

    Compared between two photographs of one face: blur and exposure lower or raise both
    alike, a phone's skin-smoothing (beauty) mode smooths the skin and keeps the features
    sharp, and a treatment changes the skin's lines but not the features (see
    :data:`SKIN_DETAIL_TOLERANCE_RATIO`)."""
    import cv2

    from dermatrack.imaging.wrinkles import working_pixel_mm

    lightness = cv2.cvtColor(np.ascontiguousarray(rgb8), cv2.COLOR_RGB2LAB)[..., 0]
    lightness = lightness.astype(np.float32) * (100.0 / 255.0)
    pixel = working_pixel_mm(mm_per_px)
    factor = pixel / mm_per_px if (pixel and mm_per_px) else 1.0
    grid = None
    if factor > 1.0:
        grid = (max(int(lightness.shape[1] / factor), 1),
                max(int(lightness.shape[0] / factor), 1))
        lightness = cv2.resize(lightness, grid, interpolation=cv2.INTER_AREA)
    band = cv2.GaussianBlur(lightness, (0, 0), 0.5) - cv2.GaussianBlur(lightness, (0, 0), 2.0)

    def rms_on(mask: np.ndarray) -> float | None:
        mask = mask.astype(np.uint8)
        if grid is not None:
            mask = cv2.resize(mask, grid, interpolation=cv2.INTER_NEAREST)
        inner = cv2.erode(mask, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_CONSTANT,
                          borderValue=0) > 0
        if inner.sum() < 64:
            return None
        return float(np.sqrt(np.mean(band[inner].astype(np.float64) ** 2)))

    on_skin, on_features = rms_on(skin), rms_on(features)
    if on_skin is None or not on_features:
        return None
    return on_skin / on_features


def median_chroma(rgb8_pixels: np.ndarray) -> float | None:
    """Median CIELAB chroma C*ab (D65) of ``(n, 3)`` uint8 sRGB pixels; None for none."""
    import cv2

    if len(rgb8_pixels) == 0:
        return None
    lab = cv2.cvtColor(rgb8_pixels.reshape(-1, 1, 3).astype(np.float32) / 255.0,
                       cv2.COLOR_RGB2Lab).reshape(-1, 3)
    return float(np.median(np.hypot(lab[:, 1], lab[:, 2])))


def _turn_words(clockwise_deg: int) -> str:
    """A clockwise turn of 90, 180 or 270 degrees in words."""
    return {90: "90° clockwise", 180: "180°", 270: "90° counter-clockwise"}[clockwise_deg]


def assess_capture(rgb: np.ndarray, *, landmarks: np.ndarray | None = None,
                   landmark_depth: np.ndarray | None = None,
                   skin: np.ndarray | None = None, mm_per_px: float | None = None,
                   face_mode: bool = True, face_turn_deg: int | None = None,
                   other_faces: int = 0, features: np.ndarray | None = None
                   ) -> CaptureQuality:
    """Judge a photograph's fitness for the skin metrics.

    Parameters
    ----------
    rgb : (H, W, 3) sRGB image, float in [0, 1] or uint8
    landmarks : (N, 2) FaceMesh landmarks in pixels, or None when no face was found
    landmark_depth : (N,) their z in pixels, optional (better yaw and pitch)
    skin : (H, W) bool mask of the analysed skin, optional (clipping and sharpness are
        measured on it; the whole frame otherwise)
    mm_per_px : pixel size in mm, or None when unknown
    face_mode : True when a face is expected (``photo analyze`` without ``--no-face``)
    face_turn_deg : without a face, the clockwise turn (degrees) at which one is found
        (``regions.face_turn``): the refusal then says to turn the photograph upright
    other_faces : faces in the frame besides the one measured, at least half as wide
        (``regions.FaceRegions.other_faces``): the largest was measured, which may not
        be the patient, so the verdict is ``poor``
    features : (H, W) bool mask of the eyes, brows, lips and nostrils
        (``regions.facial_features``), optional: with ``skin``, gives ``skin_detail``

    Returns
    -------
    CaptureQuality
    """
    from dermatrack.imaging.definitions import not_measurable

    rgb8 = _to_uint8(rgb)
    face_found = landmarks is not None
    skin_fraction = skin_colour_fraction(rgb8)
    reasons: list[str] = []
    verdict: Verdict = "good"

    yaw = pitch = roll = outside = mouth_width = mouth_opening = None
    if face_found:
        points = np.asarray(landmarks, np.float64)
        yaw, pitch, roll = head_pose(points, landmark_depth)
        mouth_width, mouth_opening = mouth_shape(points)
        height, width = rgb8.shape[:2]
        outside = float(np.mean((points[:, 0] < 0) | (points[:, 1] < 0)
                                | (points[:, 0] > width - 1) | (points[:, 1] > height - 1)))

    # A regular sample of about 250 000 pixels is plenty for a fraction.
    step = max(1, int(math.sqrt(rgb8.shape[0] * rgb8.shape[1] / 250_000)))
    sample = rgb8[::step, ::step]
    on_skin = skin is not None and np.any(skin)
    px = sample[np.asarray(skin, bool)[::step, ::step]] if on_skin else sample.reshape(-1, 3)
    luma = px.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    clipped = float(np.mean((px.max(axis=1) >= 250) | (luma <= 5)))
    chroma = median_chroma(px)
    colourless = chroma is not None and chroma < MIN_SKIN_CHROMA
    sharp = sharpness(rgb8, None if skin is None else np.asarray(skin, bool), mm_per_px)
    detail = (skin_detail(rgb8, np.asarray(skin, bool), np.asarray(features, bool), mm_per_px)
              if skin is not None and features is not None else None)
    too_coarse = not_measurable(mm_per_px)
    missing = not_measurable(mm_per_px, colourless=colourless)

    if face_mode and not face_found and face_turn_deg:
        verdict = "refused"
        reasons.append(f"no face found as the photograph is, but one is found with it "
                       f"turned {_turn_words(face_turn_deg)}: it is stored "
                       f"{'upside down' if face_turn_deg == 180 else 'sideways'} without "
                       "an orientation tag. Turn it upright and analyse it again")
    elif face_mode and not face_found:
        verdict = "refused"
        reasons.append(f"no face found ({skin_fraction:.0%} of the frame has the colour of "
                       "skin); this does not look like a face photograph. For a close-up "
                       "of skin use --no-face" + _too_dark_words(rgb8))
    elif not face_mode and skin_fraction < MIN_SKIN_FRACTION_CLOSEUP:
        verdict = "refused"
        reasons.append(f"only {skin_fraction:.0%} of the frame has the colour of skin "
                       f"(needs {MIN_SKIN_FRACTION_CLOSEUP:.0%}); this does not look like a "
                       "close-up of skin" + _too_dark_words(rgb8))
    else:
        if face_found:
            for name, value in (("yaw", yaw), ("pitch", pitch), ("roll", roll)):
                if value is not None and abs(value) > MAX_POSE_DEG:
                    reasons.append(f"head {name} {value:+.0f}° (more than ±{MAX_POSE_DEG:.0f}°)")
            if roll is not None and abs(roll) > SIDEWAYS_ROLL_DEG:
                # Positive roll is clockwise: turning the photograph back undoes it.
                reasons.append("the photograph looks stored sideways: turn it "
                               f"{_turn_words(90 if roll < 0 else 270)} to make it upright")
        if outside is not None and outside > MAX_FACE_OUTSIDE:
            reasons.append(f"the face is cut by the frame: {outside:.0%} of its landmarks "
                           "fall outside, so its regions are incomplete and its figures "
                           "smaller than the face's")
        if face_found and other_faces:
            reasons.append(f"{other_faces + 1} faces in the frame: the largest was measured; "
                           "check it is the patient's, or crop the photograph to it")
        if sharp is not None and sharp < MIN_SHARPNESS:
            reasons.append(f"blurred (sharpness {sharp:.2f}, needs >= {MIN_SHARPNESS})")
        if clipped > MAX_CLIPPED_FRACTION:
            reasons.append(f"{clipped:.0%} of the skin is clipped (over- or under-exposed; "
                           f"at most {MAX_CLIPPED_FRACTION:.0%})")
        if reasons:
            verdict = "poor"
        if too_coarse:
            families = sorted({code.split(".")[0] if not code.startswith("pigment.spot")
                               else "spots" for code in too_coarse})
            reasons.append(f"at {mm_per_px:.2f} mm/px not measurable: {', '.join(families)}")
        if colourless:
            reasons.append(f"no colour: the skin's median chroma C* is {chroma:.1f} (under "
                           f"{MIN_SKIN_CHROMA}, one just-noticeable difference), a "
                           "black-and-white photograph; skin tone and redness not measurable")
        if missing and verdict == "good":
            verdict = "usable"
        if mm_per_px is None:
            reasons.append("physical scale unknown: lengths and areas in pixels")
            if verdict == "good":
                verdict = "usable"
    return CaptureQuality(face_mode=face_mode, face_found=face_found, yaw_deg=yaw,
                          pitch_deg=pitch, roll_deg=roll, sharpness=sharp,
                          clipped_fraction=clipped, skin_fraction=skin_fraction,
                          mm_per_px=mm_per_px, face_outside_fraction=outside,
                          skin_chroma=chroma, mouth_width=mouth_width,
                          mouth_opening=mouth_opening, skin_detail=detail,
                          not_measurable=missing, verdict=verdict,
                          reasons=tuple(reasons))


#: Tolerances between the two photographs of a comparison, beyond which the change
#: figures may show the capture rather than the skin.
#: Head pose: 10° changes the projected width of a cheek by 1 - cos(10°) = 1.5 % and
#: moves shading and wrinkle contrast visibly (Hernandez 2021: lighting angle beyond
#: 30° changed expert ratings; pose acts the same way).
POSE_TOLERANCE_DEG = 10.0
#: Pixel size ratio: beyond 1.5x the two photographs resolve different detail (the
#: resampling range over which the real-photo validation checks invariance).
SCALE_TOLERANCE_RATIO = 1.5
#: Exposure ratio from the skin's median L* (Y ~ ((L* + 16) / 116)**3): the maps are
#: normalised for exposure, the uncalibrated colour figures are not; beyond ±20 % they
#: move by more than their stated uncertainty.
EXPOSURE_TOLERANCE = 0.2
#: White balance: the skin's median a* or b* moving by more than this (about twice the
#: just-noticeable difference, Delta E*ab 2.3) with the exposure already discounted.
WHITE_BALANCE_TOLERANCE = 4.0
#: Expression: the mouth's width or opening (:func:`mouth_shape`, face widths) differing
#: by more than this: about half the gap between the relaxed and the smiling faces of the
#: real-photo validation (widths 0.37-0.42 against 0.47-0.53; openings under 0.01 against
#: 0.06-0.11), and ten times the landmarks' movement between captures of one face (0.33 %
#: of its width). Smiling deepens the crow's feet and the nasolabial folds; standardised
#: clinical photographs are taken with the face relaxed and the mouth closed.
EXPRESSION_TOLERANCE = 0.04
#: Sharpness: one photograph of a pair with less than this fraction of the other's
#: sharpness (the module's octave ratio, on each photograph's skin). Blur takes fine lines
#: away: a Gaussian blur of 0.9-1.1 px took 0-35 % of the whole-face wrinkle length from
#: the validation's real faces (sharpness ratio 0.40-0.77), so a follow-up photographed
#: out of focus or with camera shake reads as an improvement. Over the fourteen captures
#: of the real-photo validation and its held-out set (resampled 0.67-1.5x, rotated 5-15°,
#: moved half a pixel, re-exposed, recompressed), none of which moves the wrinkle figures
#: beyond their repeatability, the ratio was never below 0.65 (docs/metrics.md,
#: "Capture quality"); below 0.6 the pair is named.
SHARPNESS_TOLERANCE_RATIO = 0.6
#: Skin detail (:func:`skin_detail`): one photograph of a pair whose skin has less than
#: this fraction of the other's fine texture, measured against its own eyes, brows and
#: lips. A phone's skin-smoothing (beauty) mode takes lines away and keeps the features
#: sharp, which the sharpness ratio mostly does not see. ``benchmarks/sharpness_pairs.py``
#: on the validation's real faces: their fourteen captures gave 0.67-1.18 (blur of
#: 0.5-1.1 px 0.69 and up), the drawn forehead lines and crow's feet taken away again (a
#: treatment that works) 0.95-1.02, while a 2 px blur of the skin alone gave 0.35-0.56
#: and took 9-58 % of the lines (named by the sharpness ratio on 2 faces of 8). The
#: sharpness's own tolerance sits in that gap, so it is used; a milder smoother (a
#: bilateral filter on the skin, 0.62-0.90) is not caught.
SKIN_DETAIL_TOLERANCE_RATIO = SHARPNESS_TOLERANCE_RATIO


def skin_colour_stats(rgb: np.ndarray, skin: np.ndarray) -> dict[str, float] | None:
    """Median CIELAB L*, a*, b* of the skin pixels (at most 200 000 sampled)."""
    import cv2

    skin = np.asarray(skin, bool)
    count = int(np.count_nonzero(skin))
    if not count:
        return None
    # A regular grid of at most about 200 000 skin pixels, taken before gathering them:
    # gathering every pixel of a 12 MP close-up first made a 144 MB copy.
    step = max(1, math.ceil(math.sqrt(count / 200_000)))
    px = np.asarray(rgb)[::step, ::step][skin[::step, ::step]].astype(np.float32)
    lab = cv2.cvtColor(np.clip(px, 0, 1).reshape(-1, 1, 3), cv2.COLOR_RGB2Lab).reshape(-1, 3)
    med = np.median(lab, axis=0)
    return {"l_star": float(med[0]), "a_star": float(med[1]), "b_star": float(med[2])}


def _fallen_short(before: float | None, after: float | None, tolerance: float
                  ) -> tuple[str, float] | None:
    """Which photograph of a pair (``before`` or ``after``) has less than ``tolerance`` of
    the other's figure, and what fraction; None when neither has, or a figure is
    missing."""
    if not before or not after:
        return None
    ratio = after / before
    if min(ratio, 1.0 / ratio) >= tolerance:
        return None
    return ("after", ratio) if ratio < 1.0 else ("before", 1.0 / ratio)


def fine_detail_differs(before: CaptureQuality, after: CaptureQuality) -> bool:
    """Whether one photograph of a pair is blurred against the other or its skin smoothed
    (the "sharpness" and "skin detail" sentences of :func:`capture_differences`): the
    figures that need fine detail
    (:func:`~dermatrack.imaging.definitions.needs_fine_detail`) then differ by the
    capture, and fall in the blurred or smoothed one."""
    return (_fallen_short(before.sharpness, after.sharpness, SHARPNESS_TOLERANCE_RATIO)
            is not None or _fallen_short(before.skin_detail, after.skin_detail,
                                         SKIN_DETAIL_TOLERANCE_RATIO) is not None)


def capture_differences(before: CaptureQuality, after: CaptureQuality,
                        colour_before: dict[str, float] | None,
                        colour_after: dict[str, float] | None, *,
                        calibrated: bool = False) -> list[str]:
    """Plain sentences, one per way the two captures of a comparison differ beyond the
    tolerances above (pose, expression, sharpness, skin detail, scale, exposure, white
    balance), or where one of them cannot be compared (a face cut by the frame, no
    colour); empty when they match.

    ``colour_*`` are :func:`skin_colour_stats` of each photograph as taken. With
    ``calibrated`` (both colour-corrected on a chart) colour differences are the skin's
    and are not reported.
    """
    out: list[str] = []
    for name in ("yaw", "pitch", "roll"):
        a, b = getattr(before, f"{name}_deg"), getattr(after, f"{name}_deg")
        if a is not None and b is not None and abs(b - a) > POSE_TOLERANCE_DEG:
            out.append(f"pose: head {name} differs by {b - a:+.0f}° (tolerance "
                       f"±{POSE_TOLERANCE_DEG:.0f}°)")
    from dermatrack.imaging.definitions import not_measurable

    if before.face_found != after.face_found:
        out.append("pose: a face was found in only one of the two photographs")
    for label, a, b in (("width", before.mouth_width, after.mouth_width),
                        ("opening", before.mouth_opening, after.mouth_opening)):
        if a is not None and b is not None and abs(b - a) > EXPRESSION_TOLERANCE:
            out.append(f"expression: the mouth's {label} differs by {b - a:+.2f} face widths "
                       f"(tolerance ±{EXPRESSION_TOLERANCE:g}; a smile or an open mouth in "
                       "one photograph): expression lines, crow's feet and nasolabial "
                       "folds, change with it")
    blurred = _fallen_short(before.sharpness, after.sharpness, SHARPNESS_TOLERANCE_RATIO)
    if blurred is not None:
        out.append(f"sharpness: the {blurred[0]} photograph is blurred against the other "
                   f"(sharpness {before.sharpness:.2f} before, {after.sharpness:.2f} "
                   f"after; tolerance {SHARPNESS_TOLERANCE_RATIO:g}x): fine lines fade "
                   "with blur, so fewer are found in it")
    smoothed = _fallen_short(before.skin_detail, after.skin_detail,
                             SKIN_DETAIL_TOLERANCE_RATIO)
    if smoothed is not None:
        out.append(f"skin detail: the {smoothed[0]} photograph's skin has "
                   f"{smoothed[1]:.2f} of the other's fine texture while its eyes, brows "
                   f"and lips keep theirs (tolerance {SKIN_DETAIL_TOLERANCE_RATIO:g}x): a "
                   "phone's beauty or skin-smoothing mode does this, and takes lines away; "
                   "turn it off and retake")
    for which, quality in (("before", before), ("after", after)):
        cut = quality.face_outside_fraction
        if cut is not None and cut > MAX_FACE_OUTSIDE:
            out.append(f"framing: the face is cut by the frame in the {which} photograph "
                       f"({cut:.0%} of its landmarks outside; at most "
                       f"{MAX_FACE_OUTSIDE:.0%})")
        if quality.skin_chroma is not None and quality.skin_chroma < MIN_SKIN_CHROMA:
            out.append(f"colour: the {which} photograph has no colour (black and white): "
                       "skin tone and redness cannot be compared")
    if before.mm_per_px and after.mm_per_px:
        ratio = after.mm_per_px / before.mm_per_px
        if ratio > SCALE_TOLERANCE_RATIO or ratio < 1.0 / SCALE_TOLERANCE_RATIO:
            out.append(f"scale: {before.mm_per_px:.3f} vs {after.mm_per_px:.3f} mm/px "
                       f"(ratio {ratio:.2f}; tolerance {SCALE_TOLERANCE_RATIO:g}x)")
        lost = sorted(set(not_measurable(after.mm_per_px))
                      ^ set(not_measurable(before.mm_per_px)))
        if lost:
            families = sorted({c.split(".")[0] for c in lost})
            out.append("scale: measurable in only one photograph: " + ", ".join(families))
    if colour_before and colour_after and not calibrated:
        k = ((colour_after["l_star"] + 16.0) / (colour_before["l_star"] + 16.0))
        exposure = k ** 3
        if abs(exposure - 1.0) > EXPOSURE_TOLERANCE:
            out.append(f"lighting: exposure of the skin differs by {exposure - 1.0:+.0%} "
                       f"(tolerance ±{EXPOSURE_TOLERANCE:.0%})")
        for key, label in (("a_star", "a*"), ("b_star", "b*")):
            shift = colour_after[key] / k - colour_before[key]
            if abs(shift) > WHITE_BALANCE_TOLERANCE:
                out.append(f"lighting: white balance differs (skin {label} {shift:+.1f} "
                           f"after discounting exposure; tolerance "
                           f"±{WHITE_BALANCE_TOLERANCE:g})")
    return out
