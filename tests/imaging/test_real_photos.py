"""Photo metrics on real photographs: physical scale, null with a reason, exposure,
the capture-quality gate, refusal of non-skin photos, exclusion bands, compare --strict.

Everything here runs on the faces that ship with scikit-image (astronaut) and matplotlib
(grace_hopper) and on scikit-image's non-face images, so it runs anywhere; the shared
real photographs are used only where present (skipped cleanly otherwise).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dermatrack.errors import InputError
from dermatrack.imaging.analysis import run_analysis
from dermatrack.imaging.definitions import PHOTO_METRICS, not_measurable
from dermatrack.imaging.io import sample_face, write_png
from dermatrack.imaging.quality import assess_capture, capture_differences, head_pose
from dermatrack.imaging.realphoto import (
    OTHER_LINE_KINDS,
    added_wrinkle_scores,
    cv_table,
    detection_overlay,
    other_line_scores,
    plan_other_lines,
    plan_wrinkles,
    render_wrinkles,
    variants,
    with_fringe,
    with_glasses,
    with_ruler,
)

SHARED_FACES = Path("/work/shared/realdata/faces")


@pytest.fixture(scope="module")
def grace() -> np.ndarray:
    return sample_face("grace_hopper")


@pytest.fixture(scope="module")
def grace_analysis(grace):
    return run_analysis(grace, calibrate=False)


def _resample(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return np.clip(cv2.resize(rgb, (round(w * factor), round(h * factor)),
                              interpolation=interp), 0, 1)


# --- 1. physical scale, null with a reason --------------------------------------------

def test_every_resolution_limited_metric_declares_its_coarsest_pixel():
    limits = {d.code: d.max_mm_per_px for d in PHOTO_METRICS}
    for code in ("wrinkles.length_mm", "wrinkles.severity_index", "pores.count",
                 "texture.roughness", "pigment.spot_area_fraction",
                 "redness.red_area_fraction"):
        assert limits[code] is not None and 0 < limits[code] < 2, code
    # Colour medians do not depend on resolution.
    assert limits["pigment.ita_deg"] is None and limits["redness.a_star"] is None
    assert not_measurable(0.45)["pores.count"] == \
        "not measurable at 0.45 mm/px; needs <= 0.10"
    assert not_measurable(0.05) == {} and not_measurable(None) == {}


def test_a_black_and_white_photograph_gets_no_skin_tone_or_redness(grace, grace_analysis):
    """A photograph without colour reads b* = a* = 0 whatever the skin: ITA 90° "very
    light" and no red area. Its skin tone and redness are null with the reason; what
    lightness gives (L*, wrinkles) is still measured."""
    from dermatrack.imaging.definitions import NEEDS_COLOUR
    from dermatrack.imaging.quality import MIN_SKIN_CHROMA

    grey = np.repeat(cv2.cvtColor(grace, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    report = run_analysis(grey, calibrate=False).report
    quality = report["quality"]
    assert quality["skin_chroma"] < MIN_SKIN_CHROMA
    assert any(r.startswith("no colour") for r in quality["reasons"])
    assert set(NEEDS_COLOUR) <= set(quality["not_measurable"])
    assert "without colour" in quality["not_measurable"]["pigment.ita_deg"]
    whole = report["regions"]["whole"]
    assert whole["pigment"]["ita_deg"] is None and whole["pigment"]["ita_category"] is None
    assert whole["pigment"]["b_star"] is None and whole["pigment"]["melanin_index"] is None
    assert whole["redness"] == {"a_star": None, "erythema_index": None,
                                "red_area_fraction": None}
    assert whole["pigment"]["l_star"] is not None
    assert whole["wrinkles"]["length_mm"] > 0
    # The colour photograph: skin chroma far above the limit, colour figures measured.
    colour = grace_analysis.report
    assert colour["quality"]["skin_chroma"] > 5 * MIN_SKIN_CHROMA
    assert not set(NEEDS_COLOUR) & set(colour["quality"]["not_measurable"])
    assert colour["regions"]["whole"]["pigment"]["ita_deg"] is not None
    assert not_measurable(None, colourless=True).keys() == NEEDS_COLOUR


def test_portrait_reports_null_with_reason_not_zero(grace_analysis):
    report = grace_analysis.report
    mpp = report["image"]["mm_per_px"]
    assert report["image"]["scale_source"] == "iris" and 0.3 < mpp < 0.8
    whole = report["regions"]["whole"]
    # Pores cannot be seen at portrait resolution: null, never 0.
    assert whole["pores"] == {"count": None, "density_per_cm2": None,
                              "mean_diameter_mm": None}
    assert whole["texture"]["roughness"] is None
    reason = report["measurability"]["not_measurable"]["pores.count"]
    assert reason == f"not measurable at {mpp:.2f} mm/px; needs <= 0.10"
    assert report["measurability"]["wrinkle_tier"] == "portrait"
    # Wrinkles are measurable at this resolution and found.
    assert whole["wrinkles"]["length_mm"] > 0


def test_wrinkle_length_does_not_follow_the_pixel_count(grace, grace_analysis):
    # Resampled 1.5x the face has 2.25x the pixels; lengths in mm must stay put (they
    # moved by about +40 % before the metrics were brought to a physical grid).
    base = grace_analysis.report["regions"]["whole"]["wrinkles"]
    big = run_analysis(_resample(grace, 1.5), calibrate=False).report
    assert big["image"]["mm_per_px"] == pytest.approx(
        grace_analysis.report["image"]["mm_per_px"] / 1.5, rel=0.05)
    wr = big["regions"]["whole"]["wrinkles"]
    assert wr["length_mm"] == pytest.approx(base["length_mm"], rel=0.10)
    assert wr["severity_index"] == pytest.approx(base["severity_index"], rel=0.10)


def test_too_coarse_a_portrait_gets_null_wrinkles_with_a_reason(grace):
    # grace_hopper at 0.67x: about 1.07 mm/px, coarser than the 0.8 mm/px wrinkles need.
    report = run_analysis(_resample(grace, 0.67), calibrate=False).report
    assert report["image"]["mm_per_px"] > 0.8
    assert report["regions"]["whole"]["wrinkles"]["length_mm"] is None
    assert report["regions"]["whole"]["wrinkles"]["count"] is None
    reason = report["measurability"]["not_measurable"]["wrinkles.length_mm"]
    assert reason.endswith("needs <= 0.80")
    assert report["quality"]["verdict"] in ("usable", "poor")


# --- 2. exposure -----------------------------------------------------------------------

@pytest.mark.parametrize("factor", [0.8, 1.2])
def test_skin_and_maps_hold_under_exposure_change(grace, grace_analysis, factor):
    shifted = variants(grace)[f"exposure_{factor:g}x"]
    report = run_analysis(shifted, calibrate=False).report
    base = grace_analysis.report["regions"]["whole"]
    whole = report["regions"]["whole"]
    assert whole["area_mm2"] == pytest.approx(base["area_mm2"], rel=0.06)
    assert whole["wrinkles"]["length_mm"] == pytest.approx(base["wrinkles"]["length_mm"],
                                                           rel=0.10)
    assert whole["redness"]["red_area_fraction"] == pytest.approx(
        base["redness"]["red_area_fraction"], rel=0.15)
    # Uncalibrated colour is marked so and carries an uncertainty from exposure alone.
    cal = report["calibration"]
    assert cal["note"] == "uncalibrated" and cal["uncertainty"]["ita_deg"] > 0


# --- 3. exclusion bands ----------------------------------------------------------------

def test_no_wrinkle_on_eyes_brows_lips_or_nostrils(grace_analysis):
    from dermatrack.imaging.regions import (
        _LEFT_BROW,
        _LEFT_EYE,
        _LIPS,
        _RIGHT_BROW,
        _RIGHT_EYE,
        _RIGHT_UPPER_LID,
    )

    regions = grace_analysis.regions
    bands = regions.line_exclusion
    assert bands is not None
    shape = bands.shape
    for polygon in (_RIGHT_EYE, _LEFT_EYE, _RIGHT_BROW, _LEFT_BROW, _LIPS,
                    _RIGHT_UPPER_LID):
        inside = np.zeros(shape, np.uint8)
        cv2.fillPoly(inside, [np.round(regions.landmarks[list(polygon)]).astype(np.int32)], 1)
        inside = inside.astype(bool)
        assert bands[inside].all()
    points = np.round(grace_analysis.wrinkles.centreline_points()).astype(int)
    assert len(points) > 0
    # Inside the bands (away from their rims, where the working grid and the photograph's
    # pixels meet) there is no centreline.
    core = cv2.erode(bands.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert not core[points[:, 1].clip(0, shape[0] - 1), points[:, 0].clip(0, shape[1] - 1)
                    ].any()



def test_the_sides_of_the_face_are_a_band_but_not_the_cheeks_or_forehead(grace_analysis):
    from dermatrack.imaging.regions import _SIDE_CONTOUR

    regions = grace_analysis.regions
    lm = regions.landmarks
    bands = regions.line_exclusion
    width = float(np.linalg.norm(lm[454] - lm[234]))
    # Every contour point from temple to temple round the jaw, and the skin 5 % of the face
    # width (about 7 mm, beyond the 3 mm edge band) inside it, are in the band; the centre
    # of each cheek and of the forehead are not.
    centre = lm[list(_SIDE_CONTOUR)].mean(axis=0)
    for index in _SIDE_CONTOUR:
        inward = lm[index] + 0.05 * width * (
            (centre - lm[index]) / np.linalg.norm(centre - lm[index]))
        for x, y in (lm[index], inward):
            assert bands[int(round(y)), int(round(x))], index
    for open_point in (205, 425, 151):  # cheek centres, mid-forehead
        x, y = np.round(lm[open_point]).astype(int)
        assert not bands[y, x], open_point


def test_wrinkles_rendered_into_real_skin_are_found(grace, grace_analysis, artifacts_dir):
    base = grace_analysis
    mpp = base.report["image"]["mm_per_px"]
    open_skin = base.regions.open_skin
    planned = plan_wrinkles(base.regions.landmarks, mpp, open_skin)
    assert planned, "no open skin to draw on"
    drawn = render_wrinkles(grace, planned, mpp)
    after = run_analysis(drawn, calibrate=False, mm_per_px=mpp, regions=base.regions)
    scores = added_wrinkle_scores(base, after, planned, mpp)
    write_png(artifacts_dir / "grace_added_wrinkles.png", detection_overlay(after, planned))
    # Something is found where lines were drawn, and the drawing changes little else.
    assert scores["recall"] > 0
    assert abs(scores["change_elsewhere_mm"]) < 0.1 * base.report["regions"]["whole"][
        "wrinkles"]["length_mm"]


def test_the_other_lines_and_folds_are_placed_where_they_belong_and_found(
        grace, grace_analysis, artifacts_dir):
    """Glabellar lines in the glabella, a marionette line beside the mouth; under-eye
    lines and nasolabial folds are not drawn where grace_hopper's glasses and the bands
    leave no open skin for them. Drawn at a 40 % deficit each kind placed is found."""
    base = grace_analysis
    mpp = base.report["image"]["mm_per_px"]
    open_skin = base.regions.open_skin
    planned = plan_other_lines(base.regions.landmarks, mpp, open_skin)
    where = {"glabellar": ("glabella",), "under_eye": ("periorbital_left",
             "periorbital_right", "cheek_left", "cheek_right"),
             "nasolabial": ("cheek_left", "cheek_right", "perioral"),
             "marionette": ("perioral", "chin")}
    assert {w.kind for w in planned} >= {"glabellar", "marionette"}
    for line in planned:
        xs, ys = np.round(line.points).astype(int).T
        assert open_skin[ys, xs].mean() >= 0.9
        inside = np.zeros(len(xs), bool)
        for region in where[line.kind]:
            inside |= base.regions.masks[region][ys, xs]
        assert inside.mean() >= 0.9, line.kind
    scores, drawn = other_line_scores(grace, base, planned, mpp)
    write_png(artifacts_dir / "grace_other_lines.png", detection_overlay(drawn, planned))
    assert scores["contrasts"][-1] == 0.40
    for kind in OTHER_LINE_KINDS:
        placed = scores["placed"][kind]
        assert placed == sum(w.kind == kind for w in planned)
        if placed:
            assert scores[f"recall_{kind}"][-1] > 0.5, kind
        else:
            assert scores[f"recall_{kind}"] == [None, None]
    assert scores["precision"][-1] > 0.5


# --- 4. quality gate and refusal ---------------------------------------------------------

def test_quality_object_on_a_frontal_portrait(grace_analysis):
    q = grace_analysis.report["quality"]
    assert q["face_found"] and q["face_mode"]
    for key in ("yaw_deg", "pitch_deg", "roll_deg"):
        assert abs(q[key]) < 20, key
    assert q["sharpness"] > 0.5
    assert q["verdict"] in ("good", "usable", "poor")
    assert "pores.count" in q["not_measurable"]


def test_quality_gate_is_a_pure_function_reporting_roll_and_blur(grace, grace_analysis):
    regions = grace_analysis.regions
    h, w = grace.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -25, 1.0)
    turned = cv2.transform(regions.landmarks[None], m)[0]
    yaw, pitch, roll = head_pose(turned)
    assert roll == pytest.approx(head_pose(regions.landmarks)[2] + 25, abs=2)
    q = assess_capture(grace, landmarks=turned, mm_per_px=0.7)
    assert q.verdict == "poor" and any("roll" in r for r in q.reasons)
    blurred = cv2.GaussianBlur(grace, (0, 0), 3)
    qb = assess_capture(blurred, landmarks=regions.landmarks,
                        skin=regions.masks["whole"], mm_per_px=0.7)
    assert qb.verdict == "poor" and any("blurred" in r for r in qb.reasons)
    sharp = assess_capture(grace, landmarks=regions.landmarks,
                           skin=regions.masks["whole"], mm_per_px=0.7)
    assert sharp.sharpness > qb.sharpness * 1.5


@pytest.mark.parametrize("name", ["chelsea", "coffee", "rocket", "colorwheel"])
@pytest.mark.parametrize("width", [None, 4000])
def test_non_face_photos_are_refused_in_face_mode(name, width):
    """Also at 4000 px wide, where a face missing on the copy is looked for on tiles
    (``regions.FACE_TILE_FRACTION``): the tiles find no face in a cat or a cup."""
    from skimage import data

    rgb = getattr(data, name)() / 255.0
    if width is not None:
        rgb = cv2.resize(rgb.astype(np.float32), (width, width * rgb.shape[0] // rgb.shape[1]),
                         interpolation=cv2.INTER_CUBIC)
    with pytest.raises(InputError, match="does not look like a face photograph"):
        run_analysis(rgb, calibrate=False)


def test_a_face_stored_upside_down_is_refused_with_the_turn_that_fixes_it(grace):
    """A photograph stored upside down without an orientation tag: FaceMesh finds no face
    as it is, and the refusal says to turn it, not that it is not a face photograph."""
    from dermatrack.imaging.regions import face_turn

    upside_down = np.ascontiguousarray(grace[::-1, ::-1])
    with pytest.raises(InputError, match="turned 180°: it is stored upside down"):
        run_analysis(upside_down, calibrate=False)
    assert face_turn(upside_down) == 180


def _cut_into_face(rgb: np.ndarray, landmarks: np.ndarray, fraction: float) -> np.ndarray:
    """The photograph with its left edge ``fraction`` of the face's width into the face."""
    left, right = landmarks[:, 0].min(), landmarks[:, 0].max()
    return np.ascontiguousarray(rgb[:, int(left + fraction * (right - left)):])


