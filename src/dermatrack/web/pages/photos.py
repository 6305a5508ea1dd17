"""Photo pages: upload (drag and drop, several at once, with progress and the per-region
metrics of each) and the before/after viewer (aligned pair, slider, change overlay)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dermatrack.web.deps import Principal, StoreDep, read_patient, require_page
from dermatrack.web.pages import render

router = APIRouter(include_in_schema=False)

HEADLINE_METRICS = ("wrinkles.severity_index", "wrinkles.length_mm", "pigment.ita_deg",
                    "pigment.spot_area_fraction", "redness.erythema_index",
                    "texture.roughness", "pores.count")
"""Metrics the viewer tabulates per region (the rest are in the progress report); their
labels, units and rounding come from the metric definitions."""


def default_pair(photos: list, visits: dict) -> tuple[str | None, str | None]:
    """The pair the viewer opens on: the baseline photograph (the first of the earliest
    visit) against the latest, of the same view when photographs record one (that of the
    latest photograph); photographs tied to no visit only when no other exists."""
    from dermatrack.services.derived import photo_view

    dated = [p for p in photos if p.visit_id in visits]
    pool = dated if len(dated) >= 2 else photos
    if len(pool) < 2:
        return None, None
    latest = pool[-1]
    same = [p for p in pool if photo_view(p) == photo_view(latest)]
    if len(same) < 2:
        return None, None
    return same[0].id, latest.id


@router.get("/patients/{patient_id}/photos")
def photos_page(request: Request, patient_id: str, store: StoreDep,
                principal: Principal = Depends(require_page("photos"))) -> Response:
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.services import patients, photos

    record = read_patient(store, principal, patient_id, fields=("photos",),
                          purpose="photos page", with_identity=True)
    visits = {v.id: v for v in patients.list_visits(store, patient_id)}
    listed = photos.list_photos(store, patient_id)
    baseline, followup = default_pair(listed, visits)
    return render(request, "photos.html", principal, record=record,
                  photos=listed, visits=visits, baseline=baseline, followup=followup,
                  method_version=PHOTO_METHOD_VERSION,
                  max_mb=request.app.state.max_upload_bytes // (1024 * 1024))


@router.get("/patients/{patient_id}/compare")
def viewer_page(request: Request, patient_id: str, baseline: str, followup: str,
                store: StoreDep,
                principal: Principal = Depends(require_page("photos"))) -> Response:
    """The viewer page; its images come from the API's compare layers."""
    from dermatrack.imaging.compare import incomparable_regions
    from dermatrack.imaging.definitions import needs_fine_detail
    from dermatrack.imaging.overlays import FEATURE_COLOURS, FEATURE_LABELS, FEATURES
    from dermatrack.metrics import describe_metric
    from dermatrack.outcomes.change import NOT_COMPARABLE, verdict_words
    from dermatrack.services.derived import pair_capture_of
    from dermatrack.services.outcomes import NO_MDC_ADVICE, judge_change, load_mdc
    from dermatrack.web import viewer
    from dermatrack.web.api.photos import photo_metrics, photo_of

    record = read_patient(store, principal, patient_id, fields=("photos", "measurements"),
                          purpose="before/after viewer", with_identity=True)
    before = photo_of(store, baseline, patient_id)
    after = photo_of(store, followup, patient_id)
    pair = viewer.aligned_pair(request.app, store, baseline, followup)
    before_values = {(m.region, m.metric): m for m in photo_metrics(store, patient_id, before)
                     if m.metric in HEADLINE_METRICS}
    mdc = load_mdc(store.settings)
    # A region whose skin one photograph hides is measured on different skin in each
    # (each photograph's stored figures are of the skin it shows): its changes get no
    # verdict, and nor do the whole face's, which include it. Nor does any change
    # between figures of two versions of the photo method.
    after_values = photo_metrics(store, patient_id, after)
    capture = pair_capture_of(store, baseline, followup)
    uncompared = capture.uncompared
    measured = uncompared or {}
    hidden = {region: f"{measured[region]:.0%} of its skin cannot be compared"
              if region in measured else "it includes regions that cannot be compared"
              for region in incomparable_regions(uncompared)}
    if capture.methods_differ:  # no figure of one version compares with the other's
        hidden = {m.region: "measured by another version of the photo method"
                  for m in after_values}
    table: dict[str, dict[str, dict]] = {}
    sources: set[str] = set()
    for m in after_values:
        old = before_values.get((m.region, m.metric))
        if old is not None and old.value is not None and m.value is not None:
            definition = describe_metric("photo", m.metric, m.unit)
            judged, source = judge_change(mdc, m.metric, m.region, old.value, m.value)
            # A blurred or skin-smoothed photograph loses lines, texture and pores.
            blurred = capture.fine_detail_lost and needs_fine_detail(m.metric)
            if source is not None and m.region not in hidden and not blurred:
                sources.add(source)
            verdict: str | None = None if m.region in hidden else judged.verdict
            words = verdict_words(judged.verdict) if verdict else verdict_words(None)
            if blurred and m.region not in hidden:
                verdict, words = NOT_COMPARABLE, "not comparable: blurred or smoothed"
            table.setdefault(m.region, {})[m.metric] = {
                "before": definition.format(old.value), "after": definition.format(m.value),
                "change": definition.format(m.value - old.value, signed=True),
                "verdict": verdict, "words": words,
                "mdc95": definition.format(judged.mdc95)}
    columns = []
    for code in HEADLINE_METRICS:
        if any(code in row for row in table.values()):
            definition = describe_metric("photo", code)
            columns.append((code, definition.label, definition.description))
    features = [{"code": f, "label": FEATURE_LABELS[f],
                 "colour": "rgb({:.0f}, {:.0f}, {:.0f})".format(
                     *(255 * c for c in FEATURE_COLOURS[f]))} for f in FEATURES]
    return render(request, "viewer.html", principal, record=record, before=before,
                  after=after, pair=pair, table=dict(sorted(table.items())), columns=columns,
                  features=features, mdc_sources=sorted(sources),
                  no_mdc_advice=NO_MDC_ADVICE, hidden_regions=hidden,
                  method_difference=capture.method_difference,
                  coverage_known=uncompared is not None,
                  capture_differences=capture.differences)
