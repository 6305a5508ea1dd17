"""Outcomes and reports: a patient's timeline (clinicians) and the de-identified cohort
(researchers and clinicians).

The cohort views come from :mod:`dermatrack.services.outcomes` (statistics) and
:mod:`dermatrack.services.export` (the research export: fresh subject codes on every
export, shifted dates, no names, contacts, notes or photos). Each cohort read is audited
as one row (entity ``cohort``) naming how many patients it covered.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from dermatrack.services.common import Store
from dermatrack.services.outcomes import Timeline
from dermatrack.web.deps import Principal, StoreDep, require

router = APIRouter(tags=["reports"])


def audit_cohort_read(store: Store, principal: Principal, purpose: str,
                      modality: str | None = None) -> list[str]:
    """Record one cohort read: one audit row (entity ``cohort``, id the modality or
    ``all``) naming the patients it covered, not one row per patient; return their ids."""
    from dermatrack.services import patients

    return patients.record_cohort_read(store, actor=principal.actor, purpose=purpose,
                                       modality=modality)


def cohort_patient_ids(store: Store) -> list[str]:
    """Ids of the patients a cohort covers (for the clinicians' links to their reports)."""
    from sqlalchemy import select

    from dermatrack.store.models import Patient

    with store.reading() as session:
        return list(session.scalars(select(Patient.id).order_by(Patient.id)))


@router.get("/patients/{patient_id}/timeline", response_model=Timeline)
def timeline(patient_id: str, store: StoreDep,
             principal: Principal = Depends(require("clinical"))) -> Timeline:
    """Visits, sessions, events, scores, photos and each measurement series with its
    change from baseline judged against the MDC95."""
    from dermatrack.services.chart import TIMELINE_PARTS, read_chart
    from dermatrack.services.outcomes import load_mdc
    from dermatrack.services.outcomes.timeline import timeline_of

    chart = read_chart(store, patient_id, actor=principal.actor, parts=TIMELINE_PARTS,
                       fields=("timeline",), purpose="api")
    return timeline_of(chart, load_mdc(store.settings))


@router.get("/cohort", response_model=dict[str, Any])
def cohort(store: StoreDep, modality: str | None = Query(None),
           principal: Principal = Depends(require("cohort"))) -> dict[str, Any]:
    """Cohort statistics: change by modality and phototype, responders, trajectories,
    safety (no identifiers)."""
    from dermatrack.services.outcomes import cohort_summary

    audit_cohort_read(store, principal, "cohort summary", modality)
    return cohort_summary(store, modality=modality, deidentified=True)


@router.get("/cohort/export", response_model=list[dict[str, Any]])
def cohort_export(store: StoreDep, principal: Principal = Depends(require("cohort"))
                  ) -> list[dict[str, Any]]:
    """The de-identified research export as JSON rows."""
    from dermatrack.services.export import export_rows

    audit_cohort_read(store, principal, "export")
    return export_rows(store)


@router.get("/cohort/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def cohort_export_csv(store: StoreDep,
                      principal: Principal = Depends(require("cohort"))) -> Response:
    """The de-identified research export as CSV (the columns of ``dermatrack export``)."""
    from dermatrack.services.export import COLUMNS, export_rows

    audit_cohort_read(store, principal, "export")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(export_rows(store))
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition":
                             'attachment; filename="dermatrack-cohort.csv"'})
