"""The demo's records: each synthetic patient registered, screened, planned, treated and
followed through the services, and the clinic's demo web accounts.

:func:`record_patient` writes one patient's record (intake, consents, the plan with its
screening, visits, sessions, reactions and adverse events, scale scores, device readings
and, for some patients, the spectral and elastography series) as a clinic's staff would,
so the demo exercises the checks a clinic's data get. :class:`DemoResult` is what the
demo built, filled in as it goes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dermatrack.config import Settings
from dermatrack.demo import instruments
from dermatrack.demo.design import PatientDesign, event_probability, gais_grade
from dermatrack.demo.readings import (
    DEVICE_TIMEPOINTS,
    DeviceReading,
    device_state,
    measure_devices,
)

#: The actor of every demo record in the audit trail.
ACTOR = "demo"
#: The visits at which patients are photographed.
PHOTO_TIMEPOINTS = ("baseline", "month_1", "month_3")
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


def _choose(design: PatientDesign, plan: Any) -> Any | None:
    """The wanted modality when the plan recommends it, else the plan's best."""
    for recommendation in plan.recommended:
        if recommendation.modality == design.wanted_modality:
            return recommendation
    return plan.recommended[0] if plan.recommended else None


@dataclass(frozen=True)
class SimulatedReadings:
    """A patient's device and instrument readings by visit, simulated from the design alone
    (no database), so that worker processes can simulate while the main process records."""

    devices: dict[str, list[DeviceReading]]
    series: dict[str, list[DeviceReading]]


def simulate_readings(design: PatientDesign) -> SimulatedReadings:
    """Every device reading (:data:`DEVICE_TIMEPOINTS`) and series reading of a patient.

    Each visit draws from generators of its own, seeded by the design, so the readings do
    not depend on where or in which order they are simulated.
    """
    devices = {timepoint: measure_devices(device_state(design, timepoint),
                                          np.random.default_rng([design.seed, number]),
                                          np.random.default_rng([design.seed, 17, number]))
               for number, timepoint in enumerate(DEVICE_TIMEPOINTS)}
    return SimulatedReadings(devices=devices, series=instruments.series_readings(design))


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


def readings_job(job: dict[str, Any]) -> dict[str, Any]:
    """Worker job ``readings``: :func:`simulate_readings` of each of ``job["designs"]``."""
    return {"readings": [simulate_readings(design) for design in job["designs"]]}


def record_patient(store: Any, design: PatientDesign, modalities: dict[str, Any],
                    today: dt.date, rng: np.random.Generator,
                    readings: SimulatedReadings | None = None) -> dict[str, Any]:
    """Register, screen, plan, treat and follow one patient; return their visits.

    ``readings`` is :func:`simulate_readings` of the design when simulated elsewhere.
    """
    from dermatrack.clinic.intake import parse_patient
    from dermatrack.clinic.planning import add_months
    from dermatrack.clinic.planning import plan as make_plan
    from dermatrack.demo.consents import sign_demo_consents
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services import charting, patients, plans, scores
    from dermatrack.services.observations import record_measurements

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
    readings = readings or simulate_readings(design)
    for timepoint, visit_readings in readings.devices.items():
        record_measurements(store, patient_id=patient.id, visit_id=visits[timepoint].id,
                            actor=ACTOR, measurements=[reading.measurement(design.region)
                                                       for reading in visit_readings])
    # The spectral and elastography series (some patients).
    instruments.record_series(store, design, patient.id, visits, actor=ACTOR,
                              readings=readings.series)
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


def record_all(store: Any, result: DemoResult, designs: list[PatientDesign],
                modalities: dict[str, Any], today: dt.date, seed: int,
                tick: Progress) -> list[dict[str, Any]]:
    """Record every patient through the services (main process: SQLite has one writer)."""
    built = []
    tick("Recording patients", len(designs))
    for design in designs:
        record = record_patient(store, design, modalities, today,
                                 np.random.default_rng([seed, design.index]))
        patient_id = record["patient"].id
        result.patients.append(patient_id)
        result.designs[patient_id] = design
        if record["modality"] is not None:
            result.treated[patient_id] = record["modality"]
        built.append(record)
        tick("Recording patients", None)
    return built
