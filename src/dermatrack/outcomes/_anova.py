"""Mean squares of the ANOVA models behind the intraclass correlations.

A replicate matrix has one row per subject and one column per occasion (capture,
session, rater); missing cells are NaN. Two models are fitted, both by the usual sums of
squares (Shrout & Fleiss 1979, Table 1; McGraw & Wong 1996, Table 2):

* one-way random effects (subjects only), which accepts unbalanced rows;
* two-way (subjects x occasions) without interaction, on complete rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneWayAnova:
    """One-way ANOVA of a possibly unbalanced replicate matrix.

    ``k0`` is the effective number of replicates per subject,
    ``k0 = (N - sum(n_i**2) / N) / (n - 1)``, which equals ``k`` for balanced data
    (Searle, Casella & McCulloch 1992, Variance Components, sec. 3.6).
    """

    n_subjects: int
    n_observations: int
    k0: float
    grand_mean: float
    ms_between: float
    ms_within: float
    df_between: int
    df_within: int


@dataclass(frozen=True)
class TwoWayAnova:
    """Two-way ANOVA (subjects x occasions, no interaction) of a complete matrix."""

    n_subjects: int
    k: int
    ms_subjects: float
    ms_occasions: float
    ms_error: float
    df_subjects: int
    df_occasions: int
    df_error: int


def one_way(matrix: np.ndarray) -> OneWayAnova:
    """One-way ANOVA over the rows of ``matrix``, ignoring NaN cells.

    Rows must each hold at least one finite value and there must be at least two rows
    and more observations than rows (checked by the caller).
    """
    counts = np.sum(np.isfinite(matrix), axis=1)
    n_subjects = int(matrix.shape[0])
    n_observations = int(counts.sum())
    row_means = np.nanmean(matrix, axis=1)
    grand_mean = float(np.nansum(matrix) / n_observations)
    ss_between = float(np.sum(counts * (row_means - grand_mean) ** 2))
    ss_within = float(np.nansum((matrix - row_means[:, None]) ** 2))
    df_between = n_subjects - 1
    df_within = n_observations - n_subjects
    k0 = (n_observations - float(np.sum(counts**2)) / n_observations) / df_between
    return OneWayAnova(
        n_subjects=n_subjects,
        n_observations=n_observations,
        k0=k0,
        grand_mean=grand_mean,
        ms_between=ss_between / df_between,
        ms_within=ss_within / df_within,
        df_between=df_between,
        df_within=df_within,
    )


def two_way(matrix: np.ndarray) -> TwoWayAnova:
    """Two-way ANOVA without interaction on a complete ``n x k`` matrix (no NaN)."""
    n_subjects, k = matrix.shape
    grand_mean = float(matrix.mean())
    ss_total = float(np.sum((matrix - grand_mean) ** 2))
    ss_subjects = k * float(np.sum((matrix.mean(axis=1) - grand_mean) ** 2))
    ss_occasions = n_subjects * float(np.sum((matrix.mean(axis=0) - grand_mean) ** 2))
    # Rounding can push a zero residual sum of squares slightly below zero.
    ss_error = max(ss_total - ss_subjects - ss_occasions, 0.0)
    df_subjects, df_occasions = n_subjects - 1, k - 1
    df_error = df_subjects * df_occasions
    return TwoWayAnova(
        n_subjects=int(n_subjects),
        k=int(k),
        ms_subjects=ss_subjects / df_subjects,
        ms_occasions=ss_occasions / df_occasions,
        ms_error=ss_error / df_error,
        df_subjects=df_subjects,
        df_occasions=df_occasions,
        df_error=df_error,
    )
