"""Paired change from baseline across a cohort, by modality and Fitzpatrick group.

For each metric, each patient contributes one difference ``follow-up - baseline``. The
cohort summary gives the mean difference with its t interval, the median, the
standardised effect size d_z and its small-sample (Hedges) correction, and the Wilcoxon
signed-rank test, which does not assume the differences are normal.

Long-format input
-----------------
A pandas DataFrame with one row per measurement and the columns ``patient``,
``modality``, ``fitzpatrick`` (I-VI or 1-6), ``metric``, ``timepoint`` (sortable: months
since baseline, a visit number or an ISO date) and ``value``; an optional ``region``
column splits each metric by region.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import special, stats

from dermatrack.errors import InputError
from dermatrack.outcomes.groups import fitzpatrick_group, recorded_type

ZeroMethod = Literal["wilcox", "pratt", "zsplit"]

REQUIRED_COLUMNS = ("patient", "modality", "fitzpatrick", "metric", "timepoint", "value")

#: Columns a cohort may be grouped by; the Fitzpatrick ones are derived from ``fitzpatrick``.
GROUPINGS = ("modality", "fitzpatrick_group", "fitzpatrick_type")

#: Above this many non-zero differences scipy's exact Wilcoxon distribution is slow and the
#: normal approximation is accurate (the threshold scipy's own "auto" uses).
EXACT_WILCOXON_MAX_N = 50


@dataclass(frozen=True)
class Wilcoxon:
    """Wilcoxon signed-rank test of paired differences against zero (two-sided).

    Attributes
    ----------
    statistic:
        ``min(W+, W-)``, the smaller signed-rank sum (scipy's two-sided statistic);
        ``None`` when no difference is non-zero.
    p_value:
        Two-sided p; ``None`` when no difference is non-zero.
    n_nonzero:
        Differences that are not zero.
    zero_method:
        How zero differences were treated: "wilcox" drops them (Wilcoxon 1945),
        "pratt" ranks then drops them (Pratt 1959), "zsplit" splits their ranks.
    method:
        "exact" when there are no zeros or ties and at most 50 differences, else
        "asymptotic" (normal approximation with tie correction).
    """

    statistic: float | None
    p_value: float | None
    n_nonzero: int
    zero_method: ZeroMethod
    method: str | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairedChange:
    """Summary of paired differences ``follow_up - baseline`` (metric units).

    ``ci_low``/``ci_high``, ``sd``, the effect sizes and the test are ``None`` where
    too few pairs exist (n < 2; Hedges' g_z needs n >= 3) or the differences have no
    spread (d_z needs a non-zero SD).
    """

    n: int
    n_dropped: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    sd: float | None
    median: float | None
    cohen_dz: float | None
    hedges_gz: float | None
    wilcoxon: Wilcoxon | None
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GroupChange:
    """A :class:`PairedChange` of one metric (and region) within one group."""

    group: dict[str, Any]
    metric: str
    region: str | None
    change: PairedChange

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot: an estimate with its interval and sample size."""

    label: str
    group: dict[str, Any]
    metric: str
    region: str | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


def hedges_correction(degrees_of_freedom: int) -> float | None:
    """Exact small-sample correction J(df) = Γ(df/2) / (sqrt(df/2) Γ((df-1)/2)).

    Multiplying d by J removes its upward bias (Hedges 1981, eq. 6e); J ~ 1 - 3/(4 df - 1).
    ``None`` for df < 2, where J is 0 or undefined.
    """
    if degrees_of_freedom < 2:
        return None
    half = degrees_of_freedom / 2.0
    return float(math.exp(special.gammaln(half) - special.gammaln(half - 0.5)) / math.sqrt(half))


def wilcoxon_signed_rank(differences: Sequence[float],
                         zero_method: ZeroMethod = "wilcox") -> Wilcoxon:
    """Two-sided Wilcoxon signed-rank test of ``differences`` (finite) against zero.

    Uses :func:`scipy.stats.wilcoxon`, choosing the exact null distribution only where it
    is exact (no zeros, no ties, n <= 50) and the tie-corrected normal approximation
    otherwise.
    """
    if zero_method not in ("wilcox", "pratt", "zsplit"):
        raise InputError(f"zero_method must be wilcox, pratt or zsplit, got {zero_method!r}",
                         field="zero_method")
    d = np.asarray(differences, dtype=float)
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return Wilcoxon(None, None, 0, zero_method, None)
    has_zeros = nonzero.size < d.size
    has_ties = np.unique(np.abs(nonzero)).size < nonzero.size
    method = ("exact" if not has_zeros and not has_ties and d.size <= EXACT_WILCOXON_MAX_N
              else "asymptotic")
    result = stats.wilcoxon(d, zero_method=zero_method, method=method)
    p_value = float(result.pvalue)
    return Wilcoxon(float(result.statistic), None if math.isnan(p_value) else p_value,
                    int(nonzero.size), zero_method, method)


def paired_change(
    baseline: Sequence[float],
    follow_up: Sequence[float],
    confidence: float = 0.95,
    zero_method: ZeroMethod = "wilcox",
) -> PairedChange:
    """Paired change from baseline: mean with t CI, median, d_z, g_z, Wilcoxon test.

    With differences :math:`d_i = y_i - x_i` (follow-up minus baseline), i = 1..n:

    * mean :math:`\\bar d` with :math:`\\bar d \\pm t_{1-\\alpha/2, n-1}\\, s_d/\\sqrt n`;
    * Cohen's :math:`d_z = \\bar d / s_d` (Cohen 1988; Lakens 2013, eq. 7), the
      standardised mean of the differences, not of the raw scores;
    * Hedges' :math:`g_z = J(n-1)\\, d_z` with the exact correction of
      :func:`hedges_correction` (Hedges 1981);
    * the Wilcoxon signed-rank test (:func:`wilcoxon_signed_rank`).

    Parameters
    ----------
    baseline, follow_up:
        Paired values in metric units, same length; a pair with a NaN is dropped and
        counted in ``n_dropped``.
    confidence:
        Two-sided level of the mean's interval.
    zero_method:
        Zero-difference handling in the Wilcoxon test.

    References
    ----------
    Lakens D. Calculating and reporting effect sizes to facilitate cumulative science.
    Front Psychol 2013;4:863.
    Hedges LV. Distribution theory for Glass's estimator of effect size and related
    estimators. J Educ Stat 1981;6:107-128.
    Wilcoxon F. Individual comparisons by ranking methods. Biometrics Bull 1945;1:80-83.
    """
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie in (0, 1), got {confidence}", field="confidence")
    try:
        before = np.asarray(baseline, dtype=float)
        after = np.asarray(follow_up, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"paired values must be numeric: {exc}", field="value") from exc
    if before.ndim != 1 or before.shape != after.shape:
        raise InputError("baseline and follow-up must be 1-D and of equal length",
                         field="value")
    if np.isinf(before).any() or np.isinf(after).any():
        raise InputError("paired values must be finite", field="value")
    keep = np.isfinite(before) & np.isfinite(after)
    differences = after[keep] - before[keep]
    n, dropped = int(differences.size), int((~keep).sum())
    if n == 0:
        return PairedChange(0, dropped, None, None, None, None, None, None, None, None,
                            confidence)
    mean = float(differences.mean())
    median = float(np.median(differences))
    test = wilcoxon_signed_rank(differences, zero_method)
    if n < 2:
        return PairedChange(n, dropped, mean, None, None, None, median, None, None, test,
                            confidence)
    sd = float(differences.std(ddof=1))
    half = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1)) * sd / math.sqrt(n)
    cohen_dz = mean / sd if sd > 0 else None
    correction = hedges_correction(n - 1)
    hedges_gz = cohen_dz * correction if cohen_dz is not None and correction else None
    return PairedChange(n, dropped, mean, mean - half, mean + half, sd, median, cohen_dz,
                        hedges_gz, test, confidence)


