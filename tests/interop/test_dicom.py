"""DICOM VL Photographic Images: export with exact pixels and documented metadata, import
(CLI and service), refusal of non-photographic DICOM, and a push/pull round trip through a
real Orthanc server (DICOMweb STOW-RS, QIDO-RS, WADO-RS)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dermatrack.errors import InputError

from . import orthanc
from .clinic import ACTOR, NAME, photo_pixels, write_png


def stored_pixels(store, photo_id):
    from dermatrack.services.dicom import _stored_pixels
    from dermatrack.store.models import Photo

    with store.reading() as session:
        relative = session.get(Photo, photo_id).stored_path
    return _stored_pixels(store, relative)


def check_photograph_file(ds, clinic, store):
    """The attributes docs/interoperability.md promises, and the exact pixels."""
    from dermatrack.interop.dicom.photo import VL_PHOTOGRAPHIC_IMAGE, study_uid

    patient_id = clinic.patient_ids[0]
    assert ds.SOPClassUID == VL_PHOTOGRAPHIC_IMAGE and ds.Modality == "XC"
    assert ds.PatientID == patient_id and str(ds.PatientName) == ""
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.StudyInstanceUID == study_uid(patient_id, clinic.visits["m1"])
    assert ds.StudyID == clinic.visits["m1"] and ds.StudyDescription == "m1"
    assert ds.StudyDate == "20260205"
    [region] = ds.AnatomicRegionSequence
    assert (region.CodeValue, region.CodingSchemeDesignator) == ("89545001", "SCT")
    [view] = ds.ViewCodeSequence
    assert (view.CodeValue, view.CodingSchemeDesignator) == ("front", "99DERMATRACK")
    assert [float(v) for v in ds.PixelSpacing] == [0.08, 0.08]
    details = json.loads(ds.private_block(0x0011, "DERMATRACK 1.0")[0x11].value)
    assert details["photo_id"] == clinic.photo_id and details["region"] == "full_face"
    assert NAME not in str(ds)
    assert np.array_equal(ds.pixel_array, stored_pixels(store, clinic.photo_id))
    assert np.array_equal(ds.pixel_array, photo_pixels())


def test_export_writes_exact_vl_photographic_images(store, clinic, tmp_path):
    from dermatrack.services.dicom import export_dicom

    result = export_dicom(store, tmp_path / "dicom", actor=ACTOR)
    assert result["photos"] == 1
    ds = pydicom.dcmread(result["files"][0])
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    check_photograph_file(ds, clinic, store)


def test_cli_export_then_photo_import_of_the_dicom_file(cli, store, clinic, tmp_path):
    from dermatrack.services.photos import list_photos

    done = cli("export", "--format", "dicom", "--out", str(tmp_path / "d"),
               "--patient", clinic.patient_ids[0], "--json")
    assert done.code == 0, done.stderr
    [path] = done.json()["files"]
    imported = cli("photo", "import", path, "--patient", clinic.patient_ids[0],
                   "--no-analyze", "--json")
    assert imported.code == 0, imported.stderr
    photo = imported.json()
    # The visit, region, view and scale come from the file.
    assert photo["visit_id"] == clinic.visits["m1"]
    assert (photo["region"], photo["view"], photo["mm_per_px"]) == ("full_face", "front",
                                                                     0.08)
    assert np.array_equal(stored_pixels(store, photo["id"]), photo_pixels())
    assert len(list_photos(store, clinic.patient_ids[0])) == 2
    # A DICOM photograph of another dermatrack patient is refused.
    wrong = cli("photo", "import", path, "--patient", clinic.patient_ids[1], "--no-analyze")
    assert wrong.code == 2 and clinic.patient_ids[0] in wrong.stderr


def _ct_file(path):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID = "CT", "X"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.PixelData = np.zeros((8, 8), np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_non_photographic_dicom_is_refused_naming_its_class(cli, store, clinic, tmp_path):
    from dermatrack.services.photos import import_photo, list_photos

    path = _ct_file(tmp_path / "scan.dcm")
    with pytest.raises(InputError) as error:
        import_photo(store, patient_id=clinic.patient_ids[0], visit_id=None, path=path,
                     actor=ACTOR)
    assert "CT Image Storage" in error.value.message and "not a photograph" in \
        error.value.message
    assert error.value.field == "image"
    failed = cli("photo", "import", str(path), "--patient", clinic.patient_ids[0])
    assert failed.code == 2 and "CT Image Storage" in failed.stderr
    truncated = tmp_path / "cut.dcm"
    good = cli("export", "--format", "dicom", "--out", str(tmp_path / "d"), "--json")
    truncated.write_bytes(Path(good.json()["files"][0]).read_bytes()[:400])
    cut = cli("photo", "import", str(truncated), "--patient", clinic.patient_ids[0])
    assert cut.code == 2 and "cut.dcm" in cut.stderr
    assert len(list_photos(store, clinic.patient_ids[0])) == 1  # nothing stored


def add_second_photo(store, clinic, tmp_path) -> str:
    """A second photograph of the first patient, exported after the clinic's one."""
    from dermatrack.services.photos import import_photo

    png = write_png(tmp_path / "second.png", photo_pixels(seed=11))
    return import_photo(store, patient_id=clinic.patient_ids[0], visit_id=clinic.visits["m3"],
                        path=png, actor=ACTOR, analyze=False).id


