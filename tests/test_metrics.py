"""Metric definitions: one for every figure the cores compute, each with a usable unit."""

from __future__ import annotations

from dataclasses import fields

import pytest

from dermatrack.metrics import _UCUM, all_metrics, metric_definition, metric_direction


def _photo_codes() -> set[str]:
    from dermatrack.imaging.pigment import PigmentMetrics
    from dermatrack.imaging.pores import PoreMetrics
    from dermatrack.imaging.redness import RednessMetrics
    from dermatrack.imaging.texture import TextureMetrics
    from dermatrack.imaging.wrinkles import WrinkleMetrics

    families = {"wrinkles": WrinkleMetrics, "pigment": PigmentMetrics,
                "redness": RednessMetrics, "texture": TextureMetrics, "pores": PoreMetrics}
    codes = {f"{family}.{f.name}" for family, cls in families.items() for f in fields(cls)}
    codes.discard("pigment.spot_mean_delta_e")  # per-spot detail, not stored (analysis.py)
    codes.discard("pigment.ita_category")  # a class name, not a stored number
    return codes | {"area_mm2"}


def test_every_photo_figure_has_exactly_one_definition():
    defined = {d.code for d in all_metrics("photo")}
    assert defined == _photo_codes()


@pytest.mark.parametrize("kind, module", [("surface", "surface"), ("colour", "colorimetry"),
                                          ("elasticity", "elasticity"), ("spectral", "spectra"),
                                          ("elastography", "elastography")])
def test_every_device_parameter_has_a_definition_with_the_computing_modules_unit(kind, module):
    import importlib

    units = importlib.import_module(f"dermatrack.devices.{module}").UNITS
    for code, unit in units.items():
        definition = metric_definition(kind, code)
        assert definition is not None, code
        assert definition.unit == unit


def test_every_unit_has_a_ucum_code_and_every_definition_a_label_and_source():
    for definition in all_metrics():
        assert definition.unit in _UCUM, definition
        assert definition.label and definition.source, definition


def test_directions_and_concerns_come_from_the_definitions():
    from dermatrack.services.outcomes import CONCERN_METRICS, METRIC_DIRECTIONS

    assert metric_direction("wrinkles.length_mm") == "lower"
    assert metric_direction("R2", "elasticity") == "higher"
    assert metric_direction("pigment.ita_deg") is None
    assert METRIC_DIRECTIONS["Sa"] == "lower" and "pigment.ita_deg" not in METRIC_DIRECTIONS
    assert CONCERN_METRICS["melasma"] == "pigment.spot_area_fraction"
    assert metric_definition("photo", "redness.a_star").ucum == "1"
    assert metric_definition("photo", "pigment.melanin_index").ucum == "[arb'U]"
