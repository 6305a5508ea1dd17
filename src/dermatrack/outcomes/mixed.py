"""Trajectory of a metric over time: a linear mixed model with a random intercept.

Each patient has their own starting level (random intercept) and the cohort shares one
slope per month:

.. math:: y_{ij} = \\beta_0 + \\beta_1 t_{ij} + u_i + \\varepsilon_{ij},\\quad
          u_i \\sim N(0, \\sigma_u^2),\\ \\varepsilon_{ij} \\sim N(0, \\sigma^2)

fitted by REML (Lindstrom & Bates 1988; Harville 1977). The fit works on six sums per
patient (:class:`GroupSums`) and maximises the REML log-likelihood with the residual
variance profiled out over the one remaining parameter, the variance ratio
psi = sigma_u^2 / sigma^2 (:func:`random_intercept_reml`): the likelihood statsmodels
``MixedLM`` (``smf.mixedlm("value ~ months", groups=patient).fit(reml=True)``)
maximises, with its standard errors, at a cost linear in the number of patients
(issue 14: a cohort of thousands in milliseconds instead of minutes; the tests check the
estimates against statsmodels). Using every visit, and letting patients
differ in level, it is more efficient than comparing the first and last visits only, and
it tolerates missed visits.
"""

from __future__ import annotations

import math
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
    codes = data["patient"].astype(str).astype("category").cat.codes.to_numpy()
    return trajectory_arrays(codes.astype(np.int64), data["months"].to_numpy(float),
                             data["value"].to_numpy(float), confidence)


def trajectory_arrays(patients: np.ndarray, months: np.ndarray, values: np.ndarray,
                      confidence: float = 0.95) -> Trajectory:
    """:func:`trajectory` on arrays: patient codes (0..k-1, every code used), months and
    values (finite), one entry per measurement."""
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie in (0, 1), got {confidence}", field="confidence")
    n_obs = int(months.size)
    n_patients = int(np.unique(patients).size)
    if n_obs < 2 or np.unique(months).size < 2:
        return _degenerate("fewer than two distinct time points: no slope", n_patients, n_obs,
                           confidence)
    if np.unique(values).size == 1:
        return _degenerate("all values are equal: slope 0 with no uncertainty estimate",
                           n_patients, n_obs, confidence, slope=0.0)
    if n_patients == 1:
        import pandas as pd

        return _ols(pd.DataFrame({"months": months, "value": values}), confidence)
    _, codes = np.unique(patients, return_inverse=True)
    return _fit_sums(GroupSums.of(codes, months, values), n_patients, n_obs, confidence)


@dataclass(frozen=True)
class GroupSums:
    """Per-patient sufficient statistics of a random-intercept line (arrays, one entry per
    patient): visits ``n``, and the sums of months ``t``, values ``y``, ``t*t``, ``t*y``
    and ``y*y``. Everything the REML fit needs is in these six numbers per patient."""

    n: np.ndarray
    t: np.ndarray
    y: np.ndarray
    tt: np.ndarray
    ty: np.ndarray
    yy: np.ndarray

    @classmethod
    def of(cls, patient_codes: np.ndarray, months: np.ndarray, values: np.ndarray
           ) -> GroupSums:
        """Sums per patient from integer patient codes (0..k-1) and the two columns."""
        k = int(patient_codes.max()) + 1 if patient_codes.size else 0

        def total(weights: np.ndarray | None) -> np.ndarray:
            return np.bincount(patient_codes, weights=weights, minlength=k)

        return cls(total(None), total(months), total(values), total(months * months),
                   total(months * values), total(values * values))


#: Search interval of log(psi), psi = between-patient variance / residual variance.
_LOG_PSI_BOUNDS = (-25.0, 20.0)


def _gls(sums: GroupSums, psi: float) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """X'V^-1 X, beta, r'V^-1 r and c = psi / (1 + n psi) at ``psi`` (V in scale units)."""
    n, t, y = sums.n, sums.t, sums.y
    c = psi / (1.0 + n * psi)
    xtvx = np.array([[np.sum(n - c * n * n), np.sum(t - c * n * t)],
                     [np.sum(t - c * n * t), np.sum(sums.tt - c * t * t)]])
    xtvy = np.array([np.sum(y - c * n * y), np.sum(sums.ty - c * t * y)])
    beta = np.linalg.solve(xtvx, xtvy)
    rvr = float(np.sum(sums.yy - c * y * y) - beta @ xtvy)
    return xtvx, beta, rvr, c


def _reml_objective(log_psi: float, sums: GroupSums, dof: float) -> float:
    """Minus the REML log-likelihood with the residual variance profiled out."""
    psi = math.exp(log_psi)
    try:
        xtvx, _, rvr, _ = _gls(sums, psi)
    except np.linalg.LinAlgError:
        return math.inf
    if rvr <= 0:
        return math.inf
    sign, logdet = np.linalg.slogdet(xtvx)
    if sign <= 0:
        return math.inf
    return 0.5 * (float(np.sum(np.log1p(sums.n * psi))) + logdet + dof * math.log(rvr))


