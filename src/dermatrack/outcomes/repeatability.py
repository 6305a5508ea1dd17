"""Repeatability of a measurement: ICC, SEM, MDC95, within-subject CV, Bland-Altman.

The input is a replicate matrix: one row per subject, one column per occasion (a
repeated capture, session or rater), NaN where a measurement is missing. Rows may be
unbalanced. The one-way model (ICC(1,1), SEM, MDC95, CV) uses every subject with at least
two measurements; the two-way forms ICC(2,1) and ICC(3,1) need the same occasions for
every subject and use only the complete rows.

Which SEM gives the MDC
-----------------------
``sem`` is the within-subject standard deviation, ``sqrt(MS_within)`` of the one-way
ANOVA: the "SEM = sqrt(MSE)" form that Weir (2005) recommends because it does not depend
on which ICC is chosen or on how heterogeneous the sample is. In the one-way model the
error term holds any systematic shift between captures as well as random error, which is
what a clinic's repeated captures (re-seated patient, new lighting) really contain, and
it accepts unbalanced data. ``mdc95 = 1.96 * sqrt(2) * sem``. Two other forms are
reported for comparison: ``sem_error = sqrt(MS_error)`` of the two-way model (random
error only, systematic occasion effects removed) and ``sem_from_icc = SD * sqrt(1 -
ICC(1,1))``.

References
----------
Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability.
Psychol Bull 1979;86:420-428.
McGraw KO, Wong SP. Forming inferences about some intraclass correlation coefficients.
Psychol Methods 1996;1:30-46.
Weir JP. Quantifying test-retest reliability using the intraclass correlation
coefficient and the SEM. J Strength Cond Res 2005;19:231-240.
Bland JM, Altman DG. Measurement error. BMJ 1996;313:744.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from dermatrack.errors import InputError
from dermatrack.outcomes import _anova

#: z for a two-sided 95 % interval, as written in the MDC95 formula (Weir 2005).
Z_95 = 1.96


@dataclass(frozen=True)
class ICC:
    """One intraclass correlation with its F test and confidence interval.

    ``value`` is ``None`` when it is undefined (no variance at all); the interval is
    ``None`` when the F statistic is infinite (no error variance) or undefined.
    """

    form: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    f_statistic: float | None
    df1: int
    df2: float
    p_value: float | None
    n_subjects: int
    k: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BlandAltman:
    """Bland-Altman agreement of two replicates (second minus first).

    ``bias`` is the mean difference with its t confidence interval; the 95 % limits of
    agreement are ``bias +/- 1.96 * sd_difference`` (Bland & Altman 1986).
    """

    n: int
    bias: float
    bias_ci_low: float | None
    bias_ci_high: float | None
    sd_difference: float | None
    lower_limit: float | None
    upper_limit: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Repeatability:
    """Repeatability summary of one metric (see the module docstring for the formulas).

    Attributes
    ----------
    n_subjects, n_observations:
        Subjects with at least two measurements, and their measurements.
    n_occasions:
        Number of occasion columns.
    n_complete_subjects:
        Subjects measured on every occasion (used by ICC(2,1) and ICC(3,1)).
    mean, sd:
        Mean and standard deviation (ddof=1) of all the measurements used, metric units.
    icc_1_1, icc_2_1, icc_3_1:
        The three single-measurement ICCs; the two-way ones have ``value=None`` when
        fewer than two complete subjects exist.
    sem:
        Standard error of measurement used for the MDC, ``sqrt(MS_within)``, metric units.
    sem_error:
        ``sqrt(MS_error)`` of the two-way model, or ``None`` without complete rows.
    sem_from_icc:
        ``sd * sqrt(1 - ICC(1,1))`` (Weir 2005, eq. 6), or ``None``.
    mdc95:
        Minimal detectable change, ``1.96 * sqrt(2) * sem``, metric units.
    cv_within_percent:
        Root-mean-square within-subject coefficient of variation in %; ``None`` when any
        subject mean is zero or negative (CV needs a ratio scale).
    bland_altman:
        Agreement of the two replicates when there are exactly two occasions, else ``None``.
    """

    n_subjects: int
    n_observations: int
    n_occasions: int
    n_complete_subjects: int
    mean: float
    sd: float
    icc_1_1: ICC
    icc_2_1: ICC
    icc_3_1: ICC
    sem: float
    sem_error: float | None
    sem_from_icc: float | None
    mdc95: float
    cv_within_percent: float | None
    bland_altman: BlandAltman | None
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ReplicateMatrix:
    """Wide form of long repeated measures: ``values[i, j]`` is subject i, occasion j."""

    values: np.ndarray
    subjects: tuple[Hashable, ...]
    occasions: tuple[Hashable, ...]


def replicate_matrix(
    subjects: Sequence[Hashable],
    values: Sequence[float],
    occasions: Sequence[Hashable] | None = None,
    *,
    line_numbers: Sequence[int] | None = None,
) -> ReplicateMatrix:
    """Arrange long-format repeated measures as a subjects x occasions matrix.

    Parameters
    ----------
    subjects:
        Subject identifier of each measurement.
    values:
        The measurements (NaN marks a missing one).
    occasions:
        Occasion of each measurement (capture, session, replicate number). When omitted,
        each subject's measurements are numbered in the order given.
    line_numbers:
        Line of each measurement in its source file, used only in error messages.

    Raises
    ------
    InputError
        Lengths differ, or one subject has two measurements on the same occasion.
    """
    n = len(values)
    if len(subjects) != n or (occasions is not None and len(occasions) != n):
        raise InputError("subjects, values and occasions must have the same length",
                         field="values")
    if occasions is None:
        seen: dict[Hashable, int] = {}
        numbered = []
        for subject in subjects:
            seen[subject] = seen.get(subject, 0) + 1
            numbered.append(seen[subject])
        occasions = numbered
    subject_index: dict[Hashable, int] = {}
    occasion_index: dict[Hashable, int] = {}
    cells: dict[tuple[int, int], int] = {}
    for position, (subject, occasion) in enumerate(zip(subjects, occasions, strict=True)):
        row = subject_index.setdefault(subject, len(subject_index))
        column = occasion_index.setdefault(occasion, len(occasion_index))
        if (row, column) in cells:
            first = cells[(row, column)]
            if line_numbers is not None:
                where, earlier = line_numbers[position], f"line {line_numbers[first]}"
            else:
                where, earlier = position + 1, f"measurement {first + 1}"
            raise InputError(
                f"subject {subject!s} has two measurements for occasion {occasion!s} "
                f"(the other on {earlier})",
                field="replicate",
                line=where,
            )
        cells[(row, column)] = position
    matrix = np.full((len(subject_index), len(occasion_index)), np.nan)
    array = np.asarray(values, dtype=float)
    for (row, column), position in cells.items():
        matrix[row, column] = array[position]
    return ReplicateMatrix(matrix, tuple(subject_index), tuple(occasion_index))


def _as_matrix(matrix: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    try:
        array = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"replicate matrix must be numeric: {exc}", field="values") from exc
    if array.ndim != 2:
        raise InputError("replicate matrix must be 2-D (subjects x occasions)", field="values")
    if np.isinf(array).any():
        raise InputError("replicate matrix holds an infinite value", field="values")
    return array


def _usable_rows(array: np.ndarray) -> np.ndarray:
    """Rows with at least two measurements; raise when fewer than two subjects have them."""
    usable = array[np.sum(np.isfinite(array), axis=1) >= 2]
    if usable.shape[0] < 2:
        most = int(np.max(np.sum(np.isfinite(array), axis=1), initial=0))
        raise InputError(
            "repeatability needs at least 2 subjects with 2 or more replicate measurements "
            f"each; found {usable.shape[0]} such subject(s) (at most {most} measurement(s) "
            "per subject)",
            field="replicate",
        )
    return usable


def _ratio_bounds(f_stat: float, df1: float, df2: float, confidence: float,
                  k: float) -> tuple[float | None, float | None]:
    """CI of (MS_a - MS_b) / (MS_a + (k-1) MS_b) from the F ratio (Shrout & Fleiss 1979)."""
    if not math.isfinite(f_stat):
        return None, None
    upper_quantile = 1.0 - (1.0 - confidence) / 2.0
    f_low = f_stat / float(stats.f.ppf(upper_quantile, df1, df2))
    f_high = f_stat * float(stats.f.ppf(upper_quantile, df2, df1))
    return (f_low - 1.0) / (f_low + k - 1.0), (f_high - 1.0) / (f_high + k - 1.0)


def _f_ratio(numerator: float, denominator: float) -> float:
    if denominator > 0:
        return numerator / denominator
    return math.inf if numerator > 0 else math.nan


def _p_value(f_stat: float, df1: float, df2: float) -> float | None:
    if math.isnan(f_stat):
        return None
    return 0.0 if math.isinf(f_stat) else float(stats.f.sf(f_stat, df1, df2))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie in (0, 1), got {confidence}", field="confidence")


def icc_1_1(matrix: np.ndarray | Sequence[Sequence[float]], confidence: float = 0.95) -> ICC:
    """ICC(1,1): one-way random effects, single measurement (Shrout & Fleiss 1979, case 1).

    .. math:: \\mathrm{ICC}(1,1) = \\frac{MS_B - MS_W}{MS_B + (k_0 - 1) MS_W}

    with :math:`F = MS_B / MS_W` on :math:`(n-1, N-n)` degrees of freedom and the
    interval :math:`(F_L - 1)/(F_L + k_0 - 1)`, :math:`F_L = F / F_{1-\\alpha/2}(n-1,
    N-n)`, and likewise the upper bound with :math:`F_U = F \\cdot F_{1-\\alpha/2}(N-n,
    n-1)`. For unbalanced rows :math:`k_0` is the effective replicate count (see
    :class:`dermatrack.outcomes._anova.OneWayAnova`), which makes the interval approximate.
    Subjects with fewer than two measurements are left out.
    """
    _check_confidence(confidence)
    anova = _anova.one_way(_usable_rows(_as_matrix(matrix)))
    return _icc_1_1(anova, confidence)


def _ratio_icc(form: str, ms_subjects: float, ms_error: float, df_subjects: int,
               df_error: int, k: float, n_subjects: int, confidence: float) -> ICC:
    """``(MS_R - MS_E) / (MS_R + (k-1) MS_E)`` with its F-based interval (Shrout & Fleiss
    1979): ICC(1,1) from the one-way ANOVA, ICC(3,1) from the two-way one."""
    denominator = ms_subjects + (k - 1) * ms_error
    value = (ms_subjects - ms_error) / denominator if denominator > 0 else None
    f_stat = _f_ratio(ms_subjects, ms_error)
    low, high = _ratio_bounds(f_stat, df_subjects, df_error, confidence, k)
    return ICC(form, value, low, high, None if math.isnan(f_stat) else f_stat,
               df_subjects, df_error, _p_value(f_stat, df_subjects, df_error), n_subjects, k)


def _icc_1_1(anova: _anova.OneWayAnova, confidence: float) -> ICC:
    return _ratio_icc("ICC(1,1)", anova.ms_between, anova.ms_within, anova.df_between,
                      anova.df_within, anova.k0, anova.n_subjects, confidence)


def _complete_rows(array: np.ndarray) -> np.ndarray:
    return array[np.all(np.isfinite(array), axis=1)]


def _undefined_two_way(form: str, n_complete: int, k: int) -> ICC:
    return ICC(form, None, None, None, None, max(n_complete - 1, 0),
               max((n_complete - 1) * (k - 1), 0), None, n_complete, k)


def _two_way_icc(matrix: np.ndarray | Sequence[Sequence[float]], confidence: float, form: str,
                 compute: Callable[[_anova.TwoWayAnova, float], ICC]) -> ICC:
    """``compute`` on the two-way ANOVA of the complete rows, or an undefined ICC ``form``
    when fewer than two subjects or two occasions are complete."""
    _check_confidence(confidence)
    array = _as_matrix(matrix)
    complete = _complete_rows(array)
    if complete.shape[0] < 2 or array.shape[1] < 2:
        return _undefined_two_way(form, complete.shape[0], array.shape[1])
    return compute(_anova.two_way(complete), confidence)


def icc_3_1(matrix: np.ndarray | Sequence[Sequence[float]], confidence: float = 0.95) -> ICC:
    """ICC(3,1): two-way mixed effects, consistency, single measurement.

    Shrout & Fleiss (1979) case 3, McGraw & Wong (1996) ICC(C,1):

    .. math:: \\mathrm{ICC}(3,1) = \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E}

    with :math:`F = MS_R/MS_E` on :math:`(n-1, (n-1)(k-1))` degrees of freedom and the
    same F-based interval as ICC(1,1). Uses complete rows only; ``value`` is ``None``
    when fewer than two complete subjects exist.
    """
    return _two_way_icc(matrix, confidence, "ICC(3,1)", _icc_3_1)


def _icc_3_1(anova: _anova.TwoWayAnova, confidence: float) -> ICC:
    return _ratio_icc("ICC(3,1)", anova.ms_subjects, anova.ms_error, anova.df_subjects,
                      anova.df_error, anova.k, anova.n_subjects, confidence)


def _icc_2_1_bounds(value: float | None, anova: _anova.TwoWayAnova, confidence: float
                    ) -> tuple[float | None, float | None]:
    """McGraw & Wong (1996) interval of ICC(A,1); ``None`` where it is undefined."""
    msr, msc, mse = anova.ms_subjects, anova.ms_occasions, anova.ms_error
    n, k = anova.n_subjects, anova.k
    if value is None or value >= 1.0 or mse <= 0:
        return None, None
    a = k * value / (n * (1.0 - value))
    b = 1.0 + k * value * (n - 1) / (n * (1.0 - value))
    # Satterthwaite degrees of freedom; undefined when both weighted terms vanish, which
    # happens for some strongly negative ICCs in tiny samples.
    spread_terms = (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
    if spread_terms <= 0:
        return None, None
    v = (a * msc + b * mse) ** 2 / spread_terms
    if not v > 0:
        return None, None
    upper_quantile = 1.0 - (1.0 - confidence) / 2.0
    f_star_low = float(stats.f.ppf(upper_quantile, n - 1, v))
    f_star_high = float(stats.f.ppf(upper_quantile, v, n - 1))
    spread = k * msc + (k * n - k - n) * mse
    low = n * (msr - f_star_low * mse) / (f_star_low * spread + n * msr)
    high = n * (f_star_high * msr - mse) / (spread + n * f_star_high * msr)
    # In tiny samples with a strongly negative ICC the approximation can give bounds that
    # do not bracket the estimate; report no interval rather than a wrong one.
    if not (math.isfinite(low) and math.isfinite(high) and low <= value <= high):
        return None, None
    return low, high


def icc_2_1(matrix: np.ndarray | Sequence[Sequence[float]], confidence: float = 0.95) -> ICC:
    """ICC(2,1): two-way random effects, absolute agreement, single measurement.

    Shrout & Fleiss (1979) case 2, McGraw & Wong (1996) ICC(A,1):

    .. math::

        \\mathrm{ICC}(2,1) = \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E + k (MS_C - MS_E)/n}

    The interval is McGraw & Wong's (1996, Table 7) with Satterthwaite's degrees of
    freedom :math:`v = (a MS_C + b MS_E)^2 / ((a MS_C)^2/(k-1) + (b MS_E)^2/((n-1)(k-1)))`,
    :math:`a = k\\rho/(n(1-\\rho))`, :math:`b = 1 + k\\rho(n-1)/(n(1-\\rho))`:

    .. math::

        L = \\frac{n (MS_R - F^* MS_E)}{F^* (k MS_C + (kn - k - n) MS_E) + n MS_R},\\quad
        F^* = F_{1-\\alpha/2}(n-1, v)

    and the upper bound with :math:`F^* = F_{1-\\alpha/2}(v, n-1)` in
    :math:`U = n(F^* MS_R - MS_E) / (k MS_C + (kn-k-n) MS_E + n F^* MS_R)`.
    Uses complete rows only.
    """
    return _two_way_icc(matrix, confidence, "ICC(2,1)", _icc_2_1)


def _icc_2_1(anova: _anova.TwoWayAnova, confidence: float) -> ICC:
    msr, msc, mse = anova.ms_subjects, anova.ms_occasions, anova.ms_error
    n, k = anova.n_subjects, anova.k
    denominator = msr + (k - 1) * mse + k * (msc - mse) / n
    value = (msr - mse) / denominator if denominator > 0 else None
    f_stat = _f_ratio(msr, mse)
    low, high = _icc_2_1_bounds(value, anova, confidence)
    return ICC("ICC(2,1)", value, low, high, None if math.isnan(f_stat) else f_stat,
               anova.df_subjects, anova.df_error,
               _p_value(f_stat, anova.df_subjects, anova.df_error), n, k)


def within_subject_cv(matrix: np.ndarray | Sequence[Sequence[float]]) -> float | None:
    """Root-mean-square within-subject coefficient of variation, in percent.

    .. math:: CV_w = 100 \\sqrt{\\frac{1}{n}\\sum_i \\frac{s_i^2}{\\bar x_i^2}}

    over the subjects with at least two measurements (:math:`s_i` with ddof=1). Returns
    ``None`` when a subject mean is zero or negative: a CV needs a ratio scale with a
    true zero (so not ITA°, which can be negative).

    References
    ----------
    Glüer CC et al. Accurate assessment of precision errors: how to measure the
    reproducibility of bone densitometry techniques. Osteoporos Int 1995;5:262-270.
    """
    usable = _usable_rows(_as_matrix(matrix))
    means = np.nanmean(usable, axis=1)
    if np.any(means <= 0):
        return None
    variances = np.nanvar(usable, axis=1, ddof=1)
    return float(100.0 * math.sqrt(float(np.mean(variances / means**2))))


def bland_altman(first: Sequence[float] | NDArray[np.float64],
                 second: Sequence[float] | NDArray[np.float64],
                 confidence: float = 0.95) -> BlandAltman:
    """Bias and 95 % limits of agreement of two replicates (Bland & Altman 1986).

    Differences are ``second - first``; pairs with a NaN are dropped. The limits are
    ``bias +/- 1.96 * SD(differences)``; the bias interval uses Student's t with n-1
    degrees of freedom. With one pair, only the bias is given.

    References
    ----------
    Bland JM, Altman DG. Statistical methods for assessing agreement between two methods
    of clinical measurement. Lancet 1986;1:307-310.
    """
    _check_confidence(confidence)
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise InputError("the two replicates must be 1-D and of equal length", field="values")
    differences = (b - a)[np.isfinite(a) & np.isfinite(b)]
    n = int(differences.size)
    if n == 0:
        raise InputError("Bland-Altman needs at least one complete pair", field="replicate")
    bias = float(differences.mean())
    if n < 2:
        return BlandAltman(n, bias, None, None, None, None, None)
    sd = float(differences.std(ddof=1))
    half = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1)) * sd / math.sqrt(n)
    return BlandAltman(n, bias, bias - half, bias + half, sd, bias - Z_95 * sd,
                       bias + Z_95 * sd)


def repeatability(matrix: np.ndarray | Sequence[Sequence[float]],
                  confidence: float = 0.95) -> Repeatability:
    """Full repeatability summary of one metric from a replicate matrix.

    Parameters
    ----------
    matrix:
        Subjects x occasions, metric units; NaN for missing cells. Subjects with fewer
        than two measurements are left out.
    confidence:
        Two-sided level of the ICC and bias intervals.

    Returns
    -------
    Repeatability

    Raises
    ------
    InputError
        Fewer than two subjects have two or more measurements, or values are not finite.
    """
    _check_confidence(confidence)
    array = _as_matrix(matrix)
    usable = _usable_rows(array)
    one_way = _anova.one_way(usable)
    complete = _complete_rows(array)
    k = array.shape[1]
    if complete.shape[0] >= 2:
        two_way = _anova.two_way(complete)
        icc2, icc3 = _icc_2_1(two_way, confidence), _icc_3_1(two_way, confidence)
        sem_error: float | None = math.sqrt(two_way.ms_error)
    else:
        icc2 = _undefined_two_way("ICC(2,1)", complete.shape[0], k)
        icc3 = _undefined_two_way("ICC(3,1)", complete.shape[0], k)
        sem_error = None
    icc1 = _icc_1_1(one_way, confidence)
    finite = usable[np.isfinite(usable)]
    sd = float(finite.std(ddof=1))
    sem = math.sqrt(one_way.ms_within)
    sem_from_icc = (sd * math.sqrt(1.0 - icc1.value)
                    if icc1.value is not None and icc1.value <= 1.0 else None)
    agreement = (bland_altman(array[:, 0], array[:, 1], confidence)
                 if k == 2 and complete.shape[0] >= 1 else None)
    return Repeatability(
        n_subjects=one_way.n_subjects,
        n_observations=one_way.n_observations,
        n_occasions=k,
        n_complete_subjects=int(complete.shape[0]),
        mean=float(finite.mean()),
        sd=sd,
        icc_1_1=icc1,
        icc_2_1=icc2,
        icc_3_1=icc3,
        sem=sem,
        sem_error=sem_error,
        sem_from_icc=sem_from_icc,
        mdc95=minimal_detectable_change(sem),
        cv_within_percent=within_subject_cv(usable),
        bland_altman=agreement,
        confidence=confidence,
    )


def minimal_detectable_change(sem: float) -> float:
    """MDC95 = 1.96 * sqrt(2) * SEM, in the metric's units (Weir 2005, eq. 8).

    The sqrt(2) reflects that a change is the difference of two measurements, each
    carrying error SEM.
    """
    if not math.isfinite(sem) or sem < 0:
        raise InputError(f"SEM must be a finite non-negative number, got {sem}", field="sem")
    return Z_95 * math.sqrt(2.0) * sem


def mdc_entries(observations: Iterable[tuple[Hashable, Hashable, str, str | None,
                                             float | None]],
                *, kind: str | None = None) -> list[dict[str, object]]:
    """MDC95 of each metric and region from repeated measurements, as the entries of a
    repeatability file (``dermatrack.services.outcomes.mdc``).

    Parameters
    ----------
    observations:
        ``(subject, occasion, metric, region, value)``; a None value is a missing cell.
    kind:
        The measurement kind of every entry (``"photo"``, ...), or None.

    Returns
    -------
    list of dict
        ``{"kind", "metric", "region", "mdc95", "sem", "n_subjects", "mean",
        "cv_within_percent"}`` per metric and region, sorted by metric then region; a
        metric and region with fewer than two subjects measured twice has no entry.
    """
    cells: dict[tuple[str, str | None], dict[tuple[Hashable, Hashable], float]] = {}
    subjects: dict[Hashable, None] = {}
    occasions: dict[Hashable, None] = {}
    for subject, occasion, metric, region, value in observations:
        subjects.setdefault(subject)
        occasions.setdefault(occasion)
        if value is not None:
            cells.setdefault((metric, region), {})[(subject, occasion)] = float(value)
    row_of = {subject: i for i, subject in enumerate(subjects)}
    column_of = {occasion: j for j, occasion in enumerate(occasions)}
    entries: list[dict[str, object]] = []
    for (metric, region), values in sorted(cells.items(),
                                           key=lambda item: (item[0][0], item[0][1] or "")):
        matrix = np.full((len(row_of), len(column_of)), np.nan)
        for (subject, occasion), value in values.items():
            matrix[row_of[subject], column_of[occasion]] = value
        try:
            summary = repeatability(matrix)
        except InputError:
            continue  # fewer than two subjects measured twice, or not finite
        entries.append({"kind": kind, "metric": metric, "region": region,
                        "mdc95": summary.mdc95, "sem": summary.sem,
                        "n_subjects": summary.n_subjects, "mean": summary.mean,
                        "cv_within_percent": summary.cv_within_percent})
    return entries