def test_a_face_cut_by_the_frame_is_poor_and_not_called_turned(grace, grace_analysis):
    """A quarter of the face's width cut off by the frame: FaceMesh places the missing
    landmarks beyond the edge, the regions are incomplete and the wrinkle length falls
    (467 to 340 mm), so the verdict is poor and says why. Cut to 45 %, FaceMesh finds no
    face upright but fits a "face" rolled 88° to the half face at a quarter turn: that is
    not a photograph stored sideways, and the refusal does not say to turn it."""
    landmarks = grace_analysis.regions.landmarks
    assert grace_analysis.report["quality"]["face_outside_fraction"] == 0.0
    quality = run_analysis(_cut_into_face(grace, landmarks, 0.25),
                           calibrate=False).report["quality"]
    assert quality["verdict"] == "poor"
    assert 0.05 < quality["face_outside_fraction"] < 0.3
    assert any(r.startswith("the face is cut by the frame") for r in quality["reasons"])
    with pytest.raises(InputError) as refused:
        run_analysis(_cut_into_face(grace, landmarks, 0.45), calibrate=False)
    assert "does not look like a face photograph" in str(refused.value)
    assert "turned" not in str(refused.value)


def test_a_face_stored_sideways_is_measured_but_told_to_turn(grace):
    """FaceMesh finds a face turned a quarter; the verdict is poor and says which way to
    turn it (positive roll is clockwise, so a face turned counter-clockwise is turned
    back clockwise)."""
    for k, words in ((1, "90° clockwise"), (-1, "90° counter-clockwise")):
        sideways = np.ascontiguousarray(np.rot90(grace, k=k))
        quality = run_analysis(sideways, calibrate=False).report["quality"]
        assert quality["verdict"] == "poor"
        assert f"stored sideways: turn it {words}" in " ".join(quality["reasons"])


