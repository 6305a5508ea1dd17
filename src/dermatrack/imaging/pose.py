"""Head pose and lighting of a camera frame, to guide a standard photograph.

Photographs taken at a different head angle or under different light are the main source
of false change in before/after comparisons (Quigley 2017, JAAD 77:e1; Kim 2012,
Plast Reconstr Surg 130:e2). The capture page sends frames here and shows the nurse how
far the pose and the light are from the view wanted.

Pose comes from MediaPipe FaceMesh landmarks (the same model the region analysis uses,
:mod:`dermatrack.imaging.regions`), whose ``z`` is depth on roughly the scale of ``x``:

* **yaw** (degrees, positive when the patient's left side turns towards the camera): the
  angle of the line between the two cheek contour points (landmarks 234 and 454) in the
  x-z plane;
* **roll** (degrees, positive clockwise in the image): the slope of the line between the
  outer eye corners (33 and 263);
* **pitch** (degrees, positive chin up): the angle of the forehead-to-chin line
  (10 to 152) in the y-z plane (frontal portraits read -5 to -10: compare pitches with
  each other, not with 0).

These are geometric estimates, good to a few degrees between -60 and 60 degrees of yaw;
beyond that FaceMesh often finds no face, and a 90 degree profile is then checked against
the baseline ghost by eye.

Expression: the mouth's width and opening in face widths
(:func:`dermatrack.imaging.quality.mouth_shape`). A smile deepens crow's feet and
nasolabial folds, so the check asks for a closed mouth, and against a baseline for its
expression within ``quality.EXPRESSION_TOLERANCE`` (``photo compare`` names the same
difference between two photographs).

Lighting: mean luma (Rec. 601, 0-255) of the face box, the share of clipped pixels (>= 250
or <= 5) and the left/right balance (ratio of the mean luma of the box's halves), the
quantities a capture-quality gate checks.

Sharpness: :func:`dermatrack.imaging.quality.sharpness` of the face without its eyes,
brows, lips and nostrils. Against a baseline both are measured at the same pixels per face
(the one showing the face larger is first reduced to the other's size), and a frame below
``quality.SHARPNESS_TOLERANCE_RATIO`` of the baseline's is named, as ``photo compare``
names such a pair (without a baseline the figure is shown and not judged). Frames are
small (480 px), so this catches a camera out of focus or shaken by a few pixels of a
portrait's resolution, not the finest blur that ``photo compare`` names on the
photographs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

VIEW_YAW_DEG = {"front": 0.0, "left_45": 45.0, "right_45": -45.0, "left_90": 90.0,
                "right_90": -90.0}
"""Target yaw of each standard view (the patient's left side towards the camera is
positive). Close-ups have no target pose."""
YAW_TOLERANCE_DEG = 8.0
"""Allowed yaw error for a view (about what a nurse can correct by eye)."""
TILT_TOLERANCE_DEG = 6.0
"""Allowed roll and pitch (head tilt) for every view."""
LUMA_RANGE = (70.0, 200.0)
"""Acceptable mean luma of the face (8-bit); outside it the photo is too dark or bright."""
MAX_CLIPPED = 0.02
"""Largest share of clipped pixels on the face."""
MIN_BALANCE = 0.75
"""Smallest ratio of the darker to the brighter half of the face (side lighting)."""

_CHEEKS = (234, 454)
_EYES = (33, 263)
_MIDLINE = (10, 152)


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees (see the module docstring for the conventions), and the
    expression: the mouth's width and opening in face widths
    (:func:`dermatrack.imaging.quality.mouth_shape`; None when not measured)."""

    yaw: float
    pitch: float
    roll: float
    mouth_width: float | None = None
    mouth_opening: float | None = None


@dataclass(frozen=True)
class Lighting:
    mean_luma: float
    clipped: float
    balance: float


