"""Cohort datasets and their statistics.

:func:`cohort_data` returns long-format pandas DataFrames in the shapes the statistics
of :mod:`dermatrack.outcomes` take; :func:`cohort_summary` runs them (paired change by
arm and Fitzpatrick group, responder rates, mixed-model slopes, adverse-event rates,
PIH by phototype), with patient ids or without (``deidentified``, for researchers).
The analysis unit is the patient in a treatment arm: a modality, or a combination of
modalities a plan combines (docs/statistics.md, "Analysis unit"). The summary is
computed in columns (the database averages replicates, Polars pairs visits, one REML
fit per arm and metric) and cached until the record changes.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from dermatrack.services.common import Store
from dermatrack.services.outcomes.baseline import _months, age_on, baseline_dates
from dermatrack.services.outcomes.definitions import (
    CONCERN_METRICS,
    HEADLINE_METRICS,
    METRIC_DIRECTIONS,
)
from dermatrack.services.outcomes.mdc import MdcTable, load_mdc


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


#: How the modalities of a combination arm are joined into its name.
ARM_JOINER = " + "


def arm_modalities(arm: str) -> list[str]:
    """The modality codes of an arm name (``"a + b"`` -> ``["a", "b"]``)."""
    return arm.split(ARM_JOINER)


def _session_arms(session: Any, sessions: list[tuple[str, str, str]]) -> dict[str, str]:
    """The arm of each treatment session (docs/statistics.md, "Analysis unit").

    A session belongs to a combination arm, ``"a + b"`` (codes sorted), when it carries out
    a plan that combines several modalities: through the plan's scheduled session it is
    linked to, or, when it is linked to none, through a plan of the same patient that
    combines its modality with another one the patient was also treated with. Any other
    session's arm is its own modality.

    ``sessions`` holds (session id, patient id, modality) of the sessions to place.
    """
    from dermatrack.store.models import PlannedModality, ScheduledSession, TreatmentPlan

    plan_rows = session.execute(
        select(TreatmentPlan.id, TreatmentPlan.patient_id, PlannedModality.id,
               PlannedModality.modality)
        .join(PlannedModality, PlannedModality.plan_id == TreatmentPlan.id)
        .where(TreatmentPlan.deleted_at.is_(None), PlannedModality.deleted_at.is_(None))).all()
    plan_codes: dict[str, set[str]] = defaultdict(set)
    plan_of_item: dict[str, str] = {}
    plans_of_patient: dict[str, set[str]] = defaultdict(set)
    for plan_id, patient_id, item_id, code in plan_rows:
        plan_codes[plan_id].add(code)
        plan_of_item[item_id] = plan_id
        plans_of_patient[patient_id].add(plan_id)
    combined = {plan_id: ARM_JOINER.join(sorted(codes)) for plan_id, codes in plan_codes.items()
                if len(codes) > 1}
    if not combined:
        return {sid: code for sid, _, code in sessions}
    linked = dict(session.execute(
        select(ScheduledSession.session_id, ScheduledSession.planned_modality_id)
        .where(ScheduledSession.session_id.is_not(None),
               ScheduledSession.deleted_at.is_(None))).all())
    treated: dict[str, set[str]] = defaultdict(set)
    for _, patient_id, code in sessions:
        treated[patient_id].add(code)
    arms = {}
    for sid, patient_id, code in sessions:
        plan_id = plan_of_item.get(linked.get(sid, ""))
        if plan_id is not None:
            arms[sid] = combined.get(plan_id, code)
            continue
        arm = code
        for candidate in sorted(plans_of_patient.get(patient_id, ())):
            codes = plan_codes[candidate]
            if candidate in combined and code in codes and len(codes & treated[patient_id]) > 1:
                arm = combined[candidate]
                break
        arms[sid] = arm
    return arms


def _in_arm(arm: str, modality: str | None) -> bool:
    return modality is None or modality in arm_modalities(arm)


def cohort_data(store: Store, *, modality: str | None = None,
                metrics: Iterable[tuple[str, str]] | None = None) -> CohortData:
    """The cohort as DataFrames for :mod:`dermatrack.outcomes` (no identities).

    The analysis unit is the patient in an arm (docs/statistics.md): an arm is one
    modality, or a combination of modalities that a plan combines
    (:func:`_session_arms`). A patient treated in two arms appears under both, their
    measurements and scores repeated for each; the ``modality`` column holds the arm.
    Only patients with a current research consent are included
    (:mod:`dermatrack.clinic.consent`); the others are counted in
    ``excluded_without_consent``.

    The replicates of a measurement at one visit are averaged by the database; the rows
    are read as columns, not as ORM objects.

    Parameters
    ----------
    modality:
        Only the arms that include this modality code.
    metrics:
        Only these (kind, metric) measurements; all by default.

    Returns
    -------
    CohortData
        ``patients``: patient, modality (arm), fitzpatrick, sex, age_at_baseline,
        concern, baseline_date. ``measurements``: patient, modality, fitzpatrick, kind,
        metric, region, unit, timepoint (months since baseline), visit (timepoint label),
        value (replicates at one visit averaged). ``scores``: patient, modality,
        fitzpatrick, instrument, visit, timepoint, total, blinded. ``sessions``: session,
        patient, modality, fitzpatrick, date. ``events``: session, patient, modality,
        term, severity, relatedness, serious, onset.
    """
    import pandas as pd
    from sqlalchemy import and_, func, or_

    from dermatrack.store.models import (
        AdverseEvent,
        Concern,
        Observation,
        Patient,
        ScaleScore,
        TreatmentSession,
        Visit,
    )

    if modality is not None:
        from dermatrack.knowledge.vocabulary import load_vocabulary

        load_vocabulary().require("modalities", modality, field="modality")
    with store.reading() as session:
        from dermatrack.services.consent import consenting_patients

        consenting = consenting_patients(session, "cohort")
        everyone = {row.id: row for row in session.execute(
            select(Patient.id, Patient.fitzpatrick, Patient.sex, Patient.date_of_birth,
                   Patient.age_years, Patient.age_recorded_on)
            .where(Patient.deleted_at.is_(None)))}
        patients = {pid: row for pid, row in everyone.items() if pid in consenting}
        first_concern: dict[str, str] = {}
        for patient_id, code in session.execute(
                select(Concern.patient_id, Concern.code).where(Concern.deleted_at.is_(None))
                .order_by(Concern.id)):
            first_concern.setdefault(patient_id, code)
        visits = {row.id: row for row in session.execute(
            select(Visit.id, Visit.patient_id, Visit.timepoint, Visit.date)
            .where(Visit.deleted_at.is_(None)))}
        baselines = baseline_dates(visits.values())
        treatment_rows = [row for row in session.execute(
            select(TreatmentSession.id, TreatmentSession.patient_id, TreatmentSession.modality,
                   TreatmentSession.date)
            .where(TreatmentSession.deleted_at.is_(None))
            .order_by(TreatmentSession.date, TreatmentSession.id)) if row.patient_id in patients]
        arm_of = _session_arms(session, [(r.id, r.patient_id, r.modality)
                                         for r in treatment_rows])
        arms_of: dict[str, list[str]] = defaultdict(list)
        for row in treatment_rows:
            arm = arm_of[row.id]
            if _in_arm(arm, modality) and arm not in arms_of[row.patient_id]:
                arms_of[row.patient_id].append(arm)
        session_rows = [{"session": r.id, "patient": r.patient_id, "modality": arm_of[r.id],
                         "fitzpatrick": patients[r.patient_id].fitzpatrick, "date": r.date}
                        for r in treatment_rows if _in_arm(arm_of[r.id], modality)]
        session_arm = {r["session"]: r["modality"] for r in session_rows}
        event_rows = [{"session": e.session_id, "patient": e.patient_id,
                       "modality": session_arm[e.session_id], "term": e.term,
                       "severity": e.grade, "relatedness": _related_category(e.relatedness),
                       "serious": e.serious, "onset": e.onset}
                      for e in session.execute(
                          select(AdverseEvent.session_id, AdverseEvent.patient_id,
                                 AdverseEvent.term, AdverseEvent.grade,
                                 AdverseEvent.relatedness, AdverseEvent.serious,
                                 AdverseEvent.onset)
                          .where(AdverseEvent.deleted_at.is_(None)))
                      if e.session_id in session_arm]
        query = (select(Observation.patient_id, Observation.kind, Observation.metric,
                        Observation.region, Observation.visit_id,
                        func.avg(Observation.value), func.max(Observation.unit))
                 .where(Observation.deleted_at.is_(None), Observation.visit_id.is_not(None),
                        Observation.value.is_not(None))
                 .group_by(Observation.patient_id, Observation.kind, Observation.metric,
                           Observation.region, Observation.visit_id))
        if metrics is not None:
            wanted = sorted(set(metrics))
            query = query.where(or_(*(and_(Observation.kind == kind, Observation.metric == name)
                                      for kind, name in wanted))) if wanted else query.where(
                Observation.id.is_(None))
        observed = session.execute(query).all()
        score_rows_raw = session.execute(
            select(ScaleScore.patient_id, ScaleScore.visit_id, ScaleScore.instrument,
                   ScaleScore.total, ScaleScore.blinded)
            .where(ScaleScore.deleted_at.is_(None))).all()

    def months_of(patient_id: str, visit: Any) -> float:
        return _months(visit.date, baselines.get(patient_id))

    def fitz(pid: str) -> Any:
        return patients[pid].fitzpatrick

    patient_rows = [
        {"patient": pid, "modality": arm, "fitzpatrick": p.fitzpatrick, "sex": p.sex,
         "age_at_baseline": age_on(p, baselines.get(pid)),
         "concern": first_concern.get(pid), "baseline_date": baselines.get(pid)}
        for pid, p in patients.items() for arm in arms_of.get(pid, [])]
    # One row per measurement (patient, kind, metric, region, visit), then repeated per arm.
    base = []
    for pid, kind, metric, region, visit_id, value, unit in observed:
        visit = visits.get(visit_id)
        if visit is None or pid not in patients or not arms_of.get(pid):
            continue
        base.append((pid, kind, metric, region, unit, months_of(pid, visit), visit.timepoint,
                     float(value)))
    measurement_rows = [
        {"patient": pid, "modality": arm, "fitzpatrick": fitz(pid), "kind": kind,
         "metric": metric, "region": region, "unit": unit, "timepoint": months,
         "visit": label, "value": value}
        for pid, kind, metric, region, unit, months, label, value in base
        for arm in arms_of[pid]]
    score_rows = []
    for pid, visit_id, instrument, total, blinded in score_rows_raw:
        rated_at = visits.get(visit_id)
        if rated_at is None or pid not in patients:
            continue
        for arm in arms_of.get(pid, []):
            score_rows.append({"patient": pid, "modality": arm, "fitzpatrick": fitz(pid),
                               "instrument": instrument, "visit": rated_at.timepoint,
                               "timepoint": months_of(pid, rated_at), "total": total,
                               "blinded": blinded})

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


def summary_metrics() -> list[tuple[str, str]]:
    """The (kind, metric) pairs the cohort summary reads: the headline metrics and the
    photo metric of each concern (for responders)."""
    return sorted(set(HEADLINE_METRICS) | {("photo", m) for m in CONCERN_METRICS.values()}
                  | {("photo", "wrinkles.length_mm")})


def _headline(measurements: Any) -> Any:
    """Rows of the headline metrics (photo metrics of region ``whole`` only)."""
    if measurements.empty:
        return measurements
    pairs = measurements["kind"] + ":" + measurements["metric"]
    wanted = {f"{kind}:{metric}" for kind, metric in HEADLINE_METRICS}
    keep = pairs.isin(wanted) & ((measurements["kind"] != "photo")
                                 | (measurements["region"] == "whole"))
    return measurements[keep.to_numpy()]


def _fitzpatrick_groups(values: Iterable[Any]) -> dict[Any, str]:
    from dermatrack.outcomes.groups import fitzpatrick_group

    return {value: fitzpatrick_group(value) for value in set(values)}


def _changes(frame: Any, group: str) -> list[Any]:
    """Paired change of each headline metric per group (``modality`` or
    ``fitzpatrick_group``), as :func:`dermatrack.outcomes.cohort.cohort_changes` gives it,
    computed in columns: one (first, last) pair per analysis unit.

    By arm the unit is the patient in that arm; by Fitzpatrick group, pooled over arms,
    it is the patient (their rows repeated for each arm count once).
    """
    import polars as pl

    from dermatrack.outcomes.cohort import GroupChange, paired_change

    if group == "modality":
        data = frame
    else:
        data = frame.unique(subset=["patient", "metric", "region", "timepoint"],
                            keep="first", maintain_order=True)
    keys = [group, "metric", "region"]
    per_visit = (data.group_by([*keys, "patient", "timepoint"])
                 .agg(pl.col("value").mean()))
    per_unit = (per_visit.sort([*keys, "patient", "timepoint"])
                .group_by([*keys, "patient"], maintain_order=True)
                .agg(pl.col("value").first().alias("before"),
                     pl.col("value").last().alias("after"), pl.len().alias("visits")))
    paired = (per_unit.filter(pl.col("visits") >= 2).group_by(keys)
              .agg(pl.col("before"), pl.col("after")))
    lookup = {tuple(row[:3]): (row[3], row[4]) for row in paired.iter_rows()}
    results = []
    for key in data.select(keys).unique().sort(keys).iter_rows():
        before, after = lookup.get(tuple(key), ([], []))
        results.append(GroupChange(group={group: key[0]}, metric=str(key[1]),
                                   region=None if key[2] is None else str(key[2]),
                                   change=paired_change(before, after)))
    return results


def _trajectories(frame: Any) -> list[tuple[dict[str, Any], Any]]:
    """Mixed-model slope per arm and metric: one REML fit of the cohort's rows of each
    (:func:`dermatrack.outcomes.mixed.trajectory_arrays`)."""
    import polars as pl

    from dermatrack.outcomes.mixed import trajectory_arrays

    results = []
    parts = frame.select("modality", "metric", "patient", "timepoint", "value").partition_by(
        ["modality", "metric"], as_dict=True)
    for (arm, metric), rows in sorted(parts.items()):
        codes = rows.get_column("patient").cast(pl.Categorical).to_physical().to_numpy()
        _, codes = np.unique(codes, return_inverse=True)
        results.append(({"modality": arm, "metric": metric}, trajectory_arrays(
            codes.astype(np.int64), rows.get_column("timepoint").to_numpy().astype(float),
            rows.get_column("value").to_numpy().astype(float))))
    return results


def _responders(data: CohortData, mdc: MdcTable) -> Any:
    """One row per patient and arm: GAIS at the last rating, or the concern's metric."""
    import pandas as pd
    import polars as pl

    from dermatrack.outcomes.responders import is_responder

    columns = ["patient", "modality", "fitzpatrick", "metric", "gais", "responder"]
    if data.patients.empty:
        return pd.DataFrame([], columns=columns)
    units = pl.from_pandas(data.patients[["patient", "modality", "fitzpatrick", "concern"]]
                           .astype({"concern": object}))
    units = units.with_columns(pl.col("concern").fill_null("").replace_strict(
        CONCERN_METRICS, default="wrinkles.length_mm", return_dtype=pl.Utf8).alias("metric"))
    scores = data.scores
    gais = pl.DataFrame(schema={"patient": pl.Utf8, "modality": pl.Utf8, "gais": pl.Float64})
    if not scores.empty:
        rated = pl.from_pandas(scores.loc[scores["instrument"] == "gais_clinician",
                                          ["patient", "modality", "timepoint", "total"]]
                               .astype({"total": float}))
        if rated.height:
            gais = (rated.sort(["patient", "modality", "timepoint"], maintain_order=True)
                    .group_by(["patient", "modality"], maintain_order=True)
                    .agg(pl.col("total").last().alias("gais")))
    measured = data.measurements
    series = pl.DataFrame(schema={"patient": pl.Utf8, "modality": pl.Utf8, "metric": pl.Utf8,
                                  "baseline": pl.Float64, "follow_up": pl.Float64})
    if not measured.empty:
        photo = measured.loc[(measured["kind"] == "photo") & (measured["region"] == "whole"),
                             ["patient", "modality", "metric", "timepoint", "value"]]
        if not photo.empty:
            series = (pl.from_pandas(photo).sort(["patient", "modality", "metric", "timepoint"])
                      .group_by(["patient", "modality", "metric"], maintain_order=True)
                      .agg(pl.col("value").first().alias("baseline"),
                           pl.col("value").last().alias("follow_up"), pl.len().alias("k"))
                      .filter(pl.col("k") >= 2).drop("k"))
    joined = (units.join(gais, on=["patient", "modality"], how="left")
              .join(series, on=["patient", "modality", "metric"], how="left"))
    rows = []
    for item in joined.iter_rows(named=True):
        metric = item["metric"]
        grade = None if item["gais"] is None or math.isnan(item["gais"]) else int(item["gais"])
        found = mdc.lookup("photo", metric, "whole")
        rows.append({"patient": item["patient"], "modality": item["modality"],
                     "fitzpatrick": item["fitzpatrick"], "metric": metric, "gais": grade,
                     "responder": is_responder(gais=grade, baseline=item["baseline"],
                                               follow_up=item["follow_up"],
                                               mdc95=found[0] if found else None,
                                               direction=METRIC_DIRECTIONS.get(metric))})
    return pd.DataFrame(rows, columns=columns)


