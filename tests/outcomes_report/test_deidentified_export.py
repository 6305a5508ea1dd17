"""The research export: nothing identifying reaches the file (checked on its bytes),
subjects are re-keyed per export and dates shift together within a patient."""

from __future__ import annotations

import datetime as dt

import pytest

from .clinic import (
    DATE_OF_BIRTH,
    IDENTITY_EMAIL,
    IDENTITY_NAME,
    IDENTITY_PHONE,
    NOTE,
    build_small_clinic,
)
from .test_photo_import import GPS_MARKER, _phantom_jpeg_with_metadata


@pytest.fixture
def clinic_with_photo(store, tmp_path):
    from dermatrack.services.photos import import_photo

    clinic = build_small_clinic(store)
    photo = import_photo(store, patient_id=clinic.patient_ids[0],
                         visit_id=clinic.visit_ids[0]["baseline"],
                         path=_phantom_jpeg_with_metadata(tmp_path / "IMG_4411.jpg"),
                         actor="tester", mm_per_px=0.06, use_face=False)
    return clinic, photo


def _forbidden(clinic, photo) -> list[str]:
    return [IDENTITY_NAME, IDENTITY_EMAIL, IDENTITY_PHONE, DATE_OF_BIRTH, NOTE, GPS_MARKER,
            "IMG_4411", photo.sha256, photo.id, "Dr Test", "Dr Blind",
            *clinic.patient_ids, *clinic.session_ids]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_bytes_hold_no_identifying_data(cli, store, clinic_with_photo, tmp_path, fmt):
    import pandas as pd

    clinic, photo = clinic_with_photo
    out = tmp_path / f"research.{fmt}"
    result = cli("export", "--format", fmt, "--out", out, "--json")
    assert result.code == 0, result.stderr
    assert result.json()["subjects"] == 4
    data = out.read_bytes()
    for text in _forbidden(clinic, photo):
        assert text.encode() not in data, text
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_schema(out).metadata is None  # no pandas block, no other key
    assert set(frame["record"]) == {"measurement", "score", "session", "adverse_event"}
    assert frame["subject"].str.match(r"^SUBJ-[0-9A-Z]{8}$").all()
    first = frame[frame["age_at_baseline"] == 54]  # the patient born 1971-03-17
    assert first["subject"].nunique() == 1
    photo_rows = frame[(frame["kind"] == "photo") & (frame["metric"] == "pigment.ita_deg")]
    assert len(photo_rows) == 1 and photo_rows["subject"].iloc[0] == first["subject"].iloc[0]


def test_export_rekeys_subjects_and_shifts_dates_within_patient(store, clinic_with_photo):
    from dermatrack.services.export import MAX_SHIFT_DAYS, export_rows

    first, second = export_rows(store), export_rows(store)
    assert not {r["subject"] for r in first} & {r["subject"] for r in second}
    for rows in (first, second):
        by_subject: dict[str, set[int]] = {}
        for row in rows:
            if row["date"] is None:
                continue
            shifted = dt.date.fromisoformat(row["date"])
            # The baseline is 2026-01-05 for everyone; the shift is the same on every row.
            offset = (shifted - dt.date(2026, 1, 5)).days - row["day"]
            assert abs(offset) <= MAX_SHIFT_DAYS
            by_subject.setdefault(row["subject"], set()).add(offset)
        assert all(len(offsets) == 1 for offsets in by_subject.values())
    months = [r["months"] for r in first if r["record"] == "score"]
    assert months == pytest.approx([90 / (365.25 / 12)] * 4, abs=1e-3)


def test_export_refuses_an_unknown_format(cli, store, tmp_path):
    result = cli("export", "--format", "xlsx", "--out", tmp_path / "x.xlsx")
    assert result.code == 2 and "format" in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_export_of_an_empty_clinic_has_the_header_only(store, tmp_path):
    from dermatrack.services.export import COLUMNS, export_dataset

    result = export_dataset(store, tmp_path / "empty.csv", format="csv")
    assert result["rows"] == 0
    assert (tmp_path / "empty.csv").read_text().strip() == ",".join(COLUMNS)
    assert result["subjects"] == 0
