"""Build the demo clinic: records, photographs, device readings, MDC and reports.

:func:`build_demo` writes, under the output directory,

* ``dermatrack.db``: the clinic in the embedded SQLite database, with the photo store in
  ``files/`` beside it (so ``DERMATRACK_DATA_DIR=DIR`` opens it), and one web account
  per role with a random password (:func:`~dermatrack.demo.records.add_demo_accounts`);
* ``repeatability-imaging.json``: the MDC95 of every photo metric, measured on phantoms
  captured repeatedly under ordinary perturbations (:mod:`dermatrack.services.outcomes`
  reads it);
* ``repeatability.json``: the clinic's own MDC95 of every device metric (profilometry,
  colorimetry, suction elasticity), from repeated synthetic captures of the first
  patients' unchanged skin (:func:`~dermatrack.demo.readings.device_mdc`), as a clinic
  would store it with ``dermatrack repeatability --save``;
* ``reports/index.html`` (the cohort report, with the true-versus-estimated check) and
  one progress report per patient, ``reports/<patient id>.html``.

Every record goes through the service layer (intake, consent, visits, sessions, reactions,
scores, observations, photos, the plan with its screening), so the demo exercises the
checks a clinic's data get.

Photographs are rendered and analysed in worker processes (``workers``, default 2); without
photographs the workers simulate the device readings instead, a batch of patients ahead of
the recording. The records are written by the main process only (SQLite has one writer).

This module puts the steps together; each lives in a module of its topic:
:mod:`.records` (patients through the services), :mod:`.photos` (photographs),
:mod:`.readings` and :mod:`.instruments` (device readings), :mod:`.repeatability` (MDC95),
:mod:`.summary` (reports and the true-versus-estimated check), :mod:`.workers` (the worker
processes) and :mod:`.scale` (the demo without photographs).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np

from dermatrack.config import DEMO_MARKER as MARKER
from dermatrack.config import SQLITE_FILENAME, Settings
from dermatrack.demo.design import design_cohort
from dermatrack.demo.photos import photograph_all
from dermatrack.demo.records import DemoResult, Progress, add_demo_accounts, record_all
from dermatrack.demo.repeatability import save_device_mdc
from dermatrack.demo.scale import record_without_photos
from dermatrack.demo.summary import true_vs_estimated, write_cohort_index, write_reports
from dermatrack.demo.workers import workers as worker_pool
from dermatrack.errors import InputError

# --- output directory ----------------------------------------------------------------------

def prepare_directory(out: Path) -> Settings:
    """Settings of a fresh demo clinic in ``out`` (replacing an earlier demo there).

    Raises
    ------
    InputError
        ``out`` is a file, or a non-empty directory that an earlier demo did not make.
    """
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a directory", field="out")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise InputError(f"{out} is not empty and holds no earlier demo; choose another "
                             "--out", field="out")
        for name in (SQLITE_FILENAME, f"{SQLITE_FILENAME}-wal", f"{SQLITE_FILENAME}-shm",
                     "repeatability-imaging.json", "repeatability.json"):
            (out / name).unlink(missing_ok=True)
        # The photographs rendered for import wait in a fresh ".incoming-*" folder
        # (demo.photos), which a demo killed outright leaves behind.
        for folder in [out / "files", out / "reports", *out.glob(".incoming*")]:
            shutil.rmtree(folder, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by `dermatrack demo`: synthetic data only\n",
                              encoding="utf-8")
    # The demo's own database, whatever DERMATRACK_DATABASE_URL says.
    return Settings(data_dir=out, database_url=f"sqlite:///{out / SQLITE_FILENAME}")


# --- the whole demo ------------------------------------------------------------------------

def build_demo(out: Path, *, n_patients: int = 40, seed: int = 0, quick: bool = False,
               workers: int = 2, progress: Progress | None = None,
               today: dt.date | None = None, photos: bool = True,
               database_url: str | None = None) -> DemoResult:
    """Build the demo clinic in ``out`` (module docstring); return what it made.

    Parameters
    ----------
    out:
        Output directory (created; an earlier demo there is replaced).
    n_patients:
        Number of synthetic patients (at least 1).
    seed:
        Seed of every random choice.
    quick:
        Smaller photographs and fewer repeatability captures (for tests).
    workers:
        Processes rendering and analysing photographs (1: in this process).
    progress:
        Called at each stage and step (see :data:`Progress`).
    today:
        The day the demo clinic is seen from (default today).
    photos:
        False: render and analyse no photograph; draw the photo observations from the
        simulated truth and record patients in batches (:mod:`dermatrack.demo.scale`),
        and write the cohort report only (no per-patient reports).
    database_url:
        Store the clinic in this database (e.g. PostgreSQL) instead of ``DIR``'s SQLite
        file; it must be empty of patients.
    """
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services.common import open_store
    from dermatrack.services.outcomes import cohort_summary

    if n_patients < 1:
        raise InputError("the demo needs at least one patient", field="patients")
    if workers < 1:
        raise InputError("workers must be at least 1", field="workers")
    tick = progress or (lambda stage, total: None)
    today = today or dt.date.today()
    settings = prepare_directory(Path(out))
    if database_url is not None:
        settings = Settings(data_dir=settings.data_dir, database_url=database_url)
    modalities = load_modalities(load_vocabulary())
    rng = np.random.default_rng(seed)
    designs = design_cohort(n_patients, modalities, rng, today=today)

    with open_store(settings) as store, worker_pool(workers) as pool:
        result = DemoResult(out=settings.data_dir, settings=settings, patients=[], designs={},
                            treated={})
        result.accounts = add_demo_accounts(store)
        if not photos:
            record_without_photos(store, result, designs, modalities, today, seed, tick,
                                  pool=pool if workers > 1 else None)
        else:
            built = record_all(store, result, designs, modalities, today, seed, tick)
            photograph_all(store, result, built, pool, seed=seed, quick=quick, tick=tick)
        save_device_mdc(settings, designs, seed=seed, quick=quick)
        result.true_vs_estimated = true_vs_estimated(store, result)
        result.summary = cohort_summary(store)
        if photos:
            write_reports(store, result, pool, tick)
        else:
            write_cohort_index(store, result, tick)
    return result
