"""Which metrics the outcome views show, and which way each improves (from the metric
definitions of the cores, :mod:`dermatrack.metrics`)."""

from __future__ import annotations

from dermatrack.imaging.definitions import PHOTO_KIND
from dermatrack.metrics import all_metrics
from dermatrack.outcomes.change import Direction

#: Which way each metric improves after rejuvenation treatment ("lower" or "higher"), from
#: the metric definitions of the cores. Metrics with no better direction (ITA°, L*, b*,
#: melanin index, R0, ...) are absent: their changes are reported as real or not, never as
#: improved or worsened.
METRIC_DIRECTIONS: dict[str, Direction] = {
    d.code: d.direction for d in all_metrics() if d.direction is not None}

#: Scale instruments where a lower total is better after treatment (Glogau, VSS, ...);
#: GAIS is a rating *of* change, so it is reported as given, not differenced.
SCORED_CHANGE_INSTRUMENTS = ("glogau", "goodman_baron_qualitative", "vancouver_scar_scale")

#: Photo metric that shows each concern best (region ``whole``): the metric a responder
#: is judged on when no GAIS rating exists (declared by the metric definitions).
CONCERN_METRICS: dict[str, str] = {
    concern: d.code for d in all_metrics(PHOTO_KIND) for concern in d.concerns}

#: Metrics shown in the cohort tables and the forest plot (region ``whole`` for photos).
HEADLINE_METRICS: tuple[tuple[str, str], ...] = (
    ("photo", "wrinkles.length_mm"), ("photo", "wrinkles.severity_index"),
    ("photo", "pigment.spot_area_fraction"), ("photo", "redness.red_area_fraction"),
    ("photo", "texture.roughness"), ("photo", "pores.count"),
    ("surface", "Sa"), ("elasticity", "R2"), ("colour", "a_star"),
)
