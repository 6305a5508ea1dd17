"""A small clinic with known values, recorded through the services (no photographs).

Four microneedling patients, photo metric ``wrinkles.length_mm`` (region ``whole``) at
baseline, month 1 and month 3, one session each, GAIS at month 3 and three adverse
events. The tests recompute every statistic from these numbers independently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

VISIT_DATES = {"baseline": dt.date(2026, 1, 5), "month_1": dt.date(2026, 2, 5),
               "month_3": dt.date(2026, 4, 5)}
PATIENTS = [
    # fitzpatrick, wrinkle length at the three visits (mm), GAIS at month 3
    ("I", (40.0, 36.0, 30.0), 2),
    ("III", (50.0, 48.0, 44.0), 3),
    ("IV", (30.0, 31.0, 29.0), 4),
    ("VI", (60.0, 50.0, 45.0), 1),
]
# (patient index, term, grade, relatedness)
ADVERSE_EVENTS = [
    (0, "post_inflammatory_hyperpigmentation", 1, "probably-likely"),
    (3, "post_inflammatory_hyperpigmentation", 2, "possible"),
    (3, "acneiform_eruption", 1, "unlikely"),
]
IDENTITY_NAME = "Wilhelmina Quaxford-Tiberius"
IDENTITY_EMAIL = "w.quaxford@example.org"
IDENTITY_PHONE = "+44 20 7946 0123"
DATE_OF_BIRTH = "1971-03-17"
NOTE = "confidential-note-text-7781"


@dataclass
class SmallClinic:
    patient_ids: list[str] = field(default_factory=list)
    visit_ids: list[dict[str, str]] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)


def build_small_clinic(store, actor: str = "tester") -> SmallClinic:
    from dermatrack.services import charting, patients, scores
    from dermatrack.services.observations import record_observations

    clinic = SmallClinic()
    for index, (fitzpatrick, lengths, gais) in enumerate(PATIENTS):
        data = {"sex": "female", "fitzpatrick": fitzpatrick,
                "concerns": [{"code": "wrinkles", "region": "cheeks", "severity": 2}]}
        if index == 0:
            data["date_of_birth"] = DATE_OF_BIRTH
            data["identity"] = {"name": IDENTITY_NAME, "email": IDENTITY_EMAIL,
                                "phone": IDENTITY_PHONE}
        else:
            data["age"] = 40 + index
        patient = patients.add_patient(store, data, actor=actor,
                                       today=dt.date(2026, 1, 1))
        clinic.patient_ids.append(patient.id)
        for kind in ("treatment", "photography", "research"):  # charting and cohort need them
            patients.add_consent(store, {"patient_id": patient.id, "kind": kind,
                                         "version": "test-1",
                                         "signed_at": "2025-12-01T09:00:00+00:00"},
                                 actor=actor)
        visits = {}
        for timepoint, day in VISIT_DATES.items():
            visits[timepoint] = patients.add_visit(store, {
                "patient_id": patient.id, "timepoint": timepoint, "date": day.isoformat(),
                "notes": NOTE}, actor=actor).id
        clinic.visit_ids.append(visits)
        for visit_id, value in zip(visits.values(), lengths, strict=True):
            record_observations(store, patient_id=patient.id, visit_id=visit_id,
                                region="whole", kind="photo",
                                values={"wrinkles.length_mm": value},
                                units={"wrinkles.length_mm": "mm"}, device=None,
                                method="test values", source_sha256=None, settings=None,
                                actor=actor)
        treatment = charting.add_session(store, {
            "patient_id": patient.id, "visit_id": visits["baseline"],
            "date": VISIT_DATES["baseline"].isoformat(), "operator": "Dr Test",
            "modality": "microneedling", "regions": ["cheeks"],
            "parameters": {"needle_depth": 1.0, "passes": 3}, "notes": NOTE}, actor=actor)
        clinic.session_ids.append(treatment.id)
        scores.add_score(store, {"patient_id": patient.id, "visit_id": visits["month_3"],
                                 "instrument": "gais_clinician", "total": gais,
                                 "rater": "Dr Blind", "blinded": True}, actor=actor)
    for index, term, grade, relatedness in ADVERSE_EVENTS:
        charting.add_event(store, {
            "code": term, "session_id": clinic.session_ids[index], "onset": "2026-01-12",
            "resolved_on": "2026-02-20", "grade": grade, "relatedness": relatedness,
            "notes": NOTE}, actor=actor)
    return clinic
