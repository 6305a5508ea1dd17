"""The demo at research scale: ``dermatrack demo --patients N --no-photos`` (issue 14).

No photograph is rendered or analysed. Each patient's photo observations are drawn from
the same simulated truth as the photographed demo's:

* one phantom of the demo's kind is rendered and analysed once
  (:func:`template_rows`): its 21 ``whole``-region metrics are the cohort's template;
* a patient's untreated skin is the template scaled by a factor of their own per metric
  (log-normal, SD 15 %, from the patient's seed);
* at each visit the concern's metrics (:data:`FAMILY_METRICS`) shrink by the patient's
  simulated treatment effect at that visit (:meth:`PatientDesign.effect_at`), the same
  fraction of features the photographed demo removes from the phantom;
* every stored value adds capture noise, normal with an SD of :data:`CAPTURE_NOISE` of
  the value (the order of the phantoms' capture repeatability).

The noise-free values are the truth the true-versus-estimated check compares with, and
the MDC95 of each photo metric follows from the noise model
(``2.77 x CAPTURE_NOISE x template value``, saved as the imaging repeatability).

Records are written through the services, :data:`BATCH_SIZE` patients per transaction
(:meth:`dermatrack.services.common.Store.batch`: every check and audit row of a service
call, with the audit rows written together at the end of the batch), while worker
processes simulate the next batch's device readings (:func:`simulated_batches`), so that
thousands of patients load in minutes on SQLite or PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from dermatrack.demo.design import PatientDesign
from dermatrack.demo.records import (
    ACTOR,
    PHOTO_TIMEPOINTS,
    SimulatedReadings,
    record_patient,
)

CAPTURE_NOISE = 0.03
PATIENT_SD = 0.15
BATCH_SIZE = 200
#: Designs per worker job when the readings are simulated in worker processes.
READINGS_CHUNK = 25
NO_PHOTO_METHOD = "synthetic photo metrics drawn from the simulated truth (demo --no-photos)"

#: Photo metrics a treatment of each feature family changes, all scaled by (1 - effect).
FAMILY_METRICS: dict[str, tuple[str, ...]] = {
    "wrinkles": ("wrinkles.count", "wrinkles.length_mm", "wrinkles.density_mm_per_cm2",
                 "wrinkles.area_fraction", "wrinkles.severity_index"),
    "pigment": ("pigment.spot_count", "pigment.spot_area_fraction", "pigment.evenness"),
    "redness": ("redness.red_area_fraction", "redness.erythema_index"),
    "pores": ("pores.count", "pores.density_per_cm2"),
    "texture": ("texture.roughness",),
}

#: Metrics that are counts: drawn values are rounded to whole numbers.
COUNT_METRICS = frozenset({"wrinkles.count", "pigment.spot_count", "pores.count"})


def template_rows(seed: int) -> list[dict[str, Any]]:
    """The ``whole``-region metric rows of one quick demo phantom (rendered once)."""
    from dermatrack.demo import images
    from dermatrack.imaging.analysis import photo_result, run_analysis
    from dermatrack.imaging.phantom import make_phantom, random_spec
    from dermatrack.services.photos import metric_rows

    width, height = images.QUICK_PHANTOM_SIZE
    rng = np.random.default_rng([seed, 14])
    spec = random_spec(rng, width=width, height=height, mm_per_px=images.PHANTOM_MM_PER_PX,
                       n_wrinkles=4, n_spots=4, n_erythema=2, n_pores=12)
    phantom = make_phantom(spec, np.random.default_rng([seed, 14]))
    report = photo_result(run_analysis(phantom.rgb, mm_per_px=images.PHANTOM_MM_PER_PX,
                                       use_face=False, calibrate=False))
    return [row for row in metric_rows(report)
            if row["region"] == "whole" and row["value"] is not None
            and row["metric"] != "area_mm2"]


def true_values(design: PatientDesign, template: list[dict[str, Any]], timepoint: str
                ) -> dict[str, float]:
    """Noise-free photo metrics of a patient at a visit (module docstring)."""
    rng = np.random.default_rng([design.seed, 140])
    factors = np.exp(rng.normal(0.0, PATIENT_SD, len(template)))
    shrink = 1.0 - design.effect_at(timepoint)
    changed = FAMILY_METRICS[design.family]
    return {row["metric"]: float(row["value"]) * float(factor)
            * (shrink if row["metric"] in changed else 1.0)
            for row, factor in zip(template, factors, strict=True)}


def measured_values(truth: dict[str, float], rng: np.random.Generator) -> dict[str, float]:
    """One capture of ``truth``: relative normal noise, counts rounded, never negative."""
    values = {}
    for metric, value in truth.items():
        drawn = max(0.0, value * (1.0 + CAPTURE_NOISE * float(rng.normal())))
        values[metric] = float(round(drawn)) if metric in COUNT_METRICS else drawn
    return values


def noise_mdc(template: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MDC95 of each photo metric under the capture noise model (2.77 x SEM)."""
    return [{"kind": "photo", "metric": row["metric"], "region": None,
             "mdc95": math.sqrt(2.0) * 1.96 * CAPTURE_NOISE * abs(float(row["value"])),
             "sem": CAPTURE_NOISE * abs(float(row["value"])), "n_subjects": None}
            for row in template]


