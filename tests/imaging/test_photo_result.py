"""The typed result of a photo analysis: every metric the imaging core defines, per region,
with the unit of its definition."""

from __future__ import annotations

import numpy as np


def _analysed(mm_per_px):
    from dermatrack.imaging.analysis import photo_result, run_analysis
    from dermatrack.imaging.phantom import make_phantom, random_spec

    spec = random_spec(np.random.default_rng(3), width=320, height=240, mm_per_px=0.06)
    phantom = make_phantom(spec, np.random.default_rng(3))
    analysis = run_analysis(phantom.rgb, mm_per_px=mm_per_px, use_face=False,
                            calibrate=False)
    return analysis.report, photo_result(analysis)


def test_every_defined_metric_is_in_the_result_with_the_reports_value():
    from dermatrack.imaging.definitions import PHOTO_METRICS

    report, result = _analysed(0.06)
    assert result.mm_per_px == 0.06 and result.scale_source == "user"
    assert result.regions() == list(report["regions"])
    whole = {m.code: m for m in result.of_region("whole")}
    assert list(whole) == [d.code for d in PHOTO_METRICS]
    for code, metric in whole.items():
        family, _, name = code.partition(".")
        expected = report["regions"]["whole"][family]
        expected = expected[name] if name else expected
        assert metric.value == (None if expected is None else float(expected))
        assert metric.unit == metric.definition.unit
    assert whole["wrinkles.length_mm"].unit == "mm"


def test_without_a_scale_lengths_are_in_pixels():
    _report, result = _analysed(None)
    whole = {m.code: m for m in result.of_region("whole")}
    assert result.mm_per_px is None
    assert whole["wrinkles.length_mm"].unit == "px"
    assert whole["area_mm2"].unit == "px²"
    assert whole["pigment.spot_area_fraction"].unit == "1"


def test_the_service_stores_every_number_of_the_report():
    """Each numeric entry of the ``photo analyze`` JSON, and nothing else, becomes one
    observation value, with the unit the imaging core defines for it."""
    from dermatrack.imaging.definitions import photo_metric
    from dermatrack.services.photos import _analysis_settings, _measurements

    report, result = _analysed(0.06)
    numbers = {}
    for region, families in report["regions"].items():
        for family, entries in families.items():
            items = entries.items() if isinstance(entries, dict) else [("", entries)]
            for name, value in items:
                if value is None or (isinstance(value, (int, float))
                                     and not isinstance(value, bool)):
                    code = f"{family}.{name}" if name else family
                    numbers[(region, code)] = (value, photo_metric(code).unit)
    measurements = _measurements(result, _analysis_settings(result))
    stored = {(m.region, code): (value, m.units[code])
              for m in measurements for code, value in m.values.items()}
    assert stored == numbers
    assert measurements[0].settings["mm_per_px"] == 0.06
