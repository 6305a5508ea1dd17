"""Trajectory of a metric over time: a linear mixed model with a random intercept.

Each patient has their own starting level (random intercept) and the cohort shares one
slope per month:

.. math:: y_{ij} = \\beta_0 + \\beta_1 t_{ij} + u_i + \\varepsilon_{ij},\\quad
          u_i \\sim N(0, \\sigma_u^2),\\ \\varepsilon_{ij} \\sim N(0, \\sigma^2)

fitted by REML with statsmodels ``MixedLM`` (``smf.mixedlm("value ~ months",
groups=patient)``; Lindstrom & Bates 1988). Using every visit, and letting patients
differ in level, it is more efficient than comparing the first and last visits only, and
it tolerates missed visits.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dermatrack.errors import InputError

REQUIRED_COLUMNS = ("patient", "months", "value")


@dataclass(frozen=True)
class Trajectory:
    """Slope of a metric over time.

    Attributes
    ----------
    slope_per_month:
        Fixed-effect slope, metric units per month; ``None`` when it cannot be estimated.
    ci_low, ci_high:
        Wald confidence interval of the slope; ``None`` when not estimable.
    p_value:
        Two-sided Wald test of slope = 0; ``None`` when not estimable.
    n_patients, n_observations:
        Patients and finite measurements used.
    converged:
        Whether the optimiser reported convergence without warnings; ``None`` when no
        model was fitted.
    method:
        ``"mixedlm"`` (random intercept), ``"ols"`` (one patient: ordinary least
        squares on that patient's visits), or ``None`` (nothing fitted).
    note:
        Why the result is degenerate or what the fit warned about; ``None`` otherwise.
    """

    slope_per_month: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n_patients: int
    n_observations: int
    converged: bool | None
    method: str | None
    note: str | None
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


def _clean(frame: Any) -> Any:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError("trajectory data must be a pandas DataFrame", field="frame")
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", field=missing[0])
    data = frame.loc[:, list(REQUIRED_COLUMNS)].reset_index(drop=True)
    for column in ("months", "value"):
        numbers = pd.to_numeric(data[column], errors="coerce")
        bad = numbers.isna() & data[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{column} {data[column].iloc[row]!r} in row {row + 1} is not a "
                             "number", field=column, line=row + 1)
        data[column] = numbers.astype(float)
    finite = np.isfinite(data["months"].to_numpy()) & np.isfinite(data["value"].to_numpy())
    return data[finite & data["patient"].notna().to_numpy()]


def _wald(estimate: float, se: float, df: float | None, confidence: float
          ) -> tuple[float, float, float]:
    from scipy import stats

    quantile = 1.0 - (1.0 - confidence) / 2.0
    critical = float(stats.norm.ppf(quantile) if df is None else stats.t.ppf(quantile, df))
    p_value = (2.0 * stats.norm.sf(abs(estimate / se)) if df is None
               else 2.0 * stats.t.sf(abs(estimate / se), df))
    return estimate - critical * se, estimate + critical * se, float(p_value)


def _degenerate(note: str, n_patients: int, n_obs: int, confidence: float,
                slope: float | None = None) -> Trajectory:
    return Trajectory(slope, None, None, None, n_patients, n_obs, None, None, note, confidence)


def _ols(data: Any, confidence: float) -> Trajectory:
    """Straight line through one patient's visits (the random intercept is not estimable)."""
    months, values = data["months"].to_numpy(), data["value"].to_numpy()
    n = months.size
    slope, intercept = np.polyfit(months, values, 1)
    note = "one patient: ordinary least squares line, no random intercept"
    if n < 3:
        return Trajectory(float(slope), None, None, None, 1, n, None, "ols",
                          note + "; two visits leave no residual to estimate uncertainty",
                          confidence)
    residuals = values - (slope * months + intercept)
    sigma2 = float(residuals @ residuals) / (n - 2)
    se = math.sqrt(sigma2 / float(np.sum((months - months.mean()) ** 2)))
    if se == 0:
        return Trajectory(float(slope), None, None, None, 1, n, None, "ols",
                          note + "; the points lie exactly on a line", confidence)
    low, high, p_value = _wald(float(slope), se, n - 2, confidence)
    return Trajectory(float(slope), low, high, p_value, 1, n, None, "ols", note, confidence)


def trajectory(frame: Any, confidence: float = 0.95) -> Trajectory:
    """Slope per month of one metric with a random intercept per patient.

    Parameters
    ----------
    frame:
        pandas DataFrame with columns ``patient``, ``months`` (time since baseline) and
        ``value`` (metric units), one row per measurement; rows with a missing value or
        time are dropped.
    confidence:
        Two-sided level of the slope's Wald interval (normal quantile, as statsmodels
        reports it).

    Returns
    -------
    Trajectory
        Degenerate data give a result with a ``note`` instead of an exception: no data or
        a single time point (no slope), constant values (slope 0, no interval), one
        patient (ordinary least squares on that patient).

    References
    ----------
    Lindstrom MJ, Bates DM. Newton-Raphson and EM algorithms for linear mixed-effects
    models for repeated-measures data. J Am Stat Assoc 1988;83:1014-1022.
    Seabold S, Perktold J. statsmodels: econometric and statistical modeling with Python.
    Proc 9th Python in Science Conf 2010.
    """
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie in (0, 1), got {confidence}", field="confidence")
    data = _clean(frame)
    n_obs = int(len(data))
    n_patients = int(data["patient"].nunique())
    if n_obs < 2 or data["months"].nunique() < 2:
        return _degenerate("fewer than two distinct time points: no slope", n_patients, n_obs,
                           confidence)
    if data["value"].nunique() == 1:
        return _degenerate("all values are equal: slope 0 with no uncertainty estimate",
                           n_patients, n_obs, confidence, slope=0.0)
    if n_patients == 1:
        return _ols(data, confidence)
    return _mixedlm(data, n_patients, n_obs, confidence)


def _mixedlm(data: Any, n_patients: int, n_obs: int, confidence: float) -> Trajectory:
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    data = data.assign(patient=data["patient"].astype(str))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = smf.mixedlm("value ~ months", data, groups=data["patient"])
            result = model.fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return Trajectory(None, None, None, None, n_patients, n_obs, False, "mixedlm",
                              f"mixed model failed: {exc}", confidence)
    # Only the optimiser's own warnings bear on convergence (boundary fits, singular
    # random-effect covariance); other libraries' deprecation notices do not.
    messages = sorted({str(w.message).splitlines()[0] for w in caught
                       if issubclass(w.category, ConvergenceWarning)})
    slope = float(result.fe_params["months"])
    se = float(result.bse_fe["months"])
    converged = bool(result.converged) and not messages
    if not math.isfinite(se) or se <= 0:
        return Trajectory(slope, None, None, None, n_patients, n_obs, converged, "mixedlm",
                          "; ".join(messages) or "no standard error for the slope", confidence)
    low, high, p_value = _wald(slope, se, None, confidence)
    return Trajectory(slope, low, high, p_value, n_patients, n_obs, converged, "mixedlm",
                      "; ".join(messages) or None, confidence)


def trajectories(frame: Any, group_by: tuple[str, ...] = ("metric",),
                 confidence: float = 0.95) -> list[tuple[dict[str, Any], Trajectory]]:
    """:func:`trajectory` for each group of a long frame (e.g. per modality and metric).

    Returns
    -------
    list of (group values, Trajectory), sorted by group.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError("trajectory data must be a pandas DataFrame", field="frame")
    missing = [column for column in group_by if column not in frame.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", field=missing[0])
    results = []
    for key, rows in frame.groupby(list(group_by), sort=True):
        values = key if isinstance(key, tuple) else (key,)
        results.append((dict(zip(group_by, values, strict=True)), trajectory(rows, confidence)))
    return results