def test_an_object_is_not_taken_for_a_face():
    """FaceMesh finds a "face" in scikit-image's colour wheel, and one in its coffee cup
    turned a quarter; too little of their hulls has the colour of skin, so the wheel is
    refused like any non-face photograph and the cup is not called a face stored
    sideways."""
    from skimage import data

    from dermatrack.imaging.regions import face_regions, face_turn

    assert not face_regions(data.colorwheel()).detected
    with pytest.raises(InputError, match="does not look like a face photograph"):
        run_analysis(data.colorwheel() / 255.0, calibrate=False)
    assert face_turn(data.coffee()) is None


def test_a_face_under_a_warm_cast_is_still_a_face(grace):
    """Tungsten light left uncorrected (red x1.8, blue x0.4 in linear light) pushes
    grace_hopper's skin out of the fixed skin-colour range (6 % of the face's hull); the
    full-range detector still finds the face, so it is measured, not refused."""
    from dermatrack.imaging.realphoto import _linear_to_srgb, _srgb_to_linear

    cast = _srgb_to_linear(grace) * np.array([1.8, 1.0, 0.4], np.float32)
    warm = np.clip(_linear_to_srgb(np.clip(cast, 0, 1)), 0, 1).astype(np.float32)
    report = run_analysis(warm, calibrate=False).report
    assert report["face"]["detected"]
    assert report["regions"]["whole"]["wrinkles"]["length_mm"] > 0


def test_close_up_must_look_like_skin():
    from skimage import data

    from dermatrack.imaging.phantom import make_phantom, random_spec

    with pytest.raises(InputError, match="does not look like a close-up of skin"):
        run_analysis(data.rocket() / 255.0, calibrate=False, use_face=False)
    rng = np.random.default_rng(3)
    skin = make_phantom(random_spec(rng, width=320, height=240), rng).rgb
    report = run_analysis(skin, mm_per_px=0.06, calibrate=False, use_face=False).report
    assert report["quality"]["verdict"] == "good"


