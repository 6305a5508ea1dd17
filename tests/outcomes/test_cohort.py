"""Paired cohort change, effect sizes, Wilcoxon test, grouping, forest rows, responders."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dermatrack.errors import InputError
from dermatrack.outcomes.cohort import (
    cohort_changes,
    forest_rows,
    hedges_correction,
    paired_change,
    wilcoxon_signed_rank,
)
from dermatrack.outcomes.responders import (
    gais_improved,
    is_responder,
    responder_rate,
    responder_rates,
)

BEFORE = [52.0, 47.5, 60.1, 55.0, 49.9, 58.3, 51.2]
AFTER = [47.0, 46.0, 51.3, 54.1, 44.2, 50.0, 50.8]


def test_mean_and_interval_match_scipy_paired_t():
    result = paired_change(BEFORE, AFTER)
    reference = stats.ttest_rel(AFTER, BEFORE)
    interval = reference.confidence_interval(0.95)
    differences = np.subtract(AFTER, BEFORE)
    assert result.mean == pytest.approx(differences.mean())
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    assert result.median == pytest.approx(np.median(differences))
    assert result.sd == pytest.approx(differences.std(ddof=1))
    # d_z = t / sqrt(n) (Lakens 2013, eq. 7).
    assert result.cohen_dz == pytest.approx(reference.statistic / math.sqrt(7))


def test_hedges_correction_by_hand():
    # J(4) = Gamma(2) / (sqrt(2) Gamma(1.5)) = 1 / (sqrt(2) * sqrt(pi) / 2).
    assert hedges_correction(4) == pytest.approx(2 / (math.sqrt(2) * math.sqrt(math.pi)))
    assert hedges_correction(30) == pytest.approx(1 - 3 / (4 * 30 - 1), abs=1e-4)
    assert hedges_correction(1) is None
    result = paired_change(BEFORE, AFTER)
    assert result.hedges_gz == pytest.approx(result.cohen_dz * hedges_correction(6))


def test_wilcoxon_exact_by_hand():
    # |d| ranks 1..5; the negative one has rank 4, so W- = 4, W+ = 11. Subsets of
    # {1..5} summing to <= 4: {}, {1}, {2}, {3}, {4}, {1,2}, {1,3}: p = 2 * 7 / 32.
    test = wilcoxon_signed_rank([1.0, 2.0, 3.0, -4.0, 5.0])
    assert test.statistic == 4.0
    assert test.p_value == pytest.approx(14 / 32)
    assert test.method == "exact" and test.n_nonzero == 5


def test_wilcoxon_with_zeros_and_ties_uses_normal_approximation():
    differences = [0.0, 1.0, 1.0, -2.0, 3.0, 3.0, 4.0]
    test = wilcoxon_signed_rank(differences)
    reference = stats.wilcoxon(differences, zero_method="wilcox", method="asymptotic")
    assert test.method == "asymptotic"
    assert test.n_nonzero == 6
    assert test.p_value == pytest.approx(reference.pvalue)
    pratt = wilcoxon_signed_rank(differences, zero_method="pratt")
    assert pratt.zero_method == "pratt"
    assert pratt.p_value == pytest.approx(
        stats.wilcoxon(differences, zero_method="pratt", method="asymptotic").pvalue)
    with pytest.raises(InputError):
        wilcoxon_signed_rank(differences, zero_method="drop")


def test_single_pair():
    result = paired_change([3.0], [5.0])
    assert (result.n, result.mean, result.median) == (1, 2.0, 2.0)
    assert result.ci_low is None and result.sd is None and result.cohen_dz is None


def test_all_zero_differences():
    result = paired_change([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert result.mean == 0.0 and result.sd == 0.0
    assert result.cohen_dz is None and result.hedges_gz is None
    assert result.wilcoxon.p_value is None and result.wilcoxon.n_nonzero == 0


def test_nan_pairs_are_dropped_and_counted():
    result = paired_change([1.0, np.nan, 3.0, 4.0], [2.0, 5.0, np.nan, 6.0])
    assert (result.n, result.n_dropped) == (2, 2)
    assert result.mean == pytest.approx(1.5)
    empty = paired_change([np.nan], [1.0])
    assert empty.n == 0 and empty.mean is None


def test_paired_change_rejects_bad_shapes():
    with pytest.raises(InputError):
        paired_change([1.0, 2.0], [1.0])
    with pytest.raises(InputError):
        paired_change([1.0, np.inf], [1.0, 2.0])


def _cohort() -> pd.DataFrame:
    """Six patients; their (baseline, 3 months, 6 months) wrinkle scores."""
    patients = {
        # patient: (modality, fitzpatrick, values at 0, 3, 6 months)
        "p1": ("microneedling", "I", (50.0, 48.0, 44.0)),
        "p2": ("microneedling", 2, (40.0, 39.0, 37.0)),
        "p3": ("microneedling", "III", (45.0, 41.0, 40.0)),
        "p4": ("peel", "IV", (30.0, 30.0, 31.0)),
        "p5": ("peel", "V", (35.0, 33.0, 32.0)),
        "p6": ("peel", "6", (38.0, 37.0, 35.0)),
    }
    rows = []
    for patient, (modality, phototype, values) in patients.items():
        for months, value in zip((0, 3, 6), values, strict=True):
            rows.append({"patient": patient, "modality": modality, "fitzpatrick": phototype,
                         "metric": "wrinkle", "timepoint": months, "value": value})
    return pd.DataFrame(rows)


def test_cohort_by_modality_uses_first_and_last_visit():
    results = cohort_changes(_cohort(), ("modality",))
    assert [r.group for r in results] == [{"modality": "microneedling"}, {"modality": "peel"}]
    microneedling, peel = results
    assert microneedling.change.n == 3
    assert microneedling.change.mean == pytest.approx(np.mean([-6.0, -3.0, -5.0]))
    assert peel.change.mean == pytest.approx(np.mean([1.0, -3.0, -3.0]))
    assert microneedling.metric == "wrinkle" and microneedling.region is None


def test_cohort_by_fitzpatrick_group_and_explicit_timepoints():
    results = cohort_changes(_cohort(), ("fitzpatrick_group",), baseline=0, follow_up=3)
    by_group = {r.group["fitzpatrick_group"]: r.change for r in results}
    assert set(by_group) == {"I-II", "III-IV", "V-VI"}
    assert by_group["I-II"].mean == pytest.approx(np.mean([-2.0, -1.0]))
    assert by_group["III-IV"].mean == pytest.approx(np.mean([-4.0, 0.0]))
    assert by_group["V-VI"].mean == pytest.approx(np.mean([-2.0, -1.0]))


def test_cohort_pooled_with_region_and_missing_follow_up():
    frame = _cohort().assign(region="cheek")
    frame = frame[~((frame["patient"] == "p6") & (frame["timepoint"] > 0))]
    (pooled,) = cohort_changes(frame, ())
    assert pooled.group == {} and pooled.region == "cheek"
    assert pooled.change.n == 5  # p6 has only a baseline


def test_cohort_errors_name_column_and_row():
    frame = _cohort()
    with pytest.raises(InputError) as caught:
        cohort_changes(frame.drop(columns="timepoint"))
    assert caught.value.field == "timepoint"
    bad_value = frame.astype({"value": object})
    bad_value.loc[4, "value"] = "high"
    with pytest.raises(InputError) as caught:
        cohort_changes(bad_value)
    assert (caught.value.field, caught.value.line) == ("value", 5)
    bad_type = frame.astype({"fitzpatrick": object})
    bad_type.loc[2, "fitzpatrick"] = "VII"
    with pytest.raises(InputError) as caught:
        cohort_changes(bad_type)
    assert (caught.value.field, caught.value.line) == ("fitzpatrick", 3)
    duplicated = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    with pytest.raises(InputError) as caught:
        cohort_changes(duplicated)
    assert caught.value.line == len(duplicated)
    with pytest.raises(InputError):
        cohort_changes(frame, ("clinic",))


def test_forest_rows():
    rows = forest_rows(cohort_changes(_cohort(), ("modality",)))
    assert [row.label for row in rows] == ["microneedling · wrinkle", "peel · wrinkle"]
    first = rows[0]
    reference = stats.ttest_rel([44.0, 37.0, 40.0], [50.0, 40.0, 45.0]).confidence_interval()
    assert first.estimate == pytest.approx(-14 / 3)
    assert (first.ci_low, first.ci_high) == pytest.approx((reference.low, reference.high))
    assert first.n == 3
    assert first.to_dict()["group"] == {"modality": "microneedling"}


def test_gais_grades():
    assert [gais_improved(grade) for grade in (1, 2, 3, 4, 5)] == [True] * 3 + [False] * 2
    assert gais_improved(np.int64(2))
    for bad in (0, 6, 2.5, True, "3"):
        with pytest.raises(InputError):
            gais_improved(bad)


def test_responder_rule():
    assert is_responder(gais=3) is True
    assert is_responder(gais=4) is False
    # No GAIS improvement but a real improvement of the metric.
    assert is_responder(gais=4, baseline=40.0, follow_up=30.0, mdc95=5.0,
                        direction="lower") is True
    assert is_responder(baseline=40.0, follow_up=37.0, mdc95=5.0, direction="lower") is False
    assert is_responder(baseline=40.0, follow_up=30.0, mdc95=5.0) is None  # no direction
    assert is_responder() is None


def test_responder_rate_uses_wilson_and_skips_unassessable():
    rate = responder_rate([True, True, False, None, True, False, True, True, False, True, False])
    # 6 of 10 assessable: Wilson 95 % interval (0.3127, 0.8318).
    assert (rate.successes, rate.n) == (6, 10)
    assert (rate.ci_low, rate.ci_high) == pytest.approx((0.3127, 0.8318), abs=1e-4)


def test_responder_rates_by_group():
    frame = pd.DataFrame({
        "patient": ["a", "b", "c", "d", "e", "f"],
        "modality": ["peel", "peel", "peel", "laser", "laser", "laser"],
        "fitzpatrick": ["I", "II", "V", 3, 6, "VI"],
        "responder": [True, False, True, True, None, False],
    })
    by_modality = dict((group["modality"], rate)
                       for group, rate in responder_rates(frame, ("modality",)))
    assert (by_modality["peel"].successes, by_modality["peel"].n) == (2, 3)
    assert (by_modality["laser"].successes, by_modality["laser"].n) == (1, 2)
    assert by_modality["peel"] == responder_rate([True, False, True])
    by_group = {group["fitzpatrick_group"]: rate
                for group, rate in responder_rates(frame, ("fitzpatrick_group",))}
    assert (by_group["V-VI"].successes, by_group["V-VI"].n) == (1, 2)
    ((group, pooled),) = responder_rates(frame, ())
    assert group == {} and (pooled.successes, pooled.n) == (3, 5)
    with pytest.raises(InputError) as caught:
        responder_rates(pd.concat([frame, frame.iloc[[0]]]), ("modality",))
    assert (caught.value.field, caught.value.line) == ("patient", 7)
    with pytest.raises(InputError):
        responder_rates(frame.drop(columns="responder"))