#: Cohort summaries already computed, by store, arguments and data version
#: (:func:`_data_version`); a summary is recomputed only after a write.
_SUMMARY_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
_SUMMARY_CACHE_SIZE = 16
_VERSION_SCAN: dict[str, tuple[int, int]] = {}
#: Audit ids below the newest one that a late commit may still fill (PostgreSQL hands out
#: ids before commit): the scan for writes starts this far back.
_VERSION_OVERLAP = 10_000


def _data_version(store: Store) -> int:
    """A number that changes whenever the clinical record changes.

    Every write through the services adds audit rows (reads add ``read`` rows only), so
    the id of the newest non-read audit row versions the data. Only the rows added since
    the last call are scanned (by primary key), so the check costs the same at any size.
    """
    from sqlalchemy import func

    from dermatrack.store.models import AuditEvent

    url = str(store.engine.url)
    scanned, version = _VERSION_SCAN.get(url, (0, 0))
    with store.reading() as session:
        newest = session.execute(select(func.max(AuditEvent.id))).scalar() or 0
        if newest < scanned:  # a new database at the same address
            scanned, version = 0, 0
        start = max(0, scanned - _VERSION_OVERLAP)
        latest = session.execute(select(func.max(AuditEvent.id)).where(
            AuditEvent.id > start, AuditEvent.action != "read")).scalar()
    version = max(version, latest or 0)
    _VERSION_SCAN[url] = (newest, version)
    return version


