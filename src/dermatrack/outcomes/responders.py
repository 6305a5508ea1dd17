"""Who responded to treatment, and the responder rate with its Wilson interval.

A patient responds when the Global Aesthetic Improvement Scale (GAIS) shows at least one
grade of improvement (1 very much improved, 2 much improved, 3 improved; 4 no change,
5 worse) or, failing a GAIS rating, when an objective metric improved by more than its
MDC95 (issue 6; GAIS grades from the clinical reference, sec. 2).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from dermatrack.errors import InputError
from dermatrack.outcomes.change import Direction, change_from_baseline
from dermatrack.outcomes.groups import fitzpatrick_group, recorded_type
from dermatrack.outcomes.proportions import Proportion, wilson_interval

#: GAIS grades that count as improved (1-3 on the 1-5 scale).
GAIS_IMPROVED = frozenset({1, 2, 3})


def gais_improved(grade: int) -> bool:
    """True when a 1-5 GAIS grade means improvement (1, 2 or 3).

    Raises
    ------
    InputError
        The grade is not a whole number from 1 to 5.
    """
    if (isinstance(grade, bool) or not isinstance(grade, numbers.Real)
            or grade not in range(1, 6)):
        raise InputError(f"GAIS grade must be 1-5, got {grade!r}", field="gais")
    return int(grade) in GAIS_IMPROVED


def is_responder(
    *,
    gais: int | None = None,
    baseline: float | None = None,
    follow_up: float | None = None,
    mdc95: float | None = None,
    direction: Direction | None = None,
) -> bool | None:
    """Whether one patient responded: GAIS 1-3, or an improvement beyond MDC95.

    Parameters
    ----------
    gais:
        The patient's GAIS grade (1-5) at the follow-up, if rated.
    baseline, follow_up, mdc95, direction:
        An objective metric at baseline and follow-up, its MDC95 and which way it
        improves (see :func:`dermatrack.outcomes.change.change_from_baseline`).

    Returns
    -------
    bool or None
        True when either criterion shows improvement; False when at least one criterion
        could be judged and neither shows it; ``None`` when neither could be judged
        (no GAIS, and no complete metric with MDC95 and direction).
    """
    judged = False
    if gais is not None:
        if gais_improved(gais):
            return True
        judged = True
    if (baseline is not None and follow_up is not None and mdc95 is not None
            and direction is not None
            and math.isfinite(baseline) and math.isfinite(follow_up)):
        verdict = change_from_baseline(baseline, follow_up, mdc95, direction).verdict
        if verdict == "improved":
            return True
        judged = True
    return False if judged else None


def responder_rate(responded: Iterable[bool | None], confidence: float = 0.95) -> Proportion:
    """Share of patients who responded, with its Wilson interval.

    ``None`` entries (not assessable) are left out of both the count and the total.
    """
    judged = [flag for flag in responded if flag is not None]
    return wilson_interval(sum(bool(flag) for flag in judged), len(judged), confidence)


def responder_rates(
    frame: Any,
    group_by: Sequence[str] = ("modality",),
    *,
    column: str = "responder",
    confidence: float = 0.95,
) -> list[tuple[dict[str, Any], Proportion]]:
    """Responder rate with its Wilson interval within each group of patients.

    Parameters
    ----------
    frame:
        pandas DataFrame with one row per patient (per group): ``patient``, the
        ``column`` of True/False/None verdicts (e.g. from :func:`is_responder`), and the
        grouping columns: ``modality`` and/or ``fitzpatrick`` (I-VI or 1-6), from which
        ``fitzpatrick_group`` (I-II, III-IV, V-VI) and ``fitzpatrick_type`` are derived.
    group_by:
        Any of ``"modality"``, ``"fitzpatrick_group"``, ``"fitzpatrick_type"``; empty
        pools everyone.
    column:
        Name of the verdict column.
    confidence:
        Two-sided level of the Wilson intervals.

    Returns
    -------
    list of (group values, Proportion), sorted by group.

    Raises
    ------
    InputError
        A missing column, or a patient listed twice in one group (row named, patient not).
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError("responder data must be a pandas DataFrame", field="frame")
    derived = {"fitzpatrick_group": "fitzpatrick", "fitzpatrick_type": "fitzpatrick"}
    needed = ["patient", column, *(derived.get(name, name) for name in group_by)]
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", field=missing[0])
    data = frame.reset_index(drop=True)
    if "fitzpatrick" in data.columns:
        types = [recorded_type(v, line=i + 1) for i, v in enumerate(data["fitzpatrick"])]
        data = data.assign(fitzpatrick_type=types,
                           fitzpatrick_group=[fitzpatrick_group(v) for v in types])
    keys = list(group_by)
    repeated = data.duplicated(subset=[*keys, "patient"])
    if repeated.any():
        row = int(repeated.to_numpy().nonzero()[0][0])
        # No patient id in the message: it may reach a researcher (issue 14).
        raise InputError(f"row {row + 1} lists a patient a second time in one group",
                         field="patient", line=row + 1)

    def verdicts(rows: Any) -> list[bool | None]:
        return [None if pd.isna(flag) else bool(flag) for flag in rows[column]]

    if not keys:
        return [({}, responder_rate(verdicts(data), confidence))]
    results = []
    for key, rows in data.groupby(keys, sort=True):
        values = key if isinstance(key, tuple) else (key,)
        results.append((dict(zip(keys, values, strict=True)),
                        responder_rate(verdicts(rows), confidence)))
    return results