def simulated_batches(designs: list[PatientDesign], batch_size: int, pool: Any | None
                      ) -> Iterator[tuple[list[PatientDesign],
                                          Iterable[SimulatedReadings | None]]]:
    """Each batch of designs with its simulated readings, the next batch's already under
    way in ``pool`` (:func:`dermatrack.demo.workers.workers`) while this one is recorded.

    The readings of a batch come as the workers finish each chunk of
    :data:`READINGS_CHUNK` designs (in the designs' order), so that recording starts with
    the first chunk rather than the whole batch. Without a pool the readings are left to
    :func:`record_patient` (``None``).
    """
    batches = [designs[start:start + batch_size]
               for start in range(0, len(designs), batch_size)]
    if pool is None:
        for batch in batches:
            yield batch, [None] * len(batch)
        return

    def submit(batch: list[PatientDesign]) -> Iterator[dict[str, Any]]:
        return pool([{"type": "readings", "designs": batch[start:start + READINGS_CHUNK]}
                     for start in range(0, len(batch), READINGS_CHUNK)])

    pending = submit(batches[0]) if batches else iter(())
    for number, batch in enumerate(batches):
        current = pending
        if number + 1 < len(batches):
            pending = submit(batches[number + 1])
        yield batch, (readings for done in current for readings in done["readings"])


def record_without_photos(store: Any, result: Any, designs: list[PatientDesign],
                          modalities: dict[str, Any], today: Any, seed: int, tick: Any,
                          *, batch_size: int = BATCH_SIZE, pool: Any | None = None) -> None:
    """Record every patient through the services, ``batch_size`` per transaction, with
    photo observations drawn from the simulated truth at each photo visit.

    With a ``pool`` the device readings are simulated in its worker processes, one batch
    ahead of the recording (:func:`simulated_batches`); the records are still written by
    this process only.
    """
    from dermatrack.demo.design import FAMILY_METRIC
    from dermatrack.services.observations import Measurement, record_measurements
    from dermatrack.services.outcomes import save_mdc

    template = template_rows(seed)
    units = {row["metric"]: row["unit"] for row in template}
    save_mdc(result.settings, noise_mdc(template),
             source=f"demo --no-photos: capture noise model ({CAPTURE_NOISE:.0%} of the value)")
    tick("Recording patients", len(designs))
    for batch, simulated in simulated_batches(designs, batch_size, pool):
        with store.batch(ACTOR):
            for design, readings in zip(batch, simulated, strict=True):
                rng = np.random.default_rng([seed, design.index])
                record = record_patient(store, design, modalities, today, rng, readings)
                patient_id = record["patient"].id
                result.patients.append(patient_id)
                result.designs[patient_id] = design
                if record["modality"] is not None:
                    result.treated[patient_id] = record["modality"]
                metric, _ = FAMILY_METRIC[design.family]
                capture = np.random.default_rng([seed, design.index, 141])
                for timepoint in PHOTO_TIMEPOINTS:
                    visit = record["visits"].get(timepoint)
                    if visit is None:
                        continue
                    truth = true_values(design, template, timepoint)
                    values = measured_values(truth, capture)
                    record_measurements(store, patient_id=patient_id, visit_id=visit.id,
                                        actor=ACTOR, measurements=[Measurement(
                                            region="whole", kind="photo", values=values,
                                            units={name: units[name] for name in values},
                                            method=NO_PHOTO_METHOD,
                                            settings={"no_photos": True})])
                    _, key = FAMILY_METRIC[design.family]
                    result.truth.setdefault(patient_id, {})[timepoint] = {key: truth[metric]}
                tick("Recording patients", None)