def _prepared(frame: Any) -> Any:
    """Validate the long frame and add the Fitzpatrick group and type columns."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError("cohort data must be a pandas DataFrame", field="frame")
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", field=missing[0])
    data = frame.reset_index(drop=True).copy()
    values = pd.to_numeric(data["value"], errors="coerce")
    bad = values.isna() & data["value"].notna() & (data["value"].astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"value {data['value'].iloc[row]!r} in row {row + 1} is not a number",
                         field="value", line=row + 1)
    data["value"] = values.astype(float)
    data["fitzpatrick_type"] = [recorded_type(v, line=i + 1)
                                for i, v in enumerate(data["fitzpatrick"])]
    data["fitzpatrick_group"] = [fitzpatrick_group(v) for v in data["fitzpatrick_type"]]
    if "region" not in data.columns:
        data["region"] = None
    key = ["patient", "modality", "metric", "region", "timepoint"]
    duplicated = data.duplicated(subset=key, keep="first")
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(
            f"row {row + 1} repeats a patient's {data['metric'].iloc[row]!s} at timepoint "
            f"{data['timepoint'].iloc[row]!s} within one modality",
            field="timepoint", line=row + 1)
    return data[np.isfinite(data["value"].to_numpy())]


def _pairs(rows: Any, baseline: Hashable | None, follow_up: Hashable | None
           ) -> tuple[list[float], list[float]]:
    """Each patient's (baseline, follow-up) values within one group and metric."""
    before: list[float] = []
    after: list[float] = []
    for _, visits in rows.groupby("patient", sort=True):
        try:
            ordered = visits.sort_values("timepoint")
        except TypeError as exc:
            raise InputError(f"timepoints cannot be ordered: {exc}", field="timepoint") from exc
        first = (ordered.iloc[:1] if baseline is None
                 else ordered[ordered["timepoint"] == baseline])
        last = (ordered.iloc[-1:] if follow_up is None
                else ordered[ordered["timepoint"] == follow_up])
        if first.empty or last.empty or first.index[0] == last.index[0]:
            continue
        before.append(float(first["value"].iloc[0]))
        after.append(float(last["value"].iloc[0]))
    return before, after


