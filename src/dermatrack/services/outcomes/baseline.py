"""The baseline of a patient's course: its day, months since it, age on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

DAYS_PER_MONTH = 365.25 / 12


def _months(day: dt.date, baseline: dt.date | None) -> float:
    return 0.0 if baseline is None else round((day - baseline).days / DAYS_PER_MONTH, 3)


def baseline_dates(visits: Iterable[Any]) -> dict[str, dt.date]:
    """Each patient's baseline day: their earliest ``baseline`` visit, else their first.

    ``visits`` are ``Visit`` rows (``patient_id``, ``timepoint``, ``date``) of any patients.
    """
    baselines: dict[str, dt.date] = {}
    for visit in sorted(visits, key=lambda v: (v.timepoint != "baseline", v.date, v.id)):
        baselines.setdefault(visit.patient_id, visit.date)
    return baselines


def age_on(patient: Any, day: dt.date | None) -> int | None:
    """A ``Patient`` row's age in whole years on ``day``, from the date of birth, else from
    the age recorded at intake; None when unknown."""
    if day is None:
        return None
    if patient.date_of_birth is not None:
        born = patient.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    if patient.age_years is not None and patient.age_recorded_on is not None:
        start = patient.age_recorded_on
        return patient.age_years + day.year - start.year - (
            (day.month, day.day) < (start.month, start.day))
    return None
