"""One patient's timeline: the course visit by visit and each measurement series.

:func:`patient_timeline` gathers a treatment course visit by visit (sessions, reactions
and adverse events, scale scores, photographs) and every measurement series (photo
metrics and device readings per region), with the change from baseline of each value,
absolute and percent, judged against the metric's MDC95
(:func:`dermatrack.outcomes.change.change_from_baseline`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dermatrack.services.common import Store
from dermatrack.services.outcomes.baseline import _months, age_on, baseline_dates
from dermatrack.services.outcomes.definitions import METRIC_DIRECTIONS
from dermatrack.services.outcomes.mdc import MdcTable, load_mdc
from dermatrack.services.plans import PlanOut

if TYPE_CHECKING:
    from dermatrack.services.chart import PatientChart


class Point(BaseModel):
    """One value of a series at a visit, and its change from the baseline value."""

    visit_id: str
    timepoint: str
    date: dt.date
    months: float
    value: float | None
    n: int
    change: float | None = None
    change_percent: float | None = None
    real: bool | None = None
    verdict: str | None = None
    #: A photo figure measured by another version of the photo method than the
    #: series' baseline (:func:`~dermatrack.imaging.definitions.method_versions_differ`):
    #: its change is not judged.
    method_differs: bool = False


class Series(BaseModel):
    """A metric measured in one region over a course (mean of replicates per visit)."""

    kind: str
    region: str
    metric: str
    unit: str
    direction: str | None
    mdc95: float | None
    mdc_source: str | None
    points: list[Point]


class VisitEntry(BaseModel):
    """What happened at one visit."""

    id: str
    timepoint: str
    date: dt.date
    months: float
    sessions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    photos: list[dict[str, Any]]


class Timeline(BaseModel):
    """A patient's treatment course and measurements, with changes from baseline."""

    patient_id: str
    sex: str | None
    fitzpatrick: str | None
    age_at_baseline: int | None
    baseline_date: dt.date | None
    modalities: list[str]
    concerns: list[dict[str, Any]]
    plans: list[PlanOut]
    visits: list[VisitEntry]
    events: list[dict[str, Any]]
    series: list[Series]

    def get_series(self, kind: str, metric: str, region: str = "whole") -> Series | None:
        for item in self.series:
            if (item.kind, item.metric, item.region) == (kind, metric, region):
                return item
        return None


def _series(observations: list[Any], visits: Mapping[str, Any], baseline: dt.date | None,
            mdc: MdcTable) -> list[Series]:
    from dermatrack.outcomes.change import change_from_baseline

    grouped: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list))
    # The photo method versions that measured each value (None: unrecorded; device
    # readings carry none).
    versions: dict[tuple[str, str, str], dict[str, set[str | None]]] = defaultdict(
        lambda: defaultdict(set))
    units: dict[tuple[str, str, str], str] = {}
    for row in observations:
        if row.visit_id is None or row.visit_id not in visits or row.value is None:
            continue
        key = (row.kind, row.region, row.metric)
        grouped[key][row.visit_id].append(row.value)
        versions[key][row.visit_id].add((row.settings or {}).get("method_version"))
        units.setdefault(key, row.unit)
    result = []
    for (kind, region, metric), by_visit in sorted(grouped.items()):
        ordered = sorted(by_visit, key=lambda vid: (visits[vid].date, visits[vid].timepoint))
        direction = METRIC_DIRECTIONS.get(metric)
        found = mdc.lookup(kind, metric, region)
        mdc95, source = found if found is not None else (None, None)
        points: list[Point] = []
        first: float | None = None
        first_versions: set[str | None] = set()
        for visit_id in ordered:
            visit = visits[visit_id]
            values = by_visit[visit_id]
            value = float(sum(values) / len(values))
            point = Point(visit_id=visit_id, timepoint=visit.timepoint, date=visit.date,
                          months=_months(visit.date, baseline), value=value, n=len(values))
            measured_by = versions[(kind, region, metric)][visit_id]
            if first is None:
                first, first_versions = value, measured_by
            else:
                change = change_from_baseline(first, value, mdc95, direction)
                point.change, point.change_percent = change.absolute, change.percent
                # As :func:`~dermatrack.imaging.definitions.method_versions_differ`, for
                # the versions of a visit's replicates: a mix compares only with the
                # same mix.
                point.method_differs = measured_by != first_versions
                if not point.method_differs:
                    point.real, point.verdict = change.real, change.verdict
            points.append(point)
        result.append(Series(kind=kind, region=region, metric=metric, unit=units[(kind, region,
                                                                                  metric)],
                             direction=direction, mdc95=mdc95, mdc_source=source,
                             points=points))
    return result


def patient_timeline(store: Store, patient_id: str, *, mdc: MdcTable | None = None
                     ) -> Timeline:
    """A patient's course visit by visit and each measurement series with its changes.

    Parameters
    ----------
    store:
        The open store.
    patient_id:
        The patient (``P-XXXXXX``).
    mdc:
        MDC95 table; default :func:`load_mdc` of the store's data directory.

    Returns
    -------
    Timeline
        Visits in date order; ``months`` counts from the baseline visit (timepoint
        ``baseline``, else the first visit). Each series' first visit is its baseline.

    Notes
    -----
    The chart is read without an audit row (:func:`dermatrack.services.chart.read_chart`
    with no actor): callers that show it to someone read it through the chart service
    with their actor and call :func:`timeline_of`.
    """
    from dermatrack.services.chart import TIMELINE_PARTS, read_chart

    mdc = mdc if mdc is not None else load_mdc(store.settings)
    return timeline_of(read_chart(store, patient_id, actor=None, parts=TIMELINE_PARTS), mdc)


def timeline_of(chart: PatientChart, mdc: MdcTable) -> Timeline:
    """The :class:`Timeline` of a chart read by :func:`dermatrack.services.chart.read_chart`
    (with at least its :data:`~dermatrack.services.chart.TIMELINE_PARTS`)."""
    patient = chart.patient
    patient_id = patient.id
    concerns = [{"code": c.code, "region": c.region, "severity": c.severity}
                for c in patient.concerns]
    visit_rows = chart.visits
    visits = {v.id: v for v in visit_rows}
    baseline = baseline_dates(visit_rows).get(patient_id)
    age = age_on(patient, baseline)
    session_list = chart.sessions
    event_list = chart.events
    score_list = chart.scores
    photo_list = [p.photo for p in chart.photos]
    observations = [o.observation for o in chart.observations]

    session_visit = {s.id: s.visit_id for s in session_list}
    entries = []
    for visit in visit_rows:
        entries.append(VisitEntry(
            id=visit.id, timepoint=visit.timepoint, date=visit.date,
            months=_months(visit.date, baseline),
            sessions=[s.model_dump(mode="json") for s in session_list
                      if s.visit_id == visit.id],
            events=[e.model_dump(mode="json") for e in event_list
                    if e.session_id is not None and session_visit.get(e.session_id) == visit.id],
            scores=[s.model_dump(mode="json") for s in score_list if s.visit_id == visit.id],
            photos=[p.model_dump(mode="json") for p in photo_list if p.visit_id == visit.id]))
    return Timeline(
        patient_id=patient_id, sex=patient.sex, fitzpatrick=patient.fitzpatrick,
        age_at_baseline=age, baseline_date=baseline,
        modalities=sorted({s.modality for s in session_list}),
        concerns=concerns, plans=chart.plans, visits=entries,
        events=[e.model_dump(mode="json") for e in event_list],
        series=_series(observations, visits, baseline, mdc))
