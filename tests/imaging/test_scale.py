"""Physical scale: the order of sources and the iris estimate on real faces."""

from __future__ import annotations

import numpy as np
import pytest

from dermatrack.errors import InputError
from dermatrack.imaging.calibration import ChartCalibration
from dermatrack.imaging.regions import FaceRegions, face_regions
from dermatrack.imaging.scale import (
    IRIS_DIAMETER_MM,
    Scale,
    mm_per_px_from_iris,
    resolve_scale,
)


def _regions(iris_px: float | None) -> FaceRegions:
    mask = np.zeros((4, 4), bool)
    return FaceRegions(detected=iris_px is not None, masks={"whole": mask}, landmarks=None,
                       iris_diameter_px=iris_px, skin_mask=mask)


def test_iris_scale_is_the_iris_diameter_over_its_pixels():
    assert mm_per_px_from_iris(_regions(23.4)) == pytest.approx(IRIS_DIAMETER_MM / 23.4)
    assert mm_per_px_from_iris(_regions(None)) is None
    assert mm_per_px_from_iris(_regions(2.0)) is None  # too small to trust


def test_sources_in_order_user_chart_iris_unknown():
    chart = ChartCalibration(applied=True, chart_mm_per_px=0.2)
    face = _regions(50.0)
    assert resolve_scale(0.05, chart, face) == Scale(0.05, "user")
    assert resolve_scale(None, chart, face) == Scale(0.2, "colorchecker")
    assert resolve_scale(None, ChartCalibration.none(), face) == Scale(
        IRIS_DIAMETER_MM / 50.0, "iris")
    assert resolve_scale(None, None, _regions(None)) == Scale(None, "unknown")
    assert not resolve_scale(None, None, None).known


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_user_scale_must_be_positive(bad):
    with pytest.raises(InputError) as info:
        resolve_scale(bad, None, None)
    assert info.value.field == "mm_per_px"


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_iris_scale_is_physically_plausible_on_real_faces(name):
    if name == "astronaut":
        from skimage import data

        rgb = data.astronaut()
    else:
        import matplotlib.cbook
        from PIL import Image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
            rgb = np.asarray(Image.open(handle).convert("RGB"))
    regions = face_regions(rgb)
    scale = resolve_scale(None, None, regions)
    assert scale.source == "iris"
    landmarks = regions.landmarks
    # Anthropometric ranges for adults: distance between the pupils 54-74 mm, and the
    # width between the outer eye corners 80-110 mm.
    pupils_mm = np.linalg.norm(landmarks[468] - landmarks[473]) * scale.mm_per_px
    canthi_mm = np.linalg.norm(landmarks[33] - landmarks[263]) * scale.mm_per_px
    assert 54 <= pupils_mm <= 74
    assert 80 <= canthi_mm <= 110
