"""Face landmarks, skin mask and region masks on the real faces that ship in packages."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dermatrack.imaging.colour import lab_to_srgb
from dermatrack.imaging.io import write_png
from dermatrack.imaging.regions import (
    REGION_NAMES,
    FaceRegions,
    face_regions,
    face_without_features,
    facial_features,
    region_overlay,
    single_region,
    skin_mask,
)

# FaceMesh contours (subject's right eye, left eye, brows, outer lips).
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181,
        91, 146)


def _astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut().astype(np.float32) / 255


def _grace_hopper() -> np.ndarray:
    import matplotlib.cbook
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        return np.asarray(Image.open(handle).convert("RGB"), dtype=np.float32) / 255


@pytest.fixture(scope="module", params=["astronaut", "grace_hopper"])
def face(request):
    rgb = _astronaut() if request.param == "astronaut" else _grace_hopper()
    return request.param, rgb, face_regions(rgb)


def _polygon_mask(shape, landmarks, indices) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks[list(indices)]).astype(np.int32)], 1)
    return mask.astype(bool)


def test_face_found_with_every_region(face):
    name, rgb, regions = face
    assert regions.detected
    assert regions.landmarks.shape == (478, 2)
    assert set(regions.masks) == set(REGION_NAMES) | {"whole"}
    for region in REGION_NAMES:
        mask = regions.masks[region]
        assert mask.shape == rgb.shape[:2] and mask.dtype == bool
        # Each region is a real area, not a sliver (the astronaut's face is ~130 px wide).
        assert mask.sum() > 150, (name, region)


def test_regions_are_disjoint_and_whole_is_their_union(face):
    _, _, regions = face
    stack = np.stack([regions.masks[r] for r in REGION_NAMES]).astype(np.uint8)
    assert stack.sum(axis=0).max() == 1
    np.testing.assert_array_equal(regions.masks["whole"], stack.sum(axis=0) > 0)
    assert not (regions.masks["whole"] & ~regions.skin_mask).any()


def test_eyes_brows_and_lips_are_excluded(face):
    _, rgb, regions = face
    whole = regions.masks["whole"]
    for indices in (RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS):
        feature = _polygon_mask(rgb.shape[:2], regions.landmarks, indices)
        assert feature.sum() > 20
        assert not (feature & whole).any()
    for x, y in regions.landmarks[468:]:  # iris points
        assert not whole[int(round(y)), int(round(x))]


def test_the_features_and_the_face_without_them_from_the_landmarks_alone(face):
    """``facial_features`` holds every eye, brow and lip polygon and no cheek;
    ``face_without_features`` is the rest of the face, the cheeks among it."""
    _, rgb, regions = face
    shape = rgb.shape[:2]
    features = facial_features(shape, regions.landmarks)
    rest = face_without_features(shape, regions.landmarks)
    assert not (features & rest).any()
    for indices in (RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS):
        assert features[_polygon_mask(shape, regions.landmarks, indices)].all()
    for cheek in ("cheek_left", "cheek_right"):
        inside = regions.masks[cheek]
        assert not (features & inside).any() and (rest & inside).sum() > 0.9 * inside.sum()


def test_regions_sit_in_their_anatomical_places(face):
    _, _, regions = face
    landmarks = regions.landmarks

    def centroid(region):
        ys, xs = np.nonzero(regions.masks[region])
        return xs.mean(), ys.mean()

    brow_bottom = landmarks[list(RIGHT_BROW + LEFT_BROW), 1].max()
    brow_top = landmarks[list(RIGHT_BROW + LEFT_BROW), 1].min()
    forehead_ys = np.nonzero(regions.masks["forehead"])[0]
    assert forehead_ys.max() <= brow_bottom and centroid("forehead")[1] < brow_top
    nose_x = landmarks[1, 0]
    # Subject's left is on the image's right.
    for side, sign in (("left", 1), ("right", -1)):
        assert sign * (centroid(f"cheek_{side}")[0] - nose_x) > 0
        assert sign * (centroid(f"periorbital_{side}")[0] - nose_x) > 0
    glabella_x, glabella_y = centroid("glabella")
    assert landmarks[55, 0] < glabella_x < landmarks[285, 0]
    assert glabella_y < landmarks[168, 1] + 2
    eye_y = landmarks[[33, 263], 1].mean()
    mouth_y = landmarks[[61, 291], 1].mean()
    assert eye_y < centroid("nose")[1] < mouth_y
    assert centroid("perioral")[1] > centroid("nose")[1]
    assert centroid("chin")[1] > mouth_y
    assert centroid("cheek_left")[1] > eye_y


def test_periorbital_reaches_the_crows_feet(face):
    _, _, regions = face
    landmarks = regions.landmarks
    eye_width = np.linalg.norm(landmarks[33] - landmarks[133])
    right_xs = np.nonzero(regions.masks["periorbital_right"])[1]
    left_xs = np.nonzero(regions.masks["periorbital_left"])[1]
    # Skin lateral to the outer eye corners, by at least a third of an eye width.
    assert right_xs.min() < landmarks[33, 0] - eye_width / 3
    assert left_xs.max() > landmarks[263, 0] + eye_width / 3


def test_the_skin_mask_holds_on_darker_skin(face):
    """Three stops under, the skin has the lightness of Fitzpatrick VI skin (L* about
    25). The skin mask's floor and the edge band's steps are luminance ratios, so the
    same skin is found: with the floor at half the median L* (a third of the luminance
    at L* 25, a fifth at L* 70) grace_hopper lost 10 % of its skin mask and the
    astronaut 13 %, and the analysed skin overlapped the original's by 0.92 / 0.91."""
    from dermatrack.imaging.realphoto import darker_captures

    name, rgb, regions = face
    darker = face_regions(darker_captures(rgb)["luminance_1/8"])
    skin, now = regions.skin_mask, darker.skin_mask
    assert (skin & ~now).sum() / skin.sum() < 0.06, name  # measured 0.020 / 0.037
    whole, whole_now = regions.masks["whole"], darker.masks["whole"]
    assert (whole & whole_now).sum() / (whole | whole_now).sum() > 0.94, name  # 0.96


