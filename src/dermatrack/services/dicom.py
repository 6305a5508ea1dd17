"""Photographs as DICOM: export to files, push to and pull from a DICOMweb server.

* :func:`export_dicom` writes each stored photograph as a VL Photographic Image
  (:mod:`dermatrack.interop.dicom.photo`: pseudonymous patient id, one study per visit,
  region, view, capture time, scale and calibration), ``DIR/<patient>/<photo>.dcm``.
* :func:`push_dicom` sends the same objects to a DICOMweb server with STOW-RS.
* :func:`pull_dicom` finds a server's VL Photographic Images with QIDO-RS (all, or one
  patient's), retrieves each with WADO-RS, checks it is a photograph, writes it to a folder
  and, when asked, imports it into the store (:func:`dermatrack.services.photos.import_photo`:
  a photograph already stored with the same pixels is not stored twice).

Every photograph sent is recorded as read in the audit trail (purpose ``dicom-export`` or
``dicom-push``).

Each ``.dcm`` file of :func:`export_dicom` and :func:`pull_dicom` is written through
:func:`dermatrack.store.partial_files.replacing`: whole or not at all, and owner-only
when new; the stale partial files it removes are named in ``stale_partials_removed``,
relative to the folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from dermatrack.errors import InputError
from dermatrack.interop.dicom.photo import VL_PHOTOGRAPHIC_IMAGE, photo_dataset, to_bytes
from dermatrack.services.common import Store
from dermatrack.store.partial_files import replacing


def _calibration(session: Any, photo: Any) -> dict[str, Any]:
    """Scale and colour calibration of a photograph, from its analysis settings."""
    from dermatrack.store.models import Observation

    for observation in session.scalars(select(Observation).where(
            Observation.patient_id == photo.patient_id,
            Observation.source_sha256 == photo.sha256)):
        settings = observation.settings or {}
        if settings.get("photo_id") in (None, photo.id):
            return {k: settings[k] for k in ("calibrated", "delta_e2000_mean", "scale_source",
                                             "mm_per_px") if settings.get(k) is not None}
    return {}


def _stored_pixels(store: Store, relative: str) -> np.ndarray:
    """The stored photograph's 8-bit RGB pixels, exactly as stored."""
    import cv2

    from dermatrack.store.files import read_bytes

    data = read_bytes(store.settings.files_dir, relative)
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"the stored photograph {relative} cannot be decoded", field="photo")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def photo_datasets(store: Store, *, patient_id: str | None = None,
                   actor: str, purpose: str) -> Iterator[tuple[Any, Any]]:
    """``(photo row, VL Photographic Image dataset)`` for each stored photograph."""
    from dermatrack.services.audit import record_read
    from dermatrack.services.common import get_patient
    from dermatrack.store.models import Photo, Visit

    with store.reading() as session:
        if patient_id is not None:
            get_patient(session, patient_id, field="patient")
        query = select(Photo).order_by(Photo.patient_id, Photo.created_at, Photo.id)
        if patient_id is not None:
            query = query.where(Photo.patient_id == patient_id)
        photos = list(session.scalars(query))
        visits = {v.id: v for v in session.scalars(select(Visit))}
        calibrations = {p.id: _calibration(session, p) for p in photos}
    if photos:
        with store.transaction(actor) as session:
            for photo in photos:
                record_read(session, entity="photo", entity_id=photo.id, fields=("pixels",),
                            purpose=purpose)
    numbers: dict[str, int] = {}
    for photo in photos:
        visit = visits.get(photo.visit_id) if photo.visit_id else None
        key = photo.visit_id or photo.patient_id
        numbers[key] = numbers.get(key, 0) + 1
        calibration = calibrations[photo.id]
        mm_per_px = photo.mm_per_px if photo.mm_per_px is not None \
            else calibration.get("mm_per_px")
        yield photo, photo_dataset(
            _stored_pixels(store, photo.stored_path), patient_id=photo.patient_id,
            photo_id=photo.id, visit_id=photo.visit_id,
            visit_date=visit.date if visit else None,
            timepoint=visit.timepoint if visit else None, taken_at=photo.taken_at,
            region=photo.region, view=photo.view, mm_per_px=mm_per_px,
            calibration={k: v for k, v in calibration.items() if k != "mm_per_px"},
            instance_number=numbers[key],
            lossy=not photo.stored_path.endswith(".png"))


