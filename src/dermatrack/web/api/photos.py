"""Clinical photographs: upload (checked and analysed as ``dermatrack photo import`` does),
list, fetch the stored pixels, and the aligned before/after pair. Clinicians only.

An upload is refused with 413 above the app's size limit and with 415 when the declared
type is not JPEG, PNG, TIFF, HEIC or DICOM (``application/dicom``, a VL Photographic Image);
the content is then decoded by :func:`dermatrack.imaging.io.read_image` through the
photo service, which refuses files whose bytes are not an image of those formats,
damaged files and decompression bombs (422 naming ``image``). What is stored is the
decoded pixels re-encoded without metadata.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from dermatrack.services.common import Store
from dermatrack.services.observations import ObservationOut
from dermatrack.services.photos import PhotoOut
from dermatrack.web.deps import Principal, StoreDep, audit_read, read_patient, require
from dermatrack.web.paging import PAGE_HEADERS, PageQuery, paged

router = APIRouter(tags=["photos"])

ACCEPTED_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif",
                  "image/heic": ".heic", "image/heif": ".heif", "application/dicom": ".dcm"}
# Browsers that do not know a file's type send none; these suffixes name it.
_TYPE_OF_SUFFIX = {".dcm": "application/dicom", ".heic": "image/heic", ".heif": "image/heif"}
_CHUNK = 1024 * 1024


class PhotoUploadOut(BaseModel):
    """The stored photograph and the metrics measured on it, per region."""

    photo: PhotoOut
    metrics: list[ObservationOut]


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes; 413 as soon as more than ``limit`` bytes arrive."""
    chunks, size = [], 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"{upload.filename}: larger than the limit of "
                                f"{limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def photo_metrics(store: Store, patient_id: str, photo: PhotoOut) -> list[ObservationOut]:
    from dermatrack.services import observations
    from dermatrack.services.photos import PHOTO_KIND, measures_photo

    return [o for o in observations.list_observations(store, patient_id=patient_id,
                                                      kind=PHOTO_KIND)
            if measures_photo(o, photo)]


def store_upload(app: FastAPI, store: Store, principal: Principal, patient_id: str,
                 visit_id: str | None, data: bytes, suffix: str, *, view: str | None = None,
                 mm_per_px: float | None = None, use_face: bool = True) -> PhotoOut:
    """Import uploaded bytes through the photo service (which needs a file), with the
    options ``dermatrack photo import`` takes: the scale and whether to look for a face.

    One analysis at a time (``app.state.analysis_slots``), on the photo scaled down to at
    most ``app.state.analysis_max_pixels``: the memory of an upload is bounded whatever
    the file declares.
    """
    from dermatrack.services import photos

    with app.state.analysis_slots, tempfile.TemporaryDirectory(
            prefix="dermatrack-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        return photos.import_photo(store, patient_id=patient_id, visit_id=visit_id or None,
                                   path=path, actor=principal.actor, view=view or None,
                                   mm_per_px=mm_per_px, use_face=use_face,
                                   reduce_to_pixels=app.state.analysis_max_pixels)


@router.get("/patients/{patient_id}/photos", response_model=list[PhotoOut],
            responses=PAGE_HEADERS)
def list_photos(request: Request, response: Response, patient_id: str,
                store: StoreDep, page: PageQuery = Depends(),
                principal: Principal = Depends(require("photos"))) -> list[PhotoOut]:
    """A patient's photographs in the order they were stored, a page at a time."""
    from dermatrack.services import photos

    read_patient(store, principal, patient_id, fields=("photos",), purpose="api")
    return paged(request, response, photos.page_photos(store, patient_id, cursor=page.cursor,
                                                       limit=page.limit))


@router.post("/patients/{patient_id}/photos", response_model=PhotoUploadOut,
             status_code=status.HTTP_201_CREATED, responses={
                 413: {"description": "The file is larger than the upload limit"},
                 415: {"description": "The declared type is not JPEG, PNG, TIFF, HEIC "
                                      "or DICOM"}})