def test_background_is_not_skin(face):
    _, _, regions = face
    # The plain backgrounds in the top corners of both photographs.
    assert not regions.skin_mask[:20, :20].any() and not regions.skin_mask[:20, -20:].any()


def test_forehead_extends_above_the_mesh_where_there_is_skin():
    # Grace Hopper's cap sits at the top of the mesh; replace the cap above the
    # forehead with forehead-coloured skin and the region must follow it upward.
    rgb = _grace_hopper()
    regions = face_regions(rgb)
    landmarks = regions.landmarks
    top = int(landmarks[10, 1])
    left, right = int(landmarks[103, 0]), int(landmarks[332, 0])
    skin_colour = np.median(rgb[regions.masks["forehead"]], axis=0)
    noise = np.random.default_rng(0).normal(0, 0.01, (40, right - left, 3))
    bare = rgb.copy()
    bare[top - 40:top, left:right] = np.clip(skin_colour + noise, 0, 1)
    extended = face_regions(bare)
    forehead_ys = np.nonzero(extended.masks["forehead"])[0]
    assert forehead_ys.min() < extended.landmarks[10, 1] - 15
    # ... while with the cap in place it stops at the cap.
    assert np.nonzero(regions.masks["forehead"])[0].min() > top - 8


def test_iris_diameter_is_measured(face):
    _, _, regions = face
    face_width = np.linalg.norm(regions.landmarks[454] - regions.landmarks[234])
    # Iris about 11.7 mm in a face about 140 mm wide: 6-11 % of the face width.
    assert 0.06 < regions.iris_diameter_px / face_width < 0.11


def _single_and_averaged(rgb):
    from dermatrack.imaging.regions import (
        _mesh_copy,
        _mesh_points,
        _mesh_points_averaged,
        _to_uint8,
    )

    rgb8 = _to_uint8(rgb)
    height, width = rgb8.shape[:2]
    small = _mesh_copy(rgb8)
    return _mesh_points(small, width, height), _mesh_points_averaged(small, width, height)


