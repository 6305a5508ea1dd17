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


@pytest.fixture
def seeded_secrets(monkeypatch):
    """Make the export's random draws repeatable: ``reseed()`` restarts them."""
    import random
    import types

    from dermatrack.services import export

    def reseed() -> None:
        rng = random.Random(14)
        monkeypatch.setattr(export, "secrets", types.SimpleNamespace(
            choice=rng.choice, randbits=rng.getrandbits,
            randbelow=lambda n: rng.randrange(n), token_hex=export.secrets.token_hex))

    return reseed


def test_chunked_export_equals_one_chunk(store, clinic_with_photo, seeded_secrets, tmp_path):
    import polars as pl

    from dermatrack.services.export import export_chunks, export_dataset, export_frame
    from dermatrack.services.observations import record_observations

    clinic, _ = clinic_with_photo
    for patient_id, visits in zip(clinic.patient_ids[:2], clinic.visit_ids[:2], strict=True):
        for value in (3.0, 1.0, 2.0):  # repeated captures: rows equal on every sort key
            record_observations(store, patient_id=patient_id, visit_id=visits["baseline"],
                                region="cheeks", kind="colour", values={"a_star": value},
                                units={"a_star": "1"}, device="colorimeter",
                                method="test values", source_sha256=None, settings=None,
                                actor="tester")
    seeded_secrets()
    chunks = list(export_chunks(store, chunk_patients=1))
    assert len(chunks) == 4 and all(c["subject"].n_unique() == 1 for c in chunks)
    seeded_secrets()
    whole = export_frame(store, chunk_patients=100)
    seeded_secrets()
    chunked = export_frame(store, chunk_patients=1)
    assert chunked.equals(whole) and whole.height > 40
    assert whole["subject"].is_sorted()
    captures = whole.filter(pl.col("metric") == "a_star")
    assert captures.height == 6
    assert captures.group_by("subject", maintain_order=True).agg("value")["value"].to_list() \
        == [[1.0, 2.0, 3.0]] * 2
    for fmt in ("csv", "parquet"):
        outputs = []
        for size in (1, 100):
            seeded_secrets()
            out = tmp_path / "exports" / f"{size}.{fmt}"
            assert export_dataset(store, out, format=fmt, chunk_patients=size)["subjects"] == 4
            outputs.append(out)
        if fmt == "csv":
            assert outputs[0].read_bytes() == outputs[1].read_bytes()
        else:
            import pyarrow.parquet as pq

            assert pq.read_table(outputs[0]).equals(pq.read_table(outputs[1]))
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == [
        "1.csv", "1.parquet", "100.csv", "100.parquet"]  # no scratch or partial file left


def test_csv_writes_integers_as_integers_in_every_chunk(tmp_path):
    import polars as pl

    from dermatrack.services.export import _write_csv

    # The gap is in the second chunk only: the first chunk's ages stay integers all the
    # same, and a missing value is an empty cell.
    frames = [pl.DataFrame({"subject": ["SUBJ-A", "SUBJ-A"], "age": [54, 54],
                            "value": [1.25, None], "serious": [True, False]}),
              pl.DataFrame({"subject": ["SUBJ-B"], "age": [None], "value": [3.0],
                            "serious": [None]},
                           schema_overrides={"age": pl.Int64, "serious": pl.Boolean})]
    assert _write_csv(frames, tmp_path / "chunks.csv") == (3, 2)
    assert (tmp_path / "chunks.csv").read_text().splitlines() == [
        "subject,age,value,serious", "SUBJ-A,54,1.25,True", "SUBJ-A,54,,False",
        "SUBJ-B,,3.0,"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("failure", [RuntimeError("database gone"), OSError(28, "No space")])
def test_failed_export_keeps_the_existing_file(store, clinic_with_photo, tmp_path,
                                               monkeypatch, fmt, failure):
    from dermatrack.errors import InputError
    from dermatrack.services import export

    out = tmp_path / "exports" / f"research.{fmt}"
    out.parent.mkdir()
    out.write_bytes(b"the previous export")
    calls = []
    chunk_frame = export._chunk_frame

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:  # after two chunks are written
            raise failure
        return chunk_frame(*args)

    monkeypatch.setattr(export, "_chunk_frame", failing)
    expected = InputError if isinstance(failure, OSError) else type(failure)
    with pytest.raises(expected):
        export.export_dataset(store, out, format=fmt, chunk_patients=1)
    assert len(calls) == 3
    assert out.read_bytes() == b"the previous export"
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no partial file left


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_replaced_export_keeps_its_permissions(store, clinic_with_photo, tmp_path, fmt):
    """A research export a clinic has restricted to its owner stays restricted when it
    is written again (the new file is renamed over the old one)."""
    from dermatrack.services import export

    out = tmp_path / f"research.{fmt}"
    out.write_bytes(b"the previous export")
    out.chmod(0o600)
    export.export_dataset(store, out, format=fmt)
    assert out.read_bytes() != b"the previous export"
    assert out.stat().st_mode & 0o777 == 0o600
