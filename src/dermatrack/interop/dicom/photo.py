"""Photographs as DICOM VL Photographic Image objects (pydicom), and back.

Writing (:func:`photo_dataset`): one SOP instance per photograph, SOP class VL Photographic
Image Storage (1.2.840.10008.5.1.4.1.1.77.1.4, DICOM PS3.3 A.33.4), modality ``XC``,
uncompressed 8-bit RGB in Explicit VR Little Endian, so the pixel data are exactly the
stored pixels. What goes where:

* Patient ID (0010,0020): the patient's pseudonymous id (``P-XXXXXX``); Patient's Name is
  left empty and Patient Identity Removed (0012,0062) is ``YES``: no name, birth date or
  contact ever goes into a DICOM file.
* One study per visit: Study Instance UID derived from the visit id (a ``2.25`` UUID-based
  UID, the same on every export), Study Date the visit date, Study ID the visit id, Study
  Description the timepoint; one series per study.
* SOP Instance UID derived from the photograph's id; Acquisition DateTime the capture time
  when known.
* Anatomic Region Sequence (0008,2218): SNOMED CT (``SCT``) where ``codes.yaml`` maps the
  region, else dermatrack's scheme ``99DERMATRACK``; View Code Sequence (0054,0220): the
  view in ``99DERMATRACK``.
* Pixel Spacing (0028,0030): mm per pixel, both directions, when the scale is known.
* Calibration and scale as documented private attributes, private creator
  ``DERMATRACK 1.0`` in group 0011: (0011,xx10) photo id, (0011,xx11) a JSON text with
  ``mm_per_px``, ``scale_source``, ``calibrated``, ``delta_e2000_mean``, the dermatrack
  region and view codes, the visit id and timepoint; and a readable Image Comments.

Reading (:func:`decode_dicom`, :func:`read_metadata`) accepts VL Photographic Image Storage
only and refuses anything else, naming the SOP class it found.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from dermatrack.errors import InputError
from dermatrack.interop.codes import DICOM_SCHEME, from_snomed, snomed, views

VL_PHOTOGRAPHIC_IMAGE = "1.2.840.10008.5.1.4.1.1.77.1.4"
PRIVATE_CREATOR = "DERMATRACK 1.0"
PRIVATE_GROUP = 0x0011


def uid_for(*parts: str) -> str:
    """A stable UID for a dermatrack record, the same on every export: ``2.25.`` and the
    integer of a name-based UUID (version 5) of the parts (DICOM PS3.5 B.2, ISO/IEC 9834-8).
    """
    import uuid

    name = "dermatrack:" + ":".join(parts)
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, name).int}"


def study_uid(patient_id: str, visit_id: str | None) -> str:
    return uid_for("study", visit_id or f"{patient_id}:no-visit")


@dataclass(frozen=True)
class PhotoMetadata:
    """What dermatrack reads from a VL Photographic Image besides its pixels."""

    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str
    photo_id: str | None
    visit_id: str | None
    timepoint: str | None
    taken_at: dt.datetime | None
    region: str | None
    view: str | None
    mm_per_px: float | None
    calibration: dict[str, Any]
    rows: int
    columns: int


def _code_item(value: str, scheme: str, meaning: str) -> Any:
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning[:64]
    return item


def photo_dataset(pixels: np.ndarray, *, patient_id: str, photo_id: str,
                  visit_id: str | None, visit_date: dt.date | None, timepoint: str | None,
                  taken_at: dt.datetime | None, region: str | None, view: str | None,
                  mm_per_px: float | None, calibration: dict[str, Any] | None = None,
                  instance_number: int = 1, lossy: bool = False) -> Any:
    """A VL Photographic Image dataset (with file meta) of ``pixels`` (uint8 RGB, H x W x 3).

    The attribute map is in the module docstring.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

    from dermatrack import __version__

    pixels = np.ascontiguousarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InputError("a DICOM photograph needs 8-bit RGB pixels", field="image")
    sop_uid = uid_for("photo", photo_id)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(VL_PHOTOGRAPHIC_IMAGE)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"DERMATRACK_{__version__}"[:16]

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = VL_PHOTOGRAPHIC_IMAGE
    ds.SOPInstanceUID = sop_uid
    ds.Modality = "XC"
    # Patient: the pseudonym only.
    ds.PatientName = ""
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "dermatrack pseudonymous id; no name, birth date or contact"
    # Study (one per visit) and series.
    ds.StudyInstanceUID = study_uid(patient_id, visit_id)
    ds.SeriesInstanceUID = uid_for("series", visit_id or f"{patient_id}:no-visit")
    ds.StudyDate = visit_date.strftime("%Y%m%d") if visit_date else ""
    ds.StudyTime = ""
    ds.StudyID = (visit_id or "")[:16]
    ds.StudyDescription = timepoint or ""
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance_number
    ds.Manufacturer = ""
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.LossyImageCompression = "01" if lossy else "00"
    ds.BurnedInAnnotation = "NO"
    if taken_at is not None:
        moment = taken_at.astimezone(dt.UTC)
        ds.AcquisitionDateTime = moment.strftime("%Y%m%d%H%M%S.%f") + "+0000"
        ds.ContentDate = moment.strftime("%Y%m%d")
        ds.ContentTime = moment.strftime("%H%M%S.%f")
    else:
        ds.ContentDate = ds.StudyDate
        ds.ContentTime = ""
    ds.AcquisitionContextSequence = Sequence([])
    if region:
        sct = snomed("body_sites", region)
        item = (_code_item(sct["code"], "SCT", sct["display"]) if sct
                else _code_item(region, DICOM_SCHEME, region.replace("_", " ")))
        ds.AnatomicRegionSequence = Sequence([item])
    if view:
        ds.ViewCodeSequence = Sequence([_code_item(view, DICOM_SCHEME,
                                                   views().get(view, view))])
    if mm_per_px is not None:
        ds.PixelSpacing = [f"{mm_per_px:.10g}", f"{mm_per_px:.10g}"]
    # Pixels: uncompressed 8-bit RGB, colour-by-pixel.
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    # dermatrack's own attributes (documented in docs/interoperability.md).
    details = {"photo_id": photo_id, "visit_id": visit_id, "timepoint": timepoint,
               "region": region, "view": view, "mm_per_px": mm_per_px,
               **(calibration or {})}
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x10, "LO", photo_id)
    block.add_new(0x11, "UT", json.dumps(details, sort_keys=True))
    comment = [f"dermatrack photograph {photo_id}"]
    if mm_per_px is not None:
        comment.append(f"scale {mm_per_px:.6g} mm/px"
                       + (f" ({calibration['scale_source']})"
                          if calibration and calibration.get("scale_source") else ""))
    if calibration and "calibrated" in calibration:
        comment.append("colour calibrated" if calibration["calibrated"]
                       else "colour not calibrated")
    ds.ImageComments = "; ".join(comment)
    return ds


