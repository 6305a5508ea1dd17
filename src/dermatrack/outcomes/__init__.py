"""Outcomes: change from baseline, repeatability and cohort statistics (no I/O).

Modules by topic:

* :mod:`~dermatrack.outcomes.change`: one patient's change from baseline and whether it
  is real (beyond MDC95) and an improvement;
* :mod:`~dermatrack.outcomes.repeatability`: ICC(1,1), ICC(2,1), ICC(3,1), SEM, MDC95,
  within-subject CV and Bland-Altman limits from repeated measurements;
* :mod:`~dermatrack.outcomes.cohort`: paired change by modality and Fitzpatrick group,
  effect sizes, Wilcoxon tests and forest-plot rows;
* :mod:`~dermatrack.outcomes.responders`: GAIS/MDC responders and responder rates;
* :mod:`~dermatrack.outcomes.mixed`: slope per month from a random-intercept mixed model;
* :mod:`~dermatrack.outcomes.safety`: adverse-event and PIH rates;
* :mod:`~dermatrack.outcomes.proportions`: Wilson score intervals.

Formulas and sources are collected in ``docs/statistics.md``. Heavy modules (pandas,
statsmodels) are imported only by the functions that need them.
"""

from dermatrack.outcomes.change import Change, change_from_baseline, changes_over_time
from dermatrack.outcomes.cohort import (
    ForestRow,
    GroupChange,
    PairedChange,
    Wilcoxon,
    cohort_changes,
    forest_rows,
    paired_change,
)
from dermatrack.outcomes.groups import fitzpatrick_group, fitzpatrick_type
from dermatrack.outcomes.mixed import Trajectory, trajectories, trajectory
from dermatrack.outcomes.proportions import Proportion, wilson_interval
from dermatrack.outcomes.repeatability import (
    ICC,
    BlandAltman,
    Repeatability,
    bland_altman,
    icc_1_1,
    icc_2_1,
    icc_3_1,
    minimal_detectable_change,
    repeatability,
    replicate_matrix,
    within_subject_cv,
)
from dermatrack.outcomes.responders import (
    gais_improved,
    is_responder,
    responder_rate,
    responder_rates,
)
from dermatrack.outcomes.safety import (
    EventRates,
    SafetySummary,
    adverse_event_rates,
    is_related,
    pih_rate_by_fitzpatrick,
)

__all__ = [
    "ICC",
    "BlandAltman",
    "Change",
    "EventRates",
    "ForestRow",
    "GroupChange",
    "PairedChange",
    "Proportion",
    "Repeatability",
    "SafetySummary",
    "Trajectory",
    "Wilcoxon",
    "adverse_event_rates",
    "bland_altman",
    "change_from_baseline",
    "changes_over_time",
    "cohort_changes",
    "fitzpatrick_group",
    "fitzpatrick_type",
    "forest_rows",
    "gais_improved",
    "icc_1_1",
    "icc_2_1",
    "icc_3_1",
    "is_related",
    "is_responder",
    "minimal_detectable_change",
    "paired_change",
    "pih_rate_by_fitzpatrick",
    "repeatability",
    "replicate_matrix",
    "responder_rate",
    "responder_rates",
    "trajectories",
    "trajectory",
    "wilson_interval",
    "within_subject_cv",
]