def cohort_changes(
    frame: Any,
    group_by: Sequence[str] = ("modality",),
    *,
    baseline: Hashable | None = None,
    follow_up: Hashable | None = None,
    confidence: float = 0.95,
    zero_method: ZeroMethod = "wilcox",
) -> list[GroupChange]:
    """Paired change per metric (and region) within each group of a long-format cohort.

    Parameters
    ----------
    frame:
        Long-format DataFrame (see the module docstring).
    group_by:
        Any of ``"modality"``, ``"fitzpatrick_group"`` (I-II, III-IV, V-VI) and
        ``"fitzpatrick_type"``; an empty sequence pools the whole cohort.
    baseline, follow_up:
        Timepoints to compare. By default each patient's earliest and latest measured
        timepoint of that metric; patients measured once are left out.
    confidence, zero_method:
        As in :func:`paired_change`.

    Returns
    -------
    list of GroupChange
        Sorted by group, then metric and region.

    Raises
    ------
    InputError
        A column is missing, a value is not numeric, a phototype is not I-VI, or a
        patient has two values of one metric at the same timepoint (row named).
    """
    unknown = [name for name in group_by if name not in GROUPINGS]
    if unknown:
        raise InputError(f"cannot group by {unknown[0]!r}; choose from {', '.join(GROUPINGS)}",
                         field="group_by")
    data = _prepared(frame)
    keys = [*group_by, "metric", "region"]
    results: list[GroupChange] = []
    for key, rows in data.groupby(keys, sort=True, dropna=False):
        values = dict(zip(keys, key, strict=True))
        before, after = _pairs(rows, baseline, follow_up)
        region = values.pop("region")
        metric = values.pop("metric")
        results.append(GroupChange(
            group={name: values[name] for name in group_by},
            metric=str(metric),
            region=None if region is None or (isinstance(region, float) and math.isnan(region))
            else str(region),
            change=paired_change(before, after, confidence, zero_method),
        ))
    return results


def forest_rows(changes: Sequence[GroupChange]) -> list[ForestRow]:
    """Rows for a forest plot of mean change: label, estimate, CI and n per group/metric.

    The label joins the group values, the metric and the region with " · ", in that
    order; groups without pairs keep their row with ``estimate=None`` so that a plot can
    show them as "no data" rather than silently dropping them.
    """
    rows = []
    for item in changes:
        parts = [str(value) for value in item.group.values()] + [item.metric]
        if item.region is not None:
            parts.append(item.region)
        change = item.change
        rows.append(ForestRow(" · ".join(parts), dict(item.group), item.metric, item.region,
                              change.mean, change.ci_low, change.ci_high, change.n))
    return rows