def test_a_close_up_too_dark_to_tell_skin_says_so():
    """A close-up of skin at L* 19 (ITA -63, the darkest skin measured) is analysed; at
    L* 15, under the fixed colour test's luma floor, most of the frame is too dark to
    tell its colour, and the refusal says so instead of only that it is not skin. A
    rocket, mostly bright, is refused without that note."""
    from dermatrack.imaging.phantom import make_phantom, random_spec

    def close_up(ita: float) -> np.ndarray:
        rng = np.random.default_rng(3)
        spec = random_spec(rng, width=480, height=360, mm_per_px=0.06, ita_deg=ita)
        rgb = make_phantom(spec, np.random.default_rng(3)).rgb
        return (np.round(np.clip(rgb, 0, 1) * 255) / 255).astype(np.float32)  # 8 bits

    dark = run_analysis(close_up(-63), mm_per_px=0.06, calibrate=False, use_face=False)
    assert dark.report["regions"]["whole"]["pigment"]["l_star"] < 20
    with pytest.raises(InputError, match=r"does not look like a close-up of skin; \d+% of "
                                         r"the frame is too dark to tell its colour"):
        run_analysis(close_up(-70), mm_per_px=0.06, calibrate=False, use_face=False)
    from skimage import data

    with pytest.raises(InputError) as rocket:
        run_analysis(data.rocket() / 255.0, calibrate=False, use_face=False)
    assert "too dark" not in str(rocket.value)
    # In face mode alike: a frame almost black says so; a colour wheel on black (42 % of
    # the frame too dark) is refused without the note, most of it being bright.
    with pytest.raises(InputError, match=r"no face found .* too dark to tell its colour"):
        run_analysis(close_up(-70) * 0.5, calibrate=False)
    with pytest.raises(InputError) as wheel:
        run_analysis(data.colorwheel() / 255.0, calibrate=False)
    assert "too dark" not in str(wheel.value)


def test_a_close_up_measures_its_skin_not_a_ruler_laid_on_it():
    """A close-up (--no-face) used to measure every unclipped pixel as skin: a white
    ruler laid over its lower 6 mm in the follow-up read as +7 to +256 % of wrinkle length
    (its ticks, and the lines along its edge and its shadow) and -10 to -100 % of spot
    area, and compare named nothing. Now the ruler is not skin, no line is found along its
    edge, and the pair is named for the skin it hides."""
    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.phantom import make_phantom, random_spec

    rng = np.random.default_rng(5)
    close_up = make_phantom(random_spec(rng), rng).rgb
    ruled = with_ruler(close_up, 0.06, shadow=True)
    plain = run_analysis(close_up, mm_per_px=0.06, calibrate=False, use_face=False)
    covered = run_analysis(ruled, mm_per_px=0.06, calibrate=False, use_face=False)
    area = (plain.report["regions"]["whole"]["area_mm2"],
            covered.report["regions"]["whole"]["area_mm2"])
    assert area[1] == pytest.approx(area[0] - 6.0 * close_up.shape[1] * 0.06, rel=0.02)
    report = compare(close_up, ruled, mm_per_px=0.06, use_face=False).report
    whole = report["regions"]["whole"]
    assert abs(whole["wrinkles"]["length_mm"]["percent"]) < 3.0
    assert abs(whole["pigment"]["spot_area_fraction"]["percent"] or 0.0) < 3.0
    capture = report["capture"]
    assert capture["uncompared_fraction"]["whole"] > 0.2
    assert [line.split(":")[0] for line in capture["differences"]] == ["coverage"]


@pytest.mark.skipif(not (SHARED_FACES / "Thor.png").exists(),
                    reason="shared real photographs not present")
def test_the_shared_cat_photo_is_refused():
    from dermatrack.imaging.io import read_image

    with pytest.raises(InputError, match="no face found"):
        run_analysis(read_image(SHARED_FACES / "Thor.png"), calibrate=False)


# --- 4b. compare warns, or with --strict refuses ------------------------------------------

def test_capture_differences_name_pose_scale_and_lighting(grace, grace_analysis):
    regions = grace_analysis.regions
    q0 = assess_capture(grace, landmarks=regions.landmarks, mm_per_px=0.7)
    h, w = grace.shape[:2]
    turned = cv2.transform(regions.landmarks[None],
                           cv2.getRotationMatrix2D((w / 2, h / 2), 15, 1.0))[0]
    q1 = assess_capture(grace, landmarks=turned, mm_per_px=0.3)
    lab = {"l_star": 60.0, "a_star": 12.0, "b_star": 15.0}
    brighter = {"l_star": 70.0, "a_star": 12.0, "b_star": 24.0}
    diffs = capture_differences(q0, q1, lab, brighter)
    text = " | ".join(diffs)
    assert "roll" in text and "scale" in text and "exposure" in text and "b*" in text
    assert capture_differences(q0, q0, lab, lab) == []


def test_capture_differences_name_a_smile_in_one_photograph(grace, grace_analysis):
    """Smiling deepens crow's feet and nasolabial folds: a pair whose expressions differ
    is named. grace_hopper's mouth is relaxed and closed, the astronaut's smiles with
    her teeth showing (different people, but the mouths are what is judged)."""
    from dermatrack.imaging.quality import EXPRESSION_TOLERANCE, mouth_shape
    from dermatrack.imaging.regions import face_regions

    astronaut = sample_face("astronaut")
    smiling = face_regions(astronaut).landmarks
    relaxed = grace_analysis.regions.landmarks
    (width0, opening0), (width1, opening1) = mouth_shape(relaxed), mouth_shape(smiling)
    assert 0.35 < width0 < 0.42 and opening0 < 0.01
    assert width1 > width0 + EXPRESSION_TOLERANCE and opening1 > EXPRESSION_TOLERANCE
    q0 = assess_capture(grace, landmarks=relaxed, mm_per_px=0.7)
    q1 = assess_capture(astronaut, landmarks=smiling, mm_per_px=0.7)
    assert q1.as_dict()["mouth_width"] == round(width1, 3)
    text = " | ".join(capture_differences(q0, q1, None, None))
    assert "expression: the mouth's width differs by +" in text
    assert "expression: the mouth's opening differs by +" in text
    # The same face turned and photographed from nearer keeps its mouth's shape.
    h, w = grace.shape[:2]
    moved = cv2.transform(relaxed[None], cv2.getRotationMatrix2D((w / 2, h / 2), 8, 1.3))[0]
    assert np.allclose(mouth_shape(moved), mouth_shape(relaxed))
    near = assess_capture(grace, landmarks=moved, mm_per_px=0.7)
    assert not any(line.startswith("expression") for line in capture_differences(q0, near,
                                                                                  None, None))