async def upload_photo(request: Request, patient_id: str,
                       store: StoreDep,
                       image: UploadFile = File(..., description="JPEG, PNG, TIFF, HEIC "
                                                "or DICOM VL Photographic Image"),
                       visit_id: str | None = Form(None),
                       view: str | None = Form(None, description="Standard view: front, "
                                                  "left_45, right_45, left_90, right_90, "
                                                  "closeup"),
                       mm_per_px: str | None = Form(
                           None, description="Pixel size in mm; otherwise found from a "
                                             "ColorChecker or the iris, as the CLI does"),
                       close_up: bool = Form(False, description="A close-up of skin: no face, "
                                                                 "one region (CLI --no-face); "
                                                                 "a face photograph (the "
                                                                 "default) without a face is "
                                                                 "refused"),
                       principal: Principal = Depends(require("photos"))) -> PhotoUploadOut:
    """Upload one photograph; it is analysed before the answer comes back, exactly as
    ``dermatrack photo import`` analyses the same file with the same options. The answer's
    ``photo.duplicate_of`` names a photograph of the patient with the same pixels."""
    from starlette.concurrency import run_in_threadpool

    declared = (image.content_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        declared = _TYPE_OF_SUFFIX.get(Path(image.filename or "").suffix.lower(), declared)
    if declared not in ACCEPTED_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"{image.filename}: {declared or 'no type'} is not a JPEG, PNG, "
                            "TIFF or HEIC image nor a DICOM photograph (application/dicom)")
    scale = _scale(mm_per_px)
    data = await read_limited(image, request.app.state.max_upload_bytes)
    photo = await run_in_threadpool(lambda: store_upload(
        request.app, store, principal, patient_id, visit_id, data, ACCEPTED_TYPES[declared],
        view=view, mm_per_px=scale, use_face=not close_up))
    metrics = await run_in_threadpool(photo_metrics, store, patient_id, photo)
    return PhotoUploadOut(photo=photo, metrics=metrics)


def _scale(text: str | None) -> float | None:
    """The form's scale: empty for none; else a pixel size in mm, above 0 and below 10
    (as the CLI's ``--mm-per-px``)."""
    import math

    from dermatrack.errors import InputError

    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"must be a number of mm per pixel, got {text!r}",
                         field="mm_per_px") from None
    if not (math.isfinite(value) and 0 < value < 10):
        raise InputError("must be a positive pixel size in mm, below 10", field="mm_per_px")
    return value


def photo_of(store: Store, photo_id: str, patient_id: str) -> PhotoOut:
    from dermatrack.errors import NotFoundError
    from dermatrack.services import photos

    for photo in photos.list_photos(store, patient_id):
        if photo.id == photo_id:
            return photo
    raise NotFoundError(f"no photo {photo_id!r} of patient {patient_id}")


@router.get("/patients/{patient_id}/photos/{photo_id}/metrics",
            response_model=list[ObservationOut], responses=PAGE_HEADERS)
def get_photo_metrics(request: Request, response: Response, patient_id: str, photo_id: str,
                      store: StoreDep, page: PageQuery = Depends(),
                      principal: Principal = Depends(require("photos"))) -> list[ObservationOut]:
    """The photograph's metrics (one observation per metric and region), a page at a
    time."""
    from dermatrack.services import observations
    from dermatrack.services.photos import PHOTO_KIND

    read_patient(store, principal, patient_id, fields=("photos", "measurements"),
                 purpose="api")
    photo = photo_of(store, photo_id, patient_id)
    return paged(request, response, observations.page_observations(
        store, patient_id=patient_id, kind=PHOTO_KIND, source_sha256=photo.sha256,
        photo_id=photo.id, cursor=page.cursor, limit=page.limit))


@router.get("/patients/{patient_id}/photos/{photo_id}/image",
            response_class=FileResponse)
def get_photo_image(patient_id: str, photo_id: str, store: StoreDep,
                    principal: Principal = Depends(require("photos"))) -> Response:
    """The stored pixels (PNG or JPEG, no metadata)."""
    from dermatrack.services import photos

    photo_of(store, photo_id, patient_id)
    path = photos.photo_file(store, photo_id)
    audit_read(store, principal, "photo", photo_id, fields=("image",), purpose="api")
    return FileResponse(path, headers={"Cache-Control": "private, no-store"})


