"""Clinical photographs: import, analysis and storage as observations.

Importing a photograph

1. decodes it with :func:`dermatrack.imaging.io.read_image`, which refuses files that are
   not JPEG, PNG, TIFF or HEIC, damaged files and decompression bombs, applies the EXIF
   orientation and converts an embedded ICC profile to sRGB;
2. re-encodes the decoded pixels (no EXIF, GPS, ICC, comments or file name: the original
   bytes are never kept) and stores them in the content-addressed file store
   (:mod:`dermatrack.store.files`);
3. analyses the pixels (:func:`dermatrack.imaging.analysis.run_analysis`), whose typed
   result (:class:`~dermatrack.imaging.analysis.PhotoResult`: every metric of the imaging
   core's definitions per region, with its unit) is stored as it is, and
4. writes the ``photo`` row and one observation (kind ``photo``) per metric and
   region (through :func:`dermatrack.services.observations.add_observations`, which
   validates them as every observation is validated), in one transaction: a photograph
   is stored with all of its metrics or not at all. (A file written to the
   content-addressed store before a failed transaction is left there unreferenced; it
   holds pixels only and is reused if the same image comes again.)

Metric codes are ``<family>.<metric>`` as in the analysis JSON (``wrinkles.length_mm``,
``pigment.ita_deg``, ``redness.a_star``, ...), plus ``area_mm2`` for each region's size.
When the physical scale is unknown, the analysis reports lengths in pixels and the
observation's unit says so (``px``, ``px²``); metric codes keep their names.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel
from sqlalchemy import func, select

from dermatrack.errors import InputError
from dermatrack.imaging.definitions import PHOTO_KIND
from dermatrack.services.common import Record, Store, get_patient, get_visit
from dermatrack.services.observations import Measurement, add_observations, check_measurement
from dermatrack.services.paging import Page, keyset_page
from dermatrack.services.photo_files import load_photo_rgb as load_photo_rgb
from dermatrack.services.photo_files import photo_file as photo_file
from dermatrack.store.models import Observation, Photo

if TYPE_CHECKING:
    from dermatrack.imaging.analysis import PhotoResult

PHOTO_VIEWS = ("front", "left_45", "right_45", "left_90", "right_90", "closeup")
"""Standard views of a visit's photographs (issue 16): the patient's left or right side
turned 45 or 90 degrees towards the camera, and close-ups (their names for exchange are in
``interop/codes.yaml``)."""

StoredFormat = Literal["png", "jpeg"]

JPEG_QUALITY = 95
"""Quality of a photograph stored as JPEG (libjpeg scale): visually lossless."""

METHOD = ("dermatrack photo analysis (imaging.analysis), method version {version}; "
          "definitions in the metric docstrings")
"""The observations' method (FHIR ``Observation.method``), with the version that measured
them (:data:`~dermatrack.imaging.definitions.PHOTO_METHOD_VERSION`)."""


class PhotoOut(Record):
    """A stored photograph and a summary of its analysis."""

    id: str
    patient_id: str
    visit_id: str | None
    sha256: str
    width: int
    height: int
    taken_at: dt.datetime | None
    created_at: dt.datetime
    view: str | None = None
    observations: int = 0
    mm_per_px: float | None = None
    scale_source: str | None = None
    face_detected: bool | None = None
    #: The version of the photo method that measured it; None when not analysed or
    #: stored before versions were recorded.
    method_version: str | None = None
    regions: list[str] = []
    region: str | None = None
    duplicate_of: str | None = None


class PhotoAnalysis(BaseModel):
    """The analysis of one decoded photograph, ready to be stored with it."""

    source_sha256: str
    result: dict[str, Any]
    display: dict[str, Any] | None = None
    """The screen copy, feature masks and landmarks (:func:`.derived.display_pack`)."""


# --- analysis (no database) ---------------------------------------------------------------

def analyze_file(path: str | Path, *, mm_per_px: float | None = None, use_face: bool = True,
                 calibrate: bool = True) -> PhotoAnalysis:
    """Decode and analyse a photograph file (picklable: used by worker processes).

    The result carries the SHA-256 of the file, so that :func:`import_photo` can check it
    was made from the same file it stores.
    """
    from dermatrack.imaging.io import read_image

    return analyze_loaded(read_image(path), mm_per_px=mm_per_px, use_face=use_face,
                          calibrate=calibrate)


def analyze_loaded(loaded: Any, *, mm_per_px: float | None = None, use_face: bool = True,
                   calibrate: bool = True) -> PhotoAnalysis:
    """The analysis of a decoded photograph with its screen copy and feature masks."""
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.services.derived import display_pack

    result = run_analysis(loaded, mm_per_px=mm_per_px, use_face=use_face,
                          calibrate=calibrate)
    return PhotoAnalysis(source_sha256=loaded.sha256, result=result.report,
                         display=display_pack(loaded.rgb, result))


def metric_rows(result: PhotoResult | Mapping[str, Any]) -> list[dict[str, Any]]:
    """An analysis as ``{region, metric, value, unit}`` rows (for tables and exports).

    ``result`` is the typed result (or the ``photo analyze`` JSON it is read from, by
    :meth:`~dermatrack.imaging.analysis.PhotoResult.of`). Every metric the imaging core
    defines is a row; one the analysis could not compute has a null value. Text results
    (``pigment.ita_category``) are derived from stored numbers and are left out.
    """
    from dermatrack.imaging.analysis import PhotoResult

    typed = result if isinstance(result, PhotoResult) else PhotoResult.of(dict(result))
    return [{"region": m.region, "metric": m.code, "value": m.value, "unit": m.unit}
            for m in typed.metrics]


def _encode(rgb: np.ndarray, stored_format: StoredFormat) -> tuple[bytes, str]:
    """Pixels only: OpenCV writes no metadata segments or chunks of its own."""
    import cv2

    pixels = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0)
    bgr = cv2.cvtColor((pixels * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
    if stored_format == "jpeg":
        ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        suffix = ".jpg"
    else:
        ok, buffer = cv2.imencode(".png", bgr)
        suffix = ".png"
    if not ok:
        raise InputError("the photograph could not be re-encoded", field="image")
    return buffer.tobytes(), suffix


# --- services -----------------------------------------------------------------------------

def import_photo(store: Store, *, patient_id: str, visit_id: str | None, path: str | Path,
                 actor: str, analyze: bool = True, mm_per_px: float | None = None,
                 analysis: PhotoAnalysis | None = None, use_face: bool = True,
                 stored_format: StoredFormat = "png", region: str | None = None,
                 view: str | None = None, reduce_to_pixels: int | None = None,
                 align: bool = True) -> PhotoOut:
    """Store a photograph of a patient (at a visit) and its metrics (module docstring).

    Parameters
    ----------
    patient_id, visit_id:
        The patient and, usually, the visit the photograph was taken at.
    path:
        The JPEG, PNG, TIFF or HEIC file.
    actor:
        Who imports it (audit trail).
    analyze:
        Run the analysis and store its metrics; False stores the photograph only.
    mm_per_px:
        Physical scale given by the user, mm per pixel (overrides the detected one).
    analysis:
        An analysis already made from the same file by :func:`analyze_file` (e.g. in a
        worker process); it is checked against the file's digest.
    use_face:
        Look for a face and report per facial region (False: a close-up, one region).
    stored_format:
        ``png`` (lossless, default) or ``jpeg`` (quality 95, for bulk imports).
    region, view:
        The anatomic region shown (region vocabulary) and the standard view
        (:data:`PHOTO_VIEWS`: ``front``, ``left_45``, ...), when known. A DICOM photograph
        gives its own region, view, pixel spacing, capture time and (when dermatrack wrote
        it) visit; values given here take precedence.
    reduce_to_pixels:
        Decode, store and analyse a larger photograph scaled down to at most this many
        pixels (:func:`dermatrack.imaging.io.read_image`), which bounds the memory one
        import needs; ``mm_per_px`` is scaled to match. None: at full resolution.
    align:
        Align the photograph onto the patient's baseline photograph now and store the
        alignment (:mod:`dermatrack.services.derived`); False leaves it to the first
        page that needs it.

    Returns
    -------
    PhotoOut
        With ``duplicate_of`` set to the id of a photograph of the same patient holding
        exactly the same pixels, when there is one (the same file uploaded twice): it is
        stored all the same, and the caller says so.

    Raises
    ------
    InputError
        Not an image, a damaged or oversized file, an unknown patient or visit, or an
        analysis made from another file; nothing is stored then.
    """
    from dermatrack.imaging.io import read_image
    from dermatrack.store.files import put_bytes

    if mm_per_px is not None and not (math.isfinite(mm_per_px) and mm_per_px > 0):
        raise InputError(f"mm per pixel must be a positive number, got {mm_per_px}",
                         field="mm_per_px")
    if stored_format not in ("png", "jpeg"):
        raise InputError(f"stored format must be png or jpeg, got {stored_format!r}",
                         field="stored_format")
    from dermatrack.services import consent

    if view is not None and view not in PHOTO_VIEWS:
        raise InputError(f"unknown view {view!r}; expected one of {', '.join(PHOTO_VIEWS)}",
                         field="view")
    with store.reading() as session:  # fail fast, before the slow analysis
        get_patient(session, patient_id)
        if visit_id is not None:
            get_visit(session, visit_id, patient_id)
        consent.require(session, patient_id, "photo")

    from dermatrack.services.derived import display_pack, save_display

    loaded = read_image(path, reduce_to_pixels=reduce_to_pixels)
    dicom = _dicom_metadata(path)
    taken_at = None
    if dicom is not None:
        visit_id = _dicom_visit(store, dicom, patient_id, visit_id)
        region = region or dicom.region
        view = view or dicom.view
        taken_at = dicom.taken_at
        if mm_per_px is None:
            mm_per_px = dicom.mm_per_px
    region = _check_region_view(region, view)
    if loaded.reduced_from is not None and mm_per_px is not None:
        full_pixels = loaded.reduced_from[0] * loaded.reduced_from[1]
        mm_per_px = mm_per_px * math.sqrt(full_pixels / (loaded.width * loaded.height))
    result: dict[str, Any] | None = None
    display: dict[str, Any] | None = None
    if analysis is not None:
        if analysis.source_sha256 != loaded.sha256:
            raise InputError("the analysis given was made from another file", field="analysis")
        result, display = analysis.result, analysis.display
    elif analyze:
        made = analyze_loaded(loaded, mm_per_px=mm_per_px, use_face=use_face)
        result, display = made.result, made.display
    if display is None:
        display = display_pack(loaded.rgb)
    from dermatrack.imaging.analysis import PhotoResult

    typed = PhotoResult.of(result) if result is not None else None
    settings = _analysis_settings(typed) if typed is not None else None
    measurements = _measurements(typed, settings)
    for measurement in measurements:  # fail before anything is written
        try:
            check_measurement(measurement)
        except InputError as error:
            raise InputError(f"the analysis produced an unusable observation "
                             f"({error.field}): {error.message}", field="analysis") from None

    data, suffix = _encode(loaded.rgb, stored_format)
    digest, relative = put_bytes(store.settings.files_dir, data, suffix)

    with store.transaction(actor) as session:
        get_patient(session, patient_id)
        if visit_id is not None:
            get_visit(session, visit_id, patient_id)
        consent.require(session, patient_id, "photo")
        duplicate = session.scalars(select(Photo.id).where(
            Photo.patient_id == patient_id, Photo.sha256 == digest)
            .order_by(Photo.created_at)).first()
        photo = Photo(patient_id=patient_id, visit_id=visit_id, sha256=digest,
                      stored_path=relative.as_posix(), width=loaded.width,
                      height=loaded.height, taken_at=taken_at, region=region, view=view,
                      mm_per_px=mm_per_px if mm_per_px is not None
                      else (settings or {}).get("mm_per_px"))
        session.add(photo)
        session.flush()
        stored = add_observations(
            session, patient_id=patient_id, visit_id=visit_id,
            measurements=[replace(m, source_sha256=digest,
                                  settings={**(m.settings or {}), "photo_id": photo.id})
                          for m in measurements])
        save_display(session, store.settings.files_dir, photo.id, display)
        out = _photo_out(photo, len(stored), settings)
        out.duplicate_of = duplicate
    if align:
        from dermatrack.services.derived import align_to_patient_baseline

        align_to_patient_baseline(store, out.id, actor=actor)
    return out


def _dicom_metadata(path: str | Path) -> Any:
    """The metadata of a DICOM photograph file, or None for other images."""
    from dermatrack.interop.dicom.photo import is_dicom, parse, read_metadata

    with open(path, "rb") as handle:
        head = handle.read(132)
    if not is_dicom(head):
        return None
    return read_metadata(parse(Path(path).read_bytes(), Path(path).name))


def _dicom_visit(store: Store, dicom: Any, patient_id: str, visit_id: str | None
                 ) -> str | None:
    """Check a DICOM photograph is the patient's; the visit it names when none is given."""
    import re

    from dermatrack.store.models import Visit

    if re.fullmatch(r"P-[0-9A-Z]{6}", dicom.patient_id or "") \
            and dicom.patient_id != patient_id:
        raise InputError(f"the DICOM photograph is of patient {dicom.patient_id}, not "
                         f"{patient_id}", field="patient_id")
    if visit_id is None and dicom.visit_id:
        with store.reading() as session:
            visit = session.get(Visit, dicom.visit_id)
            if visit is not None and visit.patient_id == patient_id \
                    and visit.deleted_at is None:
                return visit.id
    return visit_id


