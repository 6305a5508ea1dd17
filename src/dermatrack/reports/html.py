"""HTML progress and cohort reports (Jinja2 templates in ``reports/templates/``).

Pure renderers: each takes the typed view the report service built
(:mod:`dermatrack.services.reports`) and returns the page; nothing here reads the store
or analyses an image. Every image is embedded as a ``data:image/png;base64`` URI, so one
HTML file is the whole report: it can be mailed, archived or turned into a PDF
(:mod:`.pdf`) as it is.
Reports name patients by their pseudonymous id only; no identity field is read.

* :func:`render_patient_report`: timeline, aligned before/after photographs with the change
  overlay, metric trajectories, changes against MDC95, scales, the plan and what was
  done, reactions and adverse events.
* :func:`render_cohort_report`: forest plot, paired changes by modality and by Fitzpatrick
  group, responder rates, mixed-model slopes, safety with Wilson intervals and PIH by
  Fitzpatrick type; the patients it covers, or, de-identified, none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dermatrack.outcomes.change import NOT_COMPARABLE, verdict_words
from dermatrack.reports.rendering import (
    SYNTHETIC_NOTE,
    data_uri,
    environment,
    feature_legend,
    jpeg_uri,
)

if TYPE_CHECKING:
    from dermatrack.services.report_views import CohortReportView, PatientReportView

#: Series shown in the patient report's trajectory figure (photo metrics of ``whole``).
TRAJECTORY_METRICS = ("wrinkles.length_mm", "wrinkles.severity_index",
                      "pigment.spot_area_fraction", "redness.red_area_fraction",
                      "texture.roughness", "pores.count", "Sa", "R2", "a_star")


#: Region sizes: what was measured, not an outcome.
SIZE_METRICS = ("area_mm2",)
#: Device readings shown besides those with a better direction (skin colour, distension).
DEVICE_CONTEXT_METRICS = ("l_star", "b_star", "ita_deg", "R0", "melanin_index_dawson",
                          "speed_median_m_s", "youngs_modulus_median_kpa")


#: Long side (px) of each photograph of a before/after pair (a third of the page).
PAIR_SIDE = 480


def _comparisons(view: PatientReportView) -> list[dict[str, Any]]:
    """The before/after pairs of the view as the template shows them."""
    pairs = []
    for index, pair in enumerate(view.comparisons):
        first, last = pair.first, pair.last
        features = None
        if pair.features_before is not None and pair.features_after is not None:
            features = {"before": jpeg_uri(pair.features_before, PAIR_SIDE),
                        "after": jpeg_uri(pair.features_after, PAIR_SIDE)}
        method = pair.method.replace("_", " ")
        if not pair.reliable:
            method += "; not reliable: compare by eye only"
        pairs.append({
            "title": f"View {index + 1}: {_timepoint(first.timepoint)} ({first.date}) → "
                     f"{_timepoint(last.timepoint)} ({last.date})",
            "before": jpeg_uri(pair.baseline, PAIR_SIDE),
            "after": jpeg_uri(pair.aligned, PAIR_SIDE),
            "overlay": jpeg_uri(pair.change_overlay, PAIR_SIDE), "features": features,
            "method": method, "darker": pair.darker_fraction,
            "lighter": pair.lighter_fraction,
            "capture_differences": pair.capture_differences or [],
            "method_difference": pair.method_difference})
    return pairs


def _timepoint(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _scale_meaning(score: Mapping[str, Any]) -> dict[str, Any]:
    """A score's scale name, range, better direction and the label of its level."""
    from dermatrack.clinic.scales import get_scale
    from dermatrack.errors import InputError

    try:
        scale = get_scale(score["instrument"], score.get("version"))
    except InputError:  # a score of a scale version this release no longer ships
        return {"scale": score["instrument"], "range": "–", "meaning": "–"}
    level = scale.level(score["total"]) if score.get("total") is not None else None
    better = {"lower": "lower is better", "higher": "higher is better"}.get(
        scale.improvement, "")
    return {"scale": scale.name, "range": f"{scale.min}-{scale.max}"
            + (f", {better}" if better else ""),
            "meaning": level.label if level is not None else "–"}


