"""Repeatability statistics against published values and statsmodels' ANOVA."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from dermatrack.errors import InputError
from dermatrack.outcomes.repeatability import (
    bland_altman,
    icc_1_1,
    icc_2_1,
    icc_3_1,
    minimal_detectable_change,
    repeatability,
    replicate_matrix,
    within_subject_cv,
)

# Shrout & Fleiss 1979, Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array([
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
], dtype=float)


def test_shrout_fleiss_published_iccs():
    # Published: ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71.
    assert round(icc_1_1(SHROUT_FLEISS).value, 2) == 0.17
    assert round(icc_2_1(SHROUT_FLEISS).value, 2) == 0.29
    assert round(icc_3_1(SHROUT_FLEISS).value, 2) == 0.71


def test_shrout_fleiss_by_hand_from_published_mean_squares():
    # Published mean squares: BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02 (n = 6, k = 4).
    bms, wms, jms, ems, n, k = 11.24, 6.26, 32.49, 1.02, 6, 4
    assert icc_1_1(SHROUT_FLEISS).value == pytest.approx((bms - wms) / (bms + (k - 1) * wms),
                                                         abs=2e-3)
    assert icc_2_1(SHROUT_FLEISS).value == pytest.approx(
        (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n), abs=2e-3)
    assert icc_3_1(SHROUT_FLEISS).value == pytest.approx((bms - ems) / (bms + (k - 1) * ems),
                                                         abs=2e-3)
    assert icc_1_1(SHROUT_FLEISS).f_statistic == pytest.approx(bms / wms, abs=0.01)
    assert icc_3_1(SHROUT_FLEISS).f_statistic == pytest.approx(bms / ems, abs=0.2)


def test_shrout_fleiss_confidence_intervals_match_psych():
    # Intervals printed by R psych::ICC (Revelle) for the same data:
    # ICC1 [-0.133, 0.72], ICC2 [0.019, 0.76], ICC3 [0.342, 0.95].
    one, two, three = (icc_1_1(SHROUT_FLEISS), icc_2_1(SHROUT_FLEISS),
                       icc_3_1(SHROUT_FLEISS))
    assert (round(one.ci_low, 3), round(one.ci_high, 2)) == (-0.133, 0.72)
    assert (round(two.ci_low, 3), round(two.ci_high, 2)) == (0.019, 0.76)
    assert (round(three.ci_low, 3), round(three.ci_high, 2)) == (0.342, 0.95)
    assert one.p_value == pytest.approx(0.16477, abs=1e-5)
    assert three.p_value == pytest.approx(0.00013, abs=1e-5)


def _long(matrix: np.ndarray) -> pd.DataFrame:
    rows = [{"subject": f"s{i}", "occasion": f"o{j}", "value": matrix[i, j]}
            for i in range(matrix.shape[0]) for j in range(matrix.shape[1])
            if np.isfinite(matrix[i, j])]
    return pd.DataFrame(rows)


def _fixed_matrix() -> np.ndarray:
    rng = np.random.default_rng(20261121)
    subject_level = rng.normal(50.0, 6.0, size=(9, 1))
    occasion_shift = np.array([[0.0, 1.5, -0.5]])
    return subject_level + occasion_shift + rng.normal(0.0, 2.0, size=(9, 3))


def test_balanced_against_statsmodels_anova():
    matrix = _fixed_matrix()
    data = _long(matrix)
    one_way = anova_lm(smf.ols("value ~ C(subject)", data).fit())
    msb, msw = one_way.loc["C(subject)", "mean_sq"], one_way.loc["Residual", "mean_sq"]
    two_way = anova_lm(smf.ols("value ~ C(subject) + C(occasion)", data).fit())
    msr = two_way.loc["C(subject)", "mean_sq"]
    msc = two_way.loc["C(occasion)", "mean_sq"]
    mse = two_way.loc["Residual", "mean_sq"]
    n, k = matrix.shape

    result = repeatability(matrix)
    assert result.icc_1_1.value == pytest.approx((msb - msw) / (msb + (k - 1) * msw))
    assert result.icc_3_1.value == pytest.approx((msr - mse) / (msr + (k - 1) * mse))
    assert result.icc_2_1.value == pytest.approx(
        (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))
    assert result.sem == pytest.approx(math.sqrt(msw))
    assert result.sem_error == pytest.approx(math.sqrt(mse))
    assert result.mdc95 == pytest.approx(1.96 * math.sqrt(2) * math.sqrt(msw))
    assert result.icc_1_1.p_value == pytest.approx(one_way.loc["C(subject)", "PR(>F)"])
    assert result.icc_3_1.p_value == pytest.approx(two_way.loc["C(subject)", "PR(>F)"])
    assert result.sd == pytest.approx(np.std(matrix, ddof=1))
    assert result.sem_from_icc == pytest.approx(
        np.std(matrix, ddof=1) * math.sqrt(1 - result.icc_1_1.value))
    assert (result.n_subjects, result.n_observations, result.n_complete_subjects) == (9, 27, 9)
    assert result.bland_altman is None  # three occasions


def test_unbalanced_one_way_against_statsmodels_anova():
    matrix = _fixed_matrix()
    matrix[0, 2] = matrix[3, 1] = matrix[5, 0] = np.nan
    matrix[7, 1:] = np.nan  # one measurement only: this subject is left out
    usable = np.delete(matrix, 7, axis=0)
    data = _long(usable)
    table = anova_lm(smf.ols("value ~ C(subject)", data).fit())
    msb, msw = table.loc["C(subject)", "mean_sq"], table.loc["Residual", "mean_sq"]
    counts = np.sum(np.isfinite(usable), axis=1)
    total = counts.sum()
    k0 = (total - np.sum(counts**2) / total) / (len(counts) - 1)

    result = repeatability(matrix)
    assert result.icc_1_1.value == pytest.approx((msb - msw) / (msb + (k0 - 1) * msw))
    assert result.icc_1_1.k == pytest.approx(k0)
    assert result.sem == pytest.approx(math.sqrt(msw))
    assert (result.n_subjects, result.n_observations) == (8, 5 * 3 + 3 * 2)
    # Two-way forms use the complete rows only: 9 rows minus the 4 with a gap.
    assert result.n_complete_subjects == 5
    assert result.icc_3_1.n_subjects == 5


def test_mdc_by_hand():
    # Within-subject SS = (1-2)^2 + (3-2)^2 + 0 + (5-6)^2 + (7-6)^2 = 4 on 3 df.
    result = repeatability([[1, 3], [2, 2], [5, 7]])
    assert result.sem == pytest.approx(math.sqrt(4 / 3))
    assert result.mdc95 == pytest.approx(1.96 * math.sqrt(2) * math.sqrt(4 / 3))
    assert minimal_detectable_change(1.0) == pytest.approx(2.7719, abs=1e-4)


def test_within_subject_cv_by_hand():
    # Subject SDs are both sqrt(2); means 11 and 19.
    expected = 100 * math.sqrt((2 / 11**2 + 2 / 19**2) / 2)
    assert within_subject_cv([[10, 12], [20, 18]]) == pytest.approx(expected)
    assert within_subject_cv([[-10, -12], [20, 18]]) is None  # no ratio scale


def test_bland_altman_by_hand():
    result = bland_altman([1, 2, 3, 4], [2, 2, 5, 4])
    sd = math.sqrt((0.25**2 + 0.75**2 + 1.25**2 + 0.75**2) / 3)
    assert result.bias == pytest.approx(0.75)
    assert result.sd_difference == pytest.approx(sd)
    assert result.lower_limit == pytest.approx(0.75 - 1.96 * sd)
    assert result.upper_limit == pytest.approx(0.75 + 1.96 * sd)
    half = 3.182446305284263 * sd / 2  # t(0.975, 3) * sd / sqrt(4)
    assert (result.bias_ci_low, result.bias_ci_high) == pytest.approx((0.75 - half, 0.75 + half))


def test_two_replicates_include_bland_altman_and_skip_nan_pairs():
    result = repeatability([[1, 2], [2, 2], [3, 5], [4, 4], [9, np.nan]])
    assert result.bland_altman is not None
    assert result.bland_altman.n == 4
    assert result.bland_altman.bias == pytest.approx(0.75)


def test_perfect_agreement_gives_icc_one_without_interval():
    result = repeatability([[1, 1], [2, 2], [4, 4]])
    assert result.icc_1_1.value == 1.0
    assert result.icc_1_1.ci_low is None and result.icc_1_1.p_value == 0.0
    assert result.icc_3_1.value == 1.0
    assert result.sem == 0.0 and result.mdc95 == 0.0


def test_constant_values_leave_icc_undefined():
    result = repeatability(np.full((4, 3), 7.0))
    assert result.icc_1_1.value is None
    assert result.icc_2_1.value is None and result.icc_3_1.value is None
    assert result.sem == 0.0
    assert result.cv_within_percent == 0.0


def test_all_zeros_have_no_cv():
    result = repeatability(np.zeros((3, 2)))
    assert result.cv_within_percent is None
    assert result.icc_1_1.value is None


def test_one_replicate_only_is_rejected():
    with pytest.raises(InputError) as caught:
        repeatability([[1.0], [2.0], [3.0]])
    assert caught.value.field == "replicate"


def test_one_subject_is_rejected():
    with pytest.raises(InputError):
        repeatability([[1.0, 2.0, 3.0]])


def test_two_way_needs_two_complete_subjects():
    result = repeatability([[1, 2, np.nan], [3, np.nan, 4], [np.nan, 5, 6]])
    assert result.icc_2_1.value is None and result.icc_3_1.value is None
    assert result.icc_1_1.value is not None
    assert result.sem_error is None


def test_infinite_and_non_numeric_values_are_rejected():
    with pytest.raises(InputError):
        repeatability([[1.0, np.inf], [2.0, 3.0]])
    with pytest.raises(InputError):
        repeatability([["a", "b"], ["c", "d"]])
    with pytest.raises(InputError):
        repeatability([[1.0, 2.0], [2.0, 3.0]], confidence=1.5)


def test_replicate_matrix_from_long_format():
    built = replicate_matrix(["a", "b", "a", "b", "c"], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert built.subjects == ("a", "b", "c")
    np.testing.assert_array_equal(built.values[:2], [[1.0, 3.0], [2.0, 4.0]])
    assert np.isnan(built.values[2, 1])


def test_replicate_matrix_names_duplicate_line():
    with pytest.raises(InputError) as caught:
        replicate_matrix(["a", "a"], [1.0, 2.0], ["s1", "s1"], line_numbers=[2, 7])
    assert caught.value.line == 7
    assert "(the other on line 2)" in str(caught.value)


def test_to_dict_is_plain():
    summary = repeatability(SHROUT_FLEISS).to_dict()
    assert summary["icc_2_1"]["form"] == "ICC(2,1)"
    assert isinstance(summary["mdc95"], float)


@pytest.mark.parametrize(
    "matrix",
    [
        [[3, 1], [2, 2], [1, 3]],  # both Satterthwaite terms vanish
        [[0, 3], [2, 0], [0, 3], [0, 3]],  # approximation fails to bracket the estimate
    ],
)
def test_strongly_negative_icc_2_1_has_no_interval_rather_than_a_crash(matrix):
    result = repeatability(matrix)
    assert result.icc_2_1.value < 0
    assert result.icc_2_1.ci_low is None and result.icc_2_1.ci_high is None


def test_intervals_bracket_estimates_on_small_random_designs():
    rng = np.random.default_rng(5)
    for _ in range(200):
        matrix = rng.integers(0, 5, size=(rng.integers(3, 7), rng.integers(2, 5))).astype(float)
        result = repeatability(matrix)
        for icc in (result.icc_1_1, result.icc_2_1, result.icc_3_1):
            if icc.ci_low is not None:
                assert icc.ci_low - 1e-12 <= icc.value <= icc.ci_high + 1e-12


def test_mdc_entries_per_metric_and_region():
    """One entry per metric and region, from the (subject, occasion) cells; a metric and
    region with fewer than two subjects measured twice has none."""
    import math

    from dermatrack.outcomes.repeatability import mdc_entries, repeatability

    a = [[10.0, 12.0, 11.0], [20.0, 18.0, None], [30.0, 31.0, 29.0]]
    observations = [(s, o, "length", "whole", a[s][o]) for s in range(3) for o in range(3)]
    observations += [(s, o, "length", "cheek", v) for s, o, v in
                     ((0, 0, 1.0), (0, 1, 2.0), (1, 0, 5.0))]  # one subject measured twice
    observations += [(s, o, "count", None, float(s + o)) for s in range(2) for o in range(2)]
    entries = mdc_entries(observations, kind="photo")
    assert [(e["metric"], e["region"]) for e in entries] == [("count", None),
                                                             ("length", "whole")]
    whole = entries[1]
    expected = repeatability(np.array(a, dtype=float))
    assert whole["kind"] == "photo" and whole["n_subjects"] == 3
    assert whole["mdc95"] == pytest.approx(expected.mdc95)
    assert whole["mdc95"] == pytest.approx(1.96 * math.sqrt(2) * expected.sem, rel=1e-3)
    assert whole["mean"] == pytest.approx(expected.mean)
