"""Build the demo clinic: records, photographs, device readings, MDC and reports.

:func:`build_demo` writes, under the output directory,

* ``dermatrack.db``: the clinic in the embedded SQLite database, with the photo store in
  ``files/`` beside it (so ``DERMATRACK_DATA_DIR=DIR`` opens it), and one web account
  per role with a random password (:func:`add_demo_accounts`);
* ``repeatability-imaging.json``: the MDC95 of every photo metric, measured on phantoms
  captured repeatedly under ordinary perturbations (:mod:`dermatrack.services.outcomes`
  reads it);
* ``repeatability.json``: the clinic's own MDC95 of every device metric (profilometry,
  colorimetry, suction elasticity), from repeated synthetic captures of the first
  patients' unchanged skin (:func:`device_mdc`), as a clinic would store it with
  ``dermatrack repeatability --save``;
* ``reports/index.html`` (the cohort report, with the true-versus-estimated check) and
  one progress report per patient, ``reports/<patient id>.html``.

Every record goes through the service layer (intake, consent, visits, sessions, reactions,
scores, observations, photos, the plan with its screening), so the demo exercises the
checks a clinic's data get.

Photographs are rendered and analysed in worker processes (``workers``, default 2); the
records are written by the main process only (SQLite has one writer).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermatrack.config import DEMO_MARKER as MARKER
from dermatrack.config import SQLITE_FILENAME, Settings
from dermatrack.demo.design import (
    FAMILY_METRIC,
    PatientDesign,
    design_cohort,
    event_probability,
    gais_grade,
)
from dermatrack.errors import InputError

ACTOR = "demo"
REPEATABILITY_SUBJECTS = 8
REPEATABILITY_CAPTURES = 3
QUICK_REPEATABILITY = (4, 2)
PHOTO_TIMEPOINTS = ("baseline", "month_1", "month_3")
DEVICE_TIMEPOINTS = ("baseline", "month_3")
OPERATOR = "Demo Operator"
RATER = "Demo Rater (blinded)"

Progress = Callable[[str, int | None], None]
"""``progress(stage, total)`` starts a stage; ``progress(stage, None)`` advances it by one."""


@dataclass(frozen=True)
class DemoAccount:
    """A web account of the demo clinic, with its password in clear (shown once)."""

    username: str
    role: str
    password: str


@dataclass
class DemoResult:
    """What the demo built, for the command's summary."""

    out: Path
    settings: Settings
    patients: list[str]
    designs: dict[str, PatientDesign]
    treated: dict[str, str]
    truth: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    true_vs_estimated: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    index: Path | None = None
    accounts: list[DemoAccount] = field(default_factory=list)


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
        for name in ("files", "reports", ".incoming"):
            shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by `dermatrack demo`: synthetic data only\n",
                              encoding="utf-8")
    # The demo's own database, whatever DERMATRACK_DATABASE_URL says.
    return Settings(data_dir=out, database_url=f"sqlite:///{out / SQLITE_FILENAME}")


# --- worker jobs (top level: picklable for the process pool) -------------------------------