def _write_file(directory: Path, target: Path, ds: Any, stale: list[str]) -> None:
    """Write ``ds`` to ``target`` whole or not at all, owner-only when new (module
    docstring); add the stale partial files removed, relative to ``directory``."""
    with replacing(target) as replacement:
        replacement.partial.write_bytes(to_bytes(ds))
    folder = Path(os.path.relpath(target.parent, directory))
    stale.extend((folder / name).as_posix() for name in replacement.stale_removed)


#: A DICOM UID (PS3.5 9.1): dot-separated decimal components, at most 64 characters.
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")
#: Characters a folder named after a server's Patient ID may keep as they are.
_SAFE_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _patient_folder(patient_id: str | None) -> str:
    """A folder name for a Patient ID sent by a server, which must not reach outside the
    output folder (``..``, ``/``, an absolute path) nor merge two patients: an ID that is
    not plainly safe keeps its safe characters and gets a hash of the whole ID."""
    text = str(patient_id or "").strip()
    if not text:
        return "unknown"
    if _SAFE_FOLDER.fullmatch(text) and len(text) <= 64:
        return text
    kept = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:48] or "patient"
    return f"{kept}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def export_dicom(store: Store, out: str | Path, *, actor: str,
                 patient_id: str | None = None) -> dict[str, Any]:
    """Write every photograph (of one patient, or all) as ``DIR/<patient>/<photo>.dcm``,
    each file whole or not at all and owner-only when new (module docstring)."""
    directory = Path(out)
    files: list[str] = []
    stale: list[str] = []
    try:
        for photo, ds in photo_datasets(store, patient_id=patient_id, actor=actor,
                                        purpose="dicom-export"):
            target = directory / photo.patient_id / f"{photo.id}.dcm"
            _write_file(directory, target, ds, stale)
            files.append(str(target))
    except OSError as exc:
        raise InputError(f"cannot write {directory}: {exc.strerror or exc}",
                         field="out") from exc
    return {"out": str(directory), "photos": len(files), "files": files,
            "stale_partials_removed": stale}


def _client(url: str) -> Any:
    from dicomweb_client.api import DICOMwebClient

    if not url.startswith(("http://", "https://")):
        raise InputError(f"--url must be an http:// or https:// DICOMweb base URL, not "
                         f"{url!r}", field="url")
    return DICOMwebClient(url=url.rstrip("/"), timeout=60)


def _server_error(url: str, exc: Exception) -> InputError:
    return InputError(f"the DICOMweb server at {url} refused or failed the request: {exc}",
                      field="url")


def push_dicom(store: Store, url: str, *, actor: str, patient_id: str | None = None
               ) -> dict[str, Any]:
    """Send every photograph (of one patient, or all) to a DICOMweb server (STOW-RS)."""
    import requests

    client = _client(url)
    sent = []
    try:
        for photo, ds in photo_datasets(store, patient_id=patient_id, actor=actor,
                                        purpose="dicom-push"):
            response = client.store_instances([ds])
            failed = getattr(response, "FailedSOPSequence", None)
            if failed:
                raise InputError(f"the server refused photograph {photo.id}: "
                                 f"{failed[0].get('FailureReason', '?')}", field="url")
            sent.append({"photo_id": photo.id, "patient_id": photo.patient_id,
                         "study_uid": ds.StudyInstanceUID, "sop_uid": ds.SOPInstanceUID})
    except (requests.RequestException, OSError) as exc:
        raise _server_error(url, exc) from exc
    return {"url": url, "sent": len(sent), "instances": sent}


def _value(item: dict[str, Any], tag: str) -> str | None:
    values = (item.get(tag) or {}).get("Value") or []
    return str(values[0]) if values else None


