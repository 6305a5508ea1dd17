"""Outcomes from the clinical record: one patient's timeline, and cohort datasets.

* :func:`patient_timeline` gathers a treatment course visit by visit (sessions, reactions
  and adverse events, scale scores, photographs) and every measurement series (photo
  metrics and device readings per region), with the change from baseline of each value,
  absolute and percent, judged against the metric's MDC95
  (:func:`dermatrack.outcomes.change.change_from_baseline`).
* :func:`cohort_data` returns long-format pandas DataFrames in the shapes the statistics
  of :mod:`dermatrack.outcomes` take; :func:`cohort_summary` runs them (paired change by
  modality and Fitzpatrick group, responder rates, mixed-model slopes, adverse-event rates,
  PIH by phototype), with patient ids or without (``deidentified``, for researchers).

Where the MDC95 comes from
--------------------------
An MDC95 is only as good as the repeatability data behind it. Two JSON files under the
data directory (``DERMATRACK_DATA_DIR``) are read, in this order of preference:

``repeatability.json``
    The clinic's own repeatability, from repeated captures of the same patients:
    ``dermatrack repeatability CAPTURES.csv --save`` writes it (``--json`` output
    redirected here works too). The demo clinic stores its device metrics' MDC95 here,
    from repeated synthetic captures.
``repeatability-imaging.json``
    The imaging validation's repeatability on phantoms under ordinary capture changes
    (exposure, white balance, blur, noise, JPEG, small rotation and shift), written by
    ``dermatrack demo`` (:func:`save_mdc`).

Both have the shape ``{"source": ..., "metrics": [{"metric", "region", "mdc95", ...}]}``
(the ``repeatability --json`` output); an entry may add ``"kind"`` (``photo``,
``surface``, ...) and a null ``region`` applies to every region. An entry of the clinic's
file replaces the imaging one for the same metric and region. Without either file no
change is called real or not (verdict ``None``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from dermatrack.config import Settings
from dermatrack.errors import InputError
from dermatrack.imaging.definitions import PHOTO_KIND
from dermatrack.metrics import all_metrics
from dermatrack.outcomes.change import Direction
from dermatrack.services.common import Store, get_patient
from dermatrack.services.plans import PlanOut, plans_of

CLINIC_MDC_FILE = "repeatability.json"
IMAGING_MDC_FILE = "repeatability-imaging.json"

DAYS_PER_MONTH = 365.25 / 12

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


# --- MDC95 ---------------------------------------------------------------------------------

@dataclass
class MdcTable:
    """MDC95 per (kind, metric, region), with where each came from."""

    entries: dict[tuple[str | None, str, str | None], tuple[float, str]] = field(
        default_factory=dict)

    def lookup(self, kind: str, metric: str, region: str | None) -> tuple[float, str] | None:
        """(MDC95, source) for a measurement, most specific entry first; None if unknown."""
        for key in ((kind, metric, region), (None, metric, region), (kind, metric, None),
                    (None, metric, None)):
            if key in self.entries:
                return self.entries[key]
        return None

    def update(self, data: Mapping[str, Any], default_source: str) -> None:
        """Add the entries of a repeatability JSON document (replacing equal keys)."""
        source = str(data.get("source") or default_source)
        metrics = data.get("metrics")
        if not isinstance(metrics, list):
            raise InputError("a repeatability file needs a 'metrics' list", field="metrics")
        for i, item in enumerate(metrics):
            if not isinstance(item, Mapping) or not isinstance(item.get("metric"), str):
                raise InputError("each entry needs a metric name", field=f"metrics[{i}].metric")
            value = item.get("mdc95")
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value < 0:
                raise InputError(f"mdc95 must be a number >= 0, got {value!r}",
                                 field=f"metrics[{i}].mdc95")
            key = (item.get("kind"), item["metric"], item.get("region"))
            self.entries[key] = (float(value), source)

    def to_list(self) -> list[dict[str, Any]]:
        return [{"kind": kind, "metric": metric, "region": region, "mdc95": value,
                 "source": source}
                for (kind, metric, region), (value, source) in sorted(
                    self.entries.items(), key=lambda item: tuple(str(p) for p in item[0]))]


def _read_mdc_file(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name}: not a readable JSON file ({exc})",
                         field=path.name) from None
    if not isinstance(data, Mapping):
        raise InputError(f"{path.name}: expected a JSON object", field=path.name)
    return dict(data)


def load_mdc(settings: Settings) -> MdcTable:
    """The MDC95 table of a data directory (module docstring: imaging, then the clinic's)."""
    table = MdcTable()
    for name, label in ((IMAGING_MDC_FILE, "imaging validation (phantoms)"),
                        (CLINIC_MDC_FILE, "clinic repeatability")):
        data = _read_mdc_file(settings.data_dir / name)
        if data is not None:
            table.update(data, label)
    return table


def save_mdc(settings: Settings, metrics: Iterable[Mapping[str, Any]], *, source: str,
             clinic: bool = False) -> Path:
    """Write a repeatability JSON (the imaging one, or the clinic's with ``clinic``)."""
    path = settings.data_dir / (CLINIC_MDC_FILE if clinic else IMAGING_MDC_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"source": source, "created": dt.datetime.now(dt.UTC).isoformat(),
                "metrics": [dict(item) for item in metrics]}
    MdcTable().update(document, source)  # refuse to write what could not be read back
    path.write_text(json.dumps(document, indent=2, allow_nan=False), encoding="utf-8")
    return path


# --- one patient ---------------------------------------------------------------------------

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


def _series(observations: list[Any], visits: Mapping[str, Any], baseline: dt.date | None,
            mdc: MdcTable) -> list[Series]:
    from dermatrack.outcomes.change import change_from_baseline

    grouped: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list))
    units: dict[tuple[str, str, str], str] = {}
    for row in observations:
        if row.visit_id is None or row.visit_id not in visits or row.value is None:
            continue
        key = (row.kind, row.region, row.metric)
        grouped[key][row.visit_id].append(row.value)
        units.setdefault(key, row.unit)
    result = []
    for (kind, region, metric), by_visit in sorted(grouped.items()):
        ordered = sorted(by_visit, key=lambda vid: (visits[vid].date, visits[vid].timepoint))
        direction = METRIC_DIRECTIONS.get(metric)
        found = mdc.lookup(kind, metric, region)
        mdc95, source = found if found is not None else (None, None)
        points: list[Point] = []
        first: float | None = None
        for visit_id in ordered:
            visit = visits[visit_id]
            values = by_visit[visit_id]
            value = float(sum(values) / len(values))
            point = Point(visit_id=visit_id, timepoint=visit.timepoint, date=visit.date,
                          months=_months(visit.date, baseline), value=value, n=len(values))
            if first is None:
                first = value
            else:
                change = change_from_baseline(first, value, mdc95, direction)
                point.change, point.change_percent = change.absolute, change.percent
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
    """
    from dermatrack.services import charting, photos, scores
    from dermatrack.services.observations import list_observations
    from dermatrack.store.models import Patient, Visit

    mdc = mdc if mdc is not None else load_mdc(store.settings)
    with store.reading() as session:
        patient: Patient = get_patient(session, patient_id)
        concerns = [{"code": c.code, "region": c.region, "severity": c.severity}
                    for c in patient.concerns]
        visit_rows = list(session.scalars(select(Visit).where(Visit.patient_id == patient_id)
                                          .order_by(Visit.date, Visit.id)))
        plans = plans_of(session, patient_id)
        visits = {v.id: v for v in visit_rows}
        baseline = baseline_dates(visit_rows).get(patient_id)
        sex, fitzpatrick = patient.sex, patient.fitzpatrick
        age = age_on(patient, baseline)

    session_list = charting.list_sessions(store, patient_id)
    event_list = charting.list_events(store, patient_id)
    score_list = scores.list_scores(store, patient_id)
    photo_list = photos.list_photos(store, patient_id)
    observations = list_observations(store, patient_id=patient_id)

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
        patient_id=patient_id, sex=sex, fitzpatrick=fitzpatrick, age_at_baseline=age,
        baseline_date=baseline,
        modalities=sorted({s.modality for s in session_list}),
        concerns=concerns, plans=plans, visits=entries,
        events=[e.model_dump(mode="json") for e in event_list],
        series=_series(observations, visits, baseline, mdc))


# --- cohort --------------------------------------------------------------------------------

@dataclass
class CohortData:
    """Long-format tables of a cohort (pandas DataFrames; column lists in :func:`cohort_data`)."""

    patients: Any
    measurements: Any
    scores: Any
    sessions: Any
    events: Any
    # Patients left out for want of a current research consent (issue 16).
    excluded_without_consent: int = 0


def _related_category(value: str | None) -> str:
    # An adverse event charted without a causality assessment counts as unassessable.
    return value or "unassessable"


def cohort_data(store: Store, *, modality: str | None = None) -> CohortData:
    """The cohort as DataFrames for :mod:`dermatrack.outcomes` (no identities).

    A patient belongs to the modality of each of their treatment sessions; one treated
    with two modalities appears under both. Only patients with a current research consent
    are included (:mod:`dermatrack.clinic.consent`); the others are counted in
    ``excluded_without_consent``.

    Returns
    -------
    CohortData
        ``patients``: patient, modality, fitzpatrick, sex, age_at_baseline, concern,
        baseline_date. ``measurements``: patient, modality, fitzpatrick, kind, metric,
        region, unit, timepoint (months since baseline), visit (timepoint label), value
        (replicates at one visit averaged). ``scores``: patient, modality, fitzpatrick,
        instrument, visit, timepoint, total, blinded. ``sessions``: session, patient,
        modality, fitzpatrick, date. ``events``: session, patient, modality, term,
        severity, relatedness, serious, onset.
    """
    import pandas as pd

    from dermatrack.store.models import (
        AdverseEvent,
        Concern,
        Observation,
        Patient,
        ScaleScore,
        TreatmentSession,
        Visit,
    )

    with store.reading() as session:
        if modality is not None:
            from dermatrack.knowledge.vocabulary import load_vocabulary

            load_vocabulary().require("modalities", modality, field="modality")
        from dermatrack.services.consent import consenting_patients

        consenting = consenting_patients(session, "cohort")
        everyone = {p.id: p for p in session.scalars(select(Patient))}
        patients = {pid: p for pid, p in everyone.items() if pid in consenting}
        first_concern: dict[str, str] = {}
        for concern in session.scalars(select(Concern).order_by(Concern.id)):
            first_concern.setdefault(concern.patient_id, concern.code)
        visits = {v.id: v for v in session.scalars(select(Visit))}
        baselines = baseline_dates(visits.values())
        treatment_rows = list(session.scalars(select(TreatmentSession)
                                              .order_by(TreatmentSession.date)))
        modalities_of: dict[str, list[str]] = defaultdict(list)
        for row in treatment_rows:
            if row.modality not in modalities_of[row.patient_id]:
                modalities_of[row.patient_id].append(row.modality)

        def wanted(code: str) -> bool:
            return modality is None or code == modality

        patient_rows = [
            {"patient": pid, "modality": code, "fitzpatrick": p.fitzpatrick, "sex": p.sex,
             "age_at_baseline": age_on(p, baselines.get(pid)),
             "concern": first_concern.get(pid), "baseline_date": baselines.get(pid)}
            for pid, p in patients.items() for code in modalities_of.get(pid, [])
            if wanted(code)]
        session_rows = [{"session": r.id, "patient": r.patient_id, "modality": r.modality,
                         "fitzpatrick": patients[r.patient_id].fitzpatrick, "date": r.date}
                        for r in treatment_rows
                        if wanted(r.modality) and r.patient_id in patients]
        session_modality = {r["session"]: r["modality"] for r in session_rows}
        event_rows = [{"session": e.session_id, "patient": e.patient_id,
                       "modality": session_modality[e.session_id], "term": e.term,
                       "severity": e.grade, "relatedness": _related_category(e.relatedness),
                       "serious": e.serious, "onset": e.onset}
                      for e in session.scalars(select(AdverseEvent))
                      if e.session_id in session_modality]

        grouped: dict[tuple[str, str, str, str, str], list[float]] = defaultdict(list)
        units: dict[tuple[str, str, str, str, str], str] = {}
        for obs in session.scalars(select(Observation).where(Observation.visit_id.is_not(None))):
            if obs.value is None or obs.visit_id is None or obs.patient_id not in patients:
                continue
            key = (obs.patient_id, obs.kind, obs.metric, obs.region, obs.visit_id)
            grouped[key].append(obs.value)
            units[key] = obs.unit
        measurement_rows = []
        for key, values in grouped.items():
            pid, kind, metric, region, visit_id = key
            visit = visits[visit_id]
            for code in modalities_of.get(pid, []):
                if wanted(code):
                    measurement_rows.append({
                        "patient": pid, "modality": code,
                        "fitzpatrick": patients[pid].fitzpatrick, "kind": kind,
                        "metric": metric, "region": region, "unit": units[key],
                        "timepoint": _months(visit.date, baselines.get(pid)),
                        "visit": visit.timepoint, "value": sum(values) / len(values)})
        score_rows = []
        for score in session.scalars(select(ScaleScore)):
            rated_at = visits.get(score.visit_id)
            if rated_at is None or score.patient_id not in patients:
                continue
            for code in modalities_of.get(score.patient_id, []):
                if wanted(code):
                    score_rows.append({
                        "patient": score.patient_id, "modality": code,
                        "fitzpatrick": patients[score.patient_id].fitzpatrick,
                        "instrument": score.instrument, "visit": rated_at.timepoint,
                        "timepoint": _months(rated_at.date, baselines.get(score.patient_id)),
                        "total": score.total, "blinded": score.blinded})

    def frame(rows: list[dict], columns: list[str]) -> Any:
        return pd.DataFrame(rows, columns=columns)

    return CohortData(
        patients=frame(patient_rows, ["patient", "modality", "fitzpatrick", "sex",
                                      "age_at_baseline", "concern", "baseline_date"]),
        measurements=frame(measurement_rows, ["patient", "modality", "fitzpatrick", "kind",
                                              "metric", "region", "unit", "timepoint",
                                              "visit", "value"]),
        scores=frame(score_rows, ["patient", "modality", "fitzpatrick", "instrument", "visit",
                                  "timepoint", "total", "blinded"]),
        sessions=frame(session_rows, ["session", "patient", "modality", "fitzpatrick",
                                      "date"]),
        events=frame(event_rows, ["session", "patient", "modality", "term", "severity",
                                  "relatedness", "serious", "onset"]),
        excluded_without_consent=len(everyone) - len(patients),
    )


def _headline(measurements: Any) -> Any:
    """Rows of the headline metrics (photo metrics of region ``whole`` only)."""
    if measurements.empty:
        return measurements
    keep = [((kind == "photo" and region == "whole") or kind != "photo")
            and (kind, metric) in HEADLINE_METRICS
            for kind, metric, region in zip(measurements["kind"], measurements["metric"],
                                            measurements["region"], strict=True)]
    return measurements[keep]


def _responders(data: CohortData, mdc: MdcTable) -> Any:
    """One row per patient and modality: GAIS at the last rating, or the concern's metric."""
    import pandas as pd

    from dermatrack.outcomes.responders import is_responder

    rows = []
    gais = data.scores[data.scores["instrument"] == "gais_clinician"] \
        if not data.scores.empty else data.scores
    for item in data.patients.itertuples(index=False):
        rated = gais[(gais["patient"] == item.patient) & (gais["modality"] == item.modality)] \
            if not gais.empty else gais
        grade = None
        if not rated.empty:
            last = rated.sort_values("timepoint").iloc[-1]["total"]
            grade = None if pd.isna(last) else int(last)
        metric = CONCERN_METRICS.get(item.concern or "", "wrinkles.length_mm")
        series = data.measurements[
            (data.measurements["patient"] == item.patient)
            & (data.measurements["modality"] == item.modality)
            & (data.measurements["kind"] == "photo")
            & (data.measurements["metric"] == metric)
            & (data.measurements["region"] == "whole")].sort_values("timepoint")
        baseline = follow_up = None
        if len(series) >= 2:
            baseline, follow_up = float(series["value"].iloc[0]), float(series["value"].iloc[-1])
        found = mdc.lookup("photo", metric, "whole")
        rows.append({"patient": item.patient, "modality": item.modality,
                     "fitzpatrick": item.fitzpatrick, "metric": metric, "gais": grade,
                     "responder": is_responder(gais=grade, baseline=baseline,
                                               follow_up=follow_up,
                                               mdc95=found[0] if found else None,
                                               direction=METRIC_DIRECTIONS.get(metric))})
    return pd.DataFrame(rows, columns=["patient", "modality", "fitzpatrick", "metric", "gais",
                                       "responder"])


