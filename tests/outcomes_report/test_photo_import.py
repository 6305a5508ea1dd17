"""Photo import: pixels stored without metadata, metrics stored as observations, bad files
refused with nothing stored."""

from __future__ import annotations

import io

import numpy as np
import pytest

GPS_MARKER = "SECRET-GPS-CAMERA-7193"


def _phantom_jpeg_with_metadata(path):
    """A small phantom saved as JPEG with EXIF (make, GPS) and a comment."""
    from PIL import Image

    from dermatrack.imaging.phantom import make_phantom, random_spec

    spec = random_spec(np.random.default_rng(5), width=320, height=240, mm_per_px=0.06,
                       n_wrinkles=2, n_spots=2, n_pores=5)
    rgb = make_phantom(spec, np.random.default_rng(6)).rgb
    image = Image.fromarray((rgb * 255 + 0.5).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010F] = GPS_MARKER  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 39.0)}  # GPS IFD
    image.save(path, format="JPEG", quality=95, exif=exif.tobytes(),
               comment=GPS_MARKER.encode())
    assert GPS_MARKER.encode() in path.read_bytes()
    return path


@pytest.fixture
def photo_patient(store, consented):
    from dermatrack.services import patients

    patient = patients.add_patient(store, {"age": 40, "fitzpatrick": "II", "sex": "female"},
                                   actor="tester")
    consented(store, patient.id, ["photography"])
    visit = patients.add_visit(store, {"patient_id": patient.id, "timepoint": "baseline",
                                       "date": "2026-03-01"}, actor="tester")
    return patient.id, visit.id


def test_import_photo_strips_metadata_and_stores_metrics(store, photo_patient, tmp_path):
    from PIL import Image

    from dermatrack.imaging.io import read_image
    from dermatrack.services.observations import list_observations
    from dermatrack.services.photos import import_photo, list_photos, photo_file

    patient_id, visit_id = photo_patient
    source = _phantom_jpeg_with_metadata(tmp_path / "shot.jpg")
    photo = import_photo(store, patient_id=patient_id, visit_id=visit_id, path=source,
                         actor="tester", mm_per_px=0.06, use_face=False)
    stored = photo_file(store, photo.id)
    data = stored.read_bytes()
    assert GPS_MARKER.encode() not in data and b"Exif" not in data
    assert not Image.open(io.BytesIO(data)).getexif()
    assert stored.suffix == ".png" and photo.sha256 in stored.name
    # Lossless copy of the decoded pixels.
    assert np.array_equal(read_image(stored).rgb, read_image(source).rgb)

    observations = list_observations(store, patient_id=patient_id, kind="photo")
    assert len(observations) == photo.observations > 10
    by_metric = {o.metric: o for o in observations}
    assert by_metric["wrinkles.length_mm"].unit == "mm"
    assert by_metric["pigment.ita_deg"].unit == "°"
    assert "pigment.ita_category" not in by_metric  # text, derived from ita_deg
    assert {o.region for o in observations} == {"whole"}
    assert all(o.source_sha256 == photo.sha256 and o.visit_id == visit_id
               for o in observations)
    assert observations[0].settings["mm_per_px"] == 0.06
    assert observations[0].settings["scale_source"] == "user"

    (listed,) = list_photos(store, patient_id)
    assert listed.id == photo.id and listed.observations == photo.observations
    assert listed.regions == ["whole"] and listed.face_detected is False


def test_import_photo_refuses_a_text_file_and_stores_nothing(store, photo_patient, tmp_path):
    from dermatrack.errors import InputError
    from dermatrack.services.photos import import_photo, list_photos

    patient_id, visit_id = photo_patient
    fake = tmp_path / "note.jpg"
    fake.write_text("not an image at all")
    with pytest.raises(InputError) as caught:
        import_photo(store, patient_id=patient_id, visit_id=visit_id, path=fake,
                     actor="tester")
    assert caught.value.field == "image"
    assert list_photos(store, patient_id) == []
    assert not any(store.settings.files_dir.rglob("*.png"))


def test_import_photo_checks_patient_visit_and_analysis(store, photo_patient, tmp_path):
    from dermatrack.errors import InputError, NotFoundError
    from dermatrack.services import patients
    from dermatrack.services.photos import PhotoAnalysis, import_photo, photo_file

    patient_id, visit_id = photo_patient
    other = patients.add_patient(store, {"age": 50, "fitzpatrick": "V"}, actor="tester")
    source = _phantom_jpeg_with_metadata(tmp_path / "shot.jpg")
    with pytest.raises(InputError) as caught:
        import_photo(store, patient_id=other.id, visit_id=visit_id, path=source,
                     actor="tester", analyze=False)
    assert caught.value.field == "visit_id"
    stale = PhotoAnalysis(source_sha256="0" * 64, result={})
    with pytest.raises(InputError) as caught:
        import_photo(store, patient_id=patient_id, visit_id=visit_id, path=source,
                     actor="tester", analysis=stale)
    assert caught.value.field == "analysis"
    with pytest.raises(NotFoundError):
        photo_file(store, "PH-NOSUCHPHOTO")


def test_truncated_photo_is_refused_after_weasyprint_is_imported(store, photo_patient,
                                                                 tmp_path):
    """weasyprint (PDF reports) sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process;
    the photo import must still refuse a truncated file and leave the flag as it was."""
    import weasyprint  # noqa: F401  (imported for its side effect on Pillow)
    from PIL import ImageFile

    from dermatrack.errors import InputError
    from dermatrack.services.photos import import_photo, list_photos

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    patient_id, visit_id = photo_patient
    whole = _phantom_jpeg_with_metadata(tmp_path / "whole.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError) as caught:
        import_photo(store, patient_id=patient_id, visit_id=visit_id, path=cut,
                     actor="tester", analyze=False)
    assert caught.value.field == "image"
    assert list_photos(store, patient_id) == []
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
