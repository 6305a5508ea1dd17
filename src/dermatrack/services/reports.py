"""The report service: reads what a report shows and hands typed views to the renderers.

The renderers (:mod:`dermatrack.reports`) take the views built here and never touch the
store or run an analysis. Everything a report figure needs is prepared here, once:

* the patient's chart, read and audited in one transaction
  (:func:`dermatrack.services.chart.read_chart`), and its timeline;
* for each before/after pair, the stored screen copies and masks of both photographs
  and the stored alignment (:mod:`dermatrack.services.derived`: nothing is analysed or
  aligned again when they were stored), the follow-up moved onto the baseline, the
  lightness change overlay (:func:`dermatrack.imaging.change_overlay.lightness_overlay`)
  and the detected features painted in colour, cropped to the face;
* for the patient sheet, each photographed visit's screen copy and features, and the
  clinic percentiles (:mod:`dermatrack.services.peers`);
* for the cohort report, the cohort statistics and the MDC95 table.

Adapters call :func:`patient_report_html`, :func:`patient_sheet_html`,
:func:`cohort_report_html` and their ``_pdf`` forms; ``actor`` is the reader recorded in
the audit trail (None: the demo writing its own synthetic reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from dermatrack.config import DEMO_MARKER
from dermatrack.services.chart import CHART_PARTS, PatientChart, PhotoView, read_chart
from dermatrack.services.common import Store
from dermatrack.services.report_views import (
    CohortReportView,
    PatientReportView,
    PhotoPairView,
    SheetView,
    SheetVisitView,
)

if TYPE_CHECKING:
    from dermatrack.services.outcomes.timeline import Timeline

#: What a patient report or sheet reads of the chart.
REPORT_PARTS = CHART_PARTS

FACE_MARGIN = 0.12
"""Margin around the face landmarks' bounding box, as a fraction of its size, when a
report shows a face photograph cropped to the face."""


def face_crop(shape: tuple[int, ...], landmarks: Any) -> tuple[slice, slice]:
    """Slices of a screen copy holding the face (all of it without landmarks), so the
    features in a report are large enough to see."""
    if landmarks is None or len(landmarks) == 0:
        return slice(None), slice(None)
    points = np.asarray(landmarks, float)
    (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
    pad_x, pad_y = FACE_MARGIN * (right - left), FACE_MARGIN * (bottom - top)
    rows = slice(max(0, int(top - pad_y)), min(int(shape[0]), int(bottom + pad_y) + 1))
    cols = slice(max(0, int(left - pad_x)), min(int(shape[1]), int(right + pad_x) + 1))
    return rows, cols


def is_synthetic(store: Store, synthetic: bool | None) -> bool:
    """``synthetic`` if given; else whether the data directory is a demo clinic's."""
    if synthetic is not None:
        return synthetic
    return (store.settings.data_dir / DEMO_MARKER).is_file()


# --- building them -----------------------------------------------------------------------

def _matched_views(first: list[PhotoView], last: list[PhotoView]
                   ) -> list[tuple[PhotoView, PhotoView]]:
    """Pairs of the same view (photographs without one pair with each other), the last
    follow-up photograph of each view."""
    later = {p.photo.view: p for p in last}
    return [(p, later[p.photo.view]) for p in first if p.photo.view in later]


def _comparisons(store: Store, chart: PatientChart, timeline: Timeline
                 ) -> list[PhotoPairView]:
    """Baseline photograph against the last follow-up, for each photographed view, from
    the screen copies, masks and alignment stored with the photographs."""
    from dermatrack.imaging.change_overlay import lightness_overlay
    from dermatrack.imaging.overlays import colour_overlay
    from dermatrack.services.derived import aligned_displays, pair_capture_of

    photographed = [v for v in timeline.visits if v.photos]
    if len(photographed) < 2:
        return []
    first, last = photographed[0], photographed[-1]
    pairs = []
    for before, after in _matched_views(chart.visit_photos(first.id),
                                        chart.visit_photos(last.id)):
        pair = aligned_displays(store, before.id, after.id)
        capture = pair_capture_of(store, before.id, after.id)
        overlay, darker, lighter = lightness_overlay(pair.baseline, pair.aligned,
                                                     pair.compared)
        crop = face_crop(pair.baseline.shape, pair.landmarks)
        features_before = features_after = None
        if pair.baseline_masks is not None and pair.aligned_masks is not None:
            features_before = colour_overlay(pair.baseline, pair.baseline_masks)[crop]
            features_after = colour_overlay(pair.aligned, pair.aligned_masks)[crop]
        pairs.append(PhotoPairView(
            first=first, last=last, baseline=pair.baseline[crop], aligned=pair.aligned[crop],
            change_overlay=overlay[crop], darker_fraction=darker, lighter_fraction=lighter,
            method=str(pair.alignment["method"]),
            reliable=bool(pair.alignment.get("reliable", True)),
            features_before=features_before, features_after=features_after,
            capture_differences=capture.differences, uncompared=capture.uncompared,
            method_difference=capture.method_difference,
            fine_detail_lost=capture.fine_detail_lost))
    return pairs