def _check_region_view(region: str | None, view: str | None) -> str | None:
    """The region's vocabulary code (aliases resolved); InputError for unknown codes."""
    from dermatrack.interop.codes import views
    from dermatrack.knowledge.vocabulary import load_vocabulary

    if view is not None and view not in views():
        raise InputError(f"unknown view {view!r} (one of {', '.join(views())})", field="view")
    if region is None:
        return None
    return load_vocabulary().require("regions", region, field="region").code


def _measurements(result: PhotoResult | None,
                  settings: dict[str, Any] | None) -> list[Measurement]:
    """The typed result of an analysis as one photo measurement per region, each metric
    with the unit of its definition in the imaging core."""
    if result is None:
        return []
    return [Measurement(region=region, kind=PHOTO_KIND,
                        method=METHOD.format(version=result.method_version),
                        settings=settings,
                        values={m.code: m.value for m in result.of_region(region)},
                        units={m.code: m.unit for m in result.of_region(region)})
            for region in result.regions()]


def _analysis_settings(result: PhotoResult) -> dict[str, Any]:
    """What the metrics depend on: scale and its source, calibration, face detection and
    the version of the photo method that measured them."""
    return {"mm_per_px": result.mm_per_px, "scale_source": result.scale_source,
            "calibrated": result.calibrated, "delta_e2000_mean": result.delta_e2000_mean,
            "face_detected": result.face_detected, "method_version": result.method_version}