#: The verdict of a photograph measurement whose latest photograph hides skin its
#: baseline shows (:attr:`PhotoPairView.hides_skin`); the note under the table says why.
NOT_COMPARABLE_WORDS = NOT_COMPARABLE


def _change_rows(timeline: Any, *, hidden_visits: frozenset[str] | set[str] = frozenset(),
                 blurred_visits: frozenset[str] | set[str] = frozenset()
                 ) -> list[dict[str, Any]]:
    """The change table's rows. ``hidden_visits``: visits whose photograph hides skin
    its baseline shows; photograph measurements whose latest value is from one get no
    verdict (each photograph is measured on the skin it shows), nor do those measured
    by another version of the photo method than their baseline. ``blurred_visits``:
    visits whose photograph is blurred or its skin smoothed against the baseline's; the
    measurements that need fine detail get no verdict there."""
    from dermatrack.imaging.definitions import needs_fine_detail
    from dermatrack.reports import labels

    rows = []
    for series in timeline.series:
        if series.metric in SIZE_METRICS:
            continue
        if series.kind == "photo" and series.region != "whole":
            continue
        if series.kind != "photo" and series.direction is None \
                and series.metric not in DEVICE_CONTEXT_METRICS:
            continue
        measured = [p for p in series.points if p.value is not None]
        if len(measured) < 2:
            continue
        last = measured[-1]
        definition = labels.metric(series.kind, series.metric, series.unit)
        change = last.change
        negligible = change is not None and abs(change) < definition.resolution()
        verdict, words = ((last.verdict or "unknown").replace(" ", "-"),
                          "no change" if negligible else verdict_words(last.verdict))
        if series.kind == "photo" and (
                last.visit_id in hidden_visits or last.method_differs
                or (last.visit_id in blurred_visits and needs_fine_detail(series.metric))):
            verdict, words = "not-comparable", NOT_COMPARABLE_WORDS
        rows.append({
            "kind": labels.kind_name(series.kind), "metric": definition.label,
            "region": labels.region(series.region), "unit": definition.display_unit,
            "baseline": definition.format(measured[0].value, unit=False),
            "last": definition.format(last.value, unit=False),
            "timepoint": _timepoint(last.timepoint),
            "change": definition.format(change, unit=False, signed=True),
            "percent": ("–" if negligible or last.change_percent is None
                        else f"{last.change_percent:+.0f} %"),
            "mdc95": definition.format(series.mdc95, unit=False),
            "verdict": verdict, "verdict_words": words})
    return rows


def _plan_rows(timeline: Any) -> list[dict[str, Any]]:
    from dermatrack.reports import labels

    rows = []
    for plan in timeline.plans:
        for item in plan.modalities:
            done = sum(1 for s in item.sessions if s.session_id)
            rows.append({
                "created": plan.created_on, "status": str(plan.status).capitalize(),
                "modality": labels.modality(item.modality),
                "regions": ", ".join(labels.region(r) for r in item.regions),
                "parameters": labels.parameters_text(item.modality, item.parameters),
                "sessions": [{"number": s.number, "date": s.scheduled_on,
                              "done": bool(s.session_id)} for s in item.sessions],
                "done": done, "planned": len(item.sessions)})
    return rows