def photo_job(job: dict[str, Any]) -> dict[str, Any]:
    """Render one patient's photographs at each visit, write them as PNG and analyse them.

    The demo's photographs hold no ColorChecker, so the chart search is skipped.
    """
    import cv2

    from dermatrack.demo import images
    from dermatrack.services.photos import analyze_file

    design: PatientDesign = job["design"]
    phantom = design.photo_source == "phantom"
    mm_per_px, use_face = (images.PHANTOM_MM_PER_PX, False) if phantom else (None, True)
    renderer = images.PatientPhotographer(design, quick=job["quick"])
    shots = []
    for visit in job["visits"]:
        rgb, truth = renderer.photograph(visit["timepoint"], visit["number"])
        path = Path(job["incoming"]) / f"{visit['visit_id']}.png"
        # Lowest PNG compression: the file lives a few seconds and is read once.
        pixels = cv2.cvtColor((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8),
                              cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        shots.append({**visit, "path": str(path), "truth": truth,
                      "analysis": analyze_file(path, mm_per_px=mm_per_px, use_face=use_face,
                                               calibrate=False)})
    # Each later photograph aligned onto the first here, in the worker, as the photo
    # service would when storing it (the main process only stores the result).
    if shots and shots[0]["analysis"].display is not None:
        from dermatrack.services.derived import compute_alignment, pack_display

        first = pack_display(shots[0]["analysis"].display)
        for shot in shots[1:]:
            if shot["analysis"].display is not None:
                shot["alignment"] = compute_alignment(first,
                                                      pack_display(shot["analysis"].display))
    return {**job, "shots": shots, "use_face": use_face}


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


def report_job(job: dict[str, Any]) -> dict[str, Any]:
    """Write one patient's progress report (reads the demo database, writes one file)."""
    from dermatrack.services.common import open_store
    from dermatrack.services.reports import patient_report_html

    settings = Settings(data_dir=Path(job["data_dir"]), database_url=job["database_url"])
    with open_store(settings) as store:
        html = patient_report_html(store, job["patient_id"], synthetic=True,
                                   cohort_link="index.html")
    Path(job["path"]).write_text(html, encoding="utf-8")
    return job


_JOBS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "photo": photo_job, "repeatability": repeatability_job, "report": report_job}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Dispatch a job by its ``type`` (``photo``, ``repeatability`` or ``report``)."""
    return _JOBS[job["type"]](job)


@contextlib.contextmanager
def _workers(count: int) -> Iterator[Callable[[list[dict[str, Any]]], Iterator[dict]]]:
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


# --- records -------------------------------------------------------------------------------

def _choose(design: PatientDesign, plan: Any) -> Any | None:
    """The wanted modality when the plan recommends it, else the plan's best."""
    for recommendation in plan.recommended:
        if recommendation.modality == design.wanted_modality:
            return recommendation
    return plan.recommended[0] if plan.recommended else None


@dataclass(frozen=True)
class DeviceReading:
    """One instrument's reading at a visit, as ``record_observations`` takes it."""

    kind: str
    values: dict[str, float | None]
    units: dict[str, str]
    device: str
    method: str
    settings: dict[str, Any]

    def measurement(self, region: str) -> Any:
        """This reading as the observation service stores it, measured at ``region``."""
        from dermatrack.services.observations import Measurement

        return Measurement(region=region, kind=self.kind, values=self.values,
                           units=self.units, method=self.method, device=self.device,
                           settings=self.settings)


def _device_state(design: PatientDesign, timepoint: str) -> dict[str, Any]:
    """What the patient's skin is at a visit, as the device simulators take it."""
    from dermatrack.demo.design import ITA_BY_TYPE

    effect = design.effect_at(timepoint)
    return {"furrow_effect": effect if design.family in ("wrinkles", "texture") else 0.0,
            "erythema": 6.0 * (1.0 - effect) if design.family == "redness" else 1.0,
            "ita": ITA_BY_TYPE[design.fitzpatrick],
            "firming": effect if design.concern in ("laxity", "volume_loss", "wrinkles")
            else 0.0}