def _photo_out(photo: Photo, n_observations: int,
               settings: Mapping[str, Any] | None, regions: list[str] | None = None
               ) -> PhotoOut:
    out = PhotoOut.model_validate(photo)
    out.observations = n_observations
    if settings:
        out.mm_per_px = settings.get("mm_per_px")
        out.scale_source = settings.get("scale_source")
        out.face_detected = settings.get("face_detected")
        out.method_version = settings.get("method_version")
    out.regions = regions or []
    return out


def list_photos(store: Store, patient_id: str) -> list[PhotoOut]:
    """A patient's photographs, by visit date then import time, with analysis summaries."""
    with store.reading() as session:
        get_patient(session, patient_id)
        return photos_of(session, patient_id)


def photos_of(session: Any, patient_id: str) -> list[PhotoOut]:
    """:func:`list_photos`, read in the caller's transaction."""
    from dermatrack.store.models import Visit

    photos = list(session.scalars(
        select(Photo).outerjoin(Visit, Photo.visit_id == Visit.id)
        .where(Photo.patient_id == patient_id)
        # Photographs of a visit by date; those tied to no visit last.
        .order_by(Visit.date.is_(None), Visit.date, Photo.created_at, Photo.id)))
    return _photo_outs(session, patient_id, photos)


def page_photos(store: Store, patient_id: str, *, cursor: str | None = None,
                limit: int | None = None) -> Page[PhotoOut]:
    """A page of a patient's photographs in the order they were stored
    (:func:`list_photos` orders them all by visit date)."""
    with store.reading() as session:
        get_patient(session, patient_id)
        page = keyset_page(session, select(Photo).where(Photo.patient_id == patient_id),
                           (Photo.created_at, Photo.id), cursor=cursor, limit=limit)
        return Page(items=_photo_outs(session, patient_id, page.items), next=page.next)


