"""The cohort statistics as dermatrack computed them before issue 14 (ORM rows, Python
loops, one statsmodels fit per group), kept only as the reference that the fast
computation must equal on the demo clinic. Not used by the product."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dermatrack.services.common import Store
from dermatrack.services.outcomes import (
    CONCERN_METRICS,
    HEADLINE_METRICS,
    METRIC_DIRECTIONS,
    MdcTable,
    _months,
    age_on,
    baseline_dates,
    load_mdc,
)


@dataclass
class CohortData:
    """Long-format tables of a cohort (pandas DataFrames; column lists in :func:`cohort_data`)."""

    patients: Any
    measurements: Any
    scores: Any
    sessions: Any
    events: Any


def _related_category(value: str | None) -> str:
    # An adverse event charted without a causality assessment counts as unassessable.
    return value or "unassessable"


def cohort_data(store: Store, *, modality: str | None = None) -> CohortData:
    """The cohort as DataFrames for :mod:`dermatrack.outcomes` (no identities).

    A patient belongs to the modality of each of their treatment sessions; one treated
    with two modalities appears under both.

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
        patients = {p.id: p for p in session.scalars(select(Patient))}
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
    from dermatrack.outcomes.responders import responder_rates
    from dermatrack.outcomes.safety import adverse_event_rates, pih_rate_by_fitzpatrick

    mdc = mdc if mdc is not None else load_mdc(store.settings)
    data = cohort_data(store, modality=modality)
    headline = _headline(data.measurements)
    summary: dict[str, Any] = {
        "modality": modality,
        "n_patients": int(data.patients["patient"].nunique()),
        "n_sessions": int(len(data.sessions)),
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
        slopes = _statsmodels_trajectories(frame.rename(columns={"timepoint": "months"}),
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


def _statsmodels_trajectories(frame, group_by):
    from outcomes.reference_mixedlm import statsmodels_trajectory

    results = []
    for key, rows in frame.groupby(list(group_by), sort=True):
        values = key if isinstance(key, tuple) else (key,)
        results.append((dict(zip(group_by, values, strict=True)),
                        statsmodels_trajectory(rows)))
    return results