def test_landmarks_are_the_mean_of_runs_on_moved_copies(face):
    """face_regions' landmarks and iris come from the runs of LANDMARK_RUNS mapped back:
    they sit where one run puts them (within half a percent of the face's width, z
    too), so the runs are mapped back the right way."""
    from dermatrack.imaging.regions import _horizontal_iris_diameter

    _, rgb, regions = face
    single, averaged = _single_and_averaged(rgb)
    np.testing.assert_allclose(regions.landmarks, averaged[:, :2])
    np.testing.assert_allclose(regions.landmark_depth, averaged[:, 2])
    assert regions.iris_diameter_px == pytest.approx(_horizontal_iris_diameter(averaged))
    face_width = np.linalg.norm(single[454, :2] - single[234, :2])
    assert np.median(np.linalg.norm(averaged[:, :2] - single[:, :2], axis=1)) < 0.005 * face_width
    assert np.median(np.abs(averaged[:, 2] - single[:, 2])) < 0.005 * face_width
    assert not np.allclose(averaged, single)


def test_averaged_landmarks_move_less_between_captures_than_one_run(face):
    """The same face rotated by 5 and 10 degrees either way: one FaceMesh run's
    landmarks move by 0.4-1.0 px (median), the mean of the runs by half as much. Every
    region, band and the iris scale are drawn from them."""
    from dermatrack.imaging.realphoto import _moved

    _, rgb, _ = face
    height, width = rgb.shape[:2]
    single0, averaged0 = _single_and_averaged(rgb)
    moved_single, moved_averaged = [], []
    for angle in (5.0, -5.0, 10.0, -10.0):
        rotation = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)

        def rotated(points, rotation=rotation):
            return points[:, :2] @ rotation[:2, :2].T + rotation[:, 2]

        single, averaged = _single_and_averaged(_moved(rgb, angle))
        moved_single.append(np.median(np.linalg.norm(single[:, :2] - rotated(single0), axis=1)))
        moved_averaged.append(
            np.median(np.linalg.norm(averaged[:, :2] - rotated(averaged0), axis=1)))
    assert np.median(moved_averaged) < 0.75 * np.median(moved_single)


@pytest.mark.parametrize("face_px", [400, 250, 140])
def test_a_face_small_in_a_large_frame_is_found_on_a_crop(face, face_px):
    """The face photographed from farther away: a tenth, a sixteenth and 3.5 % of a
    4000 x 3000 frame wide (96, 60 and 34 px in FaceMesh's 960 px copy, where its own
    detector finds none). The full-range detector finds it (the smallest only on a tile
    of half the frame's width: on the copy it is too small for it too) and FaceMesh
    runs on a full-resolution crop; the landmarks are where the face's own are, within
    1 % of its width. At a sixteenth (0.6 mm/px) the edge band's whole-frame grid would
    be 30 MP: it is built around the face only."""
    name, rgb, regions = face
    landmarks = regions.landmarks
    scale = face_px / float(np.linalg.norm(landmarks[454] - landmarks[234]))
    photo = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    canvas = np.full((3000, 4000, 3), 0.45, np.float32)
    top = 3000 - photo.shape[0]
    canvas[max(top, 0):, 400:400 + photo.shape[1]] = photo[max(-top, 0):, :3600]
    found = face_regions(canvas)
    assert found.detected, name
    expected = landmarks * scale + [400, top]
    error = np.median(np.linalg.norm(found.landmarks - expected, axis=1))
    assert error < 0.01 * face_px, (name, error)
    if face_px == 250:
        assert found.line_exclusion[:, :300].sum() == 0  # nothing built far from the face