def to_bytes(ds: Any) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def parse(data: bytes, name: str) -> Any:
    """A pydicom dataset from bytes, or :class:`InputError` naming the file."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(io.BytesIO(data), force=False)
    except (InvalidDicomError, EOFError, ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{name}: not a readable DICOM file ({exc})", field="image") from None


def check_photograph(ds: Any, name: str) -> None:
    """Refuse any SOP class but VL Photographic Image, naming what the file is."""
    from pydicom.uid import UID

    sop_class = str(getattr(ds, "SOPClassUID", "") or
                    getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", ""))
    if sop_class != VL_PHOTOGRAPHIC_IMAGE:
        kind = UID(sop_class).name if sop_class else "no SOP class"
        raise InputError(f"{name}: not a photograph: the DICOM file is {kind} "
                         f"({sop_class or 'missing'}); dermatrack accepts VL Photographic "
                         f"Image Storage ({VL_PHOTOGRAPHIC_IMAGE}) only", field="image")


def pixels_of(ds: Any, name: str, max_pixels: int) -> np.ndarray:
    """The 8-bit RGB pixels of a photograph dataset (H x W x 3 uint8)."""
    rows, columns = int(getattr(ds, "Rows", 0)), int(getattr(ds, "Columns", 0))
    if rows < 1 or columns < 1:
        raise InputError(f"{name}: the DICOM photograph has no rows or columns",
                         field="image")
    if rows * columns > max_pixels:
        raise InputError(f"{name}: {columns} x {rows} pixels is more than the "
                         f"{max_pixels:,} allowed", field="image")
    if int(getattr(ds, "BitsAllocated", 0)) != 8 or int(getattr(ds, "SamplesPerPixel", 0)) \
            not in (1, 3):
        raise InputError(f"{name}: dermatrack reads 8-bit RGB or grey DICOM photographs, not "
                         f"{getattr(ds, 'BitsAllocated', '?')}-bit with "
                         f"{getattr(ds, 'SamplesPerPixel', '?')} samples", field="image")
    if "PixelData" not in ds:
        raise InputError(f"{name}: the DICOM photograph has no pixel data", field="image")
    try:
        array = ds.pixel_array
    except Exception as exc:  # pydicom raises many kinds for damaged or unsupported data
        raise InputError(f"{name}: the DICOM pixel data cannot be decoded ({exc})",
                         field="image") from None
    interpretation = str(getattr(ds, "PhotometricInterpretation", ""))
    if interpretation.startswith("YBR"):
        from pydicom.pixels import convert_color_space

        array = convert_color_space(array, interpretation, "RGB")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"{name}: one photograph per file is expected (found an array of "
                         f"shape {array.shape})", field="image")
    return np.ascontiguousarray(array.astype(np.uint8))


def _code_of(sequence: Any) -> tuple[str | None, str | None]:
    if not sequence:
        return None, None
    item = sequence[0]
    return getattr(item, "CodeValue", None), getattr(item, "CodingSchemeDesignator", None)


def _private(ds: Any) -> dict[str, Any]:
    try:
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
        return json.loads(block[0x11].value)
    except (KeyError, ValueError, TypeError):
        return {}


def read_metadata(ds: Any) -> PhotoMetadata:
    """The patient, study, region, view, scale and calibration of a photograph dataset."""
    details = _private(ds)
    region_code, scheme = _code_of(getattr(ds, "AnatomicRegionSequence", None))
    region = details.get("region")
    if region is None and region_code:
        region = from_snomed("body_sites", region_code) if scheme in ("SCT", "SRT") \
            else region_code if scheme == DICOM_SCHEME else None
    view_code, view_scheme = _code_of(getattr(ds, "ViewCodeSequence", None))
    view = details.get("view") or (view_code if view_scheme == DICOM_SCHEME else None)
    spacing = getattr(ds, "PixelSpacing", None)
    mm_per_px = float(spacing[0]) if spacing else details.get("mm_per_px")
    taken_at: dt.datetime | None = None
    text = str(getattr(ds, "AcquisitionDateTime", "") or "")
    if text:
        try:
            from pydicom.valuerep import DT

            moment: dt.datetime = DT(text)
            aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
            taken_at = dt.datetime.fromtimestamp(aware.timestamp(), dt.UTC)
        except ValueError:
            taken_at = None
    calibration: dict[str, Any] = {k: details[k] for k in ("calibrated", "delta_e2000_mean",
                                                             "scale_source") if k in details}
    return PhotoMetadata(
        patient_id=str(getattr(ds, "PatientID", "") or ""),
        study_uid=str(getattr(ds, "StudyInstanceUID", "")),
        series_uid=str(getattr(ds, "SeriesInstanceUID", "")),
        sop_uid=str(getattr(ds, "SOPInstanceUID", "")),
        photo_id=details.get("photo_id"), visit_id=details.get("visit_id"),
        timepoint=details.get("timepoint") or (str(ds.StudyDescription)
                                               if getattr(ds, "StudyDescription", "") else None),
        taken_at=taken_at, region=region, view=view, mm_per_px=mm_per_px,
        calibration=calibration, rows=int(ds.Rows), columns=int(ds.Columns))


def decode_dicom(data: bytes, name: str, max_pixels: int) -> tuple[np.ndarray, PhotoMetadata]:
    """Pixels (uint8 RGB) and metadata of a DICOM photograph file's bytes."""
    ds = parse(data, name)
    check_photograph(ds, name)
    return pixels_of(ds, name, max_pixels), read_metadata(ds)


def is_dicom(data: bytes) -> bool:
    """DICOM Part 10 files have ``DICM`` after a 128-byte preamble."""
    return len(data) >= 132 and data[128:132] == b"DICM"
