"""The treatment map page: mark zones, passes, injection points and test spots of a
session on the face diagram (front and profiles), each with its lot and amount."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dermatrack.errors import NotFoundError
from dermatrack.web.deps import Principal, StoreDep, read_patient, require_page
from dermatrack.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/patients/{patient_id}/sessions/{session_id}/map")
def map_page(request: Request, patient_id: str, session_id: str, store: StoreDep,
             principal: Principal = Depends(require_page("clinical"))) -> Response:
    from dermatrack.clinic.face_diagram import KIND_LABELS, VIEW_LABELS, VIEWS, face_diagram_svg
    from dermatrack.services import charting, products, treatment_maps

    record = read_patient(store, principal, patient_id, fields=("sessions", "treatment_map"),
                          purpose="treatment map", with_identity=True)
    treatment = next((s for s in charting.list_sessions(store, patient_id)
                      if s.id == session_id), None)
    if treatment is None:
        raise NotFoundError(f"no session {session_id!r} of patient {patient_id}")
    marks = treatment_maps.list_marks(store, patient_id, session_id=session_id)
    used = {lot.lot_id for lot in treatment.lots}
    lots = [(product, lot) for product in products.list_products(store) for lot in product.lots
            if lot.id in used or lot.expiry >= treatment.date]
    lots.sort(key=lambda pair: (pair[1].id not in used, pair[0].name, pair[1].lot_number))
    diagrams = {view: face_diagram_svg(view, [{"kind": m.kind, "points": m.points,
                                               "label": m.label()}
                                              for m in marks if m.view == view],
                                       element_id=f"diagram-{view}")
                for view in VIEWS}
    return render(request, "treatment_map.html", principal, record=record,
                  treatment=treatment, marks=marks, diagrams=diagrams, lots=lots, used=used,
                  kinds=KIND_LABELS, view_labels=VIEW_LABELS,
                  today=dt.date.today().isoformat())