def _face_crop(rgb: np.ndarray, width_px: float) -> np.ndarray:
    """The face of ``rgb`` with a margin (2.5 face widths), scaled to ``width_px``."""
    landmarks = face_regions(rgb).landmarks
    width = float(np.linalg.norm(landmarks[454] - landmarks[234]))
    cx, cy = landmarks.mean(axis=0)
    half = 1.25 * width
    crop = rgb[int(max(cy - half, 0)):int(cy + half), int(max(cx - half, 0)):int(cx + half)]
    return cv2.resize(crop, None, fx=width_px / width, fy=width_px / width,
                      interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize("order", ["grace_hopper larger", "astronaut larger"])
def test_the_largest_of_two_faces_is_measured_and_the_other_is_told(order):
    """Two people in the frame: the larger face is measured whichever FaceMesh returns
    first, and another face at least half as wide is counted, so the quality gate can say
    the measured face may not be the patient's; a face under half as wide is not."""
    from dermatrack.imaging.analysis import run_analysis

    big, small = (_grace_hopper(), _astronaut())
    if order == "astronaut larger":
        big, small = small, big
    for second, counted in ((300, 1), (140, 0)):
        canvas = np.full((1100, 1800, 3), 0.5, np.float32)
        left, right = _face_crop(big, 360), _face_crop(small, second)
        canvas[50:50 + left.shape[0], 50:50 + left.shape[1]] = left
        canvas[100:100 + right.shape[0], 1000:1000 + right.shape[1]] = right
        regions = face_regions(canvas)
        assert regions.detected
        assert regions.landmarks[:, 0].mean() < 900  # the larger face, on the left
        assert regions.other_faces == counted
        reasons = run_analysis(canvas, calibrate=False).report["quality"]["reasons"]
        assert any(r.startswith("2 faces in the frame") for r in reasons) == bool(counted)


def test_region_overlay_saved_for_a_person_to_check(face, artifacts_dir):
    name, rgb, regions = face
    overlay = region_overlay(rgb, regions)
    assert overlay.shape == rgb.shape and overlay.dtype == np.uint8
    base = np.round(rgb * 255).astype(np.uint8)
    changed = np.any(overlay != base, axis=2)
    assert changed[regions.masks["cheek_left"]].mean() > 0.9
    assert not changed[:10, :10].any()
    write_png(artifacts_dir / f"regions_{name}.png", overlay)


# ---------------------------------------------------------------------------------------
# Without a face


def _skin_patch_image(ita_deg: float, size: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """A uniform skin-coloured disc of a given ITA on a hair-and-wall background."""
    # ITA = atan((L* - 50) / b*): pick L*, then the b* that gives the wanted angle.
    lightness = {60: 75.0, 30: 62.0, 0: 50.0, -30: 38.0}[ita_deg]
    b_star = (lightness - 50) / np.tan(np.radians(ita_deg)) if ita_deg else 18.0
    skin = lab_to_srgb(np.array([lightness, 12.0, b_star], np.float32))
    rng = np.random.default_rng(int(ita_deg) + 100)
    image = np.empty((size, size, 3), np.float32)
    image[:, : size // 2] = (0.55, 0.55, 0.57)  # grey wall
    image[:, size // 2:] = lab_to_srgb(np.array([22.0, 3.0, 8.0], np.float32))  # dark hair
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2
    image[disc] = skin
    image += rng.normal(0, 0.01, image.shape).astype(np.float32)
    return np.clip(image, 0, 1), disc


@pytest.mark.parametrize("ita", [60, 30, 0, -30])
def test_skin_mask_adapts_to_every_skin_tone(ita):
    image, disc = _skin_patch_image(ita)
    seed = np.zeros_like(disc)
    seed[50:70, 50:70] = True
    mask = skin_mask(image, seed=seed)
    assert mask[disc].mean() > 0.95
    # Chroma is averaged over 5x5 pixels, so allow a 3-pixel blend at the edge.
    far_outside = cv2.erode((~disc).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert mask[far_outside].mean() < 0.02


def test_skin_mask_keeps_redness_inside_the_skin():
    image, disc = _skin_patch_image(30)
    red = np.zeros_like(disc)
    red[55:65, 40:80] = True
    image[red] = np.clip(image[red] * (1.12, 0.9, 0.92), 0, 1)  # erythema: redder
    seed = np.zeros_like(disc)
    seed[30:45, 50:70] = True
    assert skin_mask(image, seed=seed)[red].mean() > 0.95


def test_skin_mask_keeps_lit_skin_but_not_blond_hair():
    """Lit skin is yellower than the cheeks: brighter than them, or inside the face, it
    stays skin; yellower and darker outside the face (blond hair) it does not."""
    from dermatrack.imaging.colour import srgb_to_lab

    image, disc = _skin_patch_image(30)
    seed = np.zeros_like(disc)
    seed[30:45, 50:70] = True
    lab = srgb_to_lab(image)
    skin_lab = np.median(lab[seed], axis=0)
    chroma = float(np.hypot(skin_lab[1], skin_lab[2]))
    hue = np.degrees(np.arctan2(skin_lab[2], skin_lab[1]))

    def patch(rows: slice, cols: slice, hue_shift: float, lightness_shift: float) -> None:
        h = np.radians(hue + hue_shift)
        lab[rows, cols] = (skin_lab[0] + lightness_shift, chroma * np.cos(h),
                           chroma * np.sin(h))

    lit, inside, hair = (slice(55, 70), slice(25, 45)), (slice(55, 70), slice(75, 95)), \
        (slice(5, 20), slice(5, 25))
    patch(*lit, 16.0, 8.0)      # a lit temple: yellower and brighter
    patch(*inside, 16.0, -6.0)  # yellower in the face's own shade
    patch(*hair, 16.0, -6.0)    # blond hair beside the face: yellower, darker
    image = lab_to_srgb(lab.astype(np.float32))
    face = np.zeros_like(disc)
    face[50:80, 20:100] = True
    mask = skin_mask(image, seed=seed, face=face)
    core = (slice(58, 67), slice(28, 42))
    assert mask[core].mean() > 0.95
    assert mask[58:67, 78:92].mean() > 0.95
    assert mask[8:17, 8:22].mean() < 0.05
    # Without the face, yellower skin in shade is left out as hair would be.
    assert skin_mask(image, seed=seed)[58:67, 78:92].mean() < 0.05


def test_no_face_gives_one_whole_region():
    image, disc = _skin_patch_image(30, size=200)
    regions = face_regions(image)
    assert isinstance(regions, FaceRegions)
    assert not regions.detected and regions.landmarks is None
    assert list(regions.masks) == ["whole"]
    np.testing.assert_array_equal(regions.masks["whole"], regions.skin_mask)
    assert regions.iris_diameter_px is None


def test_single_region_keeps_valid_pixels_only():
    image = np.full((40, 60, 3), 0.6, np.float32)
    image[:5] = 1.0          # blown highlight
    image[-5:] = 0.0         # black background
    exclude = np.zeros((40, 60), bool)
    exclude[10:20, 10:20] = True
    regions = single_region(image, exclude=exclude)
    whole = regions.masks["whole"]
    assert list(regions.masks) == ["whole"] and not regions.detected
    assert not whole[:5].any() and not whole[-5:].any() and not whole[10:20, 10:20].any()
    assert whole[25:35].all()


def test_edge_band_follows_luminance_steps_not_colour_or_highlights():
    """Only non-skin areas whose edge a valley filter could take for a line get the edge
    band: darker ones (hair, a strand), and brighter ones reaching beyond the face (white
    hair, background); a highlight inside the face and a patch that differs only in
    colour (JPEG chroma noise) stay open skin."""
    from dermatrack.imaging.colour import srgb_to_lab
    from dermatrack.imaging.regions import EDGE_BAND_MM, non_skin_edge_band
    from dermatrack.imaging.wrinkles import EDGE_STEP_VISIBLE_L, MIN_DEPTH_L

    px_per_mm = 2.5
    skin_lab = np.array([60.0, 14.0, 16.0])
    lab = np.tile(skin_lab, (200, 300, 1))
    areas = {  # name -> (rows, cols, L* offset, a* and b* replaced)
        "highlight": (slice(30, 60), slice(30, 60), EDGE_STEP_VISIBLE_L + 10, (2.0, 4.0)),
        "colour only": (slice(30, 60), slice(120, 150), 0.0, (2.0, 30.0)),
        "dark strand": (slice(120, 123), slice(30, 150), -(MIN_DEPTH_L + 3), (3.0, 5.0)),
        "white hair": (slice(0, 20), slice(200, 300), EDGE_STEP_VISIBLE_L + 20, (0.0, 2.0)),
    }
    raw_skin = np.ones(lab.shape[:2], bool)
    for rows, cols, offset, (a, b) in areas.values():
        lab[rows, cols] = (skin_lab[0] + offset, a, b)
        raw_skin[rows, cols] = False
    rgb = lab_to_srgb(lab.astype(np.float32))
    assert np.abs(srgb_to_lab(rgb)[100, 100] - skin_lab).max() < 1.0
    face = np.zeros(raw_skin.shape, bool)
    face[10:, :250] = True  # the white hair reaches beyond the face at the top right
    band = non_skin_edge_band(raw_skin, px_per_mm, rgb=rgb, face=face)
    margin = int(EDGE_BAND_MM * px_per_mm) - 1  # just outside each area, inside its band
    for name, (rows, cols, _, _) in areas.items():
        ring = band[rows.stop + margin, (cols.start + cols.stop) // 2]
        assert ring == (name in ("dark strand", "white hair")), name
    # Without the photograph every non-skin area is banded, as before.
    assert non_skin_edge_band(raw_skin, px_per_mm)[60 + margin, 45]


@pytest.mark.parametrize("skin_l", [70.0, 25.0])
def test_edge_band_steps_are_in_the_units_the_wrinkle_maps_see(skin_l):
    """The wrinkle maps see the skin at the reference exposure (its median L* brought to
    55 by scaling L* + 16). A strand whose luminance is 87 % of the skin's is 3.9 L*
    darker on skin of L* 70 but only 1.9 L* on skin of L* 25, under the visible depth of
    2.3: the same strand to the detector (3.2 L* deep on its maps), and banded on both.
    With the step taken in the photograph's own L*, the strand on the darker skin was
    not banded. A patch at 97 % of the skin's luminance (0.7 L* deep on the maps) is
    banded on neither."""
    from dermatrack.imaging.colour import EXPOSURE_REFERENCE_L
    from dermatrack.imaging.regions import EDGE_BAND_MM, non_skin_edge_band
    from dermatrack.imaging.wrinkles import MIN_DEPTH_L

    def l_star_at(ratio: float) -> float:  # L* of ratio x the skin's luminance
        return ratio ** (1 / 3) * (skin_l + 16.0) - 16.0

    def maps_depth(ratio: float) -> float:
        return (1 - ratio ** (1 / 3)) * (EXPOSURE_REFERENCE_L + 16.0)

    assert maps_depth(0.87) > MIN_DEPTH_L > maps_depth(0.97)
    px_per_mm = 2.5
    lab = np.tile(np.array([skin_l, 12.0, 15.0]), (200, 300, 1))
    raw_skin = np.ones(lab.shape[:2], bool)
    strands = {"strand": (slice(60, 63), 0.87), "faint patch": (slice(140, 143), 0.97)}
    for rows, ratio in strands.values():
        lab[rows, 30:270] = (l_star_at(ratio), 3.0, 5.0)
        raw_skin[rows, 30:270] = False
    band = non_skin_edge_band(raw_skin, px_per_mm, rgb=lab_to_srgb(lab.astype(np.float32)),
                              face=np.ones(raw_skin.shape, bool))
    below = int(EDGE_BAND_MM * px_per_mm) - 1  # inside the band below each strand
    assert band[63 + below, 150] and not band[143 + below, 150]


@pytest.mark.parametrize("mm_per_px", [0.125, 0.5])
def test_edge_band_does_not_grow_with_the_pixel_count(mm_per_px):
    """The edge band is decided on the 0.4 mm grid by what covers each grid pixel, as a
    photograph of that pixel size would show it. Shadows narrower than half a grid pixel
    (the floors of deep crow's feet, too dark for the skin colour test on a fine
    photograph) are skin there, however many of them join into one area; a 1.5 mm
    strand is banded at every pixel size. The scene is drawn in mm: at 0.5 mm/px the
    0.125 mm shadows fall inside pixels that are mostly skin, so they are skin."""
    from dermatrack.imaging.regions import EDGE_BAND_MM, non_skin_edge_band

    px_per_mm = 1.0 / mm_per_px
    size_mm = 60.0
    n = int(round(size_mm * px_per_mm))
    mm = (np.arange(n) + 0.5) * mm_per_px  # pixel centres (mm)
    y, x = np.meshgrid(mm, mm, indexing="ij")
    lattice = ((x > 5) & (x < 35) & (y > 5) & (y < 35)
               & (((x % 2.0) < 0.125) | ((y % 2.0) < 0.125)))  # 0.125 mm wide
    strand = (x > 45) & (x < 46.5) & (y > 5) & (y < 55)
    raw_skin = ~(strand | (lattice if mm_per_px < 0.25 else np.zeros_like(lattice)))
    lab = np.tile(np.array([60.0, 14.0, 16.0]), (n, n, 1))
    lab[~raw_skin, 0] = 30.0
    rgb = lab_to_srgb(lab.astype(np.float32))
    band = non_skin_edge_band(raw_skin, px_per_mm, rgb=rgb)
    patch = (x > 8) & (x < 32) & (y > 8) & (y < 32)
    beside_strand = (x > 46.5 + EDGE_BAND_MM / 2) & (x < 46.5 + EDGE_BAND_MM - 0.5) \
        & (y > 10) & (y < 50)
    assert band[patch].mean() < 0.01
    assert band[beside_strand].all()