def test_capture_differences_name_a_cut_face_and_a_photograph_without_colour(grace,
                                                                           grace_analysis):
    """A pair where one face is cut by the frame, or one photograph is black and white,
    cannot be compared region for region or colour for colour: compare says which."""
    landmarks = grace_analysis.regions.landmarks
    whole = assess_capture(grace, landmarks=landmarks, mm_per_px=0.7)
    # The face moved left until a quarter of its width is beyond the frame's edge.
    left, right = landmarks[:, 0].min(), landmarks[:, 0].max()
    cut = assess_capture(grace, landmarks=landmarks - [left + 0.25 * (right - left), 0],
                         mm_per_px=0.7)
    assert cut.face_outside_fraction > 0.05
    grey = np.repeat(cv2.cvtColor(grace, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    colourless = assess_capture(grey, landmarks=landmarks, mm_per_px=0.7)
    text = " | ".join(capture_differences(whole, cut, None, None))
    assert "framing: the face is cut by the frame in the after photograph" in text
    text = " | ".join(capture_differences(colourless, whole, None, None))
    assert "colour: the before photograph has no colour" in text
    assert "scale" not in text  # the colour figures are not a resolution difference


def test_photo_compare_strict_refuses_a_mismatched_pair(cli, grace, tmp_path):
    from dermatrack.imaging.io import write_jpeg

    before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
    write_jpeg(before, grace, quality=95)
    write_jpeg(after, variants(grace)["exposure_1.2x"] ** 0.8, quality=95)
    r = cli("photo", "compare", before, after, "--json")
    assert r.code == 0, r.stderr
    assert "captures differ: lighting" in r.stderr
    assert r.json()["capture"]["differences"]
    strict = cli("photo", "compare", before, after, "--strict", "--json")
    assert strict.code == 2 and "do not match (--strict)" in strict.stderr
    assert "lighting" in strict.stderr and strict.stdout == ""
    same = cli("photo", "compare", before, before, "--strict", "--json")
    assert same.code == 0, same.stderr
    assert same.json()["capture"]["differences"] == []


def test_compare_measures_the_follow_up_on_its_own_pixels(grace):
    """The same photograph moved by half a pixel (exactly, in the Fourier domain) is no
    change. Warped back onto the baseline before it was measured, it was resampled and
    lost the contrast of its finest lines: 17 % fewer lines on the whole face, beyond
    the whole-face MDC95 of the real-photo validation (12 %), so a false improvement."""
    from scipy import ndimage

    from dermatrack.imaging.compare import compare

    moved = np.stack([np.real(np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(grace[..., c]),
                                                                  (0.5, 0.5))))
                      for c in range(3)], axis=-1).clip(0, 1).astype(np.float32)
    lines = compare(grace, moved).report["regions"]["whole"]["wrinkles"]["length_mm"]
    assert abs(lines["percent"]) < 12.0


def test_compare_measures_only_the_skin_both_photographs_show(grace):
    """A fringe in the follow-up only: before this, its strands and edge were measured as
    forehead lines (+218 % on grace_hopper, +18 % on the whole face)."""
    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.regions import face_regions

    regions = face_regions(grace)
    fringe = with_fringe(grace, regions.masks["forehead"])
    result = compare(grace, fringe)
    lines = {name: result.report["regions"][name]["wrinkles"]["length_mm"]
             for name in ("whole", "forehead")}
    assert abs(lines["whole"]["change"]) <= 0.05 * lines["whole"]["before"]
    assert abs(lines["forehead"]["change"]) <= 2.0  # mm
    capture = result.report["capture"]
    assert capture["uncompared_fraction"]["forehead"] > 0.5
    assert max(capture["uncompared_fraction"][side]
               for side in ("cheek_left", "cheek_right", "chin")) < 0.1
    assert any(line.startswith("coverage: ") and "forehead region" in line
               for line in capture["differences"]) and not capture["matched"]


def test_a_stored_pair_overlays_only_the_skin_both_photographs_show(grace, store, consented,
                                                                    tmp_path):
    """The report's and the viewer's before/after overlays (stored screen copies and
    masks) compare the skin both photographs show: a fringe in the follow-up is not
    shown as darkened skin, nor counted in the share that changed."""
    from dermatrack.imaging.change_overlay import lightness_overlay
    from dermatrack.imaging.io import write_png
    from dermatrack.imaging.regions import face_regions
    from dermatrack.services import patients
    from dermatrack.services.derived import aligned_displays
    from dermatrack.services.photos import import_photo

    patient = patients.add_patient(store, {
        "age": 60, "sex": "female", "fitzpatrick": "II", "concerns": [],
        "identity": {"name": "Test Fringe", "email": "t.f@example.org"}}, actor="dr.lee")
    consented(store, patient.id, actor="dr.lee")
    fringe = with_fringe(grace, face_regions(grace).masks["forehead"])
    ids = []
    for name, rgb in (("before.png", grace), ("after.png", fringe)):
        write_png(tmp_path / name, rgb)
        ids.append(import_photo(store, patient_id=patient.id, visit_id=None,
                                path=tmp_path / name, actor="dr.lee").id)
    pair = aligned_displays(store, ids[0], ids[1])
    assert pair.baseline_masks is not None and "skin" in pair.baseline_masks
    hair = pair.covered & ~pair.aligned_masks["skin"] & pair.baseline_masks["skin"]
    assert hair.sum() > 0.02 * pair.baseline_masks["skin"].sum()  # the fringe's skin
    assert not (pair.compared & hair).any()
    _, darker_all, _ = lightness_overlay(pair.baseline, pair.aligned, pair.covered)
    _, darker, _ = lightness_overlay(pair.baseline, pair.aligned, pair.compared)
    assert darker < darker_all / 2  # measured: 0.027 against 0.067


def test_compare_names_glasses_worn_in_one_photograph(grace):
    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.regions import face_regions

    regions = face_regions(grace)
    glasses = with_glasses(grace, regions.landmarks, 11.7 / regions.iris_diameter_px)
    capture = compare(grace, glasses).report["capture"]
    named = " | ".join(capture["differences"])
    assert "periorbital left region" in named and "periorbital right region" in named
    # Ordinary capture changes leave the regions compared.
    ordinary = compare(grace, variants(grace)["jpeg_70"]).report["capture"]
    assert max(ordinary["uncompared_fraction"].values()) < 0.2
    assert not any(line.startswith("coverage") for line in ordinary["differences"])


