"""Change from baseline and the MDC95 verdict."""

from __future__ import annotations

import math

import pytest

from dermatrack.errors import InputError
from dermatrack.outcomes.change import change_from_baseline, changes_over_time


def test_absolute_and_percent_change():
    change = change_from_baseline(40.0, 30.0)
    assert change.absolute == -10.0
    assert change.percent == -25.0
    assert change.real is None and change.verdict is None


def test_percent_is_none_for_zero_baseline():
    change = change_from_baseline(0.0, 3.0, mdc95=1.0)
    assert change.absolute == 3.0
    assert change.percent is None
    assert change.real is True


@pytest.mark.parametrize(
    ("baseline", "follow_up", "direction", "verdict"),
    [
        (40.0, 30.0, "lower", "improved"),
        (40.0, 30.0, "higher", "worsened"),
        (30.0, 40.0, "higher", "improved"),
        (30.0, 40.0, "lower", "worsened"),
        (30.0, 40.0, None, "changed"),
        (30.0, 33.0, "lower", "no real change"),
        (30.0, 27.0, None, "no real change"),
    ],
)
def test_verdicts(baseline, follow_up, direction, verdict):
    change = change_from_baseline(baseline, follow_up, mdc95=5.0, direction=direction)
    assert change.verdict == verdict
    assert change.real is (verdict != "no real change")


def test_change_equal_to_mdc_is_not_real():
    change = change_from_baseline(10.0, 12.5, mdc95=2.5, direction="higher")
    assert change.real is False
    assert change.verdict == "no real change"


def test_zero_mdc_makes_any_change_real_but_not_no_change():
    assert change_from_baseline(1.0, 1.0, mdc95=0.0).real is False
    assert change_from_baseline(1.0, 1.0001, mdc95=0.0).real is True


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"baseline": math.nan, "follow_up": 1.0}, "baseline"),
        ({"baseline": 1.0, "follow_up": "x"}, "follow_up"),
        ({"baseline": 1.0, "follow_up": 2.0, "mdc95": -1.0}, "mdc95"),
        ({"baseline": 1.0, "follow_up": 2.0, "mdc95": 1.0, "direction": "up"}, "direction"),
    ],
)
def test_bad_input_names_field(kwargs, field):
    with pytest.raises(InputError) as caught:
        change_from_baseline(**kwargs)
    assert caught.value.field == field


def test_changes_over_time_from_first_visit():
    changes = changes_over_time([20.0, 18.0, 12.0], mdc95=4.0, direction="lower")
    assert [c.absolute for c in changes] == [-2.0, -8.0]
    assert [c.verdict for c in changes] == ["no real change", "improved"]
    assert changes_over_time([20.0]) == []
    with pytest.raises(InputError):
        changes_over_time([])


def test_to_dict():
    assert change_from_baseline(2.0, 3.0, 0.5, "higher").to_dict() == {
        "baseline": 2.0, "follow_up": 3.0, "absolute": 1.0, "percent": 50.0, "mdc95": 0.5,
        "real": True, "direction": "higher", "verdict": "improved",
    }