def test_dicom_export_files_are_new_owner_only_and_leave_no_partial_file(store, clinic,
                                                                          tmp_path):
    """Each file goes through store/partial_files.replacing, like the other exports."""
    from dermatrack.services.dicom import export_dicom

    add_second_photo(store, clinic, tmp_path)
    out = tmp_path / "dicom"
    result = export_dicom(store, out, actor=ACTOR)
    assert result["photos"] == 2 and result["stale_partials_removed"] == []
    for path in result["files"]:
        assert Path(path).stat().st_mode & 0o777 == 0o600
    assert sorted(str(p) for p in out.rglob("*") if p.is_file()) == sorted(result["files"])


@pytest.mark.parametrize("failure", ["before-writing", "mid-write"])
def test_dicom_export_failing_on_the_second_file_leaves_the_others_whole(
        store, clinic, tmp_path, monkeypatch, failure):
    """The disk full while the second file is made or written: the first file is whole,
    the second is not there (or, from an earlier export, as it was), no partial file is
    left, and the error names the folder."""
    import errno

    from dermatrack.services import dicom

    add_second_photo(store, clinic, tmp_path)
    order = tmp_path / "order"
    first, second = (Path(p).relative_to(order)
                     for p in dicom.export_dicom(store, order, actor=ACTOR)["files"])
    disk_full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    calls = []
    to_bytes, write_bytes = dicom.to_bytes, Path.write_bytes

    def to_bytes_failing_second(ds):
        calls.append(ds)
        if len(calls) == 2:
            raise disk_full
        return to_bytes(ds)

    def write_bytes_failing_second(self, data):
        if not self.name.endswith((".dcm", ".part")):
            return write_bytes(self, data)
        calls.append(self)
        if len(calls) == 2:
            write_bytes(self, data[:len(data) // 2])
            raise disk_full
        return write_bytes(self, data)

    if failure == "before-writing":
        monkeypatch.setattr(dicom, "to_bytes", to_bytes_failing_second)
    else:
        monkeypatch.setattr(Path, "write_bytes", write_bytes_failing_second)
    out = tmp_path / "dicom"
    with pytest.raises(InputError) as error:
        dicom.export_dicom(store, out, actor=ACTOR)
    assert str(out) in error.value.message and "No space left on device" in \
        error.value.message and error.value.field == "out"
    ds = pydicom.dcmread(out / first)
    assert np.array_equal(ds.pixel_array, photo_pixels())
    assert (out / first).stat().st_mode & 0o777 == 0o600
    assert not (out / second).exists()
    assert not list(out.rglob("*.part"))
    # A file of an earlier export at the failing target is left byte for byte.
    earlier = (order / second).read_bytes()
    (out / second).write_bytes(earlier)
    calls.clear()
    with pytest.raises(InputError):
        dicom.export_dicom(store, out, actor=ACTOR)
    assert (out / second).read_bytes() == earlier
    assert not list(out.rglob("*.part"))


def test_dicom_export_removes_and_names_a_stale_partial_file(cli, store, clinic, tmp_path):
    """A partial file left beside a target by a killed export (no process holds its lock)
    is removed by the next export, named relative to the folder in --json and in full on
    stderr."""
    out = tmp_path / "dicom"
    folder = out / clinic.patient_ids[0]
    folder.mkdir(parents=True)
    abandoned = folder / f".{clinic.photo_id}.dcm.0123abcd.part"
    abandoned.write_bytes(b"half a photograph of a killed export")
    done = cli("export", "--format", "dicom", "--out", str(out), "--json")
    assert done.code == 0, done.stderr
    assert done.json()["stale_partials_removed"] == [
        f"{clinic.patient_ids[0]}/{abandoned.name}"]
    assert f"Removed {abandoned}: a partial export" in done.stderr
    assert not abandoned.exists() and not list(out.rglob("*.part"))
    again = cli("export", "--format", "dicom", "--out", str(out), "--json")
    assert again.json()["stale_partials_removed"] == [] and "Removed" not in again.stderr


@pytest.fixture
def orthanc_url(tmp_path):
    reason = orthanc.available()
    if reason:
        if os.environ.get(orthanc.REQUIRE_ENV) == "1":
            pytest.fail(f"{orthanc.REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    with orthanc.running_orthanc(tmp_path / "orthanc") as url:
        yield url


def test_orthanc_push_and_pull_round_trip(cli, store, clinic, tmp_path, orthanc_url):
    import requests

    from dermatrack.services.photos import list_photos

    pushed = cli("push", "dicom", "--url", orthanc_url, "--json")
    assert pushed.code == 0, pushed.stderr
    assert pushed.json()["sent"] == 1
    # The server holds one study for the visit, found by QIDO-RS on the pseudonym.
    studies = requests.get(f"{orthanc_url}/studies",
                           params={"PatientID": clinic.patient_ids[0]}, timeout=10).json()
    assert len(studies) == 1
    pulled = cli("pull", "dicom", "--url", orthanc_url, "--out", str(tmp_path / "pulled"),
                 "--patient", clinic.patient_ids[0], "--json")
    assert pulled.code == 0, pulled.stderr
    [path] = pulled.json()["files"]
    check_photograph_file(pydicom.dcmread(path), clinic, store)  # pixel for pixel
    # Pulling into the clinic stores nothing twice; the other patient has none.
    again = cli("pull", "dicom", "--url", orthanc_url, "--out", str(tmp_path / "p2"),
                "--import", "--json")
    assert again.code == 0, again.stderr
    assert again.json()["imported"] == 0 and again.json()["already_stored"] == 1
    assert len(list_photos(store, clinic.patient_ids[0])) == 1
    none = cli("pull", "dicom", "--url", orthanc_url, "--out", str(tmp_path / "p3"),
               "--patient", clinic.patient_ids[1], "--json")
    assert none.json()["pulled"] == 0


def test_pulled_photograph_imports_into_another_clinic(store, clinic, other_store, tmp_path,
                                                       orthanc_url):
    from dermatrack.services.dicom import pull_dicom, push_dicom
    from dermatrack.services.photos import list_photos
    from dermatrack.store.models import Consent, Patient

    push_dicom(store, orthanc_url, actor=ACTOR)
    with pytest.raises(InputError, match="PatientID"):  # the patient must exist there
        pull_dicom(orthanc_url, tmp_path / "x", store=other_store, actor="puller")
    # The same pseudonym registered in the other clinic: the photograph is stored there.
    with other_store.transaction("puller") as session:
        session.add(Patient(id=clinic.patient_ids[0], sex="female"))
        session.add(Consent(patient_id=clinic.patient_ids[0], kind="photography",
                            version="paper-1", signed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    result = pull_dicom(orthanc_url, tmp_path / "y", store=other_store, actor="puller")
    assert result["imported"] == 1
    [photo] = list_photos(other_store, clinic.patient_ids[0])
    assert (photo.region, photo.view) == ("full_face", "front")
    assert np.array_equal(stored_pixels(other_store, photo.id), photo_pixels())


def test_pull_removes_and_names_a_stale_partial_file(cli, store, clinic, tmp_path,
                                                    orthanc_url):
    """A pulled file is written like an exported one (store/partial_files.replacing):
    owner-only when new, and a partial file a killed pull left beside it is removed and
    named."""
    pushed = cli("push", "dicom", "--url", orthanc_url, "--json")
    assert pushed.code == 0, pushed.stderr
    [instance] = pushed.json()["instances"]
    out = tmp_path / "pulled"
    folder = out / clinic.patient_ids[0]
    folder.mkdir(parents=True)
    abandoned = folder / f".{instance['sop_uid']}.dcm.0123abcd.part"
    abandoned.write_bytes(b"half a photograph of a killed pull")
    pulled = cli("pull", "dicom", "--url", orthanc_url, "--out", str(out), "--json")
    assert pulled.code == 0, pulled.stderr
    assert pulled.json()["stale_partials_removed"] == [
        f"{clinic.patient_ids[0]}/{abandoned.name}"]
    assert f"Removed {abandoned}: a partial file" in pulled.stderr
    [path] = pulled.json()["files"]
    assert Path(path).stat().st_mode & 0o777 == 0o600
    assert not list(out.rglob("*.part"))


def test_patient_folder_stays_inside_and_apart():
    """A Patient ID sent by a server names a folder: it cannot climb out of the output
    folder, and two IDs never share one."""
    from dermatrack.services.dicom import _patient_folder

    assert _patient_folder("P-ABCDEF") == "P-ABCDEF"
    assert _patient_folder(None) == _patient_folder("  ") == "unknown"
    hostile = ["..", ".", "../x", "/etc/passwd", "A/B", "A_B/", "A\\B", ".hidden",
               "x" * 65, "é"]
    folders = [_patient_folder(pid) for pid in hostile]
    for pid, folder in zip(hostile, folders, strict=True):
        assert "/" not in folder and "\\" not in folder and not folder.startswith("."), pid
        assert len(folder) <= 64
    assert len(set(folders)) == len(hostile)
    assert _patient_folder("A/B") != _patient_folder("A_B")


def test_pull_keeps_server_names_inside_the_output_folder(cli, tmp_path, orthanc_url):
    """A server's Patient ID of ``../../escaped`` is a folder inside ``--out``, not a
    path out of it."""
    import requests

    from dermatrack.interop.dicom.photo import photo_dataset, to_bytes

    ds = photo_dataset(photo_pixels(seed=5, shape=(20, 30)), patient_id="P-ABCDEF",
                       photo_id="PH-0000000011", visit_id=None, visit_date=None,
                       timepoint=None, taken_at=dt.datetime(2026, 2, 5, tzinfo=dt.UTC),
                       region=None, view=None, mm_per_px=None, calibration={})
    ds.PatientID = "../../escaped"
    root = orthanc_url.rsplit("/dicom-web", 1)[0]
    stored = requests.post(f"{root}/instances", data=to_bytes(ds), timeout=30)
    assert stored.ok, stored.text
    out = tmp_path / "deep" / "pulled"
    pulled = cli("pull", "dicom", "--url", orthanc_url, "--out", str(out), "--json")
    assert pulled.code == 0, pulled.stderr
    [path] = pulled.json()["files"]
    assert Path(path).resolve().is_relative_to(out.resolve())
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()
    assert pulled.json()["refused"] == []


def test_push_to_a_server_that_is_not_there(cli, store, clinic):
    failed = cli("push", "dicom", "--url", "http://127.0.0.1:9/dicom-web")
    assert failed.code == 2 and "127.0.0.1:9" in failed.stderr
    bad = cli("push", "dicom", "--url", "ftp://pacs")
    assert bad.code == 2 and "--url" in bad.stderr


def test_dataset_metadata_round_trip_without_a_store():
    """Capture time, region without a SNOMED code, view and calibration survive a write
    and a read of the bytes."""
    import datetime as dt

    from dermatrack.interop.dicom.photo import (
        decode_dicom,
        photo_dataset,
        study_uid,
        to_bytes,
    )

    taken = dt.datetime(2026, 2, 5, 10, 15, 30, 250000, tzinfo=dt.UTC)
    pixels = photo_pixels(seed=3, shape=(20, 30))
    ds = photo_dataset(pixels, patient_id="P-ABCDEF", photo_id="PH-0000000009",
                       visit_id=None, visit_date=None, timepoint=None, taken_at=taken,
                       region="periorbital", view="left_45", mm_per_px=0.0625,
                       calibration={"calibrated": False, "scale_source": "ruler"})
    decoded, meta = decode_dicom(to_bytes(ds), "x.dcm", 10**6)
    assert np.array_equal(decoded, pixels)
    assert meta.taken_at == taken
    assert ds.AnatomicRegionSequence[0].CodingSchemeDesignator == "99DERMATRACK"
    assert (meta.region, meta.view, meta.mm_per_px) == ("periorbital", "left_45", 0.0625)
    assert meta.calibration == {"calibrated": False, "scale_source": "ruler"}
    assert meta.study_uid == study_uid("P-ABCDEF", None) != study_uid("P-ABCDEG", None)
