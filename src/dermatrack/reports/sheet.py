"""The patient sheet: what a clinic hands a patient after a skin analysis.

For each photographed visit: the face (or close-up) as photographed and with the
features the analysis detected painted in colour (wrinkles, pigmented spots, red areas,
pores; :mod:`dermatrack.imaging.overlays`), with a legend; per region the figures of that
visit and, after the baseline, their change since the baseline said in plain words and
judged against the measurement's minimal detectable change (MDC95: a change within it
may be measurement noise). Last, where the patient stands among the clinic's own
patients of the same sex, age band and skin type (:mod:`dermatrack.services.peers`),
only when there are enough of them, and saying how many: no invented norm.

Everything is read from the record by the report service
(:func:`dermatrack.services.reports.sheet_view`): the analyses and the screen copies with
their masks were stored when each photograph was (:mod:`dermatrack.services.derived`).
This module only renders that view: it reads no store and runs no analysis.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from dermatrack.outcomes.change import VERDICT_WORDS
from dermatrack.reports import labels
from dermatrack.reports.rendering import SYNTHETIC_NOTE, environment, feature_legend, jpeg_uri

if TYPE_CHECKING:
    from dermatrack.services.report_views import SheetView

#: Photo metrics on the sheet, each with the overlay colour that shows where it comes
#: from (texture has no overlay: it is a property of every pixel).
SHEET_METRICS = (("wrinkles.length_mm", "wrinkles"), ("pigment.spot_area_fraction", "spots"),
                 ("redness.red_area_fraction", "redness"), ("texture.roughness", None),
                 ("pores.count", "pores"))
def timepoint_label(timepoint: str) -> str:
    """``month_3`` -> "Month 3", ``baseline`` -> "Baseline"."""
    return labels.plain(timepoint).capitalize()


def change_words(definition: Any, point: Any, mdc95: float | None, *, short: bool,
                 comparable: bool = True, blurred: bool = False) -> str:
    """A change since baseline in plain words, judged against the MDC95.

    ``short`` gives a table cell ("−12 mm: real improvement"); otherwise a sentence.
    ``comparable`` False: the photograph hides skin the baseline's shows
    (:meth:`SheetVisitView.comparable`), so the change is not judged; nor is it when
    the point was measured by another version of the photo method
    (``point.method_differs``), or ``blurred``: this photograph or the first one is
    blurred or its skin smoothed, and the metric needs fine detail.
    """
    change = point.change
    if change is None:
        return "baseline" if short else "This is the baseline."
    if abs(change) < definition.resolution():
        return ("no change" if short else
                "No change since the baseline at the precision of this measurement.")
    amount = definition.format(change, signed=True)
    if point.method_differs:
        if short:
            return f"{amount}: not comparable"
        return (f"{amount} since the baseline, but not comparable: this photograph was "
                "measured by another version of the photo method than the baseline's "
                "(dermatrack photo reanalyse measures both again with one version).")
    if blurred:
        if short:
            return f"{amount}: not comparable"
        return (f"{amount} since the baseline, but not comparable: this photograph or the "
                "baseline's is blurred or its skin smoothed (a phone's beauty mode), and "
                "fine lines, texture and pores fade with it.")
    if not comparable:
        if short:
            return f"{amount}: not comparable"
        return (f"{amount} since the baseline, but not comparable: this photograph hides "
                "skin the baseline's shows (hair, glasses, a hand or a shadow), and each "
                "is measured on the skin it shows.")
    if mdc95 is None:
        if short:
            return amount
        return (f"{amount} since the baseline. How much this measurement varies between "
                "two photographs is not known here, so no verdict is given.")
    bound = definition.format(mdc95)
    if abs(change) > mdc95:
        real = point.verdict if point.verdict in ("improved", "worsened") else "changed"
        if short:
            return f"{amount}: {real}"
        verdict = VERDICT_WORDS[real]
        return (f"{amount} since the baseline: more than the {bound} by which this "
                f"measurement can vary between two photographs (MDC95), so a {verdict}.")
    if short:
        return f"{amount}: within variation"
    return (f"{amount} since the baseline: within the {bound} by which this measurement "
            "can vary between two photographs (MDC95), so not a measurable change.")


def sheet_context(view: SheetView) -> dict[str, Any]:
    """Everything the sheet shows (module docstring), ready for the template."""
    timeline = view.timeline
    codes = [code for code, _ in SHEET_METRICS]
    series = {(s.region, s.metric): s for s in timeline.series
              if s.kind == "photo" and s.metric in codes}
    regions = sorted({region for region, _ in series},
                     key=lambda r: (r != "whole", labels.region(r)))
    visits = []
    for shown in view.visits:
        visit, photo = shown.visit, shown.photo.photo
        overlay = None if shown.features is None else jpeg_uri(shown.features)
        rows = []
        for region in regions:
            comparable = shown.comparable(region)
            cells = []
            for code, _feature in SHEET_METRICS:
                found = series.get((region, code))
                point = None if found is None else next(
                    (p for p in found.points if p.visit_id == visit.id), None)
                if found is None or point is None or point.value is None:
                    cells.append({"value": "–", "change": ""})
                    continue
                definition = labels.metric("photo", code, found.unit)
                blurred = shown.blurred(code)
                judged = comparable and not point.method_differs and not blurred
                cells.append({"value": definition.format(point.value),
                              "change": change_words(definition, point, found.mdc95,
                                                     short=True, comparable=comparable,
                                                     blurred=blurred),
                              "verdict": (point.verdict or "") if judged
                              else "not-comparable"})
            if any(c["value"] != "–" for c in cells):
                rows.append({"region": labels.region(region, face=len(regions) > 1),
                             "cells": cells})
        sentences = []
        for code, _feature in SHEET_METRICS:
            found = series.get(("whole", code))
            point = None if found is None else next(
                (p for p in found.points if p.visit_id == visit.id), None)
            if found is None or point is None or point.value is None or point.change is None:
                continue
            definition = labels.metric("photo", code, found.unit)
            sentences.append(f"{definition.label}: {definition.format(point.value)}. "
                             + change_words(definition, point, found.mdc95, short=False,
                                            comparable=shown.comparable("whole"),
                                            blurred=shown.blurred(code)))
        visits.append({
            "title": f"{timepoint_label(visit.timepoint)} · {visit.date}",
            "photo": jpeg_uri(shown.image), "overlay": overlay, "rows": rows,
            "sentences": sentences, "photo_id": photo.id,
            "scale": ("" if photo.mm_per_px is None else
                      f"scale {photo.mm_per_px:.3g} mm per pixel ({photo.scale_source})"),
        })

    comparison = []
    for item in view.percentiles:
        definition = labels.metric("photo", item.metric)
        better = {"lower": "lower is better", "higher": "higher is better"}.get(
            definition.direction or "", "")
        comparison.append({"label": definition.label, "value": definition.format(item.value),
                           "n": item.n_peers, "better": better,
                           "percentile": (None if item.percentile is None
                                          else f"{item.percentile:.0f}")})
    legend = feature_legend()
    colour_of = dict(zip(("wrinkles", "spots", "redness", "pores"),
                         (item["colour"] for item in legend), strict=True))
    columns = []
    for code, feature in SHEET_METRICS:
        definition = labels.metric("photo", code)
        columns.append({"title": labels.metric_title("photo", code),
                        "description": definition.description,
                        "colour": colour_of.get(feature or "")})
    mdc_sources = sorted({s.mdc_source for s in series.values() if s.mdc_source})
    group = view.peer_group
    return {
        "patient_id": view.patient_id, "timeline": timeline,
        "treatments": ", ".join(labels.modality(m) for m in timeline.modalities)
        or "none recorded",
        "concerns": ", ".join(labels.concern(c["code"]) for c in timeline.concerns),
        "visits": visits, "columns": columns, "legend": legend,
        "peer_group": group.description, "min_peers": view.min_peers,
        "n_peers": max((item.n_peers for item in view.percentiles),
                       default=len(group.patient_ids)),
        "comparison": comparison, "mdc_sources": mdc_sources,
    }


def render_sheet(view: SheetView) -> str:
    """The patient sheet as a standalone HTML page (images embedded), from the view of
    :func:`dermatrack.services.reports.sheet_view`."""
    context = sheet_context(view)
    return environment().get_template("sheet.html").render(
        title=f"Skin analysis: {view.patient_id}", **context,
        synthetic_note=SYNTHETIC_NOTE if view.synthetic else None,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