def _photo_outs(session: Any, patient_id: str, photos: list[Photo]) -> list[PhotoOut]:
    """Photos with their analysis summaries (observation count, scale, regions)."""
    counts = dict(session.execute(
        select(Observation.source_sha256, func.count())
        .where(Observation.patient_id == patient_id, Observation.kind == PHOTO_KIND,
               Observation.source_sha256.in_(sorted({p.sha256 for p in photos})))
        .group_by(Observation.source_sha256)).all())
    outputs = []
    for photo in photos:
        first = session.scalars(
            select(Observation).where(Observation.patient_id == patient_id,
                                      Observation.kind == PHOTO_KIND,
                                      Observation.source_sha256 == photo.sha256)
            .limit(1)).first()
        regions = sorted(session.scalars(
            select(Observation.region).distinct()
            .where(Observation.patient_id == patient_id, Observation.kind == PHOTO_KIND,
                   Observation.source_sha256 == photo.sha256)))
        outputs.append(_photo_out(photo, counts.get(photo.sha256, 0),
                                  first.settings if first is not None else None,
                                  regions))
    return outputs


# --- measuring stored photographs again ---------------------------------------------------

class Reanalysis(BaseModel):
    """What :func:`reanalyse_photo` did with one stored photograph."""

    photo_id: str
    patient_id: str
    #: ``remeasured``, ``current`` (already measured by this version), ``not_analysed``
    #: (stored without metrics, left so) or ``kept`` (this version refuses it, its file
    #: is missing or damaged, or the patient's consent no longer covers photographs: its
    #: figures are kept as they were, and ``reason`` says why)
    outcome: Literal["remeasured", "current", "not_analysed", "kept"]
    #: The version that measured its figures before, None when unrecorded.
    previous_version: str | None = None
    observations: int = 0
    reason: str | None = None