def _chart(store: Store, patient_id: str, actor: str | None, purpose: str | None
           ) -> PatientChart:
    return read_chart(store, patient_id, actor=actor, parts=REPORT_PARTS, fields=("report",),
                      purpose=purpose)


def patient_report_view(store: Store, patient_id: str, *, actor: str | None,
                        purpose: str | None = "report", synthetic: bool | None = None,
                        cohort_link: str | None = None) -> PatientReportView:
    """The progress report's view of one patient (the chart read is audited as
    ``actor``; see :func:`dermatrack.services.chart.read_chart`)."""
    from dermatrack.services import treatment_maps
    from dermatrack.services.outcomes.mdc import load_mdc
    from dermatrack.services.outcomes.timeline import timeline_of

    chart = _chart(store, patient_id, actor, purpose)
    timeline = timeline_of(chart, load_mdc(store.settings))
    return PatientReportView(
        chart=chart, timeline=timeline, comparisons=_comparisons(store, chart, timeline),
        treatment_diagrams=(treatment_maps.diagrams(chart.marks, width=180)
                            if chart.marks else {}),
        synthetic=is_synthetic(store, synthetic), cohort_link=cohort_link)


#: Photo metrics on the sheet (region ``whole``) whose current values are placed among
#: the clinic's patients.
SHEET_METRIC_CODES = ("wrinkles.length_mm", "pigment.spot_area_fraction",
                      "redness.red_area_fraction", "texture.roughness", "pores.count")


def sheet_view(store: Store, patient_id: str, *, actor: str | None,
               purpose: str | None = "sheet", synthetic: bool | None = None) -> SheetView:
    """The patient sheet's view of one patient (the chart read is audited as ``actor``)."""
    from dermatrack.imaging.overlays import colour_overlay
    from dermatrack.services.derived import display_of, pair_capture_of
    from dermatrack.services.outcomes.mdc import load_mdc
    from dermatrack.services.outcomes.timeline import timeline_of
    from dermatrack.services.peers import MIN_PEERS, percentiles

    chart = _chart(store, patient_id, actor, purpose)
    timeline = timeline_of(chart, load_mdc(store.settings))
    visits = []
    first_photo = None
    for visit in timeline.visits:
        if not visit.photos:
            continue
        photo = chart.visit_photos(visit.id)[0]
        display = display_of(store, photo.id)
        crop = face_crop(display.rgb.shape, display.landmarks)
        features = None if display.masks is None else colour_overlay(
            display.rgb, display.masks)[crop]
        uncompared, blurred = None, False
        if first_photo is None:
            first_photo = photo
        else:  # stored when the photograph was (aligned onto its baseline on import)
            pair = pair_capture_of(store, first_photo.id, photo.id)
            uncompared, blurred = pair.uncompared, pair.fine_detail_lost
        visits.append(SheetVisitView(visit=visit, photo=photo, image=display.rgb[crop],
                                     features=features, uncompared=uncompared,
                                     fine_detail_lost=blurred))
    current: dict[str, float] = {}
    for code in SHEET_METRIC_CODES:
        found = timeline.get_series("photo", code)
        measured = [p for p in found.points if p.value is not None] if found else []
        if measured and measured[-1].value is not None:
            current[code] = measured[-1].value
    group, found_percentiles = percentiles(store, patient_id, current)
    return SheetView(chart=chart, timeline=timeline, visits=visits, peer_group=group,
                     percentiles=found_percentiles, synthetic=is_synthetic(store, synthetic),
                     min_peers=MIN_PEERS)


