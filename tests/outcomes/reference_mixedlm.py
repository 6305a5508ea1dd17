"""The statsmodels random-intercept fit that dermatrack used before its own REML fit
(issue 14), kept here only as the reference the fast fit must equal."""

from __future__ import annotations

import math
import warnings

import numpy as np

from dermatrack.outcomes.mixed import Trajectory, _clean, _degenerate, _ols, _wald


def statsmodels_trajectory(frame, confidence: float = 0.95) -> Trajectory:
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
