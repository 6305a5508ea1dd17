"""``dermatrack photo batch``: streamed rows, error rows, resuming by content hash, and the
same rows on a real Dask scheduler with two workers on loopback (issue 14)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

IGNORED = ("seconds", "finished_at", "photo_id")


def _phantoms(folder: Path, count: int, seed: int = 0) -> list[Path]:
    import cv2
    import numpy as np

    from dermatrack.imaging.phantom import make_phantom, random_spec

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        spec = random_spec(rng, width=120, height=90, mm_per_px=0.1, n_wrinkles=2,
                           n_spots=2, n_erythema=1, n_pores=4)
        rgb = make_phantom(spec, rng).rgb
        path = folder / f"p{i}.png"
        cv2.imwrite(str(path), cv2.cvtColor((np.clip(rgb, 0, 1) * 255).astype(np.uint8),
                                            cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("batch") / "photos"
    _phantoms(folder, 3)
    (folder / "broken.png").write_bytes(b"this is not a PNG")
    return folder


@pytest.fixture(scope="module")
def scheduler():
    """A real Dask scheduler and two single-threaded worker processes on 127.0.0.1,
    closed when the module's tests are done."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=":0")
    try:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        yield cluster.scheduler_address
    finally:
        cluster.close(timeout=30)


def _rows(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    return sorted(({k: v for k, v in r.items() if k not in IGNORED} for r in rows),
                  key=lambda r: (r["path"], r["region"] or "", r["metric"] or ""))


def _batch(cli, *args):
    result = cli("photo", "batch", *map(str, args), "--no-face", "--no-chart", "--json")
    assert result.code == 0, result.stderr
    return result.json()


def test_local_and_distributed_rows_are_equal_and_a_rerun_resumes(photos, scheduler, cli,
                                                                  tmp_path):
    local = _batch(cli, photos, "--out", tmp_path / "local.parquet", "--workers", "1")
    assert (local["photos"], local["analysed"], local["errors"]) == (4, 3, 1)
    rows = _rows(tmp_path / "local.parquet")
    broken = [r for r in rows if r["status"] == "error"]
    assert len(broken) == 1 and broken[0]["path"].endswith("broken.png")
    assert broken[0]["metric"] is None and broken[0]["error"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert {r["path"] for r in ok} == {str(photos / f"p{i}.png") for i in range(3)}
    assert len({r["sha256"] for r in ok}) == 3 and all(len(r["sha256"]) == 64 for r in ok)
    assert any(r["metric"] == "wrinkles.length_mm" for r in ok)

    distributed = _batch(cli, photos, "--out", tmp_path / "dask.parquet",
                         "--scheduler", scheduler)
    assert distributed["workers"] == 2 and distributed["analysed"] == 3
    assert _rows(tmp_path / "dask.parquet") == rows

    # A rerun skips every photo already analysed; the unreadable one is tried again and
    # its error row replaced, not repeated.
    again = _batch(cli, photos, "--out", tmp_path / "dask.parquet", "--scheduler", scheduler)
    assert (again["skipped"], again["analysed"], again["errors"]) == (3, 0, 1)
    assert _rows(tmp_path / "dask.parquet") == rows
    assert not (tmp_path / "dask.parquet.partial.jsonl").exists()


def test_killed_batch_resumes_without_redoing_or_losing_photos(scheduler, cli, tmp_path):
    # Enough photos that the kill, sent when the first result is on disk, lands mid-batch
    # even on an idle machine.
    PHOTOS = 30  # noqa: N806
    folder = tmp_path / "many"
    _phantoms(folder, PHOTOS, seed=7)
    out = tmp_path / "results.jsonl"
    command = [str(Path(sys.executable).with_name("dermatrack")), "photo", "batch", str(folder),
               "--out", str(out), "--jsonl", "--no-face", "--no-chart",
               "--scheduler", scheduler]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if out.is_file() and out.read_text().count("\n") > 0:
                break
            time.sleep(0.2)
        finished_alone = process.poll() is not None
        if not finished_alone:
            os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert not finished_alone, "the batch ended before it could be killed"
    before = {json.loads(line)["sha256"] for line in out.read_text().splitlines()
              if line.endswith("}")}
    assert 1 <= len(before) < PHOTOS
    # A kill can cut the last line in half: simulate the worst case too.
    with out.open("a") as handle:
        handle.write('{"path": "half a li')

    resumed = _batch(cli, folder, "--out", out, "--jsonl", "--scheduler", scheduler)
    assert resumed["skipped"] == len(before)
    assert resumed["analysed"] == PHOTOS - len(before)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    per_photo: dict[str, int] = {}
    for row in rows:
        assert row["status"] == "ok"
        per_photo[row["sha256"]] = per_photo.get(row["sha256"], 0) + 1
    assert len(per_photo) == PHOTOS
    # Every photo's rows once: the same number of metric rows for each phantom.
    assert len(set(per_photo.values())) == 1


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_parquet_output_is_written_whole_and_a_stale_partial_file_removed(tmp_path,
                                                                          monkeypatch):
    """The Parquet output is written through store/partial_files.replacing: a failure
    mid-write keeps the previous output and the journal (to finish on a rerun) and leaves
    no partial file, a new output is owner-only, and a partial file of it left by a killed
    batch is removed by the next batch writing it. An unreadable photo gives its error
    row without a Dask cluster."""
    import pyarrow.parquet as pq

    from dermatrack.services.batch import BatchItem, BatchOptions, run_batch

    out = tmp_path / "results.parquet"
    items = [BatchItem(str(tmp_path / "gone.png"))]
    run_batch(items, out, options=BatchOptions())
    assert out.stat().st_mode & 0o777 == 0o600
    before = out.read_bytes()

    with monkeypatch.context() as patched:
        patched.setattr(pq.ParquetWriter, "write_table", _disk_full)
        with pytest.raises(OSError) as failed:
            run_batch(items, out, options=BatchOptions())
    assert failed.value.errno == errno.ENOSPC
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "results.parquet", "results.parquet.partial.jsonl"]

    abandoned = tmp_path / ".results.parquet.0123abcd.part"  # no process holds its lock
    abandoned.write_bytes(b"PAR1 half the output of a killed batch")
    summary = run_batch(items, out, options=BatchOptions())
    assert summary.errors == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.parquet"]
    rows = pq.read_table(out).to_pylist()
    assert {(r["path"], r["status"]) for r in rows} == {(items[0].path, "error")}


def test_a_parquet_journal_left_readable_is_made_owner_only_on_resume(tmp_path):
    """A Parquet batch's journal is dermatrack's own partial file of health data: one
    left readable by others (a killed batch of a version before journals were
    owner-only) is made owner-only when the batch resumes; a JSON-lines output is the
    user's file and keeps the mode the user gave it."""
    from dermatrack.services.batch import BatchItem, BatchOptions, run_batch

    items = [BatchItem(str(tmp_path / "gone.png"))]
    out = tmp_path / "results.parquet"
    journal = tmp_path / "results.parquet.partial.jsonl"
    journal.write_text("")
    journal.chmod(0o644)
    seen = []
    real_chmod = Path.chmod

    def watch(path, mode, *args, **kwargs):
        seen.append((path.name, mode))
        return real_chmod(path, mode, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(Path, "chmod", watch)
        run_batch(items, out, options=BatchOptions())
    assert ("results.parquet.partial.jsonl", 0o600) in seen
    assert out.stat().st_mode & 0o777 == 0o600

    user_output = tmp_path / "mine.jsonl"
    user_output.write_text("")
    user_output.chmod(0o640)
    run_batch(items, user_output, options=BatchOptions(), jsonl=True)
    assert user_output.stat().st_mode & 0o777 == 0o640


def test_rewritten_jsonl_output_is_written_whole_and_a_stale_partial_file_removed(
        tmp_path, monkeypatch):
    """A JSON-lines output whose earlier error rows are dropped (a photo tried again) is
    rewritten through store/partial_files.replacing: a failure mid-write keeps the output
    as the batch appended it and leaves no partial file, and a partial file of it left by
    a killed batch is removed by the next rewrite."""
    from dermatrack.services.batch import BatchItem, BatchOptions, run_batch

    out = tmp_path / "results.jsonl"
    items = [BatchItem(str(tmp_path / "gone.png"))]
    run_batch(items, out, options=BatchOptions(), jsonl=True)
    first = out.read_bytes()
    assert out.stat().st_mode & 0o777 == 0o600  # appended health data, owner-only when new
    path_open = Path.open

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[:5])
            _disk_full()

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()

    def disk_full_for_partials(self, *args, **kwargs):
        handle = path_open(self, *args, **kwargs)
        return FullDisk(handle) if self.name.endswith(".part") else handle

    with monkeypatch.context() as patched:
        patched.setattr(Path, "open", disk_full_for_partials)
        with pytest.raises(OSError) as failed:
            run_batch(items, out, options=BatchOptions(), jsonl=True)
    assert failed.value.errno == errno.ENOSPC
    appended = out.read_bytes()
    assert appended.startswith(first) and appended.count(b"\n") == 2
    assert [p.name for p in tmp_path.iterdir()] == ["results.jsonl"]

    abandoned = tmp_path / ".results.jsonl.0123abcd.part"  # no process holds its lock
    abandoned.write_text('{"path": "half a li')
    run_batch(items, out, options=BatchOptions(), jsonl=True)
    assert [p.name for p in tmp_path.iterdir()] == ["results.jsonl"]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["path"], r["status"]) for r in rows] == [(items[0].path, "error")]