def pull_dicom(url: str, out: str | Path, *, patient_id: str | None = None,
               store: Store | None = None, actor: str | None = None) -> dict[str, Any]:
    """Find (QIDO-RS) and retrieve (WADO-RS) a server's photographs into ``out``, each
    file whole or not at all and owner-only when new (module docstring); import them into
    ``store`` too when it is given (``actor`` then required)."""
    import requests

    from dermatrack.interop.dicom.photo import check_photograph

    client = _client(url)
    filters: dict[str, Any] = {"SOPClassUID": VL_PHOTOGRAPHIC_IMAGE}
    if patient_id:
        filters["PatientID"] = patient_id
    directory = Path(out)
    pulled: list[str] = []
    imported: list[str] = []
    already: list[str] = []
    stale: list[str] = []
    refused: list[dict[str, str]] = []
    try:
        found = client.search_for_instances(search_filters=filters, get_remaining=True,
                                            fields=["PatientID", "SOPClassUID"])
        for item in found:
            study, series, sop = (_value(item, "0020000D"), _value(item, "0020000E"),
                                  _value(item, "00080018"))
            if not (study and series and sop):
                continue
            if _value(item, "00080016") not in (None, VL_PHOTOGRAPHIC_IMAGE):
                continue
            if len(sop) > 64 or not _UID.fullmatch(sop):  # it names the file
                refused.append({"sop_instance_uid": sop[:80],
                                "reason": "not a DICOM UID (digits and dots, <= 64)"})
                continue
            ds = _retrieve_instance(url, study, series, sop)
            check_photograph(ds, f"instance {sop}")
            target = directory / _patient_folder(ds.PatientID) / f"{sop}.dcm"
            _write_file(directory, target, ds, stale)
            pulled.append(str(target))
            if store is not None:
                result = _import_pulled(store, target, ds, actor=actor or "dicom-pull")
                (imported if result else already).append(str(target))
    except (requests.RequestException, OSError) as exc:
        raise _server_error(url, exc) from exc
    return {"url": url, "out": str(directory), "pulled": len(pulled), "files": pulled,
            "imported": len(imported), "already_stored": len(already),
            "stale_partials_removed": stale, "refused": refused}


def _retrieve_instance(url: str, study: str, series: str, sop: str) -> Any:
    """One instance by WADO-RS (``multipart/related; type="application/dicom"``).

    Read here rather than by the DICOMweb client library because some servers (Orthanc's
    DICOMweb plugin 1.7, Debian 12) send each part without the 128-byte preamble and
    ``DICM`` prefix of a Part 10 file, which that library refuses; the parts are read
    with the file meta group as sent.
    """
    import email.parser
    import io

    import pydicom
    import requests

    response = requests.get(
        f"{url.rstrip('/')}/studies/{study}/series/{series}/instances/{sop}",
        headers={"Accept": 'multipart/related; type="application/dicom"'}, timeout=60)
    response.raise_for_status()
    head = f"Content-Type: {response.headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + response.content)
    parts = [p.get_payload(decode=True) for p in message.walk()
             if p.get_content_type() == "application/dicom"]
    if len(parts) != 1:
        raise InputError(f"the server sent {len(parts)} DICOM parts for instance {sop}, "
                         "not one", field="url")
    payload = parts[0]
    if not isinstance(payload, bytes):  # a multipart part decodes to None
        raise InputError(f"the DICOM part of instance {sop} from {url} is not a single "
                         "body", field="url")
    try:
        return pydicom.dcmread(io.BytesIO(payload), force=True)
    except Exception as exc:  # a damaged part: name the instance
        raise InputError(f"instance {sop} from {url} is not readable DICOM ({exc})",
                         field="url") from None


def _import_pulled(store: Store, path: Path, ds: Any, *, actor: str) -> str | None:
    """Import a pulled photograph unless the patient already has the same pixels."""
    import hashlib

    from dermatrack.interop.dicom.photo import pixels_of
    from dermatrack.services import photos
    from dermatrack.services.common import get_patient
    from dermatrack.store.models import Photo

    patient_id = str(ds.PatientID or "")
    with store.reading() as session:
        get_patient(session, patient_id, field="PatientID")
        digests = {p.sha256: p.stored_path for p in session.scalars(
            select(Photo).where(Photo.patient_id == patient_id))}
    pixels = pixels_of(ds, path.name, 10**9)
    for relative in digests.values():
        stored = _stored_pixels(store, relative)
        if stored.shape == pixels.shape and hashlib.sha256(stored.tobytes()).digest() == \
                hashlib.sha256(pixels.tobytes()).digest():
            return None
    photo = photos.import_photo(store, patient_id=patient_id, visit_id=None, path=path,
                                actor=actor, analyze=False)
    return photo.id
