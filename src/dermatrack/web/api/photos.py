"""Clinical photographs: upload (checked and analysed as ``dermatrack photo import`` does),
list, fetch the stored pixels, and the aligned before/after pair. Clinicians only.

An upload is refused with 413 above the app's size limit and with 415 when the declared
type is not JPEG, PNG or TIFF; the content is then decoded by
:func:`dermatrack.imaging.io.read_image` through the photo service, which refuses files
whose bytes are not an image of those formats, damaged files and decompression bombs
(422 naming ``image``). What is stored is the decoded pixels re-encoded without metadata.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from dermatrack.services.observations import ObservationOut
from dermatrack.services.photos import PhotoOut
from dermatrack.web.deps import Principal, audit_read, get_store, read_patient, require

router = APIRouter(tags=["photos"])

ACCEPTED_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}
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


def photo_metrics(store, patient_id: str, photo: PhotoOut) -> list[ObservationOut]:
    from dermatrack.services import observations
    from dermatrack.services.photos import PHOTO_KIND

    return [o for o in observations.list_observations(store, patient_id=patient_id,
                                                      kind=PHOTO_KIND)
            if o.source_sha256 == photo.sha256]


def store_upload(store, principal: Principal, patient_id: str, visit_id: str | None,
                 data: bytes, suffix: str, use_face: bool = True) -> PhotoOut:
    """Import uploaded bytes through the photo service (which needs a file)."""
    from dermatrack.services import photos

    with tempfile.TemporaryDirectory(prefix="dermatrack-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        return photos.import_photo(store, patient_id=patient_id, visit_id=visit_id or None,
                                   path=path, actor=principal.actor, use_face=use_face)


@router.get("/patients/{patient_id}/photos", response_model=list[PhotoOut])
def list_photos(patient_id: str, store=Depends(get_store),
                principal: Principal = Depends(require("photos"))):
    from dermatrack.services import photos

    read_patient(store, principal, patient_id, fields=("photos",), purpose="api")
    return photos.list_photos(store, patient_id)


@router.post("/patients/{patient_id}/photos", response_model=PhotoUploadOut,
             status_code=status.HTTP_201_CREATED)
async def upload_photo(request: Request, patient_id: str,
                       image: UploadFile = File(..., description="JPEG, PNG or TIFF"),
                       visit_id: str | None = Form(None),
                       no_face: bool = Form(False, description="A close-up of skin: analyse "
                                            "as one region; a face photograph (the "
                                            "default) without a face is refused"),
                       store=Depends(get_store),
                       principal: Principal = Depends(require("photos"))):
    """Upload one photograph; it is analysed before the answer comes back."""
    from starlette.concurrency import run_in_threadpool

    declared = (image.content_type or "").split(";")[0].strip().lower()
    if declared not in ACCEPTED_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"{image.filename}: {declared or 'no type'} is not a JPEG, PNG "
                            "or TIFF image")
    data = await read_limited(image, request.app.state.max_upload_bytes)
    photo = await run_in_threadpool(store_upload, store, principal, patient_id, visit_id,
                                    data, ACCEPTED_TYPES[declared], not no_face)
    metrics = await run_in_threadpool(photo_metrics, store, patient_id, photo)
    return PhotoUploadOut(photo=photo, metrics=metrics)


def photo_of(store, photo_id: str, patient_id: str) -> PhotoOut:
    from dermatrack.errors import NotFoundError
    from dermatrack.services import photos

    for photo in photos.list_photos(store, patient_id):
        if photo.id == photo_id:
            return photo
    raise NotFoundError(f"no photo {photo_id!r} of patient {patient_id}")


@router.get("/patients/{patient_id}/photos/{photo_id}/metrics",
            response_model=list[ObservationOut])
def get_photo_metrics(patient_id: str, photo_id: str, store=Depends(get_store),
                      principal: Principal = Depends(require("photos"))):
    read_patient(store, principal, patient_id, fields=("photos", "measurements"),
                 purpose="api")
    return photo_metrics(store, patient_id, photo_of(store, photo_id, patient_id))


@router.get("/patients/{patient_id}/photos/{photo_id}/image",
            response_class=FileResponse)
def get_photo_image(patient_id: str, photo_id: str, store=Depends(get_store),
                    principal: Principal = Depends(require("photos"))):
    """The stored pixels (PNG or JPEG, no metadata)."""
    from dermatrack.services import photos

    photo_of(store, photo_id, patient_id)
    path = photos.photo_file(store, photo_id)
    audit_read(store, principal, "photo", photo_id, fields=("image",), purpose="api")
    return FileResponse(path, headers={"Cache-Control": "private, no-store"})


@router.get("/patients/{patient_id}/photos/{baseline_id}/compare/{followup_id}/{layer}.png",
            response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def compare_layer(request: Request, patient_id: str, baseline_id: str, followup_id: str,
                  layer: str, store=Depends(get_store),
                  principal: Principal = Depends(require("photos"))):
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
