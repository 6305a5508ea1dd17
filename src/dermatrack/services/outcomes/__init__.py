"""Outcomes from the clinical record: one patient's timeline, and cohort datasets.

The package holds one topic per module; everything is importable from here as before.

``mdc``
    The MDC95 table (:class:`MdcTable`): the repeatability files of the data directory
    (:func:`load_mdc`, :func:`save_mdc`) and where each MDC95 came from.
``definitions``
    Which way each metric improves (:data:`METRIC_DIRECTIONS`), the photo metric of each
    concern (:data:`CONCERN_METRICS`), the headline metrics of the cohort tables.
``baseline``
    A patient's baseline day (:func:`baseline_dates`), months since it, age on it
    (:func:`age_on`).
``timeline``
    :func:`patient_timeline`: one patient's course visit by visit and every measurement
    series with its change from baseline.
``cohort``
    :func:`cohort_data` (long-format DataFrames) and :func:`cohort_summary` (paired change,
    responders, mixed-model slopes, safety, PIH), cached until the record changes.
"""

from dermatrack.services.outcomes.baseline import DAYS_PER_MONTH, _months, age_on, baseline_dates
from dermatrack.services.outcomes.cohort import (
    ARM_JOINER,
    CohortData,
    arm_modalities,
    cohort_data,
    cohort_summary,
    summary_metrics,
)
from dermatrack.services.outcomes.definitions import (
    CONCERN_METRICS,
    HEADLINE_METRICS,
    METRIC_DIRECTIONS,
    SCORED_CHANGE_INSTRUMENTS,
)
from dermatrack.services.outcomes.mdc import (
    CLINIC_MDC_FILE,
    IMAGING_MDC_FILE,
    NO_MDC_ADVICE,
    MdcTable,
    judge_change,
    judge_photo_changes,
    load_mdc,
    mdc_files_of_other_versions,
    save_mdc,
)
from dermatrack.services.outcomes.timeline import (
    Point,
    Series,
    Timeline,
    VisitEntry,
    patient_timeline,
)

__all__ = [
    "ARM_JOINER", "CLINIC_MDC_FILE", "CONCERN_METRICS", "DAYS_PER_MONTH", "HEADLINE_METRICS",
    "IMAGING_MDC_FILE", "METRIC_DIRECTIONS", "NO_MDC_ADVICE", "SCORED_CHANGE_INSTRUMENTS",
    "CohortData",
    "MdcTable", "Point", "Series", "Timeline", "VisitEntry", "_months", "age_on",
    "arm_modalities", "baseline_dates", "cohort_data", "cohort_summary",
    "judge_change", "judge_photo_changes", "load_mdc", "mdc_files_of_other_versions",
    "patient_timeline", "save_mdc", "summary_metrics",
]
