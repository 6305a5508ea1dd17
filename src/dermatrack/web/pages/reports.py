"""Report pages: a patient's progress report and the cohort view.

The progress report is :func:`dermatrack.services.reports.patient_report_html` (a
standalone page with embedded figures, also as PDF); the report service reads the chart
and records the read in one transaction. The cohort page shows the de-identified cohort
statistics of :func:`dermatrack.services.outcomes.cohort_summary` with the de-identified
export for download. The cohort report
(:func:`dermatrack.services.reports.cohort_report_html`) lists patients by their
pseudonymous ids, linked to their reports, for clinicians; researchers get its
de-identified form, with no patient ids.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from dermatrack.web.api.reports import audit_cohort_read, cohort_patient_ids
from dermatrack.web.deps import Principal, StoreDep, require_page
from dermatrack.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/patients/{patient_id}/report")
def patient_report(patient_id: str, store: StoreDep,
                   format: str = Query("html", pattern="^(html|pdf)$"),
                   principal: Principal = Depends(require_page("clinical"))) -> Response:
    from dermatrack.services.reports import patient_report_html, patient_report_pdf

    # The chart read and its audit row: one transaction, in the report service.
    if format == "pdf":
        return Response(patient_report_pdf(store, patient_id, actor=principal.actor,
                                           purpose=f"report {format}"),
                        media_type="application/pdf",
                        headers={"Content-Disposition":
                                 f'inline; filename="report-{patient_id}.pdf"'})
    return HTMLResponse(patient_report_html(store, patient_id, actor=principal.actor,
                                            purpose=f"report {format}"))


@router.get("/patients/{patient_id}/sheet")
def patient_sheet(patient_id: str, store: StoreDep,
                  format: str = Query("html", pattern="^(html|pdf)$"),
                  principal: Principal = Depends(require_page("clinical"))) -> Response:
    """The patient sheet (:func:`dermatrack.services.reports.patient_sheet_html`): each
    visit's face with the detected features in colour, per-region figures and their
    change in plain words."""
    from dermatrack.services.reports import patient_sheet_html, patient_sheet_pdf

    if format == "pdf":
        return Response(patient_sheet_pdf(store, patient_id, actor=principal.actor,
                                          purpose=f"sheet {format}"),
                        media_type="application/pdf",
                        headers={"Content-Disposition":
                                 f'inline; filename="sheet-{patient_id}.pdf"'})
    return HTMLResponse(patient_sheet_html(store, patient_id, actor=principal.actor,
                                           purpose=f"sheet {format}"))


@router.get("/cohort")
def cohort_page(request: Request, store: StoreDep, modality: str | None = None,
                principal: Principal = Depends(require_page("cohort"))) -> Response:
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services.outcomes import cohort_summary

    audit_cohort_read(store, principal, "cohort page", modality or None)
    summary = cohort_summary(store, modality=modality or None, deidentified=True)
    return render(request, "cohort.html", principal, summary=summary,
                  modality=modality or "", modalities=sorted(load_modalities(load_vocabulary())))


@router.get("/cohort/report")
def cohort_report(store: StoreDep, modality: str | None = None,
                  principal: Principal = Depends(require_page("cohort"))) -> Response:
    """The cohort report: listing patients, linked to their reports, for those allowed to
    see them; de-identified (no patient ids) for everyone else."""
    from dermatrack.services.reports import cohort_report_html

    audit_cohort_read(store, principal, "cohort report", modality or None)
    if not principal.can("cohort_identified"):
        return HTMLResponse(cohort_report_html(store, modality=modality or None,
                                               deidentified=True))
    links = {patient_id: f"/patients/{patient_id}/report"
             for patient_id in cohort_patient_ids(store)}
    return HTMLResponse(cohort_report_html(store, modality=modality or None,
                                           patient_links=links))
