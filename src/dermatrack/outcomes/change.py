"""Change from baseline for one patient's metric, and whether it is real.

A change is *real* when its size exceeds the metric's minimal detectable change (MDC95,
see :mod:`dermatrack.outcomes.repeatability`): smaller changes lie within what repeated
measurement of an unchanged patient produces 95 % of the time (Weir 2005). Whether a
real change is an improvement depends on the metric: lower is better for wrinkle
severity or redness, higher for elasticity; for some (ITA°, lighter when higher) the
clinic decides, so the direction is a parameter rather than built in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from dermatrack.errors import InputError

#: Which way a metric improves: "lower" (e.g. wrinkle severity), "higher" (e.g. R7
#: elasticity), or None when there is no better direction.
Direction = Literal["lower", "higher"]

#: Verdict on one change: "improved" / "worsened" (real change, direction known),
#: "changed" (real change, no direction), "no real change" (within MDC95).
Verdict = Literal["improved", "worsened", "changed", "no real change"]

#: In place of a verdict: the two values are not of the same thing (one photograph hides
#: the skin, is blurred or smoothed, or another method version measured it), so the
#: change is shown and not judged.
NOT_COMPARABLE = "not comparable"

#: Each verdict in words for a patient or a clinician (reports, web pages).
VERDICT_WORDS: dict[str, str] = {"improved": "real improvement", "worsened": "real worsening",
                                 "changed": "real change",
                                 "no real change": "within measurement error"}


def verdict_words(verdict: Verdict | None) -> str:
    """A verdict in words; without one (MDC95 unknown) says so."""
    return VERDICT_WORDS.get(verdict or "", "MDC unknown: no verdict")


@dataclass(frozen=True)
class Change:
    """Change of one metric from baseline to a follow-up visit.

    Attributes
    ----------
    baseline, follow_up:
        The two values, metric units.
    absolute:
        ``follow_up - baseline``, metric units.
    percent:
        ``100 * absolute / baseline``; ``None`` when the baseline is 0.
    mdc95:
        The MDC95 used, metric units, or ``None`` when unknown.
    real:
        ``abs(absolute) > mdc95``; ``None`` when the MDC95 is unknown.
    direction:
        Which way the metric improves, or ``None``.
    verdict:
        See :data:`Verdict`; ``None`` when the MDC95 is unknown (a change cannot be
        called real or not without it).
    """

    baseline: float
    follow_up: float
    absolute: float
    percent: float | None
    mdc95: float | None
    real: bool | None
    direction: Direction | None
    verdict: Verdict | None

    def to_dict(self) -> dict:
        return asdict(self)


def _finite(value: float, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{field} must be a number, got {value!r}", field=field) from exc
    if not math.isfinite(number):
        raise InputError(f"{field} must be finite, got {value!r}", field=field)
    return number


def _check_direction(direction: str | None) -> None:
    if direction not in ("lower", "higher", None):
        raise InputError(f"direction must be 'lower', 'higher' or None, got {direction!r}",
                         field="direction")


def change_from_baseline(
    baseline: float,
    follow_up: float,
    mdc95: float | None = None,
    direction: Direction | None = None,
) -> Change:
    """Absolute and percent change from baseline, judged against MDC95.

    Parameters
    ----------
    baseline, follow_up:
        The metric at baseline and at the follow-up visit, in the metric's units.
    mdc95:
        Minimal detectable change of the metric (same units, >= 0); ``None`` when no
        repeatability data exist, and then no verdict is given.
    direction:
        ``"lower"`` or ``"higher"`` when a decrease or an increase is the improvement;
        ``None`` reports only whether the change is real.

    Returns
    -------
    Change

    Notes
    -----
    A change exactly equal to MDC95 is not real: the MDC is the largest difference
    expected from measurement error alone at 95 % confidence (Weir 2005).

    Examples
    --------
    >>> c = change_from_baseline(40.0, 30.0, mdc95=6.0, direction="lower")
    >>> c.absolute, c.percent, c.verdict
    (-10.0, -25.0, 'improved')
    """
    _check_direction(direction)
    before = _finite(baseline, "baseline")
    after = _finite(follow_up, "follow_up")
    absolute = after - before
    percent = None if before == 0 else 100.0 * absolute / before
    if mdc95 is None:
        return Change(before, after, absolute, percent, None, None, direction, None)
    threshold = _finite(mdc95, "mdc95")
    if threshold < 0:
        raise InputError(f"mdc95 must be >= 0, got {mdc95}", field="mdc95")
    real = abs(absolute) > threshold
    return Change(before, after, absolute, percent, threshold, real, direction,
                  _verdict(absolute, real, direction))


def _verdict(absolute: float, real: bool, direction: Direction | None) -> Verdict:
    if not real:
        return "no real change"
    if direction is None:
        return "changed"
    better = absolute < 0 if direction == "lower" else absolute > 0
    return "improved" if better else "worsened"


def changes_over_time(
    values: Sequence[float],
    mdc95: float | None = None,
    direction: Direction | None = None,
) -> list[Change]:
    """Change of every later visit from the first one (the baseline).

    Parameters
    ----------
    values:
        The metric at each visit in time order, the baseline first; at least one value.
    mdc95, direction:
        As in :func:`change_from_baseline`.

    Returns
    -------
    list of Change
        One per follow-up visit (empty when only the baseline exists).
    """
    if len(values) == 0:
        raise InputError("need at least the baseline value", field="values")
    return [change_from_baseline(values[0], value, mdc95, direction) for value in values[1:]]
