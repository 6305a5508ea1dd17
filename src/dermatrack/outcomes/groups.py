"""Fitzpatrick phototypes and the three groups cohort results are reported by.

Phototypes I-VI run from "always burns, never tans" to "deeply pigmented, never burns"
(Fitzpatrick 1988; NCBI Bookshelf NBK481857). Complication risk, post-inflammatory
hyperpigmentation above all, rises with phototype (clinical reference, sec. 1.3-1.4), so
cohort statistics are split into I-II, III-IV and V-VI.
"""

from __future__ import annotations

import math
from typing import Any

from dermatrack.errors import InputError

ROMAN = ("I", "II", "III", "IV", "V", "VI")
GROUPS = ("I-II", "III-IV", "V-VI")
NOT_RECORDED = "not recorded"
"""The group of a patient whose phototype is not on file (registered at the desk, not yet
seen by a clinician): reported apart, never guessed into a group."""


def fitzpatrick_type(value: Any, *, line: int | None = None) -> str:
    """Normalise a phototype given as 1-6, "1"-"6" or "I"-"VI" to its Roman numeral.

    Raises
    ------
    InputError
        Anything else, naming the field ``fitzpatrick`` (and ``line`` when given).
    """
    if isinstance(value, bool):
        raise InputError(f"Fitzpatrick type must be I-VI or 1-6, got {value!r}",
                         field="fitzpatrick", line=line)
    text = str(value).strip().upper()
    if text.removeprefix("TYPE ").strip() in ROMAN:
        return text.removeprefix("TYPE ").strip()
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if number.is_integer() and 1 <= number <= 6:
        return ROMAN[int(number) - 1]
    raise InputError(f"Fitzpatrick type must be I-VI or 1-6, got {value!r}",
                     field="fitzpatrick", line=line)


def recorded_type(value: Any, *, line: int | None = None) -> str | None:
    """:func:`fitzpatrick_type`, or None when no phototype is on file (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return fitzpatrick_type(value, line=line)


def fitzpatrick_group(value: Any, *, line: int | None = None) -> str:
    """The reporting group of a phototype: ``"I-II"``, ``"III-IV"`` or ``"V-VI"``, or
    :data:`NOT_RECORDED` when none is on file (``None``)."""
    if value is None:
        return NOT_RECORDED
    return GROUPS[ROMAN.index(fitzpatrick_type(value, line=line)) // 2]