def _hessian(sums: GroupSums, psi: float) -> tuple[np.ndarray, float]:
    """Hessian of the profiled REML log-likelihood in (intercept, slope, psi) at the GLS
    estimate, the form statsmodels ``MixedLM.hessian`` uses for standard errors; and the
    residual variance."""
    n, t, y = sums.n, sums.t, sums.y
    xtvx, beta, rvr, c = _gls(sums, psi)
    dof = float(np.sum(n)) - 2.0
    w = 1.0 / (1.0 + n * psi)          # 1'V^-1 1 = n w, V^-1 1 = w 1
    q = n * w
    s_r = y - beta[0] * n - beta[1] * t  # residual sum per patient
    x1 = np.vstack([n, t])              # X'1 per patient, 2 x k
    fere = x1 @ (w * w * s_r)           # sum (X'V^-1 1)(1'V^-1 r)
    xtax = (x1 * (w * w)) @ x1.T
    big_f = 2.0 * (x1 * (n * w ** 3)) @ x1.T
    b = float(np.sum(w * w * s_r * s_r))
    d = float(np.sum(2.0 * q * w * w * s_r * s_r))
    h_re = float(np.sum(q * q)) / 2.0
    h_re -= 0.5 * dof * (d / rvr - b * b / rvr ** 2)
    ql = np.linalg.solve(xtvx, xtax)
    h_re += 0.5 * (float(np.sum(ql.T * ql)) - float(np.trace(np.linalg.solve(xtvx, big_f))))
    hess = np.zeros((3, 3))
    hess[:2, :2] = -dof * xtvx / rvr
    hess[:2, 2] = hess[2, :2] = -dof * fere / rvr
    hess[2, 2] = h_re
    return hess, rvr / dof


def random_intercept_reml(sums: GroupSums) -> dict[str, Any]:
    """REML fit of ``value = b0 + b1 months + u_patient + e`` from per-patient sums.

    The residual variance is profiled out and the log-likelihood maximised over
    psi = sigma_u^2 / sigma^2 >= 0 by a bounded scalar search on log(psi) (Brent), which
    is the same likelihood statsmodels ``MixedLM.fit(reml=True)`` maximises; the fixed
    effects are then the GLS estimate and their covariance the inverse of minus the
    Hessian of :func:`_hessian`, as statsmodels reports them. Each likelihood evaluation
    costs O(patients), so a cohort of thousands fits in milliseconds.

    Returns
    -------
    dict
        ``beta`` (intercept, slope), ``se`` of both, ``scale`` (residual variance),
        ``cov_re`` (between-patient variance), ``psi`` and ``warnings`` (statsmodels'
        wording for a boundary fit or a Hessian that is not negative definite).
    """
    from scipy import optimize

    dof = float(np.sum(sums.n)) - 2.0
    result = optimize.minimize_scalar(_reml_objective, bounds=_LOG_PSI_BOUNDS,
                                      args=(sums, dof), method="bounded",
                                      options={"xatol": 1e-10, "maxiter": 500})
    log_psi = float(result.x)
    # The bounded search cannot sit exactly on psi = 0: compare with the lower end.
    if _reml_objective(_LOG_PSI_BOUNDS[0], sums, dof) < float(result.fun):
        log_psi = _LOG_PSI_BOUNDS[0]
    psi = math.exp(log_psi)
    _, beta, _, _ = _gls(sums, psi)
    hess, scale = _hessian(sums, psi)
    notes = []
    if scale * psi < 0.01:
        notes.append("The MLE may be on the boundary of the parameter space.")
    if np.any(np.diag(hess) >= 0):
        notes.append("The Hessian matrix at the estimated parameter values is not "
                     "positive definite.")
    try:
        cov = np.linalg.inv(-hess)
        se = np.sqrt(np.diag(cov)[:2])
    except np.linalg.LinAlgError:
        se = np.array([math.nan, math.nan])
    return {"beta": beta, "se": se, "scale": scale, "cov_re": scale * psi, "psi": psi,
            "warnings": sorted(notes), "converged": bool(result.success)}


def _fit_sums(sums: GroupSums, n_patients: int, n_obs: int, confidence: float) -> Trajectory:
    try:
        fit = random_intercept_reml(sums)
    except (np.linalg.LinAlgError, ValueError) as exc:
        return Trajectory(None, None, None, None, n_patients, n_obs, False, "mixedlm",
                          f"mixed model failed: {exc}", confidence)
    messages = fit["warnings"]
    slope = float(fit["beta"][1])
    se = float(fit["se"][1])
    converged = fit["converged"] and not messages
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