def _session_rows(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from dermatrack.reports import labels

    return [{"date": s["date"], "modality": labels.modality(s["modality"]),
             "regions": ", ".join(labels.region(r) for r in s["regions"]),
             "parameters": labels.parameters_text(s["modality"], s.get("parameters") or {}),
             "reactions": ", ".join(labels.event(r) for r in s.get("immediate_reactions")
                                    or []) or "–"}
            for s in sessions]


def _event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from dermatrack.reports import labels

    rows = []
    for e in events:
        term = labels.event(e.get("code"))
        reason = str(e.get("reason") or "")
        if e.get("code"):
            reason = reason.replace(str(e["code"]), term)
        rows.append(dict(e, kind=str(e.get("kind", "")).replace("_", " "), term=term,
                         reason=reason))
    return rows


def render_patient_report(view: PatientReportView) -> str:
    """The progress report of one patient as a standalone HTML page, from the view of
    :func:`dermatrack.services.reports.patient_report_view`."""
    from dermatrack.imaging.definitions import needs_fine_detail
    from dermatrack.reports import labels
    from dermatrack.reports.plots import trajectory_figure

    timeline = view.timeline
    # Visits whose photograph hides skin its baseline shows (a pair is the first and the
    # last photographed visit of a view): their photograph figures are of other skin.
    hidden = {pair.last.id for pair in view.comparisons if pair.hides_skin}
    # Visits whose photograph is blurred or smoothed against the baseline's: their lines,
    # texture and pores are not judged.
    blurred = {pair.last.id for pair in view.comparisons if pair.fine_detail_lost}
    shown = [s for s in timeline.series
             if s.metric in TRAJECTORY_METRICS and (s.kind != "photo" or s.region == "whole")
             and sum(p.value is not None for p in s.points) >= 2]
    if hidden or blurred:  # nor circled as a real change
        shown = [s if s.kind != "photo" else s.model_copy(update={"points": [
            p.model_copy(update={"verdict": None})
            if p.visit_id in hidden or (p.visit_id in blurred and needs_fine_detail(s.metric))
            else p for p in s.points]}) for s in shown]
    trajectories = data_uri(trajectory_figure(shown)) if shown else None
    sessions = [s for visit in timeline.visits for s in visit.sessions]
    scores = [dict(s, timepoint=visit.timepoint, **_scale_meaning(s))
              for visit in timeline.visits for s in visit.scores]
    return environment().get_template("patient.html").render(
        treatment_marks=view.chart.marks, treatment_diagrams=view.treatment_diagrams,
        title=f"Progress report: {view.patient_id}", timeline=timeline,
        comparisons=_comparisons(view), trajectories=trajectories,
        changes=_change_rows(timeline, hidden_visits=hidden, blurred_visits=blurred),
        photos_hide_skin=bool(hidden), photos_blurred=bool(blurred),
        methods_differ=any(p.method_differs for s in timeline.series for p in s.points),
        sessions=_session_rows(sessions), scores=scores,
        plans=_plan_rows(timeline), events=_event_rows(timeline.events),
        modalities=", ".join(labels.modality(m) for m in timeline.modalities),
        concerns=[dict(c, label=labels.concern(c["code"]), region=labels.region(c["region"]))
                  for c in timeline.concerns],
        synthetic_note=SYNTHETIC_NOTE if view.synthetic else None,
        cohort_link=view.cohort_link,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        mdc_sources=sorted({s.mdc_source for s in timeline.series if s.mdc_source}),
        legend=feature_legend())


def _group_label(group: Mapping[str, Any]) -> str:
    from dermatrack.reports import labels

    return " · ".join(labels.modality(str(v)) if k == "modality" else str(v)
                      for k, v in group.items()) or "all"


#: Forest-plot images already drawn, by their rows, units and MDC bands.
_FOREST_CACHE: dict[str, list[str]] = {}


def render_cohort_report(view: CohortReportView) -> str:
    """The cohort report as a standalone HTML page, from the view of
    :func:`dermatrack.services.reports.cohort_report_view`."""
    from dermatrack.reports.plots import forest_figure, split_forest

    summary = view.summary
    forest = [row for row in summary["forest"] if row["n"] > 0]
    mdc_of = view.mdc_of

    # Several figures of whole panels, each small enough for a PDF page; drawn once for
    # the same rows (issue 14: the web report and the PDF reuse them).
    bands = {f"{row['metric']}|{row.get('region')}": mdc_of(row["metric"], row.get("region"))
             for row in forest}
    key = json.dumps([forest, summary["units"], bands], sort_keys=True, default=str)
    figures = _FOREST_CACHE.get(key)
    if figures is None:
        figures = [data_uri(forest_figure(part, units=summary["units"], mdc=mdc_of))
                   for part in split_forest(forest)]
        if len(_FOREST_CACHE) >= 8:
            _FOREST_CACHE.pop(next(iter(_FOREST_CACHE)))
        _FOREST_CACHE[key] = figures

    modality = view.modality
    return environment().get_template("cohort.html").render(
        title="Cohort report" + (f": {modality}" if modality else ""), summary=summary,
        forest=figures, group_label=_group_label, mdc_of=mdc_of, patients=view.patients,
        patient_links=view.patient_links, extra_tables=view.extra_tables,
        synthetic_note=SYNTHETIC_NOTE if view.synthetic else None,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
