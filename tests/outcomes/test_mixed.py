"""Random-intercept trajectories and their degenerate cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dermatrack.errors import InputError
from dermatrack.outcomes.mixed import trajectories, trajectory

MONTHS = (0.0, 1.0, 3.0, 6.0)


def _balanced(slope: float = -0.5, seed: int = 7, patients: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for patient in range(patients):
        level = 30.0 + rng.normal(0.0, 4.0)
        for month in MONTHS:
            rows.append({"patient": f"p{patient}", "months": month,
                         "value": level + slope * month + rng.normal(0.0, 0.6)})
    return pd.DataFrame(rows)


def test_balanced_slope_equals_within_patient_least_squares():
    # With the same visit times for every patient, time is orthogonal to the patient
    # effects, so the mixed-model slope equals the least-squares slope on
    # patient-centred data.
    data = _balanced()
    centred = data.assign(
        months=data["months"] - data.groupby("patient")["months"].transform("mean"),
        value=data["value"] - data.groupby("patient")["value"].transform("mean"))
    within_slope = float(np.sum(centred["months"] * centred["value"])
                         / np.sum(centred["months"] ** 2))
    result = trajectory(data)
    assert result.method == "mixedlm" and result.converged is True
    assert result.slope_per_month == pytest.approx(within_slope, rel=1e-6)
    assert (result.n_patients, result.n_observations) == (10, 40)
    assert result.ci_low < -0.5 < result.ci_high
    assert result.p_value < 1e-6


def test_flat_trajectory_is_not_significant():
    result = trajectory(_balanced(slope=0.0, seed=3))
    assert result.ci_low < 0.0 < result.ci_high
    assert result.p_value > 0.05


def test_one_patient_falls_back_to_least_squares():
    data = _balanced(patients=1)
    reference = stats.linregress(data["months"], data["value"])
    result = trajectory(data)
    assert result.method == "ols" and "one patient" in result.note
    assert result.slope_per_month == pytest.approx(reference.slope)
    assert result.p_value == pytest.approx(reference.pvalue)
    half = stats.t.ppf(0.975, 2) * reference.stderr
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (reference.slope - half, reference.slope + half))


def test_one_patient_two_visits_has_slope_only():
    result = trajectory(pd.DataFrame({"patient": ["a", "a"], "months": [0, 3],
                                      "value": [10.0, 7.0]}))
    assert result.slope_per_month == pytest.approx(-1.0)
    assert result.ci_low is None and result.p_value is None


def test_constant_values():
    result = trajectory(_balanced().assign(value=5.0))
    assert result.slope_per_month == 0.0
    assert result.ci_low is None and result.method is None
    assert "equal" in result.note


def test_single_time_point_and_empty_data():
    same_time = _balanced().assign(months=0.0)
    assert trajectory(same_time).slope_per_month is None
    empty = trajectory(pd.DataFrame({"patient": [], "months": [], "value": []}))
    assert (empty.slope_per_month, empty.n_observations) == (None, 0)


def test_missing_values_are_dropped():
    data = _balanced()
    data.loc[[0, 5, 9], "value"] = np.nan
    result = trajectory(data)
    assert result.n_observations == 37


def test_bad_input():
    with pytest.raises(InputError) as caught:
        trajectory(pd.DataFrame({"patient": ["a"], "value": [1.0]}))
    assert caught.value.field == "months"
    with pytest.raises(InputError) as caught:
        trajectory(pd.DataFrame({"patient": ["a", "a"], "months": [0, "x"], "value": [1, 2]}))
    assert (caught.value.field, caught.value.line) == ("months", 2)


def test_trajectories_per_group():
    data = pd.concat([_balanced().assign(metric="wrinkle"),
                      _balanced(slope=0.2, seed=11).assign(metric="ita")])
    results = trajectories(data, ("metric",))
    assert [group for group, _ in results] == [{"metric": "ita"}, {"metric": "wrinkle"}]
    assert results[0][1].slope_per_month > 0 > results[1][1].slope_per_month
    with pytest.raises(InputError):
        trajectories(data, ("modality",))


def test_no_between_patient_variance_is_flagged_not_converged():
    # Residuals centred within each patient: identical patient means, so the random
    # intercept variance is estimated on its boundary (zero).
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"patient": np.repeat(np.arange(6), 4),
                         "months": np.tile(MONTHS, 6)})
    noise = rng.normal(0.0, 1.0, len(data))
    noise -= pd.Series(noise).groupby(data["patient"]).transform("mean").to_numpy()
    data["value"] = 2.0 - 0.3 * data["months"] + noise
    result = trajectory(data)
    assert result.converged is False
    assert "boundary" in result.note
    assert result.slope_per_month is not None


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_reml_fit_equals_statsmodels_on_unbalanced_data(seed):
    # Patients seen at different times, some once, with a real between-patient spread:
    # the fit from per-patient sums must give statsmodels' estimates (issue 14).
    from outcomes.reference_mixedlm import statsmodels_trajectory

    rng = np.random.default_rng(seed)
    rows = []
    for patient in range(int(rng.integers(8, 30))):
        level = rng.normal(0.0, 2.0)
        for month in sorted(rng.uniform(0.0, 9.0, size=int(rng.integers(1, 5)))):
            rows.append({"patient": f"p{patient}", "months": month,
                         "value": 20.0 + level - 0.4 * month + rng.normal(0.0, 1.0)})
    data = pd.DataFrame(rows)
    fast, reference = trajectory(data), statsmodels_trajectory(data)
    assert reference.converged, reference.note
    se = (reference.ci_high - reference.ci_low) / (2 * stats.norm.ppf(0.975))
    assert fast.slope_per_month == pytest.approx(reference.slope_per_month, abs=1e-3 * se)
    assert fast.ci_low == pytest.approx(reference.ci_low, abs=1e-3 * se)
    assert fast.ci_high == pytest.approx(reference.ci_high, abs=1e-3 * se)
    assert fast.p_value == pytest.approx(reference.p_value, rel=1e-2, abs=1e-12)
    assert (fast.n_patients, fast.n_observations, fast.converged) == (
        reference.n_patients, reference.n_observations, True)
