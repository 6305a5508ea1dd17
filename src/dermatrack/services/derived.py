"""What is computed once from a stored photograph, and read by pages and reports.

Aligning two photographs and analysing one take seconds; a page or a report that did it
while rendering took tens of seconds on a clinic's worth of photographs. So, when a
photograph is stored (:func:`dermatrack.services.photos.import_photo`):

* its **screen copy** (long side :data:`~dermatrack.imaging.overlays.DISPLAY_SIZE`,
  JPEG), the **masks** of the wrinkles, spots, red areas and pores the analysis found
  (packed into one PNG on the screen copy's grid, :mod:`dermatrack.imaging.overlays`)
  and the **face landmarks** are stored (a ``photo_derivative`` row of kind
  ``display``; the images in the content-addressed file store), with the **capture**
  facts a pair is judged by (the ``quality`` object and the skin's median colour) and
  the **regions** with the skin colour mask and the line bands (one label image on the
  screen copy's grid, :func:`dermatrack.imaging.compare.region_labels`), so that the
  viewer can say when two photographs were taken too differently to compare, or one
  hides skin the other shows (:func:`pair_capture_of`);
* it is **aligned** onto the patient's baseline photograph (of the same view when
  photographs carry one) and the transform is stored (kind ``alignment``).

Any other pair the viewer is asked for is aligned once and stored the same way
(:func:`alignment_of`). Photographs stored before this existed get their screen copy on
first use (without masks unless re-analysed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from dermatrack.services.common import Store, get_row
from dermatrack.services.photo_files import load_photo_rgb
from dermatrack.store.models import Photo, PhotoDerivative, Visit

DISPLAY_JPEG_QUALITY = 90
THUMBNAIL_SIZE = 320
"""Long side (px) of the thumbnails of the chart and the gallery."""
SYSTEM_ACTOR = "dermatrack (derived images)"


@dataclass
class Display:
    """A photograph's screen copy, its feature masks (None when not analysed) and its
    face landmarks in screen-copy pixels (None without a face)."""

    photo_id: str
    rgb: np.ndarray
    masks: dict[str, np.ndarray] | None
    landmarks: np.ndarray | None


def _encode(pixels: np.ndarray, suffix: str, quality: int | None = None) -> bytes:
    import cv2

    if pixels.dtype != np.uint8:
        pixels = (np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8)
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if quality is not None else []
    ok, buffer = cv2.imencode(suffix, pixels, params)
    if not ok:
        raise RuntimeError(f"could not encode {suffix}")
    return buffer.tobytes()


def _decode(data: bytes, colour: bool) -> np.ndarray:
    import cv2

    array = cv2.imdecode(np.frombuffer(data, np.uint8),
                         cv2.IMREAD_COLOR if colour else cv2.IMREAD_UNCHANGED)
    if array is None:
        raise RuntimeError("a stored derived image could not be decoded")
    if colour:
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return array


def display_pack(rgb: np.ndarray, analysis: Any = None) -> dict[str, Any]:
    """The screen copy (JPEG bytes), the packed masks (PNG bytes or None) and the
    landmarks of a photograph, from its pixels and its
    :class:`~dermatrack.imaging.analysis.Analysis` (picklable: made in worker processes).
    """
    from dermatrack.imaging.overlays import display_shape, pack_masks, reduce_image

    shape = display_shape(rgb.shape)
    masks_png = landmarks = capture = regions_png = region_names = None
    if analysis is not None:
        import cv2

        from dermatrack.imaging.compare import region_labels
        from dermatrack.imaging.quality import skin_colour_stats

        masks_png = _encode(pack_masks(analysis.masks(), shape), ".png")
        labels, region_names = region_labels(analysis.regions)
        regions_png = _encode(cv2.resize(labels, (shape[1], shape[0]),
                                         interpolation=cv2.INTER_NEAREST), ".png")
        regions = analysis.regions
        if getattr(regions, "detected", False) and regions.landmarks is not None:
            factor = shape[1] / rgb.shape[1]
            landmarks = (np.asarray(regions.landmarks, np.float64) * factor).round(2).tolist()
        capture = {"quality": analysis.report["quality"],
                   "skin_colour": skin_colour_stats(rgb, regions.masks["whole"]),
                   "calibrated": bool(analysis.report["calibration"]["applied"]),
                   "method_version": analysis.report.get("method_version")}
    return {"image": _encode(reduce_image(rgb), ".jpg", DISPLAY_JPEG_QUALITY),
            "masks": masks_png, "landmarks": landmarks, "shape": list(shape),
            "source_shape": [int(rgb.shape[0]), int(rgb.shape[1])], "capture": capture,
            "regions": regions_png, "region_names": region_names}


def save_display(session: Any, files_dir: Any, photo_id: str, pack: dict[str, Any]) -> None:
    """Store a :func:`display_pack` for a photograph (in the caller's transaction)."""
    from dermatrack.store.files import put_bytes

    data: dict[str, Any] = {"shape": pack["shape"], "source_shape": pack["source_shape"],
                            "landmarks": pack["landmarks"], "masks": None,
                            "capture": pack.get("capture")}
    data["image"] = put_bytes(files_dir, pack["image"], ".jpg")[1].as_posix()
    if pack["masks"] is not None:
        data["masks"] = put_bytes(files_dir, pack["masks"], ".png")[1].as_posix()
    if pack.get("regions") is not None:
        data["regions"] = put_bytes(files_dir, pack["regions"], ".png")[1].as_posix()
        data["region_names"] = list(pack["region_names"])
    # A photograph measured again (``photo reanalyse``) has its row updated, audited
    # as every update: rows are never deleted.
    stored = session.scalars(select(PhotoDerivative).where(
        PhotoDerivative.photo_id == photo_id, PhotoDerivative.kind == "display")).first()
    if stored is not None:
        stored.data = data
    else:
        session.add(PhotoDerivative(photo_id=photo_id, kind="display", data=data))


def _display_row(store: Store, photo_id: str) -> dict[str, Any] | None:
    with store.reading() as session:
        row = session.scalars(select(PhotoDerivative).where(
            PhotoDerivative.photo_id == photo_id, PhotoDerivative.kind == "display")
            .order_by(PhotoDerivative.created_at.desc())).first()
        return None if row is None else dict(row.data)


def display_of(store: Store, photo_id: str) -> Display:
    """The stored screen copy, masks and landmarks of a photograph (made now, without
    masks, for a photograph stored before derived images existed)."""
    from dermatrack.store.files import read_bytes

    data = _display_row(store, photo_id)
    if data is None:
        pack = display_pack(load_photo_rgb(store, photo_id))
        with store.transaction(SYSTEM_ACTOR) as session:
            get_row(session, Photo, photo_id)
            save_display(session, store.settings.files_dir, photo_id, pack)
        data = _display_row(store, photo_id)
        assert data is not None
    files = store.settings.files_dir
    rgb = _decode(read_bytes(files, data["image"]), colour=True)
    masks = None
    if data.get("masks"):
        from dermatrack.imaging.overlays import unpack_masks

        masks = unpack_masks(_decode(read_bytes(files, data["masks"]), colour=False))
    landmarks = None if data.get("landmarks") is None else np.asarray(data["landmarks"])
    return Display(photo_id=photo_id, rgb=rgb, masks=masks, landmarks=landmarks)


def thumbnail_jpeg(store: Store, photo_id: str) -> bytes:
    """A small JPEG of a photograph for galleries (from its screen copy)."""
    from dermatrack.imaging.overlays import reduce_image

    return _encode(reduce_image(display_of(store, photo_id).rgb, THUMBNAIL_SIZE), ".jpg", 85)


# --- alignments ----------------------------------------------------------------------------

def _stored_alignment(session: Any, baseline_id: str, followup_id: str
                      ) -> dict[str, Any] | None:
    row = session.scalars(select(PhotoDerivative).where(
        PhotoDerivative.photo_id == followup_id, PhotoDerivative.baseline_id == baseline_id,
        PhotoDerivative.kind == "alignment")).first()
    return None if row is None else dict(row.data)


def compute_alignment(baseline: Display, followup: Display) -> dict[str, Any]:
    """Align two screen copies (landmarks when both have a face, then ECC); the
    follow-up -> baseline matrix in screen-copy pixels and the quality figures."""
    from dermatrack.imaging.align import align_to_baseline

    both = baseline.landmarks is not None and followup.landmarks is not None
    result = align_to_baseline(baseline.rgb, followup.rgb,
                               baseline_landmarks=baseline.landmarks if both else None,
                               followup_landmarks=followup.landmarks if both else None)
    return {"matrix": np.asarray(result.matrix, float).tolist(), "method": result.method,
            "reliable": bool(result.reliable),
            "ecc_correlation": (None if result.ecc_correlation is None
                                else float(result.ecc_correlation)),
            "landmark_rmse_px": (None if result.landmark_rmse_px is None
                                 else float(result.landmark_rmse_px))}


def pack_display(pack: dict[str, Any], photo_id: str = "") -> Display:
    """A :class:`Display` from a :func:`display_pack` not yet stored (worker processes
    align a patient's photographs before they are stored)."""
    from dermatrack.imaging.overlays import unpack_masks

    masks = None if pack["masks"] is None else unpack_masks(_decode(pack["masks"], False))
    landmarks = None if pack["landmarks"] is None else np.asarray(pack["landmarks"])
    return Display(photo_id=photo_id, rgb=_decode(pack["image"], True), masks=masks,
                   landmarks=landmarks)


def save_alignment(store: Store, baseline_id: str, followup_id: str,
                   data: dict[str, Any], *, actor: str) -> None:
    """Store an alignment computed elsewhere (:func:`compute_alignment` on the packs)."""
    with store.transaction(actor) as session:
        get_row(session, Photo, baseline_id)
        get_row(session, Photo, followup_id)
        if _stored_alignment(session, baseline_id, followup_id) is None:
            session.add(PhotoDerivative(photo_id=followup_id, baseline_id=baseline_id,
                                        kind="alignment", data=dict(data)))


def alignment_of(store: Store, baseline_id: str, followup_id: str, *,
                 actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """The stored alignment of ``followup_id`` onto ``baseline_id``; computed and stored
    the first time a pair is asked for."""
    if baseline_id == followup_id:
        return {"matrix": np.eye(3).tolist(), "method": "identity", "reliable": True,
                "ecc_correlation": 1.0, "landmark_rmse_px": None}
    with store.reading() as session:
        found = _stored_alignment(session, baseline_id, followup_id)
    if found is not None:
        return found
    data = compute_alignment(display_of(store, baseline_id), display_of(store, followup_id))
    with store.transaction(actor) as session:
        if _stored_alignment(session, baseline_id, followup_id) is None:
            session.add(PhotoDerivative(photo_id=followup_id, baseline_id=baseline_id,
                                        kind="alignment", data=data))
    return data


@dataclass
class AlignedDisplays:
    """A baseline screen copy, the follow-up moved onto it, the pixels it covers, both
    photographs' masks on the baseline grid (None when not analysed) and the alignment."""

    baseline: np.ndarray
    aligned: np.ndarray
    covered: np.ndarray
    baseline_masks: dict[str, np.ndarray] | None
    aligned_masks: dict[str, np.ndarray] | None
    alignment: dict[str, Any]
    landmarks: np.ndarray | None = None

    @property
    def compared(self) -> np.ndarray:
        """The pixels a before/after overlay compares: the skin both photographs show
        (each one's analysed skin, the follow-up's moved onto the baseline), or every
        pixel the follow-up covers for photographs stored before the skin was."""
        skins = [m.get("skin") for m in (self.baseline_masks or {}, self.aligned_masks or {})]
        if skins[0] is None or skins[1] is None:
            return self.covered
        return self.covered & skins[0] & skins[1]


@dataclass(frozen=True)
class PairCapture:
    """How two stored photographs of a pair were taken, from what was kept when each was
    analysed (:func:`pair_capture_of`)."""

    #: Per region of the baseline, the fraction of its skin the pair cannot compare
    #: (:func:`_uncompared`); None when either was stored without its regions.
    uncompared: dict[str, float] | None
    #: The sentences naming how they were taken differently; None when either was
    #: stored without its capture facts.
    differences: list[str] | None
    #: The sentence naming two photographs measured by different versions of the photo
    #: method (:func:`~dermatrack.imaging.definitions.method_difference`): none of their
    #: figures compare, and no retake mends it. None when one version measured both, or
    #: either was stored without its capture facts.
    method_difference: str | None = None
    #: One photograph is blurred against the other or its skin smoothed
    #: (:func:`~dermatrack.imaging.quality.fine_detail_differs`): the changes of the
    #: figures that need fine detail are not judged. False when not known.
    fine_detail_lost: bool = False

    @property
    def methods_differ(self) -> bool:
        return self.method_difference is not None


def pair_capture_of(store: Store, baseline_id: str, followup_id: str) -> PairCapture:
    """How two stored photographs were taken differently beyond what the metrics
    tolerate (pose, expression, sharpness, scale, lighting, framing, colour, and skin
    one hides that the other shows: the sentences of ``photo compare``,
    :func:`~dermatrack.imaging.quality.capture_differences` and
    :func:`~dermatrack.imaging.compare.coverage_differences`), what skin the pair
    cannot compare, and whether different versions of the photo method measured them;
    each None when either photograph was stored without it (not analysed, or stored
    before it was kept; photographs stored before their regions get the other
    sentences)."""
    from dermatrack.imaging.compare import coverage_differences
    from dermatrack.imaging.definitions import method_difference
    from dermatrack.imaging.quality import (
        CaptureQuality,
        capture_differences,
        fine_detail_differs,
    )

    rows = _display_row(store, baseline_id) or {}, _display_row(store, followup_id) or {}
    uncompared = _uncompared(store, rows, baseline_id, followup_id)
    facts = rows[0].get("capture"), rows[1].get("capture")
    if facts[0] is None or facts[1] is None:
        return PairCapture(uncompared=uncompared, differences=None)
    qualities = (CaptureQuality.from_dict(facts[0]["quality"]),
                 CaptureQuality.from_dict(facts[1]["quality"]))
    differences = capture_differences(
        *qualities, facts[0]["skin_colour"], facts[1]["skin_colour"],
        calibrated=facts[0]["calibrated"] and facts[1]["calibrated"])
    return PairCapture(uncompared=uncompared, differences=differences
                       + coverage_differences(uncompared or {}, shared=False),
                       method_difference=method_difference(facts[0].get("method_version"),
                                                           facts[1].get("method_version")),
                       fine_detail_lost=fine_detail_differs(*qualities))


def _uncompared(store: Store, rows: tuple[dict[str, Any], dict[str, Any]], baseline_id: str,
                followup_id: str) -> dict[str, float] | None:
    """Per region of the baseline, the fraction of its skin the pair cannot compare
    (hidden in the follow-up, or beside hair, glasses or a shadow in one photograph
    only; :func:`~dermatrack.imaging.compare.pair_coverage`, as ``photo compare``
    reports it), from the regions stored with both screen copies (the pair's display
    ``rows``) and their alignment; None when either photograph was stored without its
    regions.

    On the screen copies (long side 1024 px) rather than the photographs: what the test
    looks for (a fringe, glasses, a hand) is many of their pixels wide. The fractions of
    ``benchmarks/compare_pairs.py``'s pairs measured both ways are in docs/metrics.md."""
    from dermatrack.store.files import read_bytes

    if not all(row.get("regions") and row.get("capture") for row in rows):
        return None
    files = store.settings.files_dir
    labels0, labels1 = (_decode(read_bytes(files, row["regions"]), colour=False)
                        for row in rows)
    matrix = np.asarray(alignment_of(store, baseline_id, followup_id)["matrix"], float)
    return stored_pair_coverage(
        (labels0, rows[0]["region_names"]), (labels1, rows[1]["region_names"]), matrix,
        source_shape=rows[0]["source_shape"],
        mm_per_px=rows[0]["capture"]["quality"]["mm_per_px"])


def stored_pair_coverage(baseline: tuple[np.ndarray, list[str]],
                         followup: tuple[np.ndarray, list[str]], matrix: np.ndarray, *,
                         source_shape: list[int], mm_per_px: float | None
                         ) -> dict[str, float]:
    """:func:`~dermatrack.imaging.compare.pair_coverage` on two screen copies' region
    label images (each with its region names), the follow-up -> baseline ``matrix`` in
    screen-copy pixels, and the baseline photograph's size and pixel size (mm)."""
    from dermatrack.imaging.compare import pair_coverage, regions_from_labels, within_rim
    from dermatrack.imaging.overlays import warp_to
    from dermatrack.imaging.wrinkles import widest_line_px

    (labels0, names0), (labels1, names1) = baseline, followup
    masks0, _, bands0 = regions_from_labels(labels0, names0)
    # The follow-up's skin and bands moved onto the baseline's grid in one warp.
    shape = labels0.shape
    _, skin1, bands1 = regions_from_labels(warp_to(labels1, matrix, shape, nearest=True),
                                           names1)
    valid = within_rim(warp_to(np.ones(labels1.shape, bool), matrix, shape))
    # The widest line in screen-copy pixels: as the photograph's analysis sized it.
    widest = widest_line_px((source_shape[0], source_shape[1]), mm_per_px) \
        * shape[1] / source_shape[1]
    _, uncompared = pair_coverage(masks0, bands0, skin1, bands1, valid, widest)
    return {name: round(fraction, 3) for name, fraction in uncompared.items()}


def aligned_displays(store: Store, baseline_id: str, followup_id: str) -> AlignedDisplays:
    """The stored screen copies of a pair, the follow-up warped with the stored
    alignment (no analysis or alignment is run when both were stored)."""
    from dermatrack.imaging.overlays import warp_to

    alignment = alignment_of(store, baseline_id, followup_id)
    before, after = display_of(store, baseline_id), display_of(store, followup_id)
    shape = before.rgb.shape[:2]
    matrix = np.asarray(alignment["matrix"], float)
    aligned = warp_to(after.rgb, matrix, shape)
    covered = warp_to(np.ones(after.rgb.shape[:2], bool), matrix, shape)
    masks = None if after.masks is None else {
        name: warp_to(mask, matrix, shape) for name, mask in after.masks.items()}
    return AlignedDisplays(baseline=before.rgb, aligned=aligned, covered=covered,
                           baseline_masks=before.masks, aligned_masks=masks,
                           alignment=alignment, landmarks=before.landmarks)


def photo_view(photo: Any) -> str | None:
    """The standard view of a photograph when photographs record one (front, 45°, ...)."""
    return getattr(photo, "view", None)


def baseline_photo_id(session: Any, photo: Photo) -> str | None:
    """The patient's baseline photograph for ``photo``: the first photograph of the
    earliest visit (of the same view when photographs record one); None when ``photo``
    is itself the baseline or no photograph is tied to a visit."""
    rows = session.execute(
        select(Photo, Visit.date).join(Visit, Photo.visit_id == Visit.id)
        .where(Photo.patient_id == photo.patient_id)
        .order_by(Visit.date, Photo.created_at, Photo.id)).all()
    view = photo_view(photo)
    for candidate, _day in rows:
        if photo_view(candidate) == view:
            return None if candidate.id == photo.id else candidate.id
    return None


def align_to_patient_baseline(store: Store, photo_id: str, *, actor: str) -> str | None:
    """Align a newly stored photograph onto its baseline (see :func:`baseline_photo_id`)
    and store the result; return the baseline's id, or None."""
    with store.reading() as session:
        baseline = baseline_photo_id(session, get_row(session, Photo, photo_id))
    if baseline is not None:
        alignment_of(store, baseline, photo_id, actor=actor)
    return baseline
