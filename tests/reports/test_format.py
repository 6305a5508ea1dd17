"""Numbers as people read them: rounded to the measurement's precision, in shown units,
a change below the precision said to be none (no floating-point noise as a result)."""

from __future__ import annotations

from dermatrack.metrics import describe_metric, metric_definition
from dermatrack.reports import labels
from dermatrack.reports.plots import value_limits


def test_changes_below_the_resolution_are_no_change():
    spots = metric_definition("photo", "pigment.spot_area_fraction")
    assert spots.format(0.01234) == "1.23 %"  # a fraction shown in percent
    assert spots.format(-2.89e-19, signed=True) == "no change"
    assert spots.format(-0.0012, signed=True) == "-0.12 %"
    assert labels.metric_value("photo:pigment.spot_area_fraction", -2.89e-19,
                               signed=True) == "no change"
    assert labels.negligible("photo:pigment.spot_area_fraction", -2.89e-19)
    assert not labels.negligible("photo:pigment.spot_area_fraction", -0.001)
    length = metric_definition("photo", "wrinkles.length_mm")
    assert length.format(1234.4) == "1,234 mm" and length.format(-0.4, signed=True) == \
        "no change"
    assert metric_definition("photo", "texture.roughness").format(1.234) == "1.23 ΔL*"
    assert describe_metric("photo", "wrinkles.length_mm", "px").format(12) == "12 px"
    assert describe_metric("surface", "unknown_code", "µm").label == "unknown code"


def test_labels_name_codes_in_words():
    assert labels.modality("superficial_peel") == "Superficial chemical peel"
    assert labels.event("post_inflammatory_hyperpigmentation") == \
        "Post-inflammatory hyperpigmentation"
    assert labels.region("cheek_left") == "Cheek, left"
    assert labels.region("whole") == "Whole face"
    assert labels.metric_title("photo", "pigment.spot_area_fraction") == "Spot area (%)"
    assert labels.parameters_text("superficial_peel", {"glycolic_acid_concentration": 30}) \
        == "Glycolic acid concentration 30 %"


def test_flat_series_are_not_stretched_into_noise():
    low, high = value_limits([10.0, 10.0001, 9.9999], resolution=0.05)
    assert high - low >= 1.0  # at least 20 x the resolution
    low, high = value_limits([50.0, 30.0], resolution=0.5, band=(46.0, 54.0))
    assert low <= 30 and high >= 54  # a band no wider than twice the data is drawn whole
    low, high = value_limits([50.0, 49.0], resolution=0.05, band=(0.0, 100.0))
    assert low > 40 and high < 60  # a far wider band is cut by the axes