def measure_devices(state: dict[str, Any], surface_rng: np.random.Generator,
                    rng: np.random.Generator) -> list[DeviceReading]:
    """Simulate and measure one visit's replica, colorimeter and suction readings.

    ``state`` is :func:`_device_state`; the colorimeter gives three readings, the others
    one each. Every random draw comes from the two generators, so a repeated capture of
    an unchanged patient is this function called again with fresh generators.
    """
    from dermatrack.demo import devices
    from dermatrack.devices.colorimetry import UNITS as COLOUR_UNITS
    from dermatrack.devices.colorimetry import parse_colour_csv
    from dermatrack.devices.elasticity import UNITS as ELASTICITY_UNITS
    from dermatrack.devices.elasticity import parse_elasticity_csv
    from dermatrack.devices.surface import HeightMap, measure_surface

    readings = []
    heights = devices.height_map(surface_rng, effect=state["furrow_effect"])
    surface = measure_surface(HeightMap(heights, devices.SPACING_UM, devices.SPACING_UM,
                                        source_format="array"), form="plane")
    values = {k: v for k, v in surface.values().items()
              if v is None or isinstance(v, (int, float))}
    readings.append(DeviceReading(
        "surface", values, {k: surface.units[k] for k in values},
        "synthetic replica profilometry (demo)",
        "dermatrack ISO 25178-2 / ISO 21920-2; form plane; S-filter off µm; L-filter off µm",
        surface.settings))
    for reading in parse_colour_csv(devices.colour_csv(rng, ita_deg=state["ita"],
                                                       erythema=state["erythema"])):
        colour_values = {k: v for k, v in reading.values().items()
                         if v is not None or k in ("l_star", "a_star", "b_star", "ita_deg")}
        readings.append(DeviceReading(
            "colour", colour_values, {k: COLOUR_UNITS[k] for k in colour_values},
            "synthetic colorimeter (demo)",
            "CIELAB D65/2°; ITA = atan2(L*-50, b*) (Chardon 1991)",
            {"row": reading.row, "ita_category": reading.ita_category}))
    recovery = float(np.clip(rng.normal(0.70, 0.02) + 0.3 * state["firming"], 0.5, 0.95))
    (result,) = parse_elasticity_csv(devices.suction_csv(rng, recovery=recovery))
    elastic = {k: (None if v is None else float(v)) for k, v in result.parameters.items()}
    readings.append(DeviceReading(
        "elasticity", elastic, {k: ELASTICITY_UNITS[k] for k in elastic},
        "synthetic suction device, 2 mm probe (demo)",
        "suction curve: Ue/Ur at 0.1 s, R0-R9, Q0-Q3 (dermatrack)", result.settings))
    return readings


def _record_devices(store: Any, design: PatientDesign, patient_id: str, visit_id: str,
                    timepoint: str, rng: np.random.Generator) -> None:
    from dermatrack.services.observations import record_measurements

    surface_rng = np.random.default_rng([design.seed, DEVICE_TIMEPOINTS.index(timepoint)])
    readings = measure_devices(_device_state(design, timepoint), surface_rng, rng)
    record_measurements(store, patient_id=patient_id, visit_id=visit_id, actor=ACTOR,
                        measurements=[reading.measurement(design.region)
                                      for reading in readings])


def device_mdc(designs: list[PatientDesign], captures: int, seed: int
               ) -> list[dict[str, Any]]:
    """MDC95 of every device metric from repeated synthetic captures of unchanged skin.

    Each design's baseline skin is measured ``captures`` times, each time with fresh
    random draws (a new replica, new colorimeter readings, a new suction curve), which is
    all that varies between visits of an untreated patient in the demo. The colorimeter's
    three readings are averaged per capture, as a visit's series averages them. The
    repeatability (:func:`dermatrack.outcomes.repeatability.repeatability`) of those
    captures gives the MDC95 of a visit's value, entries in the shape
    :func:`dermatrack.services.outcomes.save_mdc` takes (``kind`` set, all regions).
    """
    from dermatrack.outcomes.repeatability import repeatability

    per_capture: dict[tuple[str, str], np.ndarray] = {}
    for i, design in enumerate(designs):
        state = _device_state(design, "baseline")
        for capture in range(captures):
            sums: dict[tuple[str, str], list[float]] = {}
            readings = measure_devices(state, np.random.default_rng([seed, 7, i, capture, 0]),
                                       np.random.default_rng([seed, 7, i, capture, 1]))
            for reading in readings:
                for metric, value in reading.values.items():
                    if value is not None and math.isfinite(value):
                        sums.setdefault((reading.kind, metric), []).append(value)
            for key, values in sums.items():
                matrix = per_capture.setdefault(key, np.full((len(designs), captures),
                                                             np.nan))
                matrix[i, capture] = float(np.mean(values))
    entries = []
    for (kind, metric), matrix in sorted(per_capture.items()):
        try:
            summary = repeatability(matrix)
        except InputError:
            continue  # too few subjects with two values: no MDC for this metric
        if not math.isfinite(summary.mdc95):
            continue
        entries.append({"kind": kind, "metric": metric, "region": None,
                        "mdc95": summary.mdc95, "sem": summary.sem,
                        "n_subjects": summary.n_subjects})
    return entries