@router.get("/patients/{patient_id}/photos/{photo_id}/thumbnail.jpg",
            response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
def get_photo_thumbnail(patient_id: str, photo_id: str, store: StoreDep,
                        principal: Principal = Depends(require("photos"))) -> Response:
    """A small JPEG of the photograph for galleries (from its stored screen copy)."""
    from dermatrack.services.derived import thumbnail_jpeg

    photo_of(store, photo_id, patient_id)
    data = thumbnail_jpeg(store, photo_id)
    audit_read(store, principal, "photo", photo_id, fields=("thumbnail",), purpose="gallery")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


class PhotoPairOut(BaseModel):
    """A before/after pair as the viewer shows it, without the images."""

    baseline_id: str
    followup_id: str
    alignment_method: str = Field(description="How the follow-up was aligned onto the "
                                              "baseline (landmarks, ECC, or both).")
    alignment_correlation: float | None = Field(
        description="ECC correlation of the aligned pair (1 = identical), when ECC ran.")
    changed_fraction: float = Field(description="Share of the skin both photographs show "
                                                "whose colour changed visibly (ΔE*ab over "
                                                "2.3).")
    capture_differences: list[str] | None = Field(
        description="How the two photographs were taken differently beyond what the "
                    "metrics tolerate (pose, expression, sharpness, scale, light, framing, "
                    "colour), as `dermatrack photo compare` names them; empty when they "
                    "match, null when either photograph was stored without what this "
                    "needs (not analysed, or stored before it was kept).")
    uncompared_fraction: dict[str, float] | None = Field(
        description="Per region of the baseline, the share of its skin the pair cannot "
                    "compare: hidden in the follow-up, or beside hair, glasses or a "
                    "shadow in one photograph only (named among `capture_differences` "
                    "beyond the share `photo compare` allows); null when either "
                    "photograph was stored without its regions.")
    method_difference: str | None = Field(
        None, description="The two photographs were measured by different versions of the "
                          "photo method, and which: no figure of one compares with the "
                          "other's until `dermatrack photo reanalyse` measures both with "
                          "one version. Null when one version measured both (or either "
                          "was stored without what this needs).")


@router.get("/patients/{patient_id}/photos/{baseline_id}/compare/{followup_id}")
def compare_pair(request: Request, patient_id: str, baseline_id: str, followup_id: str,
                 store: StoreDep,
                 principal: Principal = Depends(require("photos"))) -> PhotoPairOut:
    """The before/after pair's alignment, visible colour change and capture differences
    (each photograph's metrics: ``.../photos/{photo_id}/metrics``)."""
    from dermatrack.services.derived import pair_capture_of
    from dermatrack.web import viewer

    for photo_id in (baseline_id, followup_id):
        photo_of(store, photo_id, patient_id)
    pair = viewer.aligned_pair(request.app, store, baseline_id, followup_id)
    audit_read(store, principal, "photo", f"{baseline_id}/{followup_id}",
               fields=("alignment", "capture"), purpose="before/after viewer")
    capture = pair_capture_of(store, baseline_id, followup_id)
    return PhotoPairOut(baseline_id=baseline_id, followup_id=followup_id,
                        alignment_method=pair.method,
                        alignment_correlation=pair.correlation,
                        changed_fraction=pair.changed_fraction,
                        capture_differences=capture.differences,
                        uncompared_fraction=capture.uncompared,
                        method_difference=capture.method_difference)


@router.get("/patients/{patient_id}/photos/{baseline_id}/compare/{followup_id}/{layer}.png",
            response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def compare_layer(request: Request, patient_id: str, baseline_id: str, followup_id: str,
                  layer: str, store: StoreDep,
                  principal: Principal = Depends(require("photos"))) -> Response:
    """One layer of the before/after viewer: ``baseline``, ``aligned`` (the follow-up
    warped onto the baseline) or ``change`` (colour difference overlay)."""
    from dermatrack.web import viewer

    if layer not in viewer.LAYERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"unknown layer {layer!r}; expected {', '.join(viewer.LAYERS)}")
    for photo_id in (baseline_id, followup_id):
        photo_of(store, photo_id, patient_id)
    pair = viewer.aligned_pair(request.app, store, baseline_id, followup_id)
    audit_read(store, principal, "photo", f"{baseline_id}/{followup_id}",
               fields=(layer,), purpose="before/after viewer")
    return Response(pair.png(layer), media_type="image/png",
                    headers={"Cache-Control": "private, no-store"})
