"""Batch photo analysis as a job: ``dermatrack photo batch`` (issue 14).

Many photographs (files, folders, or a list file) are analysed on a Dask cluster
(``distributed``): local worker processes by default, or an existing cluster given by its
scheduler address. Results stream out as each photo finishes, one row per metric and
region (:data:`COLUMNS`), to a Parquet file or to JSON lines.

Streaming, resuming, bounded memory
-----------------------------------
* Each finished photo's rows are appended at once, as JSON lines, to the output (with
  ``jsonl``) or to a journal beside it (``OUT.partial.jsonl``) and flushed; a Parquet
  output is written from the previous Parquet file and the journal when the batch ends,
  chunk by chunk, then the journal is removed.
* A rerun skips every photo whose content (SHA-256) already has an ``ok`` row in the
  output or the journal, so a killed batch resumes where it stopped (every row names
  the version of the photo method that made it, ``method_version``, and an output of
  another version is refused rather than resumed: one output, one version); a
  trailing half line left by a kill is dropped. A photo that failed is tried again, and its earlier
  error row replaced.
* At most :data:`IN_FLIGHT_PER_WORKER` photos per worker are submitted at a time, and
  only their results are held in memory.
* An unreadable photo gives one ``error`` row (``metric`` null, ``error`` the reason)
  and the batch goes on.

Storing (``store``)
-------------------
Each worker imports its photographs into the clinic (``import_photo``: the file, the
photo row, its observations) in a transaction of its own, so many workers write into
PostgreSQL at once; each photo needs a patient (and usually a visit), from the list
file's ``patient_id``/``visit_id`` columns or given for the whole batch. SQLite has one
writer at a time: its busy timeout makes the workers queue.

With a remote cluster the photographs' paths (and, with ``store``, the data directory
and the database) must be reachable from every worker under the same names, e.g. on a
shared file system; the client hashes each file once to skip finished ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dermatrack.errors import InputError
from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
from dermatrack.imaging.io import IMAGE_SUFFIXES
from dermatrack.store.partial_files import replacing

LIST_SUFFIXES = (".txt", ".csv", ".lst")
IN_FLIGHT_PER_WORKER = 4
CHUNK_ROWS = 50_000
ACTOR = "photo-batch"

#: The columns of a result row.
COLUMNS = ("path", "sha256", "status", "error", "region", "metric", "value", "unit",
           "patient_id", "visit_id", "photo_id", "seconds", "finished_at", "method_version")


@dataclass(frozen=True)
class BatchItem:
    """One photograph to analyse, with the patient and visit it belongs to (for storing)."""

    path: str
    patient_id: str | None = None
    visit_id: str | None = None


@dataclass
class BatchOptions:
    """How to analyse (as ``photo analyze``) and whether to store the results."""

    mm_per_px: float | None = None
    use_face: bool = True
    calibrate: bool = True
    store: bool = False
    data_dir: str | None = None
    database_url: str | None = None


@dataclass
class BatchSummary:
    """What a batch did."""

    out: str
    photos: int = 0
    analysed: int = 0
    skipped: int = 0
    errors: int = 0
    rows: int = 0
    seconds: float = 0.0
    workers: int = 0
    scheduler: str | None = None
    error_paths: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        rate = self.analysed / self.seconds if self.seconds > 0 else None
        return {"out": self.out, "photos": self.photos, "analysed": self.analysed,
                "skipped": self.skipped, "errors": self.errors, "rows": self.rows,
                "seconds": round(self.seconds, 3),
                "photos_per_second": None if rate is None else round(rate, 4),
                "workers": self.workers, "scheduler": self.scheduler,
                "error_paths": self.error_paths[:20]}


# --- inputs --------------------------------------------------------------------------------

def _list_file(path: Path) -> list[BatchItem]:
    """A list file: CSV with a ``path`` column (and ``patient_id``, ``visit_id``), or one
    path per line (``#`` comments); relative paths are relative to the list file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the list file {path}: {exc}", field="input") from None
    base = path.parent
    lines = [line for line in text.splitlines() if line.strip()
             and not line.lstrip().startswith("#")]
    if not lines:
        return []
    header = [name.strip() for name in next(csv.reader([lines[0]]))]
    if "path" in header:
        items = []
        for number, row in enumerate(csv.DictReader(lines), start=2):
            where = (row.get("path") or "").strip()
            if not where:
                raise InputError(f"{path.name}: line {number} has no path", field="input",
                                 line=number)
            items.append(BatchItem(str(base / where), (row.get("patient_id") or "").strip()
                                   or None, (row.get("visit_id") or "").strip() or None))
        return items
    return [BatchItem(str(base / line.strip())) for line in lines]


def collect_inputs(inputs: Iterable[str | Path], *, patient_id: str | None = None,
                   visit_id: str | None = None) -> list[BatchItem]:
    """The photographs named by ``inputs``: image files, folders (searched recursively
    for JPEG, PNG, TIFF and HEIC files) and list files (``.txt``, ``.csv``, ``.lst``), in order,
    each once.

    Raises
    ------
    InputError
        An input that does not exist, or an unreadable list file.
    """
    items: list[BatchItem] = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            items.extend(BatchItem(str(p)) for p in sorted(path.rglob("*"))
                         if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            items.extend(_list_file(path))
        elif path.is_file():
            items.append(BatchItem(str(path)))
        else:
            raise InputError(f"no such file or folder: {path}", field="input")
    seen: set[str] = set()
    unique = []
    for item in items:
        key = os.path.abspath(item.path)
        if key in seen:
            continue
        seen.add(key)
        unique.append(BatchItem(item.path, item.patient_id or patient_id,
                                item.visit_id or visit_id))
    return unique


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the work (runs on the workers) --------------------------------------------------------

_STORES: dict[tuple[str, str], Any] = {}


def _worker_store(options: BatchOptions) -> Any:
    """One open store per worker process and database (reused across photos)."""
    from dermatrack.config import Settings
    from dermatrack.services.common import open_store

    key = (options.data_dir or "", options.database_url or "")
    if key not in _STORES:
        _STORES[key] = open_store(Settings(data_dir=Path(options.data_dir or "."),
                                           database_url=options.database_url or ""))
    return _STORES[key]


def _row(item: BatchItem, sha: str | None, started: float, **values: Any) -> dict[str, Any]:
    row = dict.fromkeys(COLUMNS)
    row.update(path=item.path, sha256=sha, patient_id=item.patient_id, visit_id=item.visit_id,
               seconds=round(time.perf_counter() - started, 4),
               finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
               method_version=PHOTO_METHOD_VERSION)
    row.update(values)
    return row


def analyse_item(item: BatchItem, sha: str | None, options: BatchOptions
                 ) -> list[dict[str, Any]]:
    """Analyse (and with ``options.store`` store) one photograph; its result rows.

    Never raises for a bad photo: the failure becomes one ``error`` row.
    """
    from dermatrack.errors import DermatrackError
    from dermatrack.services.photos import analyze_file, import_photo, metric_rows

    started = time.perf_counter()
    try:
        analysis = analyze_file(item.path, mm_per_px=options.mm_per_px,
                                use_face=options.use_face, calibrate=options.calibrate)
        photo_id = None
        if options.store:
            if not item.patient_id:
                raise InputError("no patient given for --store (list file column "
                                 "patient_id, or --patient)", field="patient_id")
            photo = import_photo(_worker_store(options), patient_id=item.patient_id,
                                 visit_id=item.visit_id, path=item.path, actor=ACTOR,
                                 analysis=analysis, use_face=options.use_face,
                                 mm_per_px=options.mm_per_px)
            photo_id = photo.id
        rows = metric_rows(analysis.result)
    except (DermatrackError, OSError, ValueError) as exc:
        return [_row(item, sha, started, status="error",
                     error=f"{type(exc).__name__}: {exc}"[:500])]
    return [_row(item, analysis.source_sha256, started, status="ok", photo_id=photo_id,
                 region=r["region"], metric=r["metric"], value=r["value"], unit=r["unit"])
            for r in rows]


def analyse_many(jobs: list[tuple[BatchItem, str | None]], options: BatchOptions
                 ) -> list[list[dict[str, Any]]]:
    """:func:`analyse_item` of several photos (one Dask task)."""
    return [analyse_item(item, sha, options) for item, sha in jobs]


# --- output --------------------------------------------------------------------------------

def _journal_path(out: Path, jsonl: bool) -> Path:
    return out if jsonl else out.with_name(out.name + ".partial.jsonl")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSON-lines file; a trailing half line (a killed writer) is dropped."""
    for _, row in _read_jsonl_at(path):
        yield row


def _read_jsonl_at(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(byte offset, row) of each row of a JSON-lines file (see :func:`_read_jsonl`)."""
    if not path.is_file():
        return
    with path.open("rb") as handle:
        position = 0
        for line in handle:
            if not line.endswith(b"\n"):
                break
            start, position = position, position + len(line)
            try:
                yield start, json.loads(line)
            except json.JSONDecodeError:
                continue


def _is_retried_error(row: dict[str, Any], retried: set[str]) -> bool:
    """An error row of a photo tried again in this run (``retried``: digests, or paths of
    unreadable files): its new row replaces it."""
    return row.get("status") == "error" and (row.get("sha256") or row.get("path")) in retried


def _truncate_partial_line(path: Path) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        data = handle.read()
        if data.endswith(b"\n"):
            return
        handle.truncate(data.rfind(b"\n") + 1)


def _parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        return
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 (pyarrow raises several kinds)
        raise InputError(f"{path} exists but is not a readable Parquet file ({exc}); move "
                         "it away or choose another --out", field="out") from None
    for batch in parquet.iter_batches(batch_size=CHUNK_ROWS):
        yield from batch.to_pylist()


def _done_hashes(out: Path, jsonl: bool) -> set[str]:
    """The photographs an earlier run finished. Its rows must be of this version of the
    photo method: resuming would otherwise mix two versions' figures in one output
    (:data:`~dermatrack.imaging.definitions.PHOTO_METHOD_VERSION`)."""
    journal = _journal_path(out, jsonl)
    rows: Iterable[dict[str, Any]] = _read_jsonl(journal)
    if not jsonl:
        rows = itertools.chain(rows, _parquet_rows(out))
    done: set[str] = set()
    other: set[str | None] = set()
    for row in rows:  # streamed: the output may hold millions of rows
        if row.get("status") == "ok":
            if row.get("method_version") != PHOTO_METHOD_VERSION:
                other.add(row.get("method_version"))
            if row.get("sha256"):
                done.add(row["sha256"])
    if other:
        found = ", ".join(sorted(v or "one from before versions were recorded"
                                 for v in other))
        partial = f" and {journal}" if not jsonl and journal.is_file() else ""
        raise InputError(f"{out} holds results of another version of the photo method "
                         f"({found}; this is {PHOTO_METHOD_VERSION}): one output holds "
                         f"one version's figures. Write to a new file, or remove {out}"
                         f"{partial} to measure every photograph again", field="out")
    return done


def _schema() -> Any:
    import pyarrow as pa

    text = pa.string()
    return pa.schema([("path", text), ("sha256", text), ("status", text), ("error", text),
                      ("region", text), ("metric", text), ("value", pa.float64()),
                      ("unit", text), ("patient_id", text), ("visit_id", text),
                      ("photo_id", text), ("seconds", pa.float64()),
                      ("finished_at", text), ("method_version", text)])


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _finish_parquet(out: Path, retried: set[str], before: int) -> int:
    """Write ``out`` from the previous Parquet file and the journal, whole or not at all
    (:func:`dermatrack.store.partial_files.replacing`); return its rows.

    An earlier error row of a photo tried again in this run (:func:`_is_retried_error`) is
    left out: in the previous Parquet file, and in the first ``before`` bytes of the
    journal (rows of a run that was killed before it finished).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    journal = _journal_path(out, False)
    schema = _schema()

    def every() -> Iterator[dict[str, Any]]:
        for row in _parquet_rows(out):
            if not _is_retried_error(row, retried):
                yield {name: row.get(name) for name in COLUMNS}
        for offset, row in _read_jsonl_at(journal):
            if offset >= before or not _is_retried_error(row, retried):
                yield row

    count = 0
    with replacing(out) as replacement, \
            pq.ParquetWriter(replacement.partial, schema) as writer:
        for chunk in _chunks(every(), CHUNK_ROWS):
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            count += len(chunk)
    journal.unlink(missing_ok=True)
    return count


def _rewrite_jsonl_without(out: Path, retried: set[str], before: int) -> None:
    """Drop, from the first ``before`` bytes of a JSON-lines output, the error rows of
    photos tried again (their new rows follow); the output is rewritten whole or not at
    all (:func:`dermatrack.store.partial_files.replacing`)."""
    if not retried:
        return
    with out.open("rb") as source, replacing(out) as replacement, \
            replacement.partial.open("wb") as target:
        position = 0
        for line in source:
            if position < before:
                if not _is_retried_error(json.loads(line), retried):
                    target.write(line)
            else:
                target.write(line)
            position += len(line)


# --- the job -------------------------------------------------------------------------------

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each photo (skipped ones are counted at the start)."""


def _client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A Dask client: on ``scheduler`` (``tcp://host:port``), or on a local cluster of
    ``workers`` single-threaded processes (no dashboard)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler {scheduler}: {exc}",
                             field="scheduler") from None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", host="127.0.0.1")
    return Client(cluster), cluster


def run_batch(items: list[BatchItem], out: str | Path, *, options: BatchOptions,
              jsonl: bool = False, workers: int = 2, scheduler: str | None = None,
              progress: Progress | None = None, per_task: int = 1) -> BatchSummary:
    """Analyse ``items`` on Dask and stream their rows to ``out`` (module docstring).

    Parameters
    ----------
    items:
        From :func:`collect_inputs`.
    out:
        Parquet file, or JSON-lines file with ``jsonl``.
    options:
        Analysis settings, and whether (and where) to store the results.
    workers:
        Local worker processes (ignored with ``scheduler``).
    scheduler:
        Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    progress:
        Called after each photo.
    per_task:
        Photos per Dask task (more amortises the scheduling cost of tiny photos).
    """
    from distributed import as_completed

    if workers < 1:
        raise InputError("workers must be at least 1", field="workers")
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out} is a folder; --out needs a file name", field="out")
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary = BatchSummary(out=str(out), photos=len(items), scheduler=scheduler)
    journal = _journal_path(out, jsonl)
    _truncate_partial_line(journal)
    done = _done_hashes(out, jsonl)
    earlier_size = journal.stat().st_size if journal.is_file() else 0

    todo: list[tuple[BatchItem, str | None]] = []
    unreadable: list[list[dict[str, Any]]] = []
    for item in items:
        try:
            sha = file_sha256(item.path)
        except OSError as exc:
            unreadable.append([_row(item, None, time.perf_counter(), status="error",
                                    error=f"{type(exc).__name__}: {exc}"[:500])])
            continue
        if sha in done:
            summary.skipped += 1
            continue
        todo.append((item, sha))
    retried = {sha for _, sha in todo if sha} | {item.path for item, _ in todo}
    retried |= {rows[0]["path"] for rows in unreadable}
    finished = summary.skipped
    if progress:
        progress(finished, len(items))

    def write(handle: Any, rows: list[dict[str, Any]]) -> None:
        nonlocal finished
        handle.write("".join(json.dumps(row, allow_nan=False, default=str) + "\n"
                             for row in rows))
        handle.flush()
        summary.rows += len(rows)
        if rows and rows[0]["status"] == "error":
            summary.errors += 1
            summary.error_paths.append(rows[0]["path"])
        else:
            summary.analysed += 1
        finished += 1
        if progress:
            progress(finished, len(items))

    # Health data from the first row: a new journal or JSON-lines output is owner-only,
    # as the files written through replacing are. An existing JSON-lines output is the
    # user's file and keeps its mode; a Parquet batch's journal is dermatrack's own
    # partial file, and one left readable by others (by a version before journals were
    # owner-only) is made owner-only before anything is appended.
    if not jsonl and journal.is_file():
        mode = journal.stat().st_mode & 0o777
        if mode & 0o077:
            journal.chmod(mode & 0o700)
    with open(journal, "a", encoding="utf-8",
              opener=lambda name, flags: os.open(name, flags, 0o600)) as handle:
        for rows in unreadable:
            write(handle, rows)
        if todo:
            client, cluster = _client(scheduler, workers)
            try:
                summary.workers = len(client.scheduler_info().get("workers", {})) or workers
                window = IN_FLIGHT_PER_WORKER * max(summary.workers, 1)
                tasks = [todo[i:i + per_task] for i in range(0, len(todo), per_task)]
                pending = iter(tasks)
                futures = as_completed()
                for chunk in _take(pending, window):
                    futures.add(client.submit(analyse_many, chunk, options, pure=False))
                for future in futures:
                    for rows in future.result():
                        write(handle, rows)
                    future.release()
                    for chunk in _take(pending, 1):
                        futures.add(client.submit(analyse_many, chunk, options, pure=False))
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
    if jsonl:
        _rewrite_jsonl_without(out, retried, earlier_size)
    else:
        _finish_parquet(out, retried, earlier_size)
    summary.seconds = time.perf_counter() - started
    return summary


def _take(iterator: Iterator[Any], count: int) -> list[Any]:
    taken = []
    for _ in range(count):
        try:
            taken.append(next(iterator))
        except StopIteration:
            break
    return taken