def test_compare_names_a_photograph_blurred_against_the_other(grace):
    """Blur takes fine lines away: grace_hopper blurred by a Gaussian of 1.1 px measures
    35 % less wrinkle length, so a follow-up out of focus would read as an improvement.
    The pair is named, whichever photograph is the blurred one; the same face rotated by
    10° (the least sharp of the validation's captures of this face after the resampled
    and shifted ones, ratio 0.86) is not."""
    from dataclasses import replace

    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.quality import SHARPNESS_TOLERANCE_RATIO

    blurred = cv2.GaussianBlur(grace, (0, 0), 1.1)
    result = compare(grace, blurred)
    capture = result.report["capture"]
    assert capture["after"]["sharpness"] < SHARPNESS_TOLERANCE_RATIO * capture["before"][
        "sharpness"]
    named = [line for line in capture["differences"] if line.startswith("sharpness: ")]
    assert named and named[0].startswith("sharpness: the after photograph is blurred")
    assert not capture["matched"]
    rotated = compare(grace, variants(grace)["rotate_+10deg"]).report["capture"]
    assert not any(line.startswith("sharpness") for line in rotated["differences"])
    q = assess_capture(grace, mm_per_px=0.7)
    soft = replace(q, sharpness=q.sharpness * 0.5)
    assert capture_differences(soft, q, None, None)[0].startswith(
        "sharpness: the before photograph is blurred")
    assert capture_differences(q, replace(q, sharpness=q.sharpness * 0.7), None, None) == []


def test_compare_names_a_photograph_whose_skin_was_smoothed(grace):
    """A phone's beauty mode smooths the skin and keeps the eyes, brows and lips sharp.
    grace_hopper's skin (not her features) blurred by 2 px loses most of its lines; the
    skin-detail ratio names it (the sharpness ratio did so on two faces of eight,
    ``benchmarks/sharpness_pairs.py``), whichever photograph was smoothed. The same face
    taking drawn lines away again (what a treatment that works does) and re-exposed by
    20 % are not named."""
    from dataclasses import replace

    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.quality import SKIN_DETAIL_TOLERANCE_RATIO
    from dermatrack.imaging.realphoto import plan_wrinkles, render_wrinkles, with_skin_smoothed
    from dermatrack.imaging.regions import face_regions
    from dermatrack.imaging.scale import mm_per_px_from_iris

    smoothed = with_skin_smoothed(grace, cv2.GaussianBlur(grace, (0, 0), 2.0))
    capture = compare(grace, smoothed).report["capture"]
    ratio = capture["after"]["skin_detail"] / capture["before"]["skin_detail"]
    assert ratio < SKIN_DETAIL_TOLERANCE_RATIO
    named = [line for line in capture["differences"] if line.startswith("skin detail: ")]
    assert named and named[0].startswith("skin detail: the after photograph's skin has")
    assert "beauty or skin-smoothing mode" in named[0]
    regions = face_regions(grace)
    mm_per_px = mm_per_px_from_iris(regions)
    lines = [replace(line, contrast=0.25)
             for line in plan_wrinkles(regions.landmarks, mm_per_px, regions.open_skin)]
    treated = compare(render_wrinkles(grace, lines, mm_per_px), grace).report["capture"]
    assert treated["after"]["skin_detail"] > 0.9 * treated["before"]["skin_detail"]
    brighter = compare(grace, variants(grace)["exposure_1.2x"]).report["capture"]
    for differences in (treated["differences"], brighter["differences"]):
        assert not any(line.startswith("skin detail") for line in differences)
    q = assess_capture(grace, mm_per_px=0.7)
    assert q.skin_detail is None  # no features without landmarks
    detailed = replace(q, skin_detail=0.5)
    assert capture_differences(replace(detailed, skin_detail=0.25), detailed, None, None)[
        0].startswith("skin detail: the before photograph's skin has 0.50")
    assert capture_differences(detailed, replace(detailed, skin_detail=0.35), None,
                               None) == []


# --- 6. the validation's real-photo pieces ------------------------------------------------

def test_variants_and_cv_table(grace):
    vs = variants(grace)
    assert set(vs) == {"resample_0.67x", "resample_1.5x", "rotate_+10deg", "rotate_-10deg",
                       "exposure_0.8x", "exposure_1.2x", "jpeg_70"}
    assert vs["resample_1.5x"].shape[1] == round(grace.shape[1] * 1.5)
    reports = {"original": {"regions": {"whole": {"area_mm2": 10.0, "wrinkles": {
        "length_mm": 100.0}}}},
        "a": {"regions": {"whole": {"area_mm2": 10.0, "wrinkles": {"length_mm": 110.0}}}},
        "b": {"regions": {"whole": {"area_mm2": 10.0, "wrinkles": {"length_mm": None}}}},
        "c": {"regions": {"whole": {"area_mm2": 10.0, "wrinkles": {"length_mm": 90.0}}}}}
    table = cv_table(reports)
    row = table["whole"]["wrinkle length"]
    assert row["n"] == 3 and row["cv_pct"] == pytest.approx(10.0)
    assert table["whole"]["skin area"]["cv_pct"] == 0.0


def test_region_cvs_are_scored_above_one_countable_wrinkle():
    """A region holding less than one shortest countable wrinkle on average is below the
    limit of quantification: its CV is reported but not scored against the target."""
    from dermatrack.imaging.realphoto import region_quantifiable, summarise
    from dermatrack.imaging.wrinkles import PORTRAIT_MIN_LENGTH_MM

    def variant(glabella: float) -> dict:
        return {"regions": {
            "whole": {"area_mm2": 10.0, "wrinkles": {"length_mm": 100.0 + glabella}},
            "forehead": {"area_mm2": 5.0, "wrinkles": {"length_mm": 60.0 + glabella}},
            "glabella": {"area_mm2": 1.0, "wrinkles": {"length_mm": glabella}}}}

    # One 5 mm line in one variant of eight: a CV of 283 % on a mean of 0.6 mm.
    reports = {f"v{i}": variant(5.0 if i == 0 else 0.0) for i in range(8)}
    reports["original"] = reports.pop("v7")
    table = cv_table(reports)
    assert table["glabella"]["wrinkle length"]["cv_pct"] == pytest.approx(100 * 8 ** 0.5)
    assert not region_quantifiable(table["glabella"]["wrinkle length"]["mean"])
    assert region_quantifiable(PORTRAIT_MIN_LENGTH_MM)
    worst = summarise({"face": {"cv": table}}, {}, {})["worst"]
    assert worst["cv_region_wrinkle_length_pct"] == pytest.approx(
        table["forehead"]["wrinkle length"]["cv_pct"])
    assert worst["cv_region_wrinkle_length_all_pct"] == pytest.approx(100 * 8 ** 0.5)


