"""The research export: nothing identifying reaches the file (checked on its bytes),
subjects are re-keyed per export and dates shift together within a patient."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_new_export_is_owner_only(store, clinic_with_photo, tmp_path):
    """The research table is health data: a new export is readable by its owner only,
    whatever the umask (a replaced one keeps the mode it had, above)."""
    import os

    from dermatrack.services import export

    out = tmp_path / "research.csv"
    mask = os.umask(0o022)
    try:
        export.export_dataset(store, out, format="csv")
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o600


# --- Interrupted and killed exports (real processes, real signals) -----------------------
# The export runs in a child process, ``dermatrack export`` as ``main`` runs it, except that
# once every frame is written it waits (instead of renaming the partial file) until the
# test signals it, so that the signal lands mid-export on any machine.

STALLED_EXPORT = """
import sys, time
from pathlib import Path
from dermatrack.services import export
chunks = export.export_chunks
def stalled(*args, **kwargs):
    yield from chunks(*args, **kwargs)
    Path(sys.argv[1]).touch()
    time.sleep(120)
export.export_chunks = stalled
from dermatrack.cli.main import main
main(sys.argv[2:])
"""


@contextlib.contextmanager
def _stalled_export(out: Path, fmt: str, ready: Path):
    """A child process exporting to ``out`` and waiting with the partial file written;
    killed when the block ends if still running."""
    import dermatrack

    env = {**os.environ, "PYTHONPATH": str(Path(dermatrack.__file__).parents[1])}
    process = subprocess.Popen(
        [sys.executable, "-c", STALLED_EXPORT, str(ready), "export", "--format", fmt,
         "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the export never reached its partial file"
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _partials(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize(("fmt", "signum", "code"), [
    ("csv", signal.SIGTERM, 143), ("parquet", signal.SIGTERM, 143),
    ("csv", signal.SIGINT, 130), ("csv", signal.SIGHUP, 129)])
def test_stopped_export_leaves_no_partial_file(store, clinic_with_photo, tmp_path, fmt,
                                               signum, code):
    out = tmp_path / "exports" / f"research.{fmt}"
    out.parent.mkdir()
    out.write_bytes(b"the previous export")
    with _stalled_export(out, fmt, tmp_path / "ready") as process:
        [partial] = _partials(out.parent)
        assert partial.name.startswith(f".{out.name}.")
        if fmt == "parquet":  # (the CSV writer's buffer may hold the rows so far)
            assert partial.stat().st_size > 0  # health data in it ...
        assert partial.stat().st_mode & 0o777 == 0o600  # ... readable by its owner only
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no partial file left
    assert out.read_bytes() == b"the previous export"


def test_next_export_removes_the_partial_file_of_a_killed_one(cli, store, clinic_with_photo,
                                                              tmp_path):
    out = tmp_path / "exports" / "research.parquet"
    out.parent.mkdir()
    with _stalled_export(out, "parquet", tmp_path / "ready") as process:
        [partial] = _partials(out.parent)
        process.send_signal(signal.SIGKILL)  # no cleanup can run
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert _partials(out.parent) == [partial]  # left behind, unlocked by the kernel
    # Another target's partial file in the same folder is not this export's to remove.
    other = out.parent / f".{out.name}.x.0123abcd.part"
    other.write_bytes(b"someone else's")

    result = cli("export", "--format", "parquet", "--out", out)
    assert result.code == 0, result.stderr
    assert f"Removed {partial}: a partial export left by an export that was killed" \
        in " ".join(result.stderr.split())
    assert _partials(out.parent) == [other]
    result = cli("export", "--format", "parquet", "--out", out, "--json")
    assert result.json()["stale_partials_removed"] == []  # nothing left to remove


def test_partial_file_of_a_running_export_is_kept(cli, store, clinic_with_photo, tmp_path):
    out = tmp_path / "exports" / "research.csv"
    out.parent.mkdir()
    with _stalled_export(out, "csv", tmp_path / "ready") as process:
        [partial] = _partials(out.parent)
        written = partial.read_bytes()
        result = cli("export", "--format", "csv", "--out", out, "--json")
        assert result.code == 0, result.stderr
        assert result.json()["stale_partials_removed"] == []
        assert _partials(out.parent) == [partial]  # the running export's, untouched
        assert partial.read_bytes() == written
        finished = out.read_bytes()
        process.send_signal(signal.SIGTERM)  # and it cleans up after itself
        process.communicate(timeout=30)
    assert process.returncode == 143
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    assert out.read_bytes() == finished