def cohort_report_view(store: Store, *, modality: str | None = None,
                       synthetic: bool | None = None,
                       patient_links: Mapping[str, str] | None = None,
                       extra_tables: list[dict[str, Any]] | None = None,
                       deidentified: bool = False) -> CohortReportView:
    """The cohort report's view (see :func:`cohort_report_html`)."""
    from dermatrack.services.outcomes import cohort_data, cohort_summary, load_mdc

    if deidentified and patient_links:
        raise ValueError("a de-identified cohort report links to no patient")
    summary = cohort_summary(store, modality=modality, deidentified=deidentified)
    patient_rows = None
    if not deidentified:
        # The patients only: no measurement is read.
        patients = cohort_data(store, modality=modality, metrics=()).patients
        patient_rows = patients.sort_values(["modality", "patient"]).to_dict("records")
    return CohortReportView(summary=summary, mdc=load_mdc(store.settings),
                            synthetic=is_synthetic(store, synthetic), modality=modality,
                            patients=patient_rows, patient_links=dict(patient_links or {}),
                            extra_tables=list(extra_tables or []))


# --- the adapters' entry points ------------------------------------------------------------

def patient_report_html(store: Store, patient_id: str, *, actor: str | None = None,
                        purpose: str | None = "report html", synthetic: bool | None = None,
                        cohort_link: str | None = None) -> str:
    """The progress report of one patient as a standalone HTML page.

    Parameters
    ----------
    store:
        The open store.
    patient_id:
        The patient (pseudonymous id).
    actor:
        The reader, for the audit trail (None: no audit row; the demo's own reports).
    purpose:
        Why, recorded with the read.
    synthetic:
        Say at the top that the data are synthetic; by default, when the data directory
        is one ``dermatrack demo`` made.
    cohort_link:
        Optional link back to the cohort report.
    """
    from dermatrack.reports.html import render_patient_report

    return render_patient_report(patient_report_view(
        store, patient_id, actor=actor, purpose=purpose, synthetic=synthetic,
        cohort_link=cohort_link))


def patient_report_pdf(store: Store, patient_id: str, *, purpose: str | None = "report pdf",
                       **options: Any) -> bytes:
    """:func:`patient_report_html` as a PDF."""
    from dermatrack.reports.pdf import html_to_pdf

    return html_to_pdf(patient_report_html(store, patient_id, purpose=purpose, **options))


def patient_sheet_html(store: Store, patient_id: str, *, actor: str | None = None,
                       purpose: str | None = "sheet html", synthetic: bool | None = None
                       ) -> str:
    """The patient sheet as a standalone HTML page (images embedded)."""
    from dermatrack.reports.sheet import render_sheet

    return render_sheet(sheet_view(store, patient_id, actor=actor, purpose=purpose,
                                   synthetic=synthetic))


def patient_sheet_pdf(store: Store, patient_id: str, *, purpose: str | None = "sheet pdf",
                      **options: Any) -> bytes:
    """:func:`patient_sheet_html` as a PDF."""
    from dermatrack.reports.pdf import html_to_pdf

    return html_to_pdf(patient_sheet_html(store, patient_id, purpose=purpose, **options))


def cohort_report_html(store: Store, *, modality: str | None = None,
                       synthetic: bool | None = None,
                       patient_links: Mapping[str, str] | None = None,
                       extra_tables: list[dict[str, Any]] | None = None,
                       deidentified: bool = False) -> str:
    """The cohort report as a standalone HTML page.

    Parameters
    ----------
    modality:
        Only this modality's patients (a vocabulary modality code); all by default.
    synthetic:
        Say at the top that the data are synthetic; by default, when the data directory
        is one ``dermatrack demo`` made.
    patient_links:
        Patient id to the URL of their report (the demo links one file per patient).
    extra_tables:
        Further tables ``{"title", "note", "headers", "rows"}`` to append (the demo adds
        its true-versus-estimated check).
    deidentified:
        The researchers' view: no list of patients and no patient id anywhere (the
        statistics of :func:`dermatrack.services.outcomes.cohort_summary` with
        ``deidentified``). Names and photographs are never in a cohort report.

    Raises
    ------
    ValueError
        ``patient_links`` given with ``deidentified``: links would name patients.
    """
    from dermatrack.reports.html import render_cohort_report

    return render_cohort_report(cohort_report_view(
        store, modality=modality, synthetic=synthetic, patient_links=patient_links,
        extra_tables=extra_tables, deidentified=deidentified))


def cohort_report_pdf(store: Store, *, modality: str | None = None,
                      patient_links: Mapping[str, str] | None = None,
                      **options: Any) -> bytes:
    """:func:`cohort_report_html` as a PDF."""
    from dermatrack.reports.pdf import html_to_pdf

    return html_to_pdf(cohort_report_html(store, modality=modality,
                                          patient_links=patient_links, **options))