def test_summary_gives_the_root_mean_square_cv_over_faces():
    """Beside the worst face and the median, the RMS of the per-face CVs (the precision
    error of bone densitometry, Glüer 1995): 3 % and 4 % give 3.54 %, not 3.5 % or 4 %."""
    from dermatrack.imaging.realphoto import summarise

    def face(spread: float) -> dict:
        # Whole-face length 100 mm +- spread over eight captures: CV = spread %.
        lengths = [100.0 + spread * (1 if i % 2 else -1) * (7 / 8) ** 0.5 for i in range(8)]
        reports = {f"v{i}": {"regions": {"whole": {"area_mm2": 10.0,
                                                    "wrinkles": {"length_mm": v}}}}
                   for i, v in enumerate(lengths)}
        reports["original"] = reports.pop("v7")
        return {"cv": cv_table(reports)}

    faces = {"a": face(3.0), "b": face(4.0)}
    assert faces["a"]["cv"]["whole"]["wrinkle length"]["cv_pct"] == pytest.approx(3.0)
    summary = summarise(faces, {}, {})
    assert summary["rms"]["cv_whole_wrinkle_length_pct"] == pytest.approx(12.5 ** 0.5)
    assert summary["median"]["cv_whole_wrinkle_length_pct"] == pytest.approx(3.5)
    assert summary["worst"]["cv_whole_wrinkle_length_pct"] == pytest.approx(4.0)
    assert summary["rms"]["cv_spot_area_pct"] is None  # no face measured it


def test_darker_captures_and_the_changes_they_make():
    """The darker captures scale the linear luminance by 1/2, 1/4 and 1/8 (1-3 stops);
    each figure's change is from the face as it is, the skin counted in pixels (so a
    moved iris scale does not move it), null where either figure is, and the summary
    keeps the largest change with its sign and counts refused captures."""
    from dermatrack.imaging.colour import linear_to_srgb, srgb_to_linear
    from dermatrack.imaging.realphoto import (
        _darker_markdown,
        darker_captures,
        darker_changes,
        summarise,
    )

    rgb = np.random.default_rng(0).uniform(0.2, 0.9, (8, 8, 3)).astype(np.float32)
    captures = darker_captures(rgb)
    assert list(captures) == ["luminance_1/2", "luminance_1/4", "luminance_1/8"]
    for capture, factor in zip(captures.values(), (0.5, 0.25, 0.125), strict=True):
        assert np.array_equal(np.round(capture * 255), capture * 255)  # 8-bit codes
        exact = linear_to_srgb(srgb_to_linear(rgb) * factor)
        assert np.abs(capture - exact).max() <= 0.5 / 255 + 1e-4  # within half a code

    def report(length, area_mm2, mpp, spots):
        return {"image": {"mm_per_px": mpp}, "regions": {"whole": {
            "area_mm2": area_mm2, "wrinkles": {"length_mm": length},
            "pigment": {"spot_area_fraction": spots, "l_star": 30.0}}}}

    def face(length_1_8):
        return {"darker": darker_changes({
            "original": report(100.0, 400.0, 0.5, 0.0),
            "luminance_1/2": report(105.0, 441.0, 0.525, 0.01),  # same pixels, iris +5 %
            "luminance_1/4": {"regions": {}, "error": "photo refused: blurred"},
            "luminance_1/8": report(length_1_8, 360.0, 0.5, None)})}

    one = face(80.0)["darker"]
    half = one["luminance_1/2"]["change_pct"]
    assert half["wrinkle length"] == pytest.approx(5.0)
    assert half["skin pixels"] == pytest.approx(0.0)
    assert half["mm/px"] == pytest.approx(5.0)
    assert half["spot area"] is None  # no spots on the face as it is: no ratio
    assert one["luminance_1/4"] == {"error": "photo refused: blurred"}
    assert one["luminance_1/8"]["change_pct"]["skin pixels"] == pytest.approx(-10.0)
    darker = summarise({"a": face(80.0), "b": face(110.0), "c": face(97.0)},
                       {}, {})["darker"]
    length = darker["luminance_1/8"]["figures"]["wrinkle length"]
    assert length["largest"] == pytest.approx(-20.0)  # not +10: the larger magnitude
    assert length["median"] == pytest.approx(-3.0) and length["faces"] == 3
    assert darker["luminance_1/4"]["refused"] == 3
    assert darker["luminance_1/8"]["l_star_median"] == pytest.approx(30.0)
    text = "\n".join(_darker_markdown({"darker": darker}))
    assert "| 1/8 | 30 | -20 / -3 |" in text and "| 1/4 | n/a | n/a / n/a |" in text
    assert darker["added_wrinkles"]["faces"] == 0 and "drawn at 15 %" not in text
    # The drawn lines three stops under, beside the faces as they are; a face whose
    # darker capture was refused is left out of both.
    faces = {"a": {"added_wrinkles": {"recall": 0.9, "precision": 1.0},
                   "darker_added_wrinkles": {"recall": 0.7, "precision": 0.9}},
             "b": {"added_wrinkles": {"recall": 0.5, "precision": 0.8},
                   "darker_added_wrinkles": {"recall": 0.6, "precision": None}},
             "c": {"added_wrinkles": {"recall": 0.1, "precision": 0.1},
                   "darker_added_wrinkles": {"error": "photo refused"}}}
    added = summarise(faces, {}, {})["darker"]["added_wrinkles"]
    assert added["faces"] == 2
    assert added["recall_as_is"] == {"median": pytest.approx(0.7), "worst": 0.5}
    assert added["recall_darker"] == {"median": pytest.approx(0.65), "worst": 0.6}
    assert added["precision_darker"] == {"median": pytest.approx(0.9), "worst": 0.9}
    text = "\n".join(_darker_markdown({"darker": {**darker, "added_wrinkles": added}}))
    assert "recall 0.65 (worst 0.60) against 0.70 (worst 0.50)" in text