def measures_photo(observation: Any, photo: Any) -> bool:
    """Whether a photo observation (row or :class:`ObservationOut`) is of ``photo``: made
    from its pixels, and naming it (observations stored before they named their
    photograph name none), so that the same image stored twice keeps its own."""
    return (observation.source_sha256 == photo.sha256
            and (observation.settings or {}).get("photo_id", photo.id) == photo.id)


def _photo_observations(session: Any, photo: Photo) -> list[Observation]:
    """The live photo observations of a photograph (:func:`measures_photo`)."""
    rows = session.scalars(select(Observation).where(
        Observation.patient_id == photo.patient_id, Observation.kind == PHOTO_KIND,
        Observation.source_sha256 == photo.sha256)).all()
    return [o for o in rows if measures_photo(o, photo)]


def photos_to_reanalyse(store: Store, *, patient_id: str | None = None) -> list[str]:
    """The analysed photographs (of one patient, or every one) whose figures another
    version of the photo method measured (or one from before versions were recorded),
    oldest first. Two queries, whatever the number of photographs."""
    from collections import defaultdict

    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION

    version = Observation.settings["method_version"].as_string()
    named = Observation.settings["photo_id"].as_string()
    with store.reading() as session:
        photos = select(Photo.id, Photo.patient_id, Photo.sha256).where(
            Photo.deleted_at.is_(None)).order_by(Photo.created_at, Photo.id)
        measured = select(Observation.patient_id, Observation.source_sha256, named,
                          version).where(Observation.kind == PHOTO_KIND,
                                         Observation.deleted_at.is_(None)).distinct()
        if patient_id is not None:
            get_patient(session, patient_id)
            photos = photos.where(Photo.patient_id == patient_id)
            measured = measured.where(Observation.patient_id == patient_id)
        rows = session.execute(photos).all()
        # As measures_photo: by the photograph they name, else by its pixels.
        by_photo: dict[str, set[str | None]] = defaultdict(set)
        by_pixels: dict[tuple[str, str | None], set[str | None]] = defaultdict(set)
        for patient, digest, photo_id, name in session.execute(measured):
            if photo_id is not None:
                by_photo[photo_id].add(name)
            else:
                by_pixels[(patient, digest)].add(name)
    stale = []
    for photo_id, patient, digest in rows:
        versions = by_photo.get(photo_id, set()) | by_pixels.get((patient, digest), set())
        if versions and versions != {PHOTO_METHOD_VERSION}:
            stale.append(photo_id)
    return stale