def test_many_workers_store_at_once_and_lose_nothing(scheduler, cli, store, tmp_path):
    """Two workers import photos into the clinic at once: into PostgreSQL side by side, into
    SQLite one after the other (busy timeout); every photo and observation arrives."""
    from sqlalchemy import func, select

    from dermatrack.services import patients
    from dermatrack.store.models import Observation, Photo

    folder = tmp_path / "stored"
    _phantoms(folder, 6, seed=11)
    pid = patients.add_patient(store, {"sex": "female", "age": 40, "fitzpatrick": "III",
                                       "consents": [{"kind": "photography",
                                                     "version": "paper-1",
                                                     "signed_at": "2025-06-01T09:00:00Z"}]},
                               actor="tester").id
    visit = patients.add_visit(store, {"patient_id": pid, "timepoint": "baseline",
                                       "date": "2026-01-05"}, actor="tester").id
    result = _batch(cli, folder, "--out", tmp_path / "stored.parquet", "--store",
                    "--patient", pid, "--visit", visit, "--scheduler", scheduler)
    assert (result["analysed"], result["errors"]) == (6, 0)
    rows = _rows(tmp_path / "stored.parquet")
    with store.reading() as session:
        photos = session.scalar(select(func.count(Photo.id)))
        observations = session.scalar(select(func.count(Observation.id)))
        hashes = set(session.scalars(select(Photo.sha256)))
    assert photos == 6
    assert hashes == {r["sha256"] for r in rows}
    assert observations == len(rows)