def cohort_summary(store: Store, *, modality: str | None = None,
                   mdc: MdcTable | None = None, deidentified: bool = False) -> dict[str, Any]:
    """Cohort statistics of the record, JSON-ready (see the module docstring).

    The analysis unit is the patient in an arm (docs/statistics.md): statistics by arm
    count each patient once in each arm they were treated in; statistics pooled over
    arms (by Fitzpatrick group) count each patient once.

    With ``deidentified`` the per-unit responder rows carry no patient id (the
    pseudonymous id links back to the clinic record); every other entry is aggregate
    already. This is the view for researchers (issue 7).

    The summary is computed from columns (the database averages replicates; Polars pairs
    visits; one REML fit per arm and metric) and kept until the record changes
    (:func:`_data_version`).

    Returns
    -------
    dict
        ``n_patients``, ``n_units`` (patients x arms), ``n_sessions``; ``changes`` (paired
        change per headline metric by arm, in ``modality``) and ``changes_by_fitzpatrick``
        (by Fitzpatrick group), each a list of
        :class:`dermatrack.outcomes.cohort.GroupChange` dicts; ``forest`` (forest-plot
        rows of ``changes``); ``responders`` (rate with Wilson CI by arm and by
        Fitzpatrick group); ``trajectories`` (mixed-model slope per month by arm and
        metric); ``safety`` (overall and by arm: adverse events per session and per
        patient by grade and relatedness); ``pih`` (share of patients with PIH by
        Fitzpatrick type); ``mdc`` (the MDC95 entries used); ``photo_method_versions``
        (photographs per version of the photo method that measured them: more than one
        means changes mix the software's change with the skin's until ``dermatrack photo
        reanalyse --all``).
    """
    import copy

    mdc = mdc if mdc is not None else load_mdc(store.settings)
    key = (str(store.engine.url), modality, deidentified,
           json.dumps(mdc.to_list(), sort_keys=True), _data_version(store))
    cached = _SUMMARY_CACHE.get(key)
    if cached is None:
        cached = _compute_summary(store, modality=modality, mdc=mdc, deidentified=deidentified)
        if len(_SUMMARY_CACHE) >= _SUMMARY_CACHE_SIZE:
            _SUMMARY_CACHE.pop(next(iter(_SUMMARY_CACHE)))
        _SUMMARY_CACHE[key] = cached
    return copy.deepcopy(cached)


