"""Guided photo capture: the standard views of a visit, the tablet's camera with the
baseline photograph of the view as a translucent ghost, and a live pose and lighting
check (``/api/patients/{id}/capture/check``). Taking a photo uploads it as any other
(analysed, with its view); uploading files stays possible."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dermatrack.web.deps import Principal, StoreDep, read_patient, require_page
from dermatrack.web.pages import render

router = APIRouter(include_in_schema=False)

VIEW_LABELS = {"front": "Front", "left_45": "Left 45°", "right_45": "Right 45°",
               "left_90": "Left 90°", "right_90": "Right 90°", "closeup": "Close-up"}


@router.get("/patients/{patient_id}/capture")
def capture_page(request: Request, patient_id: str, store: StoreDep, visit: str | None = None,
                 principal: Principal = Depends(require_page("photos"))) -> Response:
    from dermatrack.services import capture, patients, photos

    record = read_patient(store, principal, patient_id, fields=("photos",),
                          purpose="photo capture", with_identity=True)
    visits = patients.list_visits(store, patient_id)
    chosen = visit or (visits[-1].id if visits else None)
    taken = {p.view for p in photos.list_photos(store, patient_id)
             if chosen and p.visit_id == chosen and p.view}
    return render(request, "capture.html", principal, record=record, visits=visits,
                  visit_id=chosen, views=VIEW_LABELS, taken=taken,
                  baselines={view: photo.id for view, photo in
                             capture.baselines(store, patient_id).items()})