def _record_events(store: Any, modality: Any, design: PatientDesign,
                   sessions: list[Any], rng: np.random.Generator, today: dt.date) -> None:
    from dermatrack.services import charting

    for treatment in sessions:
        for reaction in modality.expected_reactions:
            if rng.random() < 0.5:
                lasted = int(rng.integers(0, int(reaction.usual_duration_days) + 1))
                charting.add_event(store, {
                    "code": reaction.code, "session_id": treatment.id,
                    "onset": treatment.date.isoformat(),
                    "resolved_on": (treatment.date + dt.timedelta(days=lasted)).isoformat()},
                    actor=ACTOR, recorded_on=today)
    for event in modality.adverse_events:
        if rng.random() >= event_probability(modality, event, design.fitzpatrick):
            continue
        treatment = sessions[int(rng.integers(0, len(sessions)))]
        onset = treatment.date + dt.timedelta(days=int(rng.integers(2, 11)))
        resolved = onset + dt.timedelta(days=int(rng.integers(10, 61)))
        grade = int(rng.choice([1, 2, 3], p=[0.7, 0.25, 0.05]))
        charting.add_event(store, {
            "code": event.code, "session_id": treatment.id, "onset": onset.isoformat(),
            "resolved_on": resolved.isoformat() if resolved <= today else None,
            "grade": grade, "relatedness": "probably-likely" if rng.random() < 0.6 else "possible",
            "action": "treated symptomatically"}, actor=ACTOR, recorded_on=today)


def _record_patient(store: Any, design: PatientDesign, modalities: dict[str, Any],
                    today: dt.date, rng: np.random.Generator) -> dict[str, Any]:
    """Register, screen, plan, treat and follow one patient; return their visits."""
    from dermatrack.clinic.intake import parse_patient
    from dermatrack.clinic.planning import add_months
    from dermatrack.clinic.planning import plan as make_plan
    from dermatrack.demo.consents import sign_demo_consents
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services import charting, patients, plans, scores

    consult = today - dt.timedelta(days=int(rng.integers(200, 380)))
    data = design.patient_json(consult)
    for medication in data["medications"]:
        last = consult - dt.timedelta(days=int(rng.integers(20, 120)))
        medication["last_taken"] = last.isoformat()
    data.pop("consents", None)  # signed on the screen instead (demo.consents)
    patient = patients.add_patient(store, data, actor=ACTOR, today=consult)
    sign_demo_consents(store, patient.id, design.index, consult, actor=ACTOR)
    start = consult + dt.timedelta(days=14)
    profile = parse_patient(patient.patient_json(consult), on=consult,
                            vocabulary=load_vocabulary())
    recommendation = _choose(design, make_plan(profile, modalities, start, consult))
    visits: dict[str, Any] = {}

    def visit(timepoint: str, day: dt.date) -> Any:
        visits[timepoint] = patients.add_visit(store, {
            "patient_id": patient.id, "timepoint": timepoint, "date": day.isoformat()},
            actor=ACTOR)
        return visits[timepoint]

    if recommendation is None:  # nothing suitable: assessed, not treated
        visit("baseline", start)
        return {"patient": patient, "modality": None, "visits": visits}
    region = sorted(recommendation.sessions[0]["parameters"])[0]
    (planned,) = plans.add_plan(store, plans.plan_from_recommendation(
        patient.id, recommendation, region, created_on=consult), actor=ACTOR).modalities
    modality = modalities[planned.modality]
    sessions = []
    for scheduled in planned.sessions:
        timepoint = "baseline" if scheduled.number == 1 else f"session_{scheduled.number}"
        where = visit(timepoint, scheduled.scheduled_on)
        treatment = charting.add_session(store, {
            "patient_id": patient.id, "visit_id": where.id,
            "date": scheduled.scheduled_on.isoformat(), "operator": OPERATOR,
            "modality": modality.code, "regions": planned.regions,
            "parameters": planned.parameters,
            "immediate_reactions": [r.code for r in modality.expected_reactions[:1]]},
            actor=ACTOR)
        plans.link_session(store, scheduled.id, treatment.id, actor=ACTOR)
        sessions.append(treatment)
    last = sessions[-1].date
    for months in (1, 3):
        visit(f"month_{months}", add_months(last, months))
    _record_events(store, modality, design, sessions, rng, today)
    for timepoint in ("month_1", "month_3"):
        scores.add_score(store, {"patient_id": patient.id, "visit_id": visits[timepoint].id,
                                 "instrument": "gais_clinician",
                                 "total": gais_grade(design.effect_at(timepoint), rng),
                                 "rater": RATER, "blinded": True}, actor=ACTOR)
    if design.family == "wrinkles":
        glogau = min(4, design.severity + int(design.age >= 50))
        after = max(1, glogau - int(design.effect > 0.3))
        for timepoint, total in (("baseline", glogau), ("month_3", after)):
            scores.add_score(store, {"patient_id": patient.id,
                                     "visit_id": visits[timepoint].id, "instrument": "glogau",
                                     "total": total, "rater": RATER, "blinded": True},
                             actor=ACTOR)
    for timepoint in DEVICE_TIMEPOINTS:
        _record_devices(store, design, patient.id, visits[timepoint].id, timepoint, rng)
    from dermatrack.demo import instruments  # spectral and elastography series (some patients)

    instruments.record_series(store, design, patient.id, visits, actor=ACTOR)
    return {"patient": patient, "modality": modality.code, "visits": visits}