def _photo_method_versions(store: Store, patients: set[str]) -> dict[str, int]:
    """How many of the cohort's photographs each version of the photo method measured
    (``unrecorded``: stored before versions were). Changes pooled over figures of two
    versions hold the software's change as well as the skin's
    (:func:`dermatrack.imaging.definitions.method_versions_differ`)."""
    from sqlalchemy import func

    from dermatrack.imaging.definitions import PHOTO_KIND
    from dermatrack.store.models import Observation

    version = Observation.settings["method_version"].as_string()
    with store.reading() as session:
        rows = session.execute(
            select(Observation.patient_id, version,
                   func.count(func.distinct(Observation.source_sha256)))
            .where(Observation.kind == PHOTO_KIND, Observation.source_sha256.is_not(None),
                   Observation.deleted_at.is_(None))
            .group_by(Observation.patient_id, version)).all()
    counts: dict[str, int] = defaultdict(int)
    for patient_id, name, photographs in rows:
        if patient_id in patients:
            counts[name or "unrecorded"] += int(photographs)
    return dict(sorted(counts.items()))


def _compute_summary(store: Store, *, modality: str | None, mdc: MdcTable,
                     deidentified: bool) -> dict[str, Any]:
    import pandas as pd
    import polars as pl

    from dermatrack.outcomes.cohort import forest_rows
    from dermatrack.outcomes.responders import responder_rates
    from dermatrack.outcomes.safety import adverse_event_rates, pih_rate_by_fitzpatrick

    data = cohort_data(store, modality=modality, metrics=summary_metrics())
    headline = _headline(data.measurements)
    summary: dict[str, Any] = {
        "modality": modality,
        "analysis_unit": "patient x arm",
        "n_patients": int(data.patients["patient"].nunique()),
        "n_units": int(len(data.patients)),
        "n_sessions": int(len(data.sessions)),
        "excluded_without_research_consent": data.excluded_without_consent,
        "changes": [], "changes_by_fitzpatrick": [], "forest": [], "responders": {},
        "trajectories": [], "safety": {}, "pih": {}, "mdc": mdc.to_list(),
        "units": {},
        "photo_method_versions": _photo_method_versions(store, set(data.patients["patient"])),
    }
    if not headline.empty:
        units = headline.drop_duplicates(["kind", "metric"], keep="last")
        summary["units"] = {f"{k}:{m}": u for k, m, u in
                            zip(units["kind"], units["metric"], units["unit"], strict=True)}
        frame = pl.from_pandas(headline[["patient", "modality", "fitzpatrick", "kind", "metric",
                                         "region", "timepoint", "value"]])
        groups = _fitzpatrick_groups(frame.get_column("fitzpatrick").to_list())
        frame = frame.with_columns(
            (pl.col("kind") + ":" + pl.col("metric")).alias("metric"),
            pl.col("fitzpatrick").replace_strict(groups, return_dtype=pl.Utf8)
            .alias("fitzpatrick_group"))
        by_arm = _changes(frame, "modality")
        summary["changes"] = [c.to_dict() for c in by_arm]
        summary["forest"] = [r.to_dict() for r in forest_rows(by_arm)]
        summary["changes_by_fitzpatrick"] = [
            c.to_dict() for c in _changes(frame, "fitzpatrick_group")]
        summary["trajectories"] = [{**group, **result.to_dict()}
                                   for group, result in _trajectories(frame)]
    responders = _responders(data, mdc)
    if not responders.empty:
        per_patient = responders.drop_duplicates("patient", keep="first")
        summary["responders"] = {
            "modality": [{**group, **rate.to_dict()} for group, rate in
                         responder_rates(responders, ("modality",))],
            "fitzpatrick_group": [{**group, **rate.to_dict()} for group, rate in
                                  responder_rates(per_patient, ("fitzpatrick_group",))]}
        responders = responders.sort_values(["modality", "patient"], kind="stable")
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
