"""Proportions with Wilson score intervals.

Responder rates and adverse-event rates are proportions of small groups, often with
zero or all events; the Wilson score interval keeps its coverage there and never leaves
[0, 1], where the textbook Wald interval fails (Brown, Cai & DasGupta 2001).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scipy.stats import norm

from dermatrack.errors import InputError


@dataclass(frozen=True)
class Proportion:
    """A count out of a total, with its Wilson confidence interval.

    Attributes
    ----------
    successes:
        Number of units with the event (patients, sessions, responders).
    n:
        Number of units at risk.
    rate:
        ``successes / n``; ``None`` when ``n`` is 0.
    ci_low, ci_high:
        Wilson score interval bounds; ``None`` when ``n`` is 0.
    confidence:
        Two-sided confidence level of the interval (e.g. 0.95).
    """

    successes: int
    n: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float

    def to_dict(self) -> dict:
        return asdict(self)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """Proportion ``successes / n`` with its Wilson score confidence interval.

    With :math:`\\hat p = k/n` and :math:`z` the standard normal quantile at
    :math:`1 - \\alpha/2`:

    .. math::

        \\frac{\\hat p + z^2/(2n)}{1 + z^2/n} \\pm
        \\frac{z}{1 + z^2/n}\\sqrt{\\frac{\\hat p(1-\\hat p)}{n} + \\frac{z^2}{4n^2}}

    Parameters
    ----------
    successes:
        Number of events, ``0 <= successes <= n``.
    n:
        Number of units at risk, ``n >= 0``. With ``n == 0`` the rate and the interval
        are ``None`` (nothing was observed), not an error.
    confidence:
        Two-sided confidence level in (0, 1); default 0.95.

    Returns
    -------
    Proportion

    References
    ----------
    Wilson EB. Probable inference, the law of succession, and statistical inference.
    J Am Stat Assoc 1927;22:209-212.
    Brown LD, Cai TT, DasGupta A. Interval estimation for a binomial proportion.
    Stat Sci 2001;16:101-133.

    Examples
    --------
    >>> p = wilson_interval(5, 10)
    >>> round(p.ci_low, 4), round(p.ci_high, 4)
    (0.2366, 0.7634)
    """
    if isinstance(successes, bool) or isinstance(n, bool):
        raise InputError("counts must be integers, not booleans", field="successes")
    if int(successes) != successes or int(n) != n:
        raise InputError(f"counts must be whole numbers, got {successes}/{n}", field="successes")
    successes, n = int(successes), int(n)
    if n < 0 or successes < 0 or successes > n:
        raise InputError(f"need 0 <= successes <= n, got {successes}/{n}", field="successes")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie in (0, 1), got {confidence}", field="confidence")
    if n == 0:
        return Proportion(0, 0, None, None, None, confidence)
    z = float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    p_hat = successes / n
    denominator = 1.0 + z * z / n
    centre = (p_hat + z * z / (2.0 * n)) / denominator
    half_width = z / denominator * math.sqrt(p_hat * (1.0 - p_hat) / n + z * z / (4.0 * n * n))
    # Clip rounding noise only: the exact bounds lie in [0, 1] and equal 0 (or 1) when
    # there are no events (or only events).
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return Proportion(successes, n, p_hat, low, high, confidence)