def test_chart_captures_are_each_calibrated_and_each_counted():
    """A chart photographed on a real scene is found as taken, turned 30° and a quarter,
    shrunk to a quarter of its size and in perspective; the detection rate counts every
    capture of every chart photograph, and a chart on a screen must be refused in each."""
    import skimage.data

    from dermatrack.imaging.calibration import calibrate_with_colorchecker
    from dermatrack.imaging.chart import render_colorchecker, warp_chart
    from dermatrack.imaging.realphoto import chart_captures, real_markdown, summarise

    scene = skimage.data.coffee().astype(np.float32) / 255  # 600 x 400
    scene = cv2.resize(scene, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    chart, geometry = render_colorchecker(40)
    aspect = geometry.height_px / geometry.width_px
    width = 300.0  # swatches 45 px apart as taken, 11 px at a quarter size
    corners = np.array([[0, 0], [1, 0], [1, aspect], [0, aspect]]) * width + (420, 260)
    photo, _ = warp_chart(scene, chart, corners)
    captures = chart_captures(photo)
    assert set(captures) == {"as taken", "rotated 30°", "quarter turn", "quarter size",
                             "tilted"}
    assert captures["quarter size"].shape[:2] == (200, 300)
    found = {name: calibrate_with_colorchecker(image).applied
             for name, image in captures.items()}
    assert all(found.values()), found

    def result(found: list[bool]) -> dict:
        per = {f"c{i}": {"found": f, "delta_e2000_max": None, "note": None}
               for i, f in enumerate(found)}
        return {**per["c0"], "captures": per}

    charts = {"a": {"on_screen": False, **result([True, True, False, True, True])},
              "b": {"on_screen": False, **result([True, True, True, True, True])},
              "screen": {"on_screen": True, **result([False, False, True, False, False])}}
    values = summarise({}, {}, charts)["targets"]
    assert values["chart_detection_rate"]["value"] == pytest.approx(9 / 10)
    assert values["screen_chart_refused"]["value"] == pytest.approx(4 / 5)
    report = {"faces": {}, "non_skin": {}, "charts": charts,
              "summary": summarise({}, {}, charts)}
    text = real_markdown(report, "dermatrack validate imaging")
    assert ("Printed charts calibrated in 9 of 10 captures; charts on a screen refused in "
            "4 of 5") in text


def test_detection_limit_is_where_recall_stays_above_the_level():
    """The limit is interpolated where recall crosses 0.9 for good; bounds say when the
    lowest contrast already reaches it or the highest never does."""
    from dermatrack.imaging.realphoto import detection_limit

    contrasts = [0.1, 0.15, 0.25, 0.4]
    assert detection_limit(contrasts, [0.5, 0.7, 0.95, 1.0]) == {
        "contrast": pytest.approx(0.15 + (0.9 - 0.7) / (0.95 - 0.7) * 0.1), "bound": "="}
    # A recall that reaches the level and falls back does not set the limit.
    assert detection_limit(contrasts, [0.2, 0.92, 0.85, 0.97])["contrast"] == \
        pytest.approx(0.25 + (0.9 - 0.85) / (0.97 - 0.85) * 0.15)
    assert detection_limit(contrasts, [0.9, 0.95, 1.0, 1.0]) == {"contrast": 0.1,
                                                                  "bound": "<="}
    assert detection_limit(contrasts, [0.1, 0.2, 0.3, 0.6]) == {"contrast": 0.4,
                                                                 "bound": ">"}
    assert detection_limit(contrasts, [None] * 4) == {"contrast": None, "bound": None}
    # Unscored contrasts (None) are skipped, not read as zero.
    assert detection_limit(contrasts, [None, 0.95, None, 1.0])["bound"] == "<="


def test_detection_sweep_on_a_real_face(grace, grace_analysis):
    """Drawn deeper, the same wrinkles are found at least as well; the sweep reports the
    contrast the detector measures on the photograph's own lines and on the added ones."""
    from dermatrack.imaging.realphoto import (
        ADDED_WRINKLE_CONTRAST,
        DETECTION_LIMIT_CONTRASTS,
        detection_sweep,
    )

    base = grace_analysis
    mpp = base.report["image"]["mm_per_px"]
    open_skin = base.regions.open_skin
    planned = plan_wrinkles(base.regions.landmarks, mpp, open_skin)
    after = run_analysis(render_wrinkles(grace, planned, mpp), calibrate=False,
                         mm_per_px=mpp, regions=base.regions)
    scores = added_wrinkle_scores(base, after, planned, mpp)
    sweep = detection_sweep(grace, base, planned, mpp, (after, scores))
    assert sweep["contrasts"] == list(DETECTION_LIMIT_CONTRASTS)
    at = sweep["contrasts"].index(ADDED_WRINKLE_CONTRAST)
    assert sweep["recall"][at] == scores["recall"]  # the scored run is reused
    assert sweep["recall"][-1] >= sweep["recall"][0]
    assert sweep["recall"][-1] > 0.5  # a 40 % deficit is a deep, plainly visible line
    assert sweep["limit"]["bound"] in ("=", "<=", ">")
    own, added = sweep["photo_line_contrast_pct"], sweep["added_line_contrast_pct"]
    assert own is not None and own[0] <= own[1] <= own[2]
    assert added is not None and 0 < added[0] <= added[1] <= added[2]


def test_the_other_lines_table_names_what_could_not_be_placed():
    from dermatrack.imaging.realphoto import _other_lines_markdown

    other = {"contrasts": [0.15, 0.4], "precision": [1.0, 0.95],
             "placed": {"glabellar": 2, "under_eye": 0, "nasolabial": 2, "marionette": 1},
             "recall_glabellar": [0.34, 1.0], "recall_under_eye": [None, None],
             "recall_nasolabial": [0.5, 0.9], "recall_marionette": [1.0, 1.0]}
    text = "\n".join(_other_lines_markdown({"grace": {"other_lines": other},
                                            "cat": {"error": "refused"}}))
    assert "| grace | 0.34 / 1.00 (2) | n/a (0) | 0.50 / 0.90 (2) | 1.00 / 1.00 (1) " \
           "| 1.00 / 0.95 |" in text
    assert "cat" not in text
    assert ("glabellar lines 0.34 / 1.00 (1 face), under-eye lines n/a / n/a (0 faces), "
            "nasolabial folds 0.50 / 0.90 (1 face)") in text
    assert _other_lines_markdown({"cat": {"error": "refused"}}) == []
