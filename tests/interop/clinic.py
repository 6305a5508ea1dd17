"""A small clinic holding every kind of record dermatrack keeps, made through the services:
identities, history, consents (one withdrawn), concerns, a plan whose first session was
done, a session with products and lots, an expected reaction, adverse events, scale
scores with items, photo and device observations, and a photograph with its region, view
and scale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION

ACTOR = "dr.interop"
NAME = "Philippa Oduya-Larkspur"
EMAIL = "p.oduya@example.org"
PHONE = "+44 20 7946 0777"


@dataclass
class Clinic:
    patient_ids: list[str] = field(default_factory=list)
    visits: dict[str, str] = field(default_factory=dict)
    session_id: str = ""
    photo_id: str = ""


def photo_pixels(seed: int = 7, shape: tuple[int, int] = (96, 128)) -> np.ndarray:
    """A small synthetic skin-coloured photograph (uint8 RGB) with texture."""
    rng = np.random.default_rng(seed)
    base = np.array([205, 160, 140], dtype=np.float64)
    noise = rng.normal(0, 12, size=(*shape, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_png(path: Path, pixels: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(pixels, "RGB").save(path)
    return path


def build_clinic(store, tmp: Path) -> Clinic:
    from dermatrack.services import charting, patients, photos, plans, scores
    from dermatrack.services.observations import record_observations

    clinic = Clinic()
    first = patients.add_patient(store, {
        "date_of_birth": "1979-05-02", "sex": "female", "fitzpatrick": "IV",
        "identity": {"name": NAME, "email": EMAIL, "phone": PHONE},
        "concerns": [{"code": "acne_scars", "region": "cheeks", "severity": 3},
                     {"code": "wrinkles", "region": "forehead", "severity": 1}],
        "conditions": ["herpes_simplex_history"],
        "medications": [{"code": "isotretinoin", "last_taken": "2025-01-10"},
                        {"code": "topical_retinoid", "ongoing": True}],
        "allergies": ["lidocaine_allergy"],
        "consents": [{"kind": "treatment", "version": "2026-01",
                      "signed_at": "2026-01-05T09:00:00Z"},
                     {"kind": "photography", "version": "2026-01",
                      "signed_at": "2026-01-05T09:05:00Z"}],
    }, actor=ACTOR, today=dt.date(2026, 1, 1))
    second = patients.add_patient(store, {"age": 52, "sex": "male", "fitzpatrick": "II",
                                          "consents": [{"kind": "photography",
                                                        "version": "2026-01",
                                                        "signed_at": "2026-01-06T09:00:00Z"}]},
                                  actor=ACTOR, today=dt.date(2026, 1, 1))
    clinic.patient_ids = [first.id, second.id]
    research = patients.add_consent(store, {"patient_id": first.id, "kind": "research",
                                            "version": "r-3",
                                            "signed_at": "2026-01-05T09:10:00Z"},
                                    actor=ACTOR)
    patients.withdraw_consent(store, research.id, actor=ACTOR)
    for timepoint, day in (("baseline", "2026-01-05"), ("m1", "2026-02-05"),
                           ("m3", "2026-04-05")):
        clinic.visits[timepoint] = patients.add_visit(store, {
            "patient_id": first.id, "timepoint": timepoint, "date": day,
            "notes": f"{timepoint} note"}, actor=ACTOR).id
    other_visit = patients.add_visit(store, {"patient_id": second.id,
                                             "timepoint": "baseline",
                                             "date": "2026-03-01"}, actor=ACTOR).id
    plan = plans.add_plan(store, {
        "patient_id": first.id, "created_on": "2026-01-05", "notes": "three sessions",
        "modalities": [{"modality": "microneedling", "regions": ["cheeks"],
                        "parameters": {"needle_depth": 1.0},
                        "sessions": [{"n": 1, "date": "2026-01-05"},
                                     {"n": 2, "date": "2026-02-05"}]}]}, actor=ACTOR)
    treated = charting.add_session(store, {
        "patient_id": first.id, "visit_id": clinic.visits["baseline"],
        "date": "2026-01-05", "operator": "Dr Okafor", "modality": "microneedling",
        "regions": ["cheeks", "chin"], "parameters": {"needle_depth": 1.0, "passes": 3},
        "products": [{"name": "Hyaluronic serum", "lot": "HS-2291", "expiry": "2027-06-30"}],
        "immediate_reactions": ["erythema"], "notes": "tolerated well"}, actor=ACTOR)
    clinic.session_id = treated.id
    plans.link_session(store, plan.modalities[0].sessions[0].id, treated.id, actor=ACTOR)
    charting.add_event(store, {"session_id": treated.id, "code": "erythema",
                               "onset": "2026-01-05", "resolved_on": "2026-01-06"},
                       actor=ACTOR, recorded_on=dt.date(2026, 1, 20))
    charting.add_event(store, {"session_id": treated.id,
                               "code": "post_inflammatory_hyperpigmentation",
                               "onset": "2026-01-12", "grade": 2, "relatedness": "possible",
                               "action": "sun protection"},
                       actor=ACTOR, recorded_on=dt.date(2026, 1, 20))
    charting.add_event(store, {"patient_id": second.id, "code": "contact_dermatitis",
                               "onset": "2026-03-03", "grade": 1, "outcome": "resolved",
                               "resolved_on": "2026-03-10"},
                       actor=ACTOR, recorded_on=dt.date(2026, 3, 20))
    scores.add_score(store, {"patient_id": first.id, "visit_id": clinic.visits["m3"],
                             "instrument": "gais_clinician", "total": 2,
                             "rater": "Dr Blind", "blinded": True}, actor=ACTOR)
    for timepoint, value in (("baseline", 41.5), ("m1", 38.25), ("m3", 33.0)):
        record_observations(store, patient_id=first.id, visit_id=clinic.visits[timepoint],
                            region="whole", kind="photo",
                            values={"wrinkles.length_mm": value, "redness.a_star": None},
                            units={"wrinkles.length_mm": "mm", "redness.a_star": "a*"},
                            device=None, method="test values", source_sha256=None,
                            settings={"calibrated": True, "mm_per_px": 0.05,
                                      "scale_source": "user",
                                      "method_version": PHOTO_METHOD_VERSION},
                            actor=ACTOR)
    record_observations(store, patient_id=second.id, visit_id=other_visit, region="cheeks",
                        kind="elasticity", values={"R2": 0.71}, units={"R2": "1"},
                        device="Cutometer MPA 580", method="suction 450 mbar",
                        source_sha256=None, settings=None, actor=ACTOR)
    png = write_png(tmp / "face.png", photo_pixels())
    photo = photos.import_photo(store, patient_id=first.id, visit_id=clinic.visits["m1"],
                                path=png, actor=ACTOR, analyze=False)
    from dermatrack.store.models import Photo

    with store.transaction(ACTOR) as session:  # region, view and scale as a DICOM gives
        row = session.get(Photo, photo.id)
        row.region, row.view, row.mm_per_px = "full_face", "front", 0.08
    clinic.photo_id = photo.id
    return clinic