def test_rerun_after_a_killed_parquet_batch_keeps_one_row_per_photo(tmp_path):
    """A batch killed after its journal got an error row, run again: the photo is tried
    again and its new error row replaces the journal's, not beside it."""
    import pyarrow.parquet as pq

    from dermatrack.services.batch import BatchItem, BatchOptions, run_batch

    out = tmp_path / "results.parquet"
    gone = str(tmp_path / "gone.png")
    run_batch([BatchItem(gone)], tmp_path / "killed.jsonl", options=BatchOptions(),
              jsonl=True)  # the row the killed run wrote to its journal
    journal = out.with_name(out.name + ".partial.jsonl")
    journal.write_bytes((tmp_path / "killed.jsonl").read_bytes())
    run_batch([BatchItem(gone)], out, options=BatchOptions())
    rows = pq.read_table(out).to_pylist()
    assert [(r["path"], r["status"]) for r in rows] == [(gone, "error")]
    assert not journal.exists()


def test_an_output_of_another_method_version_is_refused_not_resumed(photos, tmp_path):
    """Every row names the photo method's version that made it. Resuming an output made
    by another version (or before rows named one) would mix two versions' figures in
    one file: the batch is refused, naming both versions, and the output is left as it
    was."""
    import pyarrow.parquet as pq

    from dermatrack.errors import InputError
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.services.batch import BatchItem, BatchOptions, run_batch

    items = [BatchItem(str(photos / "p0.png"))]
    options = BatchOptions(use_face=False, calibrate=False)
    out = tmp_path / "results.jsonl"
    run_batch(items, out, options=options, jsonl=True, workers=1)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and {r["method_version"] for r in rows} == {PHOTO_METHOD_VERSION}
    # Made by an earlier version: its rows say so, or (before versions) say nothing.
    for earlier, named in (("2026.11.01", "2026.11.01"),
                           (None, "one from before versions were recorded")):
        stale = [{**r, "method_version": earlier} for r in rows]
        if earlier is None:
            stale = [{k: v for k, v in r.items() if k != "method_version"} for r in rows]
        text = "".join(json.dumps(r) + "\n" for r in stale)
        out.write_text(text)
        with pytest.raises(InputError) as refused:
            run_batch(items, out, options=options, jsonl=True, workers=1)
        assert named in str(refused.value) and PHOTO_METHOD_VERSION in str(refused.value)
        assert out.read_text() == text
    # A Parquet output the same.
    parquet = tmp_path / "results.parquet"
    run_batch(items, parquet, options=options, workers=1)
    table = pq.read_table(parquet)
    assert set(table.column("method_version").to_pylist()) == {PHOTO_METHOD_VERSION}
    pq.write_table(table.drop_columns(["method_version"]), parquet)
    with pytest.raises(InputError, match="another version of the photo method"):
        run_batch(items, parquet, options=options, workers=1)


def test_a_folder_of_phone_photographs_includes_its_heic_files(tmp_path):
    from dermatrack.services.batch import collect_inputs

    heic = (Path(__file__).resolve().parent / "heic" / "skin.heic").read_bytes()
    (tmp_path / "sub").mkdir()
    for name in ("IMG_0001.HEIC", "sub/IMG_0002.heif", "notes.txt", "a.png"):
        (tmp_path / name).write_bytes(heic)
    found = [Path(item.path).relative_to(tmp_path).as_posix()
             for item in collect_inputs([tmp_path])]
    assert found == ["IMG_0001.HEIC", "a.png", "sub/IMG_0002.heif"]
