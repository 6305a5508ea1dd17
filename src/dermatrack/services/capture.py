"""Guided photographs: the baseline photograph of each standard view, and the pose and
lighting check of a camera frame against it (:mod:`dermatrack.imaging.pose`)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from dermatrack.errors import InputError
from dermatrack.services.common import Store

MAX_FRAME_BYTES = 2 * 1024 * 1024
"""Largest frame accepted by the live check (a 1280 x 720 JPEG is 100-300 kB)."""
FRAME_SIDE_PX = 640
"""Frames are checked at most this size on their long side (landmarks need no more)."""

BASELINES_KEPT = 32
"""Baseline faces kept in memory for the live check (each a copy of at most
``FRAME_SIDE_PX`` on its long side, at most 1.2 MB): the last ones checked against."""

_BASELINE_FACES: OrderedDict[str, Any] = OrderedDict()
_BASELINE_LOCK = threading.Lock()


def baselines(store: Store, patient_id: str) -> dict[str, Any]:
    """The first photograph of each standard view (a photo without a view counts as
    ``front``), oldest first: the ghost each follow-up is lined up with."""
    from dermatrack.services.photos import list_photos

    found: dict[str, Any] = {}
    for photo in sorted(list_photos(store, patient_id), key=lambda p: p.created_at):
        found.setdefault(photo.view or "front", photo)
    return found


def _decode(data: bytes) -> Any:
    import cv2
    import numpy as np

    if not data:
        raise InputError("the frame is empty", field="frame")
    if len(data) > MAX_FRAME_BYTES:
        raise InputError(f"the frame is larger than {MAX_FRAME_BYTES // (1024 * 1024)} MB",
                         field="frame")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError("the frame is not a JPEG or PNG image", field="frame")
    height, width = image.shape[:2]
    factor = min(1.0, FRAME_SIDE_PX / max(height, width))
    if factor < 1.0:
        image = cv2.resize(image, (round(width * factor), round(height * factor)),
                           interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _baseline_face(store: Store, photo_id: str) -> Any:
    """The baseline photograph's :class:`~dermatrack.imaging.pose.BaselineFace` (None
    when no face is found in it), from a copy of the frames' size; the last
    ``BASELINES_KEPT`` are kept."""
    import cv2

    from dermatrack.imaging.pose import baseline_face
    from dermatrack.services.photo_files import load_photo_rgb

    with _BASELINE_LOCK:
        if photo_id in _BASELINE_FACES:
            _BASELINE_FACES.move_to_end(photo_id)
            return _BASELINE_FACES[photo_id]
    rgb = load_photo_rgb(store, photo_id)
    height, width = rgb.shape[:2]
    factor = min(1.0, FRAME_SIDE_PX / max(height, width))
    if factor < 1.0:
        rgb = cv2.resize(rgb, (round(width * factor), round(height * factor)),
                         interpolation=cv2.INTER_AREA)
    if rgb.dtype != "uint8":
        rgb = (rgb.clip(0, 1) * 255).round().astype("uint8")
    face = baseline_face(rgb)
    with _BASELINE_LOCK:
        _BASELINE_FACES[photo_id] = face
        while len(_BASELINE_FACES) > BASELINES_KEPT:
            _BASELINE_FACES.popitem(last=False)
    return face


def check_frame(store: Store, patient_id: str, view: str, frame: bytes) -> dict[str, Any]:
    """Pose, expression, sharpness and lighting of a camera frame for ``view``, against
    the baseline photograph of that view when there is one. Returns the check as a dict
    (with ``baseline_id`` and ``baseline_pose``)."""
    from dermatrack.imaging.pose import check_frame as check
    from dermatrack.services.photos import PHOTO_VIEWS

    if view not in PHOTO_VIEWS:
        raise InputError(f"unknown view {view!r}; expected one of {', '.join(PHOTO_VIEWS)}",
                         field="view")
    rgb = _decode(frame)
    baseline = baselines(store, patient_id).get(view)
    face = _baseline_face(store, baseline.id) if baseline is not None else None
    result = check(rgb, view, face).to_dict()
    result["baseline_id"] = baseline.id if baseline is not None else None
    result["baseline_pose"] = None if face is None else face.pose.__dict__
    return result
