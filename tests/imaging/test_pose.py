"""Head pose and lighting for the guided capture (imaging.pose)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatrack.imaging.pose import (
    Lighting,
    Pose,
    check_frame,
    judge,
    lighting,
    pose_from_landmarks,
)


def _landmarks(yaw_deg: float, roll_deg: float = 0.0) -> np.ndarray:
    """478 points with the cheeks, eye corners and midline of a head turned by ``yaw``."""
    points = np.zeros((478, 3))
    yaw, roll = np.radians(yaw_deg), np.radians(roll_deg)
    half = 60.0
    # The patient's right cheek (234) and left cheek (454); z < 0 is nearer the camera.
    points[234] = [-half * np.cos(yaw), 0, half * np.sin(yaw)]
    points[454] = [half * np.cos(yaw), 0, -half * np.sin(yaw)]
    points[33] = [-30 * np.cos(roll), -30 * np.sin(roll), 0]
    points[263] = [30 * np.cos(roll), 30 * np.sin(roll), 0]
    points[10] = [0, -80, 0]
    points[152] = [0, 80, 0]
    return points + [320, 240, 0]


@pytest.mark.parametrize("yaw", [0.0, 30.0, -45.0, 60.0])
def test_yaw_and_roll_come_back_from_the_landmarks(yaw):
    pose = pose_from_landmarks(_landmarks(yaw, roll_deg=5.0))
    assert pose.yaw == pytest.approx(yaw, abs=0.2)
    assert pose.roll == pytest.approx(5.0, abs=0.2)
    assert pose.pitch == pytest.approx(0.0, abs=0.2)


def test_judge_says_which_cheek_to_turn_and_what_light_to_fix():
    good_light = Lighting(mean_luma=140, clipped=0.0, balance=0.95)
    ok, advice = judge("left_45", Pose(yaw=44, pitch=-8, roll=1), good_light)
    assert ok and advice == []
    ok, advice = judge("left_45", Pose(yaw=20, pitch=-8, roll=1), good_light)
    assert not ok and advice == ["turn the patient's left cheek towards the camera by about 25°"]
    ok, advice = judge("front", Pose(yaw=0, pitch=-8, roll=0),
                       Lighting(mean_luma=40, clipped=0.1, balance=0.5))
    assert not ok and len(advice) == 3 and advice[0].startswith("too dark")
    # Against a baseline, pitch counts too.
    ok, advice = judge("front", Pose(yaw=0, pitch=5, roll=0), good_light,
                       reference=Pose(yaw=1, pitch=-8, roll=0))
    assert not ok and advice[0].startswith("chin down")
    ok, advice = judge("closeup", None, good_light)
    assert ok


def test_lighting_of_an_uneven_frame():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :100] = 60
    frame[:, 100:] = 180
    light = lighting(frame, (0, 0, 200, 100))
    assert light.mean_luma == pytest.approx(120, abs=0.5)
    assert light.balance == pytest.approx(60 / 180, abs=0.01)


def test_a_real_face_and_its_mirror_turn_opposite_ways():
    from skimage import data

    face = data.astronaut()
    straight = check_frame(face, "front")
    mirrored = check_frame(np.ascontiguousarray(face[:, ::-1]), "front")
    assert straight.face_found and mirrored.face_found
    assert abs(straight.pose.yaw) < 8 and abs(mirrored.pose.yaw) < 8
    assert np.sign(straight.pose.roll) == -np.sign(mirrored.pose.roll)
    blank = check_frame(np.full((240, 320, 3), 128, np.uint8), "front")
    assert not blank.face_found and not blank.ok and "no face found" in blank.advice[0]


def test_the_capture_check_asks_for_a_relaxed_face_and_the_baseline_s_expression():
    from dermatrack.imaging.io import sample_face

    good_light = Lighting(mean_luma=140, clipped=0.0, balance=0.95)
    # The astronaut smiles with her teeth showing; grace_hopper's mouth is closed.
    def uint8(name: str) -> np.ndarray:
        return (np.clip(sample_face(name), 0, 1) * 255).round().astype(np.uint8)

    smiling = check_frame(uint8("astronaut"), "front")
    assert smiling.pose.mouth_opening > 0.04
    assert any(line.startswith("close the mouth") for line in smiling.advice)
    relaxed = check_frame(uint8("grace_hopper"), "front")
    assert relaxed.pose.mouth_opening < 0.01
    assert not any("mouth" in line for line in relaxed.advice)
    # Against a baseline, a wider mouth (a smile) is named too.
    baseline = Pose(yaw=0, pitch=-8, roll=0, mouth_width=0.38, mouth_opening=0.0)
    ok, advice = judge("front", Pose(yaw=0, pitch=-8, roll=0, mouth_width=0.47,
                                     mouth_opening=0.01), good_light, reference=baseline)
    assert not ok and advice == ["match the baseline's expression: the mouth is wider than "
                                 "in the baseline (expression lines change with it)"]
    ok, advice = judge("front", Pose(yaw=0, pitch=-8, roll=0, mouth_width=0.40,
                                     mouth_opening=0.01), good_light, reference=baseline)
    assert ok


def test_judge_names_a_frame_blurred_against_the_baseline_only():
    good_light = Lighting(mean_luma=140, clipped=0.0, balance=0.95)
    pose = Pose(yaw=0, pitch=-8, roll=0)
    ok, advice = judge("front", pose, good_light, reference=pose, sharpness=0.40,
                       reference_sharpness=0.80)
    assert not ok and advice == [
        "the face is blurred against the baseline (sharpness 0.40, baseline 0.80): hold "
        "the camera still and let it focus on the face (fine lines fade with blur)"]
    # Within the tolerance (0.6 of the baseline's), sharper than it, or without one.
    for sharp, reference in ((0.50, 0.80), (0.90, 0.60), (0.30, None)):
        assert judge("front", pose, good_light, reference=pose, sharpness=sharp,
                     reference_sharpness=reference) == (True, [])
    # Nothing to judge without a face.
    assert judge("closeup", None, good_light, sharpness=0.1, reference_sharpness=0.9)[0]


def test_the_live_check_names_a_real_face_blurred_against_its_baseline():
    """grace_hopper as the baseline (the copy the service keeps, 640 px) and as 480 px
    JPEG camera frames, as the capture page sends them: the same face sharp, turned by 5°
    or 2 px out of focus at the photograph's resolution."""
    import cv2

    from dermatrack.imaging.io import sample_face
    from dermatrack.imaging.pose import baseline_face

    face = (np.clip(sample_face("grace_hopper"), 0, 1) * 255).round().astype(np.uint8)

    def frame(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        small = cv2.resize(rgb, (round(w * 480 / max(h, w)), round(h * 480 / max(h, w))),
                           interpolation=cv2.INTER_AREA)
        jpeg = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 70])[1]
        return np.ascontiguousarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1])

    baseline = baseline_face(face)
    assert baseline is not None
    h, w = face.shape[:2]
    turned = cv2.warpAffine(face, cv2.getRotationMatrix2D((w / 2, h / 2), 5, 1.0), (w, h),
                            borderMode=cv2.BORDER_REPLICATE)
    for sharp in (face, turned):
        check = check_frame(frame(sharp), "front", baseline)
        assert check.sharpness and check.baseline_sharpness
        assert not any("blurred" in line for line in check.advice)
    blurred = check_frame(frame(cv2.GaussianBlur(face, (0, 0), 2.0)), "front", baseline)
    assert blurred.sharpness < 0.6 * blurred.baseline_sharpness
    assert any(line.startswith("the face is blurred against the baseline")
               for line in blurred.advice)
    # Without a baseline the figure is given and not judged.
    alone = check_frame(frame(cv2.GaussianBlur(face, (0, 0), 2.0)), "front")
    assert alone.sharpness and alone.baseline_sharpness is None
    assert not any("blurred" in line for line in alone.advice)
