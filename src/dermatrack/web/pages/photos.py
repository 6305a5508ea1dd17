"""Photo pages: upload (drag and drop, several at once, with progress and the per-region
metrics of each) and the before/after viewer (aligned pair, slider, change overlay)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from dermatrack.web.deps import Principal, get_store, read_patient, require_page
from dermatrack.web.pages import render

router = APIRouter(include_in_schema=False)

HEADLINE_METRICS = (
    ("wrinkles.severity_index", "Wrinkle index"), ("wrinkles.length_mm", "Wrinkle length"),
    ("pigment.ita_deg", "ITA°"), ("pigment.spot_area_fraction", "Spot area"),
    ("redness.erythema_index", "Erythema index"), ("texture.roughness", "Roughness"),
    ("pores.count", "Pores"))
"""Metrics the viewer tabulates per region (the rest are in the progress report)."""


@router.get("/patients/{patient_id}/photos")
def photos_page(request: Request, patient_id: str, store=Depends(get_store),
                principal: Principal = Depends(require_page("photos"))):
    from dermatrack.services import patients, photos

    record = read_patient(store, principal, patient_id, fields=("photos",),
                          purpose="photos page", with_identity=True)
    visits = {v.id: v for v in patients.list_visits(store, patient_id)}
    return render(request, "photos.html", principal, record=record,
                  photos=photos.list_photos(store, patient_id), visits=visits,
                  max_mb=request.app.state.max_upload_bytes // (1024 * 1024))


@router.get("/patients/{patient_id}/compare")
def viewer_page(request: Request, patient_id: str, baseline: str, followup: str,
                store=Depends(get_store),
                principal: Principal = Depends(require_page("photos"))):
    """The viewer page; its images come from the API's compare layers."""
    from dermatrack.web import viewer
    from dermatrack.web.api.photos import photo_metrics, photo_of

    record = read_patient(store, principal, patient_id, fields=("photos", "measurements"),
                          purpose="before/after viewer", with_identity=True)
    before = photo_of(store, baseline, patient_id)
    after = photo_of(store, followup, patient_id)
    pair = viewer.aligned_pair(request.app, store, baseline, followup)
    wanted = dict(HEADLINE_METRICS)
    before_values = {(m.region, m.metric): m for m in photo_metrics(store, patient_id, before)
                     if m.metric in wanted}
    table: dict[str, dict[str, dict]] = {}
    for m in photo_metrics(store, patient_id, after):
        old = before_values.get((m.region, m.metric))
        if old is not None and old.value is not None and m.value is not None:
            table.setdefault(m.region, {})[m.metric] = {
                "before": old.value, "after": m.value, "unit": "" if m.unit == "1" else m.unit}
    columns = [(code, label) for code, label in HEADLINE_METRICS
               if any(code in row for row in table.values())]
    return render(request, "viewer.html", principal, record=record, before=before,
                  after=after, pair=pair, table=dict(sorted(table.items())), columns=columns)
