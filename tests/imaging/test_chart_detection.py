"""Finding a ColorChecker drawn in perspective into real photographs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dermatrack.imaging.calibration import calibrate_with_colorchecker
from dermatrack.imaging.chart import render_colorchecker, warp_chart
from dermatrack.imaging.chart_detection import (
    grid_centres,
    lattice_candidates,
    project_points,
    segmentation_candidates,
)
from dermatrack.imaging.colour import linear_to_srgb, srgb_to_linear

CAST = np.array([[1.10, 0.05, 0.02], [0.04, 0.95, 0.06], [0.02, 0.07, 0.80]], np.float32)


def _photo(name: str, long_side: int = 1600) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    image = image[..., :3].astype(np.float32) / 255
    factor = long_side / max(image.shape[:2])
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def _view(background: str, *, centre, width_px: float, angle_deg: float,
          skew: float, seed: int, long_side: int = 1600
          ) -> tuple[np.ndarray, np.ndarray, float]:
    """A chart drawn into a real photograph: rotated, in perspective (``skew`` shortens
    one long side), under a colour cast and another tone curve, noisy, JPEG 85.

    Returns the image, the expected grid corners (dark-skin corner first) and the pitch.
    """
    photo = _photo(background, long_side)
    chart, geometry = render_colorchecker(60)
    aspect = geometry.height_px / geometry.width_px
    half = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]]) * width_px / 2
    half[1] *= 1 - skew
    half[2] *= 1 - skew
    angle = np.radians(angle_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = half @ rotation.T + np.asarray(centre, float)
    image, homography = warp_chart(photo, chart, corners)
    grid = project_points(homography, geometry.grid_quad)
    pitch = float(np.linalg.norm(grid[1] - grid[0])) / 6
    linear = srgb_to_linear(image) @ (0.8 * CAST).T
    encoded = linear_to_srgb(linear) ** np.float32(1.15)
    encoded += np.random.default_rng(seed).normal(0, 0.01, encoded.shape).astype(np.float32)
    rgb8 = (np.clip(encoded, 0, 1) * 255 + 0.5).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", rgb8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    return decoded, grid, pitch


VIEWS = {
    # a large chart turned 30° and seen obliquely, on a textured floor
    "oblique on brick": dict(background="brick", centre=(800, 800), width_px=900,
                             angle_deg=30, skew=0.3, seed=1),
    # a quarter turn (the neutral row down the side), beside a cup of coffee
    "quarter turn beside coffee": dict(background="coffee", centre=(500, 700),
                                       width_px=520, angle_deg=90, skew=0.1, seed=2),
    # small: the grid spans about a tenth of the image's long side
    "small on gravel": dict(background="gravel", centre=(1200, 400), width_px=190,
                            angle_deg=-20, skew=0.15, seed=3),
    # upside down and strongly foreshortened beside a face
    "upside down beside a face": dict(background="astronaut", centre=(1150, 1150),
                                      width_px=600, angle_deg=175, skew=0.4, seed=4),
    # a small photograph (a thumbnail, a chart far away): swatches about 11 px apart
    "small photograph of coffee": dict(background="coffee", centre=(300, 200),
                                       width_px=70, angle_deg=10, skew=0.1, seed=5,
                                       long_side=600),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_chart_found_at_any_angle_size_and_perspective(name):
    image, grid, pitch = _view(**VIEWS[name])
    found = calibrate_with_colorchecker(image)
    assert found.applied, found.refused
    assert found.delta_e2000_mean < 2.0
    # The corners are where the chart was drawn, dark-skin corner first.
    assert np.linalg.norm(found.chart_quad - grid, axis=1).max() < pitch / 3
    assert found.detector == "lattice"


def test_lattice_proposals_cover_the_grid_as_drawn():
    image, grid, pitch = _view(**VIEWS["oblique on brick"])
    candidates = lattice_candidates(image)
    assert candidates
    corners = np.array([[0, 0], [6, 0], [6, 4], [0, 4]], float)
    errors = [np.linalg.norm(project_points(c.homography, corners) - grid, axis=1).max()
              for c in candidates]
    assert min(errors) < pitch / 3
    assert max(c.swatches_seen for c in candidates) >= 20
    assert grid_centres().shape == (24, 2)


def test_an_image_without_a_chart_gives_no_proposal_that_calibrates():
    # Tiles and keys are lattices of squares too; their colours do not fit the chart.
    for name in ("brick", "coffee"):
        found = calibrate_with_colorchecker(_photo(name, 1200))
        assert not found.applied


def test_segmentation_detector_still_proposes_an_upright_chart():
    # colour-checker-detection's detector finds an upright chart in a plain scene; its
    # proposals come as found and turned by 180°.
    chart, geometry = render_colorchecker(40)
    scene = np.full((720, 960, 3), 0.5, np.float32)
    scene[180:180 + chart.shape[0], 250:250 + chart.shape[1]] = chart
    candidates = segmentation_candidates(scene)
    assert len(candidates) >= 2 and len(candidates) % 2 == 0
    centres = project_points(candidates[0].homography, grid_centres())
    expected = (geometry.swatch_boxes[:, :2] + geometry.swatch_boxes[:, 2:]) / 2 + (250, 180)
    error = min(np.abs(centres - (expected - 0.5)).max(),
                np.abs(centres[::-1] - (expected - 0.5)).max())
    assert error < 4
