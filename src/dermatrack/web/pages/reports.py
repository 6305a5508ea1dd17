"""Report pages: a patient's progress report and the cohort view.

The progress report is :func:`dermatrack.reports.html.patient_report_html` (a standalone
page with embedded figures, also as PDF). The cohort page shows the cohort statistics of
:func:`dermatrack.services.outcomes.cohort_summary` with the de-identified export for
download; clinicians also get the full cohort report, which lists patients by their
pseudonymous ids and so is not shown to researchers.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from dermatrack.web.deps import Principal, get_store, read_patient, require_page
from dermatrack.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/patients/{patient_id}/report")
def patient_report(patient_id: str, format: str = Query("html", pattern="^(html|pdf)$"),
                   store=Depends(get_store),
                   principal: Principal = Depends(require_page("clinical"))):
    read_patient(store, principal, patient_id, fields=("report",), purpose=f"report {format}")
    if format == "pdf":
        from dermatrack.reports.pdf import patient_report_pdf

        return Response(patient_report_pdf(store, patient_id), media_type="application/pdf",
                        headers={"Content-Disposition":
                                 f'inline; filename="report-{patient_id}.pdf"'})
    from dermatrack.reports.html import patient_report_html

    return HTMLResponse(patient_report_html(store, patient_id))


@router.get("/cohort")
def cohort_page(request: Request, modality: str | None = None, store=Depends(get_store),
                principal: Principal = Depends(require_page("cohort"))):
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.services.outcomes import cohort_summary
    from dermatrack.web.api.reports import audit_cohort_read, without_patient_ids

    audit_cohort_read(store, principal, "cohort page")
    summary = without_patient_ids(cohort_summary(store, modality=modality or None))
    return render(request, "cohort.html", principal, summary=summary,
                  modality=modality or "", modalities=sorted(load_modalities()))


@router.get("/cohort/report")
def cohort_report(modality: str | None = None, store=Depends(get_store),
                  principal: Principal = Depends(require_page("clinical"))):
    from dermatrack.reports.html import cohort_report_html
    from dermatrack.services import patients
    from dermatrack.web.deps import audit_reads

    ids = [p.id for p in patients.list_patients(store, actor=principal.actor)]
    audit_reads(store, principal, "patient", ids, fields=("cohort",), purpose="cohort report")
    links = {patient_id: f"/patients/{patient_id}/report" for patient_id in ids}
    return HTMLResponse(cohort_report_html(store, modality=modality or None,
                                           patient_links=links))