def add_demo_accounts(store: Any) -> list[DemoAccount]:
    """One web account per role (``demo-clinician``, ...) with a fresh random password.

    The passwords exist only in the returned list (the store keeps argon2 hashes), so the
    command prints them once; ``dermatrack serve --data DIR`` then accepts them.
    """
    import secrets

    from dermatrack.services.accounts import add_user
    from dermatrack.store.accounts import ROLES

    accounts = [DemoAccount(username=f"demo-{role}", role=role,
                            password=secrets.token_urlsafe(12))  # 96 random bits
                for role in ROLES]
    for account in accounts:
        add_user(store, account.username, account.role, account.password, actor=ACTOR)
    return accounts


# --- the whole demo ------------------------------------------------------------------------

def _imaging_mdc(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MDC95 of each photo metric from the repeated phantom captures."""
    from dermatrack.outcomes.repeatability import repeatability

    subjects = sorted({r["seed"] for r in results})
    captures = sorted({r["capture"] for r in results})
    values: dict[str, np.ndarray] = {}
    for result in results:
        for row in result["rows"]:
            matrix = values.setdefault(row["metric"], np.full((len(subjects), len(captures)),
                                                              np.nan))
            if row["value"] is not None:
                matrix[subjects.index(result["seed"]), captures.index(result["capture"])] = \
                    row["value"]
    entries = []
    for metric, matrix in sorted(values.items()):
        if metric == "area_mm2":  # the region's size, not an outcome
            continue
        try:
            summary = repeatability(matrix)
        except InputError:
            continue  # too few subjects with two values: no MDC for this metric
        entries.append({"kind": "photo", "metric": metric, "region": None,
                        "mdc95": summary.mdc95, "sem": summary.sem,
                        "n_subjects": summary.n_subjects})
    return entries


def _true_vs_estimated(store: Any, result: DemoResult) -> list[dict[str, Any]]:
    """Per modality and metric: mean true change of the phantoms beside the measured one."""
    from dermatrack.outcomes.cohort import paired_change
    from dermatrack.services.outcomes import cohort_data

    measured = cohort_data(store, metrics=[("photo", m) for m, _ in FAMILY_METRIC.values()]
                           ).measurements
    photo = measured[(measured["kind"] == "photo") & (measured["region"] == "whole")]
    # (patient, metric, visit) -> value, looked up instead of filtering per patient.
    value_at = {(p, m, v): value for p, m, v, value in zip(
        photo["patient"], photo["metric"], photo["visit"], photo["value"], strict=True)}
    groups: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for patient_id, truth in result.truth.items():
        design = result.designs[patient_id]
        modality = result.treated.get(patient_id)
        if modality is None or "baseline" not in truth or "month_3" not in truth:
            continue
        metric, key = FAMILY_METRIC[design.family]
        groups.setdefault((modality, metric), []).append(
            (patient_id, truth["month_3"][key] - truth["baseline"][key]))
    rows = []
    for (modality, metric), items in sorted(groups.items()):
        before, after, true = [], [], []
        for patient_id, change in items:
            first = value_at.get((patient_id, metric, "baseline"))
            last = value_at.get((patient_id, metric, "month_3"))
            if first is None or last is None:
                continue
            before.append(float(first))
            after.append(float(last))
            true.append(change)
        if not true:
            continue
        estimate = paired_change(before, after)
        rows.append({"modality": modality, "metric": metric, "n": len(true),
                     "true_mean_change": float(np.mean(true)),
                     "estimated_mean_change": estimate.mean,
                     "ci_low": estimate.ci_low, "ci_high": estimate.ci_high})
    return rows


def _record_all(store: Any, result: DemoResult, designs: list[PatientDesign],
                modalities: dict[str, Any], today: dt.date, seed: int,
                tick: Progress) -> list[dict[str, Any]]:
    """Record every patient through the services (main process: SQLite has one writer)."""
    built = []
    tick("Recording patients", len(designs))
    for design in designs:
        record = _record_patient(store, design, modalities, today,
                                 np.random.default_rng([seed, design.index]))
        patient_id = record["patient"].id
        result.patients.append(patient_id)
        result.designs[patient_id] = design
        if record["modality"] is not None:
            result.treated[patient_id] = record["modality"]
        built.append(record)
        tick("Recording patients", None)
    return built


def _photograph_all(store: Any, result: DemoResult, built: list[dict[str, Any]], pool: Any,
                    *, seed: int, quick: bool, tick: Progress) -> None:
    """Render and analyse every photograph and the repeatability captures in the workers;
    import the photographs and save the imaging MDC95 here."""
    from dermatrack.services.derived import save_alignment
    from dermatrack.services.outcomes import save_mdc
    from dermatrack.services.photos import import_photo

    settings = result.settings
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=settings.data_dir))
    jobs = [{"type": "photo", "design": result.designs[record["patient"].id],
             "patient_id": record["patient"].id, "quick": quick, "incoming": str(incoming),
             "visits": [{"timepoint": timepoint, "number": number,
                         "visit_id": record["visits"][timepoint].id}
                        for number, timepoint in enumerate(PHOTO_TIMEPOINTS)
                        if timepoint in record["visits"]]}
            for record in built]
    subjects, captures = (QUICK_REPEATABILITY if quick
                          else (REPEATABILITY_SUBJECTS, REPEATABILITY_CAPTURES))
    repeat_jobs = [{"type": "repeatability", "seed": seed * 1000 + 500 + subject,
                    "capture": capture, "quick": quick}
                   for subject in range(subjects) for capture in range(captures)]
    tick("Analysing photographs", sum(len(j["visits"]) for j in jobs) + len(repeat_jobs))
    repeated = []
    try:
        for done in pool(jobs + repeat_jobs):
            if done["type"] == "repeatability":
                repeated.append(done)
                tick("Analysing photographs", None)
                continue
            first_id = None
            for shot in done["shots"]:
                stored = import_photo(store, patient_id=done["patient_id"],
                                      visit_id=shot["visit_id"], path=shot["path"],
                                      actor=ACTOR, analysis=shot["analysis"],
                                      use_face=done["use_face"], stored_format="jpeg",
                                      align="alignment" not in shot and first_id is not None)
                if first_id is None:
                    first_id = stored.id
                elif "alignment" in shot:
                    save_alignment(store, first_id, stored.id, shot["alignment"], actor=ACTOR)
                if shot["truth"] is not None:
                    result.truth.setdefault(done["patient_id"], {})[shot["timepoint"]] = \
                        shot["truth"]
                Path(shot["path"]).unlink(missing_ok=True)
                tick("Analysing photographs", None)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    save_mdc(settings, _imaging_mdc(repeated),
             source=f"imaging validation: {subjects} phantoms x {captures} captures under "
                    "ordinary capture changes (dermatrack demo)")


def _save_device_mdc(settings: Settings, designs: list[PatientDesign], *, seed: int,
                     quick: bool) -> None:
    """Save the device MDC95s as the demo clinic's own repeatability (its
    ``repeatability.json``), as a clinic would from repeated captures of its patients."""
    from dermatrack.services.outcomes import save_mdc

    subjects, captures = (QUICK_REPEATABILITY if quick
                          else (REPEATABILITY_SUBJECTS, REPEATABILITY_CAPTURES))
    chosen = designs[:max(subjects, 2)]
    entries = device_mdc(chosen, captures, seed)
    from dermatrack.demo.instruments import instrument_mdc

    entries += instrument_mdc(chosen, captures, seed)
    if not entries:  # a one-patient demo has no repeatability to speak of
        return
    save_mdc(settings, entries,
             source=f"demo clinic's device repeatability: {len(chosen)} synthetic patients x "
                    f"{captures} repeated captures (dermatrack demo)", clinic=True)


def _write_reports(store: Any, result: DemoResult, pool: Any, tick: Progress) -> None:
    """One progress report per patient (in the workers), then the cohort index."""
    from dermatrack.services.reports import cohort_report_html

    settings = result.settings
    reports = settings.data_dir / "reports"
    reports.mkdir(exist_ok=True)
    tick("Writing reports", len(result.patients) + 1)
    links = {patient_id: f"{patient_id}.html" for patient_id in result.patients}
    for _ in pool([{"type": "report", "patient_id": patient_id,
                    "path": str(reports / links[patient_id]),
                    "data_dir": str(settings.data_dir), "database_url": settings.database_url}
                   for patient_id in result.patients]):
        tick("Writing reports", None)
    check = {
        "title": "Check: true simulated change against the estimated one",
        "note": "Phantom patients only (their truth is exact): mean change from baseline to "
                "month 3 of the concern's metric, the truth from the phantom generator, the "
                "estimate from the photographs' analysis (95 % t CI).",
        "headers": ["modality", "metric", "n", "true mean change", "estimated mean change",
                    "CI low", "CI high"],
        "rows": [[r["modality"], r["metric"], r["n"], r["true_mean_change"],
                  r["estimated_mean_change"], r["ci_low"], r["ci_high"]]
                 for r in result.true_vs_estimated]}
    result.index = reports / "index.html"
    result.index.write_text(cohort_report_html(store, synthetic=True, patient_links=links,
                                               extra_tables=[check]), encoding="utf-8")
    tick("Writing reports", None)


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
    modalities = load_modalities()
    rng = np.random.default_rng(seed)
    designs = design_cohort(n_patients, modalities, rng, today=today)

    with open_store(settings) as store, _workers(workers) as pool:
        result = DemoResult(out=settings.data_dir, settings=settings, patients=[], designs={},
                            treated={})
        result.accounts = add_demo_accounts(store)
        if not photos:
            from dermatrack.demo.scale import record_without_photos

            record_without_photos(store, result, designs, modalities, today, seed, tick)
        else:
            built = _record_all(store, result, designs, modalities, today, seed, tick)
            _photograph_all(store, result, built, pool, seed=seed, quick=quick, tick=tick)
        _save_device_mdc(settings, designs, seed=seed, quick=quick)
        result.true_vs_estimated = _true_vs_estimated(store, result)
        result.summary = cohort_summary(store)
        if photos:
            _write_reports(store, result, pool, tick)
        else:
            _write_cohort_index(store, result, tick)
    return result


def _write_cohort_index(store: Any, result: DemoResult, tick: Progress) -> None:
    """The cohort report alone (the no-photos demo writes no per-patient report)."""
    from dermatrack.services.reports import cohort_report_html

    reports = result.settings.data_dir / "reports"
    reports.mkdir(exist_ok=True)
    tick("Writing the cohort report", 1)
    result.index = reports / "index.html"
    result.index.write_text(cohort_report_html(store, synthetic=True), encoding="utf-8")
    tick("Writing the cohort report", None)
