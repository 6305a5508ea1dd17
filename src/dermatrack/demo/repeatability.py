"""The demo's repeatability: how many subjects and captures, the MDC95 of each photo metric
from repeated phantom captures, and the clinic's device MDC95s saved as its own.

Phantoms are captured :data:`REPEATABILITY_CAPTURES` times each under ordinary
perturbations (:func:`repeatability_job`, in the workers) and the repeatability of their
``whole``-region metrics gives each photo metric's MDC95 (:func:`imaging_mdc`); the first
patients' unchanged skin measured again and again gives the device metrics' MDC95s
(:func:`save_device_mdc`, with :func:`dermatrack.demo.readings.device_mdc` and
:func:`dermatrack.demo.instruments.instrument_mdc`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dermatrack.config import Settings
from dermatrack.demo.design import PatientDesign
from dermatrack.demo.instruments import instrument_mdc
from dermatrack.demo.readings import device_mdc

REPEATABILITY_SUBJECTS = 8
REPEATABILITY_CAPTURES = 3
#: (subjects, captures) of a quick demo.
QUICK_REPEATABILITY = (4, 2)


def repeatability_design(quick: bool) -> tuple[int, int]:
    """(subjects, captures) of the repeatability measurements of a (quick) demo."""
    return QUICK_REPEATABILITY if quick else (REPEATABILITY_SUBJECTS, REPEATABILITY_CAPTURES)


def repeatability_job(job: dict[str, Any]) -> dict[str, Any]:
    """One capture of a repeatability phantom; return its ``whole`` region metrics."""
    from dataclasses import replace

    from dermatrack.demo import images
    from dermatrack.imaging.analysis import photo_result, run_analysis
    from dermatrack.imaging.phantom import make_phantom, random_spec
    from dermatrack.services.photos import metric_rows

    width, height = images.QUICK_PHANTOM_SIZE if job["quick"] else images.PHANTOM_SIZE
    spec = random_spec(np.random.default_rng(job["seed"]), width=width, height=height,
                       mm_per_px=images.PHANTOM_MM_PER_PX)
    capture = images.capture_perturbation(np.random.default_rng([job["seed"], job["capture"]]))
    phantom = make_phantom(replace(spec, perturbation=capture),
                           np.random.default_rng(job["seed"]))
    report = photo_result(run_analysis(phantom.rgb, mm_per_px=images.PHANTOM_MM_PER_PX,
                                       use_face=False, calibrate=False))
    return {**job, "rows": [r for r in metric_rows(report) if r["region"] == "whole"]}


def imaging_mdc(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MDC95 of each photo metric from the repeated phantom captures (every region: the
    phantoms' ``whole`` region stands for all)."""
    from dermatrack.outcomes.repeatability import mdc_entries

    return mdc_entries(((result["seed"], result["capture"], row["metric"], None, row["value"])
                        for result in results for row in result["rows"]
                        if row["metric"] != "area_mm2"),  # the region's size, not an outcome
                       kind="photo")


def save_device_mdc(settings: Settings, designs: list[PatientDesign], *, seed: int,
                     quick: bool) -> None:
    """Save the device MDC95s as the demo clinic's own repeatability (its
    ``repeatability.json``), as a clinic would from repeated captures of its patients."""
    from dermatrack.services.outcomes import save_mdc

    subjects, captures = repeatability_design(quick)
    chosen = designs[:max(subjects, 2)]
    entries = device_mdc(chosen, captures, seed)
    entries += instrument_mdc(chosen, captures, seed)
    if not entries:  # a one-patient demo has no repeatability to speak of
        return
    save_mdc(settings, entries,
             source=f"demo clinic's device repeatability: {len(chosen)} synthetic patients x "
                    f"{captures} repeated captures (dermatrack demo)", clinic=True)
