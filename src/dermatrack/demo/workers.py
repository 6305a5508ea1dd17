"""The demo's worker processes: the jobs they run and the pool that runs them.

A job is a picklable dict whose ``type`` names its function (:data:`_JOBS`): ``photo``
(:func:`dermatrack.demo.photos.photo_job`), ``readings``
(:func:`dermatrack.demo.records.readings_job`), ``repeatability``
(:func:`dermatrack.demo.repeatability.repeatability_job`) or ``report``
(:func:`dermatrack.demo.summary.report_job`); :func:`workers` maps jobs to their results
over ``spawn``-started processes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from dermatrack.demo.photos import photo_job
from dermatrack.demo.records import readings_job
from dermatrack.demo.repeatability import repeatability_job
from dermatrack.demo.summary import report_job

_JOBS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "photo": photo_job, "readings": readings_job, "repeatability": repeatability_job,
    "report": report_job}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Dispatch a job by its ``type`` (a key of :data:`_JOBS`)."""
    return _JOBS[job["type"]](job)


@contextlib.contextmanager
def workers(count: int) -> Iterator[Callable[[list[dict[str, Any]]], Iterator[dict]]]:
    """A function mapping jobs to results in order, over ``count`` processes.

    ``spawn`` starts clean interpreters, so no database connection or thread is inherited.
    """
    if count <= 1:
        yield lambda jobs: (run_job(job) for job in jobs)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        yield lambda jobs: pool.map(run_job, jobs)