@dataclass
class CaptureCheck:
    """What the capture page shows: the measurements, and what to correct."""

    view: str
    face_found: bool
    pose: Pose | None
    lighting: Lighting
    ok: bool
    advice: list[str] = field(default_factory=list)
    face_box: list[float] | None = None  # [x0, y0, x1, y1] relative to the frame
    sharpness: float | None = None
    baseline_sharpness: float | None = None  # the baseline's, at the frame's face size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class BaselineFace:
    """The baseline photograph of a view as the live check compares frames with it: its
    pose, and the copy FaceMesh ran on (8-bit RGB) with its ``(N, 3)`` landmarks."""

    pose: Pose
    rgb8: np.ndarray
    points: np.ndarray


def pose_from_landmarks(points: np.ndarray) -> Pose:
    """Head pose from FaceMesh landmarks.

    Parameters
    ----------
    points:
        ``(N, 3)`` landmarks (N >= 455) in pixels for x and y and the same scale for z
        (FaceMesh's normalised z times the image width).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or points.shape[0] <= max(_CHEEKS):
        raise ValueError("expected (N, 3) FaceMesh landmarks with N >= 455")
    right_cheek, left_cheek = points[_CHEEKS[0]], points[_CHEEKS[1]]
    across = left_cheek - right_cheek  # from the patient's right to left side
    yaw = math.degrees(math.atan2(-across[2], across[0]))  # z < 0 is nearer the camera
    eye_r, eye_l = points[_EYES[0]], points[_EYES[1]]
    roll = math.degrees(math.atan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))
    top, chin = points[_MIDLINE[0]], points[_MIDLINE[1]]
    down = chin - top
    pitch = math.degrees(math.atan2(-down[2], down[1]))
    from dermatrack.imaging.quality import mouth_shape

    width, opening = mouth_shape(points)
    return Pose(yaw=round(yaw, 1), pitch=round(pitch, 1), roll=round(roll, 1),
                mouth_width=round(width, 3), mouth_opening=round(opening, 3))


def lighting(rgb8: np.ndarray, box: tuple[int, int, int, int] | None = None) -> Lighting:
    """Mean luma, clipped share and left/right balance of ``box`` (x0, y0, x1, y1 in
    pixels; default the central half of the frame) of an 8-bit RGB image."""
    rgb8 = np.asarray(rgb8)
    height, width = rgb8.shape[:2]
    if box is None:
        box = (width // 4, height // 4, 3 * width // 4, 3 * height // 4)
    x0, y0, x1, y1 = (max(0, int(v)) for v in box)
    patch = rgb8[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)].astype(np.float32)
    luma = 0.299 * patch[..., 0] + 0.587 * patch[..., 1] + 0.114 * patch[..., 2]
    clipped = float(np.mean((luma >= 250) | (luma <= 5)))
    half = luma.shape[1] // 2
    sides = [float(luma[:, :half].mean()) if half else 0.0,
             float(luma[:, half:].mean()) if luma.shape[1] - half else 0.0]
    balance = min(sides) / max(sides) if max(sides) > 0 else 0.0
    return Lighting(mean_luma=round(float(luma.mean()), 1), clipped=round(clipped, 4),
                    balance=round(balance, 3))


def judge(view: str, pose: Pose | None, light: Lighting,
          reference: Pose | None = None, *, sharpness: float | None = None,
          reference_sharpness: float | None = None) -> tuple[bool, list[str]]:
    """Whether a frame meets the view's pose and the lighting limits, and what to change.

    With ``reference`` (the pose of the baseline photograph of the same view) the frame
    must match it within the tolerances in yaw, roll and pitch; without it, the yaw must
    match the view's target and the roll be level (pitch is not judged: FaceMesh's depth
    gives frontal portraits a pitch of -5 to -10 degrees, so only a difference from a
    baseline measured the same way is meaningful). ``sharpness`` is the frame's face's,
    ``reference_sharpness`` the baseline's at the same size (see the module docstring).
    """
    advice = []
    target = VIEW_YAW_DEG.get(view)
    target_yaw: float | None
    target_pitch: float | None
    if reference is not None:
        target_yaw, target_roll, target_pitch = reference.yaw, reference.roll, reference.pitch
    else:
        target_yaw, target_roll, target_pitch = target, 0.0, None
    if target_yaw is not None:
        if pose is None:
            advice.append("no face found: centre the face in the frame"
                          + (" (a 90° profile may not be detected: match the ghost by eye)"
                             if target is not None and abs(target) >= 90 else ""))
        else:
            error = pose.yaw - target_yaw
            if abs(error) > YAW_TOLERANCE_DEG:
                side = "right" if error > 0 else "left"
                advice.append(f"turn the patient's {side} cheek towards the camera by about "
                              f"{abs(error):.0f}°")
            if abs(pose.roll - target_roll) > TILT_TOLERANCE_DEG:
                advice.append(f"level the head (tilted {pose.roll - target_roll:+.0f}°"
                              + (" from the baseline)" if reference else ")"))
            if target_pitch is not None and abs(pose.pitch - target_pitch) > TILT_TOLERANCE_DEG:
                advice.append("chin " + ("down" if pose.pitch > target_pitch else "up")
                              + f" ({pose.pitch - target_pitch:+.0f}° from the baseline)")
            advice.extend(_expression_advice(pose, reference))
    if pose is not None:
        advice.extend(_sharpness_advice(sharpness, reference_sharpness))
    low, high = LUMA_RANGE
    if light.mean_luma < low:
        advice.append(f"too dark (mean {light.mean_luma:.0f}, aim for {low:.0f}-{high:.0f})")
    elif light.mean_luma > high:
        advice.append(f"too bright (mean {light.mean_luma:.0f}, aim for {low:.0f}-{high:.0f})")
    if light.clipped > MAX_CLIPPED:
        advice.append(f"{light.clipped:.0%} of the face is clipped: avoid glare and shadows")
    if light.balance < MIN_BALANCE:
        advice.append(f"light is uneven across the face (balance {light.balance:.2f}): "
                      "face the light source")
    return not advice, advice


def _expression_advice(pose: Pose, reference: Pose | None) -> list[str]:
    """What to change in the expression: against the baseline, its mouth's width and
    opening within ``quality.EXPRESSION_TOLERANCE``; without one, a closed mouth, as
    standardised clinical photographs are taken (a smile is told from a wide mouth only
    against the same face's baseline)."""
    from dermatrack.imaging.quality import EXPRESSION_TOLERANCE

    if pose.mouth_width is None or pose.mouth_opening is None:
        return []
    if reference is not None and reference.mouth_width is not None \
            and reference.mouth_opening is not None:
        wider = pose.mouth_width - reference.mouth_width
        opener = pose.mouth_opening - reference.mouth_opening
        if abs(wider) > EXPRESSION_TOLERANCE or abs(opener) > EXPRESSION_TOLERANCE:
            return ["match the baseline's expression: the mouth is "
                    + ("wider" if wider > EXPRESSION_TOLERANCE else
                       "narrower" if wider < -EXPRESSION_TOLERANCE else
                       "more open" if opener > 0 else "more closed")
                    + " than in the baseline (expression lines change with it)"]
        return []
    if pose.mouth_opening > EXPRESSION_TOLERANCE:
        return ["close the mouth and relax the face: a smile or an open mouth deepens the "
                "expression lines (crow's feet, nasolabial folds)"]
    return []


def _sharpness_advice(sharpness: float | None, reference: float | None) -> list[str]:
    """A frame blurred against the baseline: its sharpness below
    ``quality.SHARPNESS_TOLERANCE_RATIO`` of the baseline's at the same size. Without a
    baseline nothing is said: a sharp frame's level depends on the face and the camera
    (0.49-0.85 on the validation's real faces as 480 px JPEG frames, 0.37-0.64 blurred by
    2 px; ``benchmarks/live_sharpness.py``), so no fixed limit tells a blurred frame from a
    soft face."""
    from dermatrack.imaging.quality import SHARPNESS_TOLERANCE_RATIO

    if sharpness is None or not reference or sharpness >= SHARPNESS_TOLERANCE_RATIO * reference:
        return []
    return [f"the face is blurred against the baseline (sharpness {sharpness:.2f}, baseline "
            f"{reference:.2f}): hold the camera still and let it focus on the face (fine "
            "lines fade with blur)"]


def _face_sharpness(rgb8: np.ndarray, points: np.ndarray, width: float | None = None
                    ) -> float | None:
    """Sharpness of the face (landmarks ``points``) in ``rgb8``, first reduced (area
    averaging) so that the face is ``width`` pixels wide when it is wider."""
    import cv2

    from dermatrack.imaging.quality import sharpness
    from dermatrack.imaging.regions import _face_width, face_without_features

    points = np.asarray(points, np.float64)[:, :2]
    own = _face_width(points)
    if width is not None and own > width > 0:
        factor = width / own
        height, frame_width = rgb8.shape[:2]
        size = (max(round(frame_width * factor), 1), max(round(height * factor), 1))
        rgb8 = cv2.resize(np.ascontiguousarray(rgb8), size, interpolation=cv2.INTER_AREA)
        points = points * factor
    return sharpness(rgb8, face_without_features(rgb8.shape[:2], points), None)


def paired_sharpness(rgb8: np.ndarray, points: np.ndarray,
                     baseline: BaselineFace | None) -> tuple[float | None, float | None]:
    """Sharpness of the frame's face and of the baseline's (None without a baseline), at
    the pixels per face of whichever shows the face smaller."""
    from dermatrack.imaging.regions import _face_width

    if baseline is None:
        return _face_sharpness(rgb8, points), None
    common = min(_face_width(points), _face_width(baseline.points))
    return (_face_sharpness(rgb8, points, common),
            _face_sharpness(baseline.rgb8, baseline.points, common))


def baseline_face(rgb8: np.ndarray) -> BaselineFace | None:
    """The :class:`BaselineFace` of a baseline photograph's copy (8-bit RGB), or None
    when FaceMesh finds no face in it."""
    pose, points = face_pose(rgb8)
    if pose is None or points is None:
        return None
    return BaselineFace(pose=pose, rgb8=np.ascontiguousarray(rgb8), points=points)


def face_pose(rgb8: np.ndarray) -> tuple[Pose | None, np.ndarray | None]:
    """The head pose and the ``(N, 3)`` landmarks of the largest face, or (None, None)."""
    from dermatrack.imaging.regions import _mesh_points

    rgb8 = np.ascontiguousarray(rgb8)
    height, width = rgb8.shape[:2]
    points = _mesh_points(rgb8, width, height)
    if points is None:
        return None, None
    return pose_from_landmarks(points), points


def check_frame(rgb8: np.ndarray, view: str, baseline: BaselineFace | None = None
                ) -> CaptureCheck:
    """Pose, expression, sharpness and lighting of one camera frame for ``view``, against
    the ``baseline`` photograph of that view when given (FaceMesh runs here)."""
    rgb8 = np.ascontiguousarray(rgb8)
    height, width = rgb8.shape[:2]
    pose, points = face_pose(rgb8)
    box = None
    sharp = reference_sharp = None
    if points is not None:
        sharp, reference_sharp = paired_sharpness(rgb8, points, baseline)
        x0, y0 = points[:, :2].min(axis=0)
        x1, y1 = points[:, :2].max(axis=0)
        box = [round(float(x0 / width), 4), round(float(y0 / height), 4),
               round(float(x1 / width), 4), round(float(y1 / height), 4)]
        light = lighting(rgb8, (int(x0), int(y0), int(x1), int(y1)))
    else:
        light = lighting(rgb8)
    ok, advice = judge(view, pose, light, None if baseline is None else baseline.pose,
                       sharpness=sharp, reference_sharpness=reference_sharp)
    return CaptureCheck(view=view, face_found=pose is not None, pose=pose, lighting=light,
                        ok=ok, advice=advice, face_box=box,
                        sharpness=None if sharp is None else round(sharp, 3),
                        baseline_sharpness=None if reference_sharp is None
                        else round(reference_sharp, 3))