def cohort_summary(store: Store, *, modality: str | None = None,
                   mdc: MdcTable | None = None, deidentified: bool = False) -> dict[str, Any]:
    """Cohort statistics of the record, JSON-ready (see the module docstring).

    With ``deidentified`` the per-patient responder rows carry no patient id (the
    pseudonymous id links back to the clinic record); every other entry is aggregate
    already. This is the view for researchers (issue 7).

    Returns
    -------
    dict
        ``n_patients``, ``n_sessions``; ``changes`` (paired change per headline metric by
        modality) and ``changes_by_fitzpatrick`` (by Fitzpatrick group), each a list of
        :class:`dermatrack.outcomes.cohort.GroupChange` dicts; ``forest`` (forest-plot
        rows of ``changes``); ``responders`` (rate with Wilson CI by modality and by
        Fitzpatrick group); ``trajectories`` (mixed-model slope per month by modality and
        metric); ``safety`` (overall and by modality: adverse events per session and per
        patient by grade and relatedness); ``pih`` (share of patients with PIH by
        Fitzpatrick type); ``mdc`` (the MDC95 entries used).
    """
    import pandas as pd

    from dermatrack.outcomes.cohort import cohort_changes, forest_rows
    from dermatrack.outcomes.mixed import trajectories
    from dermatrack.outcomes.responders import responder_rates
    from dermatrack.outcomes.safety import adverse_event_rates, pih_rate_by_fitzpatrick

    mdc = mdc if mdc is not None else load_mdc(store.settings)
    data = cohort_data(store, modality=modality)
    headline = _headline(data.measurements)
    summary: dict[str, Any] = {
        "modality": modality,
        "n_patients": int(data.patients["patient"].nunique()),
        "n_sessions": int(len(data.sessions)),
        "excluded_without_research_consent": data.excluded_without_consent,
        "changes": [], "changes_by_fitzpatrick": [], "forest": [], "responders": {},
        "trajectories": [], "safety": {}, "pih": {}, "mdc": mdc.to_list(),
        "units": {},
    }
    if not headline.empty:
        summary["units"] = {f"{k}:{m}": u for k, m, u in
                            zip(headline["kind"], headline["metric"], headline["unit"],
                                strict=True)}
        frame = headline.assign(metric=[f"{k}:{m}" for k, m in
                                        zip(headline["kind"], headline["metric"],
                                            strict=True)])
        by_modality = cohort_changes(frame, ("modality",))
        summary["changes"] = [c.to_dict() for c in by_modality]
        summary["forest"] = [r.to_dict() for r in forest_rows(by_modality)]
        summary["changes_by_fitzpatrick"] = [
            c.to_dict() for c in cohort_changes(frame, ("fitzpatrick_group",))]
        slopes = trajectories(frame.rename(columns={"timepoint": "months"}),
                              ("modality", "metric"))
        summary["trajectories"] = [{**group, **result.to_dict()} for group, result in slopes]
    responders = _responders(data, mdc)
    if not responders.empty:
        summary["responders"] = {
            name: [{**group, **rate.to_dict()} for group, rate in
                   responder_rates(responders, (name,))]
            for name in ("modality", "fitzpatrick_group")}
        if deidentified:
            responders = responders.drop(columns=["patient"])
        summary["responder_rows"] = responders.astype(object).where(
            pd.notna(responders), None).to_dict("records")
    if not data.sessions.empty:
        events = data.events
        summary["safety"] = {"all": adverse_event_rates(data.sessions, events).to_dict()}
        for code, rows in data.sessions.groupby("modality", sort=True):
            summary["safety"][str(code)] = adverse_event_rates(
                rows, events[events["session"].isin(rows["session"])]).to_dict()
        summary["pih"] = {kind: rate.to_dict() for kind, rate in pih_rate_by_fitzpatrick(
            data.sessions, events).items()}
    return summary