def reanalyse_photo(store: Store, photo_id: str, *, actor: str) -> Reanalysis:
    """Measure a stored photograph again with this version of the photo method.

    Its stored pixels are analysed as they were at import (face or close-up as its
    figures say, the scale the user gave, the chart when one is in the frame). In one
    transaction its photo observations are soft-deleted (kept, with the reason, for the
    audit trail and for research that asks what was shown then), the new ones written
    and its screen copy, masks, regions and capture facts replaced. A photograph this
    version refuses, whose file is missing or damaged, or whose patient's consent no
    longer covers photographs, keeps what it had (``kept``, with the reason). Alignments
    stay: they are of the pixels.
    """
    from dermatrack.errors import NotFoundError
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.imaging.io import read_image
    from dermatrack.services import consent
    from dermatrack.services.common import get_row, soft_delete
    from dermatrack.services.derived import save_display

    with store.reading() as session:
        photo = get_row(session, Photo, photo_id)
        patient_id, digest = photo.patient_id, photo.sha256
        old = _photo_observations(session, photo)
        settings = dict(old[0].settings or {}) if old else {}
        versions = {(o.settings or {}).get("method_version") for o in old}
    previous = settings.get("method_version")
    done = Reanalysis(photo_id=photo_id, patient_id=patient_id, outcome="current",
                      previous_version=previous)
    if not old:
        return done.model_copy(update={"outcome": "not_analysed"})
    if versions == {PHOTO_METHOD_VERSION}:
        return done
    given_scale = settings.get("mm_per_px") if settings.get("scale_source") == "user" else None
    try:
        with store.reading() as session:
            consent.require(session, patient_id, "photo")
        made = analyze_loaded(read_image(photo_file(store, photo_id)), mm_per_px=given_scale,
                              use_face=bool(settings.get("face_detected", True)))
    except (InputError, NotFoundError) as error:
        return done.model_copy(update={"outcome": "kept", "reason": str(error)})
    from dermatrack.imaging.analysis import PhotoResult

    typed = PhotoResult.of(made.result)
    new_settings = _analysis_settings(typed)
    measurements = [replace(m, source_sha256=digest,
                            settings={**(m.settings or {}), "photo_id": photo_id})
                    for m in _measurements(typed, new_settings)]
    reason = (f"measured again with photo method {PHOTO_METHOD_VERSION} "
              f"(was {previous or 'unrecorded'})")
    with store.transaction(actor) as session:
        photo = get_row(session, Photo, photo_id)
        for row in _photo_observations(session, photo):
            soft_delete(row, actor=actor, reason=reason)
        stored = add_observations(session, patient_id=patient_id, visit_id=photo.visit_id,
                                  measurements=measurements)
        if made.display is not None:
            save_display(session, store.settings.files_dir, photo_id, made.display)
    return done.model_copy(update={"outcome": "remeasured", "observations": len(stored)})


#: The store of a worker process of :func:`reanalyse_many` (opened once per process).
_WORKER_STORE: list[Store] = []


def _open_worker_store(settings: Any) -> None:
    from dermatrack.services.common import open_store

    _WORKER_STORE.append(open_store(settings))


def _reanalyse_in_worker(photo_id: str, actor: str) -> Reanalysis:
    return reanalyse_photo(_WORKER_STORE[0], photo_id, actor=actor)


def reanalyse_many(store: Store, photo_ids: list[str], *, actor: str, workers: int = 1,
                   done: Any = None) -> list[Reanalysis]:
    """:func:`reanalyse_photo` of each photograph, in the order they finish.

    With ``workers`` > 1 the photographs are measured on that many worker processes
    (started afresh, each with its own connection to the store's database; SQLite's
    busy timeout queues their writes). Each photograph is measured and stored in a
    transaction of its own, so a run stopped part-way leaves every photograph it
    finished at this version, and a rerun (:func:`photos_to_reanalyse`) goes on with
    the rest. ``done`` is called with each :class:`Reanalysis` as it finishes (a
    progress bar).
    """
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}", field="workers")
    results: list[Reanalysis] = []

    def finished(result: Reanalysis) -> None:
        results.append(result)
        if done is not None:
            done(result)

    if workers == 1 or len(photo_ids) < 2:
        for photo_id in photo_ids:
            finished(reanalyse_photo(store, photo_id, actor=actor))
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(workers, len(photo_ids)),
                             mp_context=multiprocessing.get_context("spawn"),
                             initializer=_open_worker_store,
                             initargs=(store.settings,)) as pool:
        for future in as_completed([pool.submit(_reanalyse_in_worker, photo_id, actor)
                                    for photo_id in photo_ids]):
            finished(future.result())
    return results

