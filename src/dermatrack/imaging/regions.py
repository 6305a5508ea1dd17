"""Face landmarks, a skin mask and the anatomical regions that the metrics report on.

Landmarks come from MediaPipe FaceMesh (mediapipe 0.10.21, whose model ships inside the
wheel; 478 points with the iris refinement). Each region is a polygon through fixed
landmark indices, filled at full resolution, intersected with a skin mask so that hair,
background and clothing never count, and with the eyes, brows, lips and nostrils cut
out. Regions never overlap: they are painted into one label image.

Left and right are the subject's own (``cheek_left`` is the cheek that appears on the
right of a frontal photograph), as in MediaPipe's ``FACEMESH_LEFT_EYE``.

References
----------
- Kartynnik, Ablavatski, Grishchenko & Grundmann (2019), "Real-time facial surface
  geometry from monocular video on mobile GPUs", CVPR Workshops (arXiv 1907.06724).
- Chai & Ngan (1999), "Face segmentation using skin-color map in videophone
  applications", IEEE Trans. Circuits Syst. Video Technol. 9(4):551-564 (the Cr/Cb
  skin ranges used as the starting point of the skin mask).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "EYE_POLYGONS",
    "REGION_NAMES",
    "FaceRegions",
    "face_regions",
    "face_turn",
    "face_without_features",
    "facial_features",
    "line_exclusion_bands",
    "non_skin_edge_band",
    "region_overlay",
    "single_region",
    "skin_mask",
]

REGION_NAMES = ("forehead", "glabella", "periorbital_left", "periorbital_right",
                "cheek_left", "cheek_right", "nose", "perioral", "chin")

# FaceMesh landmark indices. "right" lists are the subject's right (left of the image).
_FOREHEAD_LOWER = (70, 63, 105, 66, 107, 108, 151, 337, 336, 296, 334, 293, 300)
_FOREHEAD_TOP = (301, 251, 284, 332, 297, 338, 10, 109, 67, 103, 54, 21, 71)
_GLABELLA = (55, 107, 108, 151, 337, 336, 285, 168)
_PERIORBITAL_RIGHT = (55, 65, 52, 53, 46, 156, 139, 127, 234, 227, 116, 117, 118, 119,
                      120, 121, 128, 245, 193)
_PERIORBITAL_LEFT = (285, 295, 282, 283, 276, 383, 368, 356, 454, 447, 345, 346, 347,
                     348, 349, 350, 357, 465, 417)
_CHEEK_RIGHT = (116, 117, 118, 119, 120, 47, 126, 209, 129, 203, 206, 216, 212, 214,
                192, 213, 147, 123)
_CHEEK_LEFT = (345, 346, 347, 348, 349, 277, 355, 429, 358, 423, 426, 436, 432, 434,
               416, 433, 376, 352)
# The nose shares no landmarks with the periorbital and cheek polygons: the strip between
# them, along each side of the nose, belongs to no region. It holds the nose's side
# shading, which the valley filter takes for lines (giving the strips to the nearest
# region was tried and not kept: docs/metrics.md, "Soft band edges").
_NOSE = (168, 122, 188, 114, 217, 198, 131, 49, 220, 45, 4, 275, 440, 279, 360, 420,
         437, 343, 412, 351)
_PERIORAL = (2, 97, 98, 203, 206, 216, 212, 202, 204, 194, 201, 200, 421, 418, 424, 422,
             432, 436, 426, 423, 327, 326)
_CHIN = (212, 202, 204, 194, 201, 200, 421, 418, 424, 422, 432, 434, 430, 394, 379, 378,
         400, 377, 152, 148, 176, 149, 150, 169, 210, 214)

_RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
_LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
_RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
_LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181,
         91, 146)
_RIGHT_NOSTRIL = (49, 64, 98, 97, 2, 94, 19, 1, 45, 220, 115)
_LEFT_NOSTRIL = (279, 294, 327, 326, 2, 94, 19, 1, 275, 440, 344)
#: The outlines of the two eyes (the subject's right, then left).
EYE_POLYGONS = (_RIGHT_EYE, _LEFT_EYE)
_RIGHT_IRIS = (469, 471)  # horizontal ends of the subject's right iris
_LEFT_IRIS = (474, 476)

# Polygons painted in this order (later ones win where polygons touch).
_REGION_POLYGONS: tuple[tuple[str, tuple[int, ...] | None], ...] = (
    ("forehead", None),  # built from _FOREHEAD_LOWER and _FOREHEAD_TOP
    ("chin", _CHIN),
    ("cheek_right", _CHEEK_RIGHT),
    ("cheek_left", _CHEEK_LEFT),
    ("perioral", _PERIORAL),
    ("periorbital_right", _PERIORBITAL_RIGHT),
    ("periorbital_left", _PERIORBITAL_LEFT),
    ("nose", _NOSE),
    ("glabella", _GLABELLA),
)

#: How far above the top of the mesh the forehead polygon reaches, as a fraction of the
#: face height (mesh top to chin). The mesh stops at mid-forehead; the skin mask then
#: trims whatever hair or background this extension takes in.
FOREHEAD_EXTENSION = 0.2

#: Long side of the copy FaceMesh runs on, pixels.
LANDMARK_SIZE = 960

#: The copies FaceMesh runs on, as (in-plane rotation in degrees, scale factor) about the
#: face's centre; the landmarks are the mean of the runs, each mapped back. One run's
#: landmarks move by about 0.65 % of the eye-corner distance (1.1 % on the face contour)
#: when the same face is photographed rotated or at another size, and every region, band
#: and the iris scale move with them; the errors of runs on slightly moved copies are
#: partly independent, and their mean moves by half as much (0.33 %, 0.56 % on the
#: contour; medians over seven real faces, each rotated by ±5, ±10 and 15 degrees and
#: resampled 0.67x and 1.5x). Test-time augmentation (e.g. Wang et al., Neurocomputing
#: 338:34, 2019): small moves, well inside the poses FaceMesh is trained for, so each run
#: sees the same face. The first run, on the copy as it is, decides whether there is one.
LANDMARK_RUNS = ((0.0, 1.0), (4.0, 1.0), (-4.0, 1.0), (0.0, 0.88), (0.0, 1.12),
                 (2.0, 0.94), (-2.0, 1.06))

#: Edge of the skin: the hairline, strands of hair over the skin, the face contour, the
#: rims of glasses, and the boundary with any non-skin area of at least
#: ``EDGE_MIN_AREA_MM2``: a step from skin to something darker is a line to a valley
#: filter on its skin side.
EDGE_BAND_MM = 3.0

_EXCLUSION_MARGIN = 0.012  # margin around eyes, brows, lips, nostrils; fraction of face width


@dataclass
class FaceRegions:
    """Region masks of one photograph.

    Attributes
    ----------
    detected:
        True when FaceMesh found a face.
    masks:
        Region name -> bool ``(H, W)`` mask. Always holds ``"whole"``: every analysed
        skin pixel (the union of the regions when a face was found).
    landmarks:
        ``(478, 2)`` float pixel coordinates (x, y) in the full-resolution image, or None.
    iris_diameter_px:
        Mean horizontal visible iris diameter of the two eyes, pixels, or None.
    skin_mask:
        Bool ``(H, W)`` skin-likelihood mask of the whole image.
    """

    detected: bool
    masks: dict[str, np.ndarray]
    landmarks: np.ndarray | None
    iris_diameter_px: float | None
    skin_mask: np.ndarray
    exclusion_mask: np.ndarray | None = field(default=None, repr=False)
    #: ``(478,)`` landmark depth z in pixels (MediaPipe's z times the image width;
    #: smaller is nearer the camera), or None.
    landmark_depth: np.ndarray | None = field(default=None, repr=False)
    #: Bool ``(H, W)``: the bands where lines are not wrinkles (see
    #: :func:`line_exclusion_bands`), or None without a face.
    line_exclusion: np.ndarray | None = field(default=None, repr=False)
    #: Faces in the frame besides the one measured, at least OTHER_FACE_MIN_RATIO as
    #: wide: the measured one is the largest, which may not be the patient.
    other_faces: int = 0
    #: Width (mm) of the band along the edges of what is not skin that these regions'
    #: ``line_exclusion`` was built with: ``EDGE_BAND_MM`` on a face,
    #: :func:`closeup_edge_band_mm` on a close-up of known scale. A comparison bands
    #: the edge of what a follow-up hides by the same width.
    edge_band_mm: float = EDGE_BAND_MM

    @property
    def features(self) -> np.ndarray | None:
        """Bool ``(H, W)``: the eyes, brows, lips and nostrils (:func:`facial_features`),
        or None without a face."""
        if self.landmarks is None:
            return None
        return facial_features(self.skin_mask.shape[:2], self.landmarks)

    @property
    def open_skin(self) -> np.ndarray:
        """Bool ``(H, W)``: the analysed skin outside the line-exclusion bands, where a
        dark line can be a wrinkle (all of it when there are no bands)."""
        whole = self.masks["whole"]
        return whole & ~self.line_exclusion if self.line_exclusion is not None else whole.copy()


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    import cv2

    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return np.ascontiguousarray(rgb)
    # Saturating, rounding conversion in one OpenCV pass (values are sRGB in [0, 1]).
    return cv2.convertScaleAbs(np.ascontiguousarray(rgb, dtype=np.float32), alpha=255.0)


_MESH_LOCK = threading.Lock()


@contextlib.contextmanager
def _native_logs_silenced() -> Any:
    """Silence what MediaPipe's C++ (absl, glog, TensorFlow Lite) writes straight to the
    process's standard error while its graph loads and first runs ("All log messages
    before absl::InitializeLog()", "Created TensorFlow Lite XNNPACK delegate", feedback
    tensor warnings): they say nothing to a user. ``DERMATRACK_DEBUG`` keeps them."""
    if os.environ.get("DERMATRACK_DEBUG"):
        yield
        return
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to redirect
        yield
        return
    try:
        sys.stderr.flush()
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=1)
def _face_mesh() -> Any:
    """One FaceMesh graph per process: loading the model costs more than a photo's
    inference; it is loaded, and run once on a blank image, with the native log lines
    silenced (:func:`_native_logs_silenced`)."""
    with _native_logs_silenced():
        import mediapipe as mp

        mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True,
                                               max_num_faces=MAX_FACES)
        mesh.process(np.zeros((64, 64, 3), np.uint8))
    return mesh


@lru_cache(maxsize=1)
def _face_detector() -> Any:
    """MediaPipe's full-range face detector (BlazeFace, model 1: faces up to about 5 m
    from the camera), which ships in the mediapipe wheel; loaded once per process."""
    with _native_logs_silenced():
        import mediapipe as mp

        detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=FACE_DETECTION_CONFIDENCE)
        detector.process(np.zeros((64, 64, 3), np.uint8))
    return detector


#: Least fraction of a face's hull (the landmarks' convex hull: skin, eyes, brows, lips,
#: glasses, beard) in the fixed skin-colour range (``quality.skin_colour_mask``) for a
#: face FaceMesh finds to be taken for one. FaceMesh also finds "faces" in objects: in
#: scikit-image's colour wheel (0.05 of its hull skin-coloured) and its coffee cup
#: turned a quarter (0.19); the real faces give 0.70-0.99 (grace_hopper's glasses and
#: faded photograph the least; the shared faces at every quarter turn). The limit sits
#: between the two (0.36 is their geometric mean). A colour cast can push a real face
#: under it, so a face that fails it still counts when the full-range detector agrees
#: (:func:`_is_a_face`).
MIN_FACE_SKIN = 0.35


def _looks_like_skin(image: np.ndarray, points: np.ndarray) -> bool:
    """True when at least :data:`MIN_FACE_SKIN` of the hull of ``points`` (landmarks in
    ``image``'s pixels) in ``image`` (uint8 sRGB) has the colour of skin, or when the
    hull has no colour (a black-and-white photograph, median chroma under
    ``quality.MIN_SKIN_CHROMA``), which colour cannot judge."""
    import cv2

    from dermatrack.imaging.quality import MIN_SKIN_CHROMA, median_chroma, skin_colour_mask

    hull = cv2.convexHull(np.round(points[:, :2]).astype(np.int32))
    x, y, w, h = cv2.boundingRect(hull)
    filled = np.zeros((h, w), np.uint8)
    cv2.fillPoly(filled, [hull - [x, y]], 1)
    window = image[y:y + h, x:x + w]
    inside = filled[:window.shape[0], :window.shape[1]] > 0
    if not inside.any():
        return False
    chroma = median_chroma(window[inside])
    if chroma is not None and chroma < MIN_SKIN_CHROMA:
        return True
    return bool(skin_colour_mask(window)[inside].mean() >= MIN_FACE_SKIN)


#: Score a full-range detection needs (MediaPipe's default).
FACE_DETECTION_CONFIDENCE = 0.5
#: Side of the crop FaceMesh is run on around a face too small in the frame for it, in
#: face widths (the detector's box is about cheek to cheek): the head with a margin,
#: framed as the close photographs FaceMesh's own short-range detector is made for (a
#: face filling about 40 % of it).
FACE_CROP_WIDTHS = 2.5


def _face_boxes(small: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, y0, width, height, relative to ``small``'s width and height) of the
    faces the full-range detector finds in ``small``, the largest first."""
    with _MESH_LOCK:
        detector = _face_detector()
        with _native_logs_silenced():
            result = detector.process(np.ascontiguousarray(small))
    boxes = [(b.xmin, b.ymin, b.width, b.height) for b in
             (d.location_data.relative_bounding_box for d in result.detections or [])]
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


def _largest_face_box(small: np.ndarray) -> tuple[float, float, float] | None:
    """Centre x, y and side (relative to ``small``'s width and height, the side to its
    width) of the largest face the full-range detector finds in ``small``, or None."""
    boxes = _face_boxes(small)
    if not boxes:
        return None
    x0, y0, width, height = boxes[0]
    h, w = small.shape[:2]
    return x0 + width / 2, y0 + height / 2, max(width, height * h / w)


#: A face too small for the full-range detector on the copy (it found none under about
#: 5 % of the frame's width: 8-10 px in the detector's 192 px input) is looked for on
#: tiles of the photograph this fraction of its long side, overlapping by half, each seen
#: at the copy's size: twice the copy's magnification for two tiles per side.
FACE_TILE_FRACTION = 0.5


def _tile_starts(length: int, side: int) -> list[int]:
    """Starts of tiles of ``side`` covering ``length``, overlapping by half."""
    last = max(length - side, 0)
    return sorted(set(range(0, last + 1, max(side // 2, 1))) | {last})


def _largest_face_in_tiles(rgb8: np.ndarray) -> tuple[float, float, float] | None:
    """Centre x, y and side (full-resolution pixels) of the largest face the full-range
    detector finds on the tiles of :data:`FACE_TILE_FRACTION`, or None (also when a tile
    would show the photograph no larger than the copy does)."""
    height, width = rgb8.shape[:2]
    side = int(round(max(height, width) * FACE_TILE_FRACTION))
    if side <= LANDMARK_SIZE:
        return None
    best: tuple[float, float, float] | None = None
    for y0 in _tile_starts(height, side):
        for x0 in _tile_starts(width, side):
            tile = rgb8[y0:y0 + side, x0:x0 + side]
            box = _largest_face_box(_mesh_copy(tile))
            if box is None:
                continue
            h, w = tile.shape[:2]
            found = (x0 + box[0] * w, y0 + box[1] * h, box[2] * w)
            if best is None or found[2] > best[2]:
                best = found
    return best


def _is_a_face(small: np.ndarray, points: np.ndarray) -> bool:
    """Whether the face FaceMesh found at ``points`` (landmarks in ``small``'s pixels)
    is one: it looks like skin (:func:`_looks_like_skin`), or, when colour cannot say (a
    warm cast of tungsten light pushes real skin out of the fixed range: grace_hopper's
    hull 0.72 → 0.18 with red x1.5 and blue x0.55 in linear light), the full-range
    detector finds a face around its centre. The colour wheel and the turned coffee cup
    fail both; every real face and its tungsten-cast copies passed the detector."""
    if _looks_like_skin(small, points):
        return True
    h, w = small.shape[:2]
    cx, cy = points[:, 0].mean() / w, points[:, 1].mean() / h
    return any(x0 <= cx <= x0 + bw and y0 <= cy <= y0 + bh
               for x0, y0, bw, bh in _face_boxes(small))


def _mesh_points_in_crop(rgb8: np.ndarray, centre: tuple[float, float], face_px: float
                         ) -> np.ndarray | None:
    """:func:`_mesh_points_averaged` on a square crop of ``rgb8`` of
    :data:`FACE_CROP_WIDTHS` times ``face_px`` around ``centre`` (full-resolution
    pixels), the landmarks in ``rgb8``'s pixels; None when FaceMesh finds no face."""
    height, width = rgb8.shape[:2]
    half = FACE_CROP_WIDTHS * face_px / 2.0
    x0, x1 = int(max(centre[0] - half, 0)), int(min(centre[0] + half, width))
    y0, y1 = int(max(centre[1] - half, 0)), int(min(centre[1] + half, height))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    crop = np.ascontiguousarray(rgb8[y0:y1, x0:x1])
    points = _mesh_points_averaged(_mesh_copy(crop), crop.shape[1], crop.shape[0])
    if points is None:
        return None
    points[:, 0] += x0
    points[:, 1] += y0
    return points


def _face_mesh_points(rgb8: np.ndarray) -> tuple[np.ndarray | None, int]:
    """FaceMesh landmarks of the photograph's face, (478, 3) x, y, z in its pixels, or
    None. FaceMesh runs on the copy of :data:`LANDMARK_SIZE`. A face it misses there
    because it is small in the frame (its own detector expects a face filling a good
    part of it: it found none 8 % of a 4000 px frame wide, 0.45 mm/px, measurable) is
    looked for with the full-range detector, on the copy and then on tiles of the
    photograph (:data:`FACE_TILE_FRACTION`), and FaceMesh is run on a full-resolution
    crop around the largest face found (:data:`FACE_CROP_WIDTHS`). A face FaceMesh finds
    on the copy must pass :func:`_is_a_face`, one found on a tile must look like skin. With the
    landmarks, how many other faces at least :data:`OTHER_FACE_MIN_RATIO` as wide the
    copy shows."""
    height, width = rgb8.shape[:2]
    small = _mesh_copy(rgb8)
    factor = small.shape[1] / width
    faces = [face for face in _mesh_faces(small, width, height)
             if _is_a_face(small, face[:, :2] * factor)]
    if faces:
        others = sum(_face_width(face) >= OTHER_FACE_MIN_RATIO * _face_width(faces[0])
                     for face in faces[1:])
        return _mesh_points_averaged(small, width, height, first=faces[0]), others
    box = _largest_face_box(small)
    if box is not None:
        # The detector found this face: FaceMesh on the crop needs no second opinion.
        return _mesh_points_in_crop(rgb8, (box[0] * width, box[1] * height),
                                    box[2] * width), 0
    found = _largest_face_in_tiles(rgb8)
    if found is None:
        return None, 0
    points = _mesh_points_in_crop(rgb8, found[:2], found[2])
    # Found on a tile only: the least certain of the three, so it must look like skin.
    if points is None or not _looks_like_skin(small, points[:, :2] * factor):
        return None, 0
    return points, 0


def _mesh_copy(rgb8: np.ndarray) -> np.ndarray:
    """The copy FaceMesh runs on: long side at most :data:`LANDMARK_SIZE` pixels."""
    import cv2

    height, width = rgb8.shape[:2]
    factor = min(1.0, LANDMARK_SIZE / max(height, width))
    if factor == 1.0:
        return np.ascontiguousarray(rgb8)
    return cv2.resize(rgb8, (round(width * factor), round(height * factor)),
                      interpolation=cv2.INTER_AREA)


#: Faces FaceMesh looks for in one photograph. The largest is measured; the others only
#: tell the quality gate that the photograph holds more than the patient.
MAX_FACES = 4
#: A face at least this fraction of the measured face's width (cheek to cheek) counts as
#: another face in the frame (``FaceRegions.other_faces``); smaller ones (people far
#: behind, a portrait on the wall) do not.
OTHER_FACE_MIN_RATIO = 0.5


def _face_width(points: np.ndarray) -> float:
    """Cheek-to-cheek width (landmarks 234 to 454) of one face's landmarks."""
    return float(np.linalg.norm(points[454, :2] - points[234, :2]))


def _mesh_faces(small: np.ndarray, width: int, height: int) -> list[np.ndarray]:
    """FaceMesh landmarks of every face in ``small`` (up to :data:`MAX_FACES`), the
    widest first, each scaled to an image of ``width`` x ``height``: (478, 3) x, y and
    z (depth, in the same pixel units)."""
    # A MediaPipe graph is not safe to run from two threads at once.
    with _MESH_LOCK:
        mesh = _face_mesh()
        with _native_logs_silenced():  # a warning on the first non-square frame
            result = mesh.process(np.ascontiguousarray(small))
    # Normalised coordinates are relative to the small copy's size, which has the same
    # aspect ratio, so scaling by the full size maps them back.
    faces = [np.array([(p.x * width, p.y * height, p.z * width) for p in face.landmark],
                      dtype=np.float64)
             for face in (result.multi_face_landmarks or [])]
    return sorted(faces, key=_face_width, reverse=True)


def _mesh_points(small: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """FaceMesh landmarks of the largest face in ``small`` (:func:`_mesh_faces`), or
    None."""
    faces = _mesh_faces(small, width, height)
    return faces[0] if faces else None


def _mesh_points_averaged(small: np.ndarray, width: int, height: int,
                          first: np.ndarray | None = None) -> np.ndarray | None:
    """:func:`_mesh_points` as the mean of the runs of :data:`LANDMARK_RUNS`: (478, 3)
    x, y and z scaled to an image of ``width`` x ``height``, or None when the copy as it
    is shows no face. A moved copy in which FaceMesh finds no face, or another face (its
    landmarks more than a tenth of the face's width from the first run's, median), adds
    nothing. ``first``: the first run's landmarks when already at hand."""
    import cv2

    if first is None:
        first = _mesh_points(small, width, height)
    if first is None:
        return None
    h, w = small.shape[:2]
    to_small = np.array([w / width, h / height])
    centre = tuple(float(c) for c in first[:, :2].mean(axis=0) * to_small)
    face_width = float(np.linalg.norm(first[454, :2] - first[234, :2]))
    runs = [first]
    for angle, scale in LANDMARK_RUNS[1:]:
        forward = cv2.getRotationMatrix2D(centre, angle, scale)
        moved = cv2.warpAffine(small, forward, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        points = _mesh_points(moved, w, h)  # in the small copy's pixels
        if points is None:
            continue
        back = cv2.invertAffineTransform(forward)
        xy = (points[:, :2] @ back[:, :2].T + back[:, 2]) / to_small
        # z is in the copy's pixels, which the scale enlarged along with the face.
        z = points[:, 2] / scale * (width / w)
        run = np.column_stack([xy, z])
        if np.median(np.linalg.norm(run[:, :2] - first[:, :2], axis=1)) > 0.1 * face_width:
            continue
        runs.append(run)
    return np.mean(runs, axis=0)


def face_turn(rgb: np.ndarray) -> int | None:
    """The clockwise turn (90, 180 or 270 degrees) at which FaceMesh finds a face in a
    photograph where it finds none as the photograph is, or None.

    A photograph stored sideways or upside down without an orientation tag (a scanner,
    an export that dropped the EXIF orientation) shows a face FaceMesh does not find
    upside down; this lets the refusal say to turn it rather than that it is not a face
    photograph. Three FaceMesh runs on the small copy (:func:`_mesh_copy`); a face found
    must pass :func:`_is_a_face`, since FaceMesh sees faces in some objects, and be
    upright at that turn.
    """
    from dermatrack.imaging.quality import SIDEWAYS_ROLL_DEG, head_pose

    small = _mesh_copy(_to_uint8(rgb))
    for clockwise in (180, 90, 270):
        # np.rot90 turns counter-clockwise: k = -1 is a quarter turn clockwise.
        turned = np.ascontiguousarray(np.rot90(small, k=-clockwise // 90))
        points = _mesh_points(turned, turned.shape[1], turned.shape[0])
        # Turned right, the face is upright: FaceMesh also fits a rolled "face" to half a
        # face cut by the frame (toni-collette cut 40 % into the face: roll 58-70° at a
        # quarter turn), which no turn makes upright.
        if (points is not None and _is_a_face(turned, points)
                and abs(head_pose(points[:, :2], points[:, 2])[2]) < SIDEWAYS_ROLL_DEG):
            return clockwise
    return None


#: Darkest skin, as a fraction of the luminance of the subject's median skin
#: (:func:`skin_mask`): hair and deep shadow are darker.
SKIN_MIN_LUMINANCE_RATIO = 0.2


def skin_mask(rgb: np.ndarray, *, seed: np.ndarray | None = None,
              face: np.ndarray | None = None) -> np.ndarray:
    """Pixels whose colour is close to the subject's skin colour.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` sRGB image, float in [0, 1] or uint8.
    seed:
        Optional bool ``(H, W)`` mask of pixels known to be skin (for example the
        central cheeks and nose from the landmarks). Without it, the fixed Cr/Cb skin
        ranges of Chai & Ngan (1999) select the seed (``quality.skin_colour_mask``).
    face:
        Optional bool ``(H, W)`` mask of the face itself (the landmarks' hull), where
        lit skin may be yellower (see Notes).

    Returns
    -------
    numpy.ndarray
        Bool ``(H, W)`` mask.

    Notes
    -----
    Fixed chrominance ranges miss very light and very dark skin and take in blond or
    red hair, so the mask adapts to the subject's own skin, measured on the seed in
    CIELAB as medians and robust standard deviations (1.4826 x MAD) of the hue angle
    h = atan2(b*, a*), the chroma C* and L*:

    - hue no more than max(1.5 SD, 10°) above the median: hair, and most clothing
      and backgrounds, are yellower or more neutral than skin (on scikit-image's
      astronaut, cheek hue 64° with SD 7°, blond fringe 80°). Downwards (towards red)
      the hue may go max(4 SD, 30°), so erythema stays in the mask: it is what the
      redness metrics measure.
    - lit skin: where the light is warmer or stronger than on the cheeks (a lit temple,
      the sheen beside the eyes, a face lit from one side) the skin is yellower, by up
      to 13-16° on the shared faces. Brighter than the seed's median, or inside
      ``face``, the hue may go max(3 SD, 20°) above the median: hair is darker than
      the skin it frames, and inside the landmarks' hull (which stops at mid-forehead)
      there is no hair but a fringe or a beard, darker again or out by chroma.
    - chroma at least 40 % of the median (grey, white and black surfaces are out) and
      at most the median plus max(4 SD, 20).
    - luminance at least ``SKIN_MIN_LUMINANCE_RATIO`` (a fifth) of the median: hair
      and deep shadow are darker. As a ratio of luminance, the test is the same on light
      and dark skin and at any exposure; it is what the earlier test, L* at least half
      the median, gave on the light skin it was set on (L* 70: 21 % of the luminance),
      but on skin of L* 25 that test took a third of the luminance and cut the shadowed
      skin of darker faces out of the mask. Luminance is not bounded above, so
      highlights on the skin stay in.
    """
    import cv2

    rgb8 = _to_uint8(rgb)
    if seed is None:
        from dermatrack.imaging.quality import skin_colour_mask

        seed = skin_colour_mask(rgb8)
    seed = np.asarray(seed, dtype=bool)
    if seed.sum() < 50:
        return np.zeros(rgb8.shape[:2], dtype=bool)
    # 8-bit CIELAB from OpenCV: L* x 255/100, a* + 128, b* + 128.
    lightness, a_code, b_code = cv2.split(cv2.cvtColor(rgb8, cv2.COLOR_RGB2Lab))
    # Averaging chroma over 5x5 pixels removes sensor noise and 8-bit quantisation, which
    # otherwise spread the hue of low-chroma skin by ±10°; skin and hair still differ.
    a_code = cv2.blur(a_code, (5, 5))
    b_code = cv2.blur(b_code, (5, 5))
    codes = np.arange(256, dtype=np.float32) - 128
    hue_table = np.degrees(np.arctan2(codes[None, :], codes[:, None]))  # [a, b]
    chroma_table = np.hypot(codes[:, None], codes[None, :])
    seed_hue = hue_table[a_code[seed], b_code[seed]]
    seed_chroma = chroma_table[a_code[seed], b_code[seed]]

    def centre_and_sd(values: np.ndarray) -> tuple[float, float]:
        centre = float(np.median(values))
        return centre, 1.4826 * float(np.median(np.abs(values - centre)))

    hue, hue_sd = centre_and_sd(seed_hue)
    chroma, chroma_sd = centre_and_sd(seed_chroma)
    hue_offset = (hue_table - hue + 180) % 360 - 180
    chroma_ok = ((chroma_table >= 0.4 * chroma)
                 & (chroma_table <= chroma + max(4.0 * chroma_sd, 20.0)))
    redward = hue_offset >= -max(4.0 * hue_sd, 30.0)
    table = (redward & chroma_ok & (hue_offset <= max(1.5 * hue_sd, 10.0))).astype(np.uint8)
    lit = (redward & chroma_ok & (hue_offset <= max(3.0 * hue_sd, 20.0))).astype(np.uint8)
    # One gather on a combined 16-bit index is much faster than 2-D fancy indexing.
    index = a_code.astype(np.uint16) * np.uint16(256) + b_code.astype(np.uint16)
    accepted = np.take(table.ravel(), index).astype(bool)
    seed_lightness = float(np.median(lightness[seed]))
    lit_here = lightness > seed_lightness
    if face is not None:
        lit_here |= np.asarray(face, bool)
    accepted |= np.take(lit.ravel(), index).astype(bool) & lit_here
    # (L* + 16) is proportional to the cube root of the luminance (CIE 1976, L* > 8);
    # OpenCV's 8-bit L is L* x 255 / 100.
    offset = 16.0 * 255.0 / 100.0
    floor = SKIN_MIN_LUMINANCE_RATIO ** (1.0 / 3.0) * (seed_lightness + offset) - offset
    return accepted & (lightness >= floor)


def _fill(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask.astype(bool)


def _mesh_hull(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """The landmarks' convex hull (the face up to mid-forehead, where the mesh stops)."""
    import cv2

    return _fill(shape, cv2.convexHull(np.round(landmarks).astype(np.int32))[:, 0])


def _forehead_polygon(landmarks: np.ndarray) -> np.ndarray:
    """Brow line up to the mesh top, extended upward along the face's vertical axis."""
    up = landmarks[10] - landmarks[152]
    face_height = float(np.linalg.norm(up))
    up /= max(face_height, 1e-9)
    top = landmarks[list(_FOREHEAD_TOP)] + up * FOREHEAD_EXTENSION * face_height
    lower = landmarks[list(_FOREHEAD_LOWER)]
    return np.concatenate([lower, top])


def facial_features(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """The eyes, brows, lips and nostrils from the landmarks (bool, ``shape``), each
    grown by the exclusion margin: what :func:`face_without_features` leaves out."""
    points = np.asarray(landmarks)[:, :2]
    return _exclusions(shape, points, _face_width(points))


def face_without_features(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """The face from its landmarks alone (bool, ``shape``): their convex hull without the
    eyes, brows, lips and nostrils (grown by the exclusion margin). What a camera frame's
    sharpness is measured on, where the colour skin mask is not worth its cost."""
    return _mesh_hull(shape, np.asarray(landmarks)[:, :2]) & ~facial_features(shape, landmarks)


def _exclusions(shape: tuple[int, int], landmarks: np.ndarray, face_width: float
                ) -> np.ndarray:
    import cv2

    excluded = np.zeros(shape, dtype=np.uint8)
    margin = max(1, int(round(_EXCLUSION_MARGIN * face_width)))
    for polygon in (_RIGHT_EYE, _LEFT_EYE, _RIGHT_BROW, _LEFT_BROW, _LIPS,
                    _RIGHT_NOSTRIL, _LEFT_NOSTRIL):
        points = np.round(landmarks[list(polygon)]).astype(np.int32)
        cv2.fillPoly(excluded, [points], 1)
        # A round-capped outline of width 2 x margin grows the polygon by the margin,
        # as a dilation would, at a fraction of the cost on large images.
        cv2.polylines(excluded, [points], True, 1, thickness=2 * margin + 1,
                      lineType=cv2.LINE_8)
    return excluded.astype(bool)


# Upper eyelid: from the lateral canthus along the upper lid to the medial canthus, then
# back along the lower edge of the brow (subject's right, then left).
_RIGHT_UPPER_LID = (33, 246, 161, 160, 159, 158, 157, 173, 133, 55, 65, 52, 53, 46)
_LEFT_UPPER_LID = (263, 466, 388, 387, 386, 385, 384, 398, 362, 285, 295, 282, 283, 276)

#: Widths of the bands where dark lines are anatomy, not wrinkles (mm).
#: Eyes: the lash lines and lid margins (lashes are 8-12 mm long on the upper lid but lie
#: against it in a frontal photograph; 2.5 mm covers the lash line and lower lashes).
EYE_BAND_MM = 2.5
#: Brows: the brow's lower edge and stray hairs below it.
BROW_BAND_MM = 3.0
#: Lips (vermilion border, the mouth line) and nostrils (the alar groove's shadow).
LIP_BAND_MM = 2.5
NOSTRIL_BAND_MM = 2.5
#: Margin (mm) around the face within which the edge band is built: wider than the band,
#: so that a non-skin area reaching the face keeps the area and the extent beyond the
#: face that decide its band.
EDGE_WINDOW_MM = 20.0
#: Largest whole-frame grid (pixels) the edge band is built on; beyond it, on the face's
#: window (EDGE_WINDOW_MM). About the maps of a 12 MP photograph; the photographs FaceMesh
#: finds a face in by itself (a face at least about a tenth of the frame wide) stay
#: under it, and their bands are as before.
EDGE_GRID_MAX_PIXELS = 16_000_000
EDGE_MIN_AREA_MM2 = 4.0
#: Face width (cheek to cheek, landmarks 234-454) used for mm when no iris is visible.
FACE_WIDTH_MM = 140.0
#: The face's silhouette from temple to temple round the jaw (FaceMesh face oval without
#: its forehead arc, where the mesh stops mid-forehead and forehead lines lie).
_SIDE_CONTOUR = (251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
                 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21)
#: Band along the side contour, as a fraction of the face width. Seen from the front, a
#: face side of half-width R turns more than 60 degrees away from the camera over its
#: outer R (1 - cos 30 deg) = 0.134 R: there lengths are foreshortened more than twice
#: and the light falls off within millimetres, so shading reads as lines.
SIDE_CONTOUR_BAND = 0.5 * (1.0 - math.cos(math.radians(30.0)))


def line_exclusion_bands(shape: tuple[int, int], landmarks: np.ndarray,
                         raw_skin: np.ndarray, px_per_mm: float, *,
                         rgb: np.ndarray | None = None) -> np.ndarray:
    """Bands, built from the landmarks and the skin mask, where dark lines are anatomy
    or objects and not wrinkles.

    Parameters
    ----------
    shape : image (rows, cols)
    landmarks : (478, 2) FaceMesh landmarks, pixels
    raw_skin : bool (H, W) skin-colour mask before any hole filling
    px_per_mm : pixels per mm (from the iris, else the face width)
    rgb : the photograph (sRGB), optional: with it the edge band keeps to non-skin areas
        whose edge is a luminance step (see :func:`non_skin_edge_band`)

    Returns
    -------
    Bool (H, W) mask of:

    - the upper eyelids, from the lid margin to the lower edge of the brow (the eyelid
      crease and lid folds); crow's feet lie lateral to the canthus and stay;
    - the eyes grown by ``EYE_BAND_MM`` (lash lines, lid margins);
    - the brows grown by ``BROW_BAND_MM``;
    - the lips grown by ``LIP_BAND_MM``, the nostrils by ``NOSTRIL_BAND_MM``;
    - ``EDGE_BAND_MM`` inside the edge of every non-skin area of at least
      ``EDGE_MIN_AREA_MM2`` (hairline, hair, face contour, glasses rims, background)
      that is darker or, beyond the face, brighter than the skin;
    - the foreshortened sides of the face along its contour from temple to temple
      round the jaw (``SIDE_CONTOUR_BAND`` of the face width), where the skin's
      background colour does not mark the contour.
    """
    import cv2

    band = np.zeros(shape, dtype=np.uint8)

    def grown(polygon: tuple[int, ...], mm: float) -> None:
        points = np.round(landmarks[list(polygon)]).astype(np.int32)
        cv2.fillPoly(band, [points], 1)
        width = max(1, int(round(mm * px_per_mm)))
        cv2.polylines(band, [points], True, 1, thickness=2 * width + 1, lineType=cv2.LINE_8)

    features: tuple[tuple[tuple[int, ...], float], ...] = (
        (_RIGHT_UPPER_LID, 0.5), (_LEFT_UPPER_LID, 0.5),
        (_RIGHT_EYE, EYE_BAND_MM), (_LEFT_EYE, EYE_BAND_MM),
        (_RIGHT_BROW, BROW_BAND_MM), (_LEFT_BROW, BROW_BAND_MM), (_LIPS, LIP_BAND_MM),
        (_RIGHT_NOSTRIL, NOSTRIL_BAND_MM), (_LEFT_NOSTRIL, NOSTRIL_BAND_MM))
    for polygon, mm in features:
        grown(polygon, mm)
    face_width = float(np.linalg.norm(landmarks[454] - landmarks[234]))
    side = max(1, int(round(SIDE_CONTOUR_BAND * face_width)))
    cv2.polylines(band, [np.round(landmarks[list(_SIDE_CONTOUR)]).astype(np.int32)], False,
                  1, thickness=2 * side + 1, lineType=cv2.LINE_8)
    # The face: the landmarks' hull and the forehead above the mesh.
    forehead = _forehead_polygon(landmarks)
    face = _mesh_hull(shape, landmarks) | _fill(shape, forehead)
    # The edge band is needed on the face only. Its grid is brought to
    # EDGE_BAND_PX_PER_MM, so a face small in a large frame (120 px wide in a 12 MP
    # frame: 1.2 mm/px) would make a whole-frame grid of 108 MP; beyond
    # EDGE_GRID_MAX_PIXELS it is built in the face's bounding box grown by
    # EDGE_WINDOW_MM instead.
    window = (slice(None), slice(None))
    if shape[0] * shape[1] * (EDGE_BAND_PX_PER_MM / px_per_mm) ** 2 > EDGE_GRID_MAX_PIXELS:
        outline = np.vstack([landmarks[:, :2], forehead])
        margin = EDGE_WINDOW_MM * px_per_mm
        x0, y0 = (max(int(v - margin), 0) for v in outline.min(axis=0))
        x1, y1 = (int(v + margin) + 1 for v in outline.max(axis=0))
        window = (slice(y0, min(y1, shape[0])), slice(x0, min(x1, shape[1])))
    edge = np.zeros(shape, bool)
    edge[window] = non_skin_edge_band(np.asarray(raw_skin)[window], px_per_mm,
                                      rgb=None if rgb is None else rgb[window],
                                      face=face[window])
    return band.astype(bool) | edge


#: The edge band is built on a copy with this many pixels per mm (0.4 mm pixels, the
#: portrait tier's grid): a 3 mm band needs no finer outline, on a 12 MP close-up a
#: full-resolution dilation by a 3 mm disc costs seconds, and coarser photographs are
#: brought up to it so that areas and bands do not depend on the pixel count.
EDGE_BAND_PX_PER_MM = 2.5


def _luminance_step(rgb: np.ndarray, small: tuple[int, int], factor: float,
                    not_skin: np.ndarray, labels: np.ndarray, n: int,
                    face: np.ndarray | None) -> np.ndarray:
    """Non-skin pixels (at the reduced size ``small``) whose luminance differs from the
    skin's enough to make a visible step (see :func:`non_skin_edge_band`)."""
    import cv2

    from dermatrack.imaging.colour import exposure_gain
    from dermatrack.imaging.wrinkles import EDGE_STEP_VISIBLE_L, MIN_DEPTH_L

    rgb8 = cv2.resize(_to_uint8(rgb), small, interpolation=cv2.INTER_AREA if factor > 1.0
                      else cv2.INTER_LINEAR)
    lightness = cv2.cvtColor(rgb8, cv2.COLOR_RGB2Lab)[..., 0].astype(np.float32)
    lightness *= np.float32(100.0 / 255.0)
    if face is None:
        inside = np.ones(not_skin.shape, bool)
    else:
        inside = cv2.resize(np.asarray(face, np.uint8), small,
                            interpolation=cv2.INTER_NEAREST) > 0
    skin = (not_skin == 0) & inside
    if not skin.any():
        return np.ones(not_skin.shape, bool)
    # In the units of the wrinkle maps, which see the skin at the reference exposure
    # (colour.exposure_gain): the question is whether the detector could take the area
    # for a line. On dark skin a raw L* step understates it (the maps multiply it by
    # the gain, about 2 at L* 20), on light skin it overstates it.
    median = float(np.median(lightness[skin]))
    step = (lightness - np.float32(median)) * np.float32(exposure_gain(np.array([median])))
    area = np.maximum(np.bincount(labels.ravel(), minlength=n), 1)
    mean_step = np.bincount(labels.ravel(), weights=step.ravel(), minlength=n) / area
    # A bright area is a highlight on the face unless it reaches beyond the face.
    beyond = np.bincount(labels.ravel(), weights=(~inside).ravel(), minlength=n) > 0
    if face is None:
        beyond[:] = True
    return ((mean_step[labels] <= -MIN_DEPTH_L) | (step <= -EDGE_STEP_VISIBLE_L)
            | ((step >= EDGE_STEP_VISIBLE_L) & beyond[labels]))


def non_skin_edge_band(raw_skin: np.ndarray, px_per_mm: float, *,
                       rgb: np.ndarray | None = None, face: np.ndarray | None = None,
                       band_mm: float = EDGE_BAND_MM) -> np.ndarray:
    """Non-skin areas of at least ``EDGE_MIN_AREA_MM2`` grown by ``band_mm``: hair,
    glasses rims, the background beyond the face contour, and the band of skin along
    their edges (bool, same shape as ``raw_skin``).

    Parameters
    ----------
    raw_skin : bool (H, W) skin-colour mask
    px_per_mm : pixels per mm
    band_mm : width of the band of skin (mm); ``EDGE_BAND_MM`` on faces, and
        :func:`closeup_edge_band_mm` on close-ups
    rgb : (H, W, 3) sRGB photograph (uint8 or float in [0, 1]), optional
        When given, only non-skin areas that the wrinkle detector could take for a
        line get the band: areas darker than the skin by at least the visible depth
        (``wrinkles.MIN_DEPTH_L``, 2.3 L* on average: hair, brows, rims, shadows; a
        thin one is a valley), pixels darker by a visible step
        (``wrinkles.EDGE_STEP_VISIBLE_L``, 13 L*: hair in an area that also holds a
        bright background), and pixels brighter by a visible step in areas that reach
        beyond ``face`` (white hair, a bright background). Areas that differ from the
        skin only in colour (JPEG chroma noise, a tint) and highlights inside the face
        (a sheen whose red channel clipped, or too pale to pass the colour test) are
        skin to the wrinkle detector: banding them would cut real lines wherever the
        exposure or the compression moved a highlight. Steps are in L* at the wrinkle
        maps' reference exposure (``colour.exposure_gain``), as the detector sees them.
    face : bool (H, W), optional
        The face (the landmarks' hull and the forehead above it); without it every
        bright area is banded.
    """
    import cv2

    full_shape = np.asarray(raw_skin).shape
    not_skin = (~np.asarray(raw_skin, bool)).astype(np.uint8)
    # One physical grid whatever the photograph's resolution, so that the same face
    # photographed larger or smaller gets the same areas and bands.
    factor = px_per_mm / EDGE_BAND_PX_PER_MM
    small = (max(int(round(full_shape[1] / factor)), 1),
             max(int(round(full_shape[0] / factor)), 1))
    # A grid pixel is non-skin when at least half of it is, as a coarser photograph's
    # pixel would be. (Marking it when any finer pixel under it was made the bands grow
    # with the pixel count: on a 0.3 mm/px portrait the one-pixel shadows at the floor
    # of deep crow's feet, too dark for the skin colour test, joined into one area
    # whose band covered the crow's feet, while at 0.45 mm/px they were open skin.)
    not_skin = (cv2.resize(not_skin * np.uint8(255), small,
                           interpolation=cv2.INTER_AREA if factor > 1.0
                           else cv2.INTER_NEAREST) >= 128).astype(np.uint8)
    px_per_mm = EDGE_BAND_PX_PER_MM
    n, labels, stats, _ = cv2.connectedComponentsWithStats(not_skin, connectivity=8)
    big = stats[:, cv2.CC_STAT_AREA] >= EDGE_MIN_AREA_MM2 * px_per_mm ** 2
    big[0] = False
    edge = big[labels]
    if rgb is not None:
        edge &= _luminance_step(rgb, small, factor, not_skin, labels, n, face)
    edge = edge.astype(np.uint8)
    radius = max(1, int(round(band_mm * px_per_mm)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    band = cv2.dilate(edge, kernel)
    band = cv2.resize(band, (full_shape[1], full_shape[0]), interpolation=cv2.INTER_NEAREST)
    return np.asarray(band).astype(bool)


def _horizontal_iris_diameter(landmarks: np.ndarray) -> float | None:
    if landmarks.shape[0] < 478:
        return None
    diameters = [float(np.linalg.norm(landmarks[a, :2] - landmarks[b, :2]))
                 for a, b in (_RIGHT_IRIS, _LEFT_IRIS)]
    return float(np.mean(diameters)) if min(diameters) > 0 else None


def face_regions(rgb: np.ndarray, *, skin_without_face: bool = True
                 ) -> FaceRegions | None:
    """Find the face and build the region masks.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` float32 sRGB image in [0, 1] (uint8 also accepted).
    skin_without_face:
        When no face is found, compute the colour skin mask of the whole image (True) or
        return None (False: for callers that then use :func:`single_region`, sparing a
        full-resolution mask they would throw away, 0.3-0.6 s on 12 MP).

    Returns
    -------
    FaceRegions or None
        With a face: one mask per name in :data:`REGION_NAMES` (possibly empty when a
        region is hidden, e.g. a forehead under a fringe) and ``"whole"``, their union.
        Without a face: ``detected`` False and ``masks == {"whole": skin_mask}``, or
        None when ``skin_without_face`` is False.

    Notes
    -----
    FaceMesh runs on a copy whose long side is :data:`LANDMARK_SIZE` pixels, once for
    each of :data:`LANDMARK_RUNS` (5-10 ms a run), and the polygons are filled at full
    resolution. The skin mask is seeded from the cheeks and nose, so it follows the
    subject's own skin colour at any ITA.
    """
    import cv2

    rgb8 = _to_uint8(rgb)
    shape = rgb8.shape[:2]
    mesh, other_faces = _face_mesh_points(rgb8)
    landmarks = None if mesh is None else mesh[:, :2].copy()
    if landmarks is None:
        if not skin_without_face:
            return None
        skin = skin_mask(rgb8)
        return FaceRegions(detected=False, masks={"whole": skin}, landmarks=None,
                           iris_diameter_px=None, skin_mask=skin)

    face_width = float(np.linalg.norm(landmarks[454] - landmarks[234]))
    # From the averaged landmarks: the scale, and every length in mm, follow the iris.
    iris = _horizontal_iris_diameter(landmarks)
    excluded = _exclusions(shape, landmarks, face_width)
    seed = np.zeros(shape, dtype=np.uint8)
    for seed_polygon in (_CHEEK_RIGHT, _CHEEK_LEFT, _NOSE):
        cv2.fillPoly(seed, [np.round(landmarks[list(seed_polygon)]).astype(np.int32)], 1)
    seed = seed.astype(bool) & ~excluded
    skin = skin_mask(rgb8, seed=seed, face=_mesh_hull(shape, landmarks))
    px_per_mm = iris / 11.7 if iris else face_width / FACE_WIDTH_MM
    bands = line_exclusion_bands(shape, landmarks, skin, px_per_mm, rgb=rgb8)
    # Opening drops isolated hair-coloured specks; closing fills pores and small
    # shadows inside the skin. Rectangular kernels keep this fast on 12 MP images.
    side = max(3, int(round(0.008 * face_width)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    skin8 = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    skin = cv2.morphologyEx(skin8, cv2.MORPH_CLOSE, kernel).astype(bool)

    labels = np.zeros(shape, dtype=np.uint8)
    for index, (_, polygon) in enumerate(_REGION_POLYGONS, start=1):
        # Only the forehead has no fixed polygon: it is built from the mesh edge.
        points = (_forehead_polygon(landmarks) if polygon is None
                  else landmarks[list(polygon)])
        cv2.fillPoly(labels, [np.round(points).astype(np.int32)], index)
    labels[excluded | ~skin] = 0

    masks = {name: labels == index for index, (name, _) in enumerate(_REGION_POLYGONS, 1)}
    masks = {name: masks[name] for name in REGION_NAMES}
    masks["whole"] = labels > 0
    return FaceRegions(detected=True, masks=masks, landmarks=landmarks,
                       iris_diameter_px=iris, skin_mask=skin,
                       exclusion_mask=excluded,
                       landmark_depth=None if mesh is None else mesh[:, 2].copy(),
                       line_exclusion=bands, other_faces=other_faces)


#: Long side (px) of the copy a close-up's colour mask is computed on: its edges need
#: be no finer than the band along them (``closeup_edge_band_mm``, 3.9 mm; a pixel of
#: the copy of a 12 MP close-up at 0.05 mm/px is 0.125 mm).
CLOSEUP_MASK_LONG_SIDE = 1600


def closeup_edge_band_mm(mm_per_px: float) -> float:
    """Width (mm) of the band along the edges of what is not skin in a photograph without
    a face: ``EDGE_BAND_MM``, or, where the detector's widest scale reaches further, the
    distance at which it answers a step up to something brighter
    (:func:`wrinkles.step_edge_reach_mm`; 2.9 mm on close-ups) plus the ramp of a band's
    soft edge (``wrinkles.BAND_EDGE_SOFTNESS_MM``), so that a line there counts nothing:
    3.9 mm on close-ups. A white ruler laid on a phantom close-up made a line 2.7 mm from
    its edge, and with the 3 mm band half of it was counted."""
    from dermatrack.imaging.wrinkles import BAND_EDGE_SOFTNESS_MM, step_edge_reach_mm

    return max(EDGE_BAND_MM, step_edge_reach_mm(mm_per_px) + BAND_EDGE_SOFTNESS_MM)


def single_region(rgb: np.ndarray, *, exclude: np.ndarray | None = None,
                  mm_per_px: float | None = None) -> FaceRegions:
    """One region, ``"whole"``, for close-ups or when face detection is not wanted.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` sRGB image, float in [0, 1] or uint8.
    exclude:
        Optional bool mask of pixels to leave out (e.g. a ColorChecker's mask).
    mm_per_px:
        Pixel size (mm) when known: the band along the edges of what is not skin
        (``line_exclusion``) is built in millimetres, so it needs it.

    Returns
    -------
    FaceRegions
        ``detected`` False; ``"whole"`` holds the skin: pixels of the subject's skin
        colour (:func:`skin_mask`, seeded by the fixed Cr/Cb ranges, which a close-up
        must fill 30 % of its frame with to be analysed; a ruler, a scale sticker, a
        pen mark, clothing or the background beside the skin are not), not clipped
        (every channel below 250/255, so specular highlights and blown areas are out),
        not near-black (luma at least 10/255: deep shadow) and not excluded. With
        ``mm_per_px``, ``line_exclusion`` is the band along the edges of the areas that
        are not skin (:func:`non_skin_edge_band`): a ruler's edge, or the shadow it casts
        on the skin, is not a wrinkle.
    """
    import cv2

    rgb8 = _to_uint8(rgb)
    luma = cv2.cvtColor(rgb8, cv2.COLOR_RGB2GRAY)
    # inRange is the per-pixel channel maximum test, many times faster than max(axis=2).
    unclipped = cv2.inRange(rgb8, (0, 0, 0), (249, 249, 249)) > 0
    valid = unclipped & (luma >= 10)
    if exclude is not None:
        valid &= ~np.asarray(exclude, dtype=bool)
    # The colour mask on a copy at most CLOSEUP_MASK_LONG_SIDE long (a sixth of the
    # pixels of a 12 MP close-up: 0.6 s less), brought back by nearest neighbour.
    h, w = rgb8.shape[:2]
    shrink = max(h, w) / CLOSEUP_MASK_LONG_SIDE
    small = rgb8 if shrink <= 1.0 else cv2.resize(
        rgb8, (max(int(round(w / shrink)), 1), max(int(round(h / shrink)), 1)),
        interpolation=cv2.INTER_AREA)
    # The whole frame counts as the face does (``face``): a close-up shows skin, not
    # hair beside it, and its pigmented spots, yellower than the skin around them, stay
    # in the mask (with the narrower window the centres of phantom lentigines fell out).
    skin = skin_mask(small, face=np.ones(small.shape[:2], bool))
    if not skin.any():  # no seed: nothing has the colour of skin (refused by the quality gate)
        skin = np.ones(small.shape[:2], bool)
    # As on a face: opening drops isolated specks of skin colour on an object, closing
    # fills pores and small shadows inside the skin (three pixels: the finest detail
    # the colour test resolves after its 5 x 5 chroma mean).
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    skin8 = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    skin8 = cv2.morphologyEx(skin8, cv2.MORPH_CLOSE, kernel)
    if shrink > 1.0:
        skin8 = cv2.resize(skin8, (w, h), interpolation=cv2.INTER_NEAREST)
    skin = skin8.astype(bool)
    bands = None
    band_mm = EDGE_BAND_MM if not mm_per_px else closeup_edge_band_mm(mm_per_px)
    if mm_per_px and not skin.all():
        # A clipped highlight on the skin is not an edge to band: before this mask the
        # close-up tier measured up to it, and its own rim is no step a line follows.
        bands = non_skin_edge_band(skin | ~unclipped, 1.0 / mm_per_px, rgb=rgb8,
                                   band_mm=band_mm)
    whole = valid & skin
    return FaceRegions(detected=False, masks={"whole": whole}, landmarks=None,
                       iris_diameter_px=None, skin_mask=skin, line_exclusion=bands,
                       edge_band_mm=band_mm)


# Distinct colours (sRGB 0-255) for the overlay, one per region.
_OVERLAY_COLOURS = {
    "forehead": (230, 159, 0), "glabella": (240, 228, 66), "periorbital_left": (86, 180, 233),
    "periorbital_right": (0, 114, 178), "cheek_left": (0, 158, 115),
    "cheek_right": (120, 200, 120), "nose": (213, 94, 0), "perioral": (204, 121, 167),
    "chin": (150, 150, 255), "whole": (255, 255, 255),
}


def region_overlay(rgb: np.ndarray, regions: FaceRegions) -> np.ndarray:
    """Colour each region over the photograph and label it, for a person to check.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` sRGB image, float in [0, 1] or uint8.
    regions:
        From :func:`face_regions` or :func:`single_region`.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` uint8 RGB image: regions tinted (45 % opacity) with outlines and
        names.
    """
    import cv2

    base = _to_uint8(rgb)
    out = base.astype(np.float32)
    names = [n for n in regions.masks if n != "whole"] or ["whole"]
    height, width = base.shape[:2]
    scale = max(height, width) / 1000
    thickness = max(1, int(round(2 * scale)))
    for name in names:
        mask = regions.masks[name]
        if not mask.any():
            continue
        fill = np.array(_OVERLAY_COLOURS.get(name, (255, 255, 255)), dtype=np.float32)
        out[mask] = 0.55 * out[mask] + 0.45 * fill
    out8 = np.clip(out, 0, 255).astype(np.uint8)
    for name in names:
        mask = regions.masks[name].astype(np.uint8)
        if not mask.any():
            continue
        colour = tuple(int(c) for c in _OVERLAY_COLOURS.get(name, (255, 255, 255)))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out8, contours, -1, colour, thickness)
    # Labels sized to the face (or the image without one) so they do not bury it.
    if regions.landmarks is not None:
        reference = float(np.ptp(regions.landmarks[:, 0]))
        font_scale = float(np.clip(reference / 900, 0.25, 2.0))
    else:
        font_scale = max(0.3, 0.5 * scale)
    text_thickness = max(1, int(round(2 * font_scale)))
    for name in names:
        mask = regions.masks[name]
        if not mask.any():
            continue
        ys, xs = np.nonzero(mask)
        (text_width, _), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                                             text_thickness)
        position = (int(np.median(xs)) - text_width // 2, int(np.median(ys)))
        cv2.putText(out8, name, position, cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (0, 0, 0), text_thickness + 2, cv2.LINE_AA)
        cv2.putText(out8, name, position, cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (255, 255, 255), text_thickness, cv2.LINE_AA)
    return out8
