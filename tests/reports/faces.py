"""A patient photographed as a real face (scikit-image's astronaut) at three visits, the
wrinkles, spots and redness drawn on it shrinking with treatment, as the demo does; and
the store written through the services (photos analysed and aligned when stored)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

VISITS = {"baseline": dt.date(2026, 1, 5), "month_1": dt.date(2026, 2, 5),
          "month_3": dt.date(2026, 4, 5)}
EFFECT = {"baseline": 0.0, "month_1": 0.25, "month_3": 0.5}


@dataclass
class _Design:
    seed: int = 11

    def effect_at(self, timepoint: str) -> float:
        return EFFECT[timepoint]


@dataclass
class FaceClinic:
    patient_id: str
    visit_ids: dict[str, str] = field(default_factory=dict)
    photo_ids: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def face_photographs(folder: Path) -> dict[str, Path]:
    """PNG photographs of the treated face at each visit."""
    import cv2
    import numpy as np

    from dermatrack.demo import images

    face = images.face_image("astronaut", quick=True)
    features = images.face_features(face, 11)
    out = {}
    for number, timepoint in enumerate(VISITS):
        rgb = images.face_visit(face, features, _Design(), timepoint, number)
        path = folder / f"{timepoint}.png"
        cv2.imwrite(str(path), cv2.cvtColor((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8),
                                            cv2.COLOR_RGB2BGR))
        out[timepoint] = path
    return out


def build_face_clinic(store, folder: Path, actor: str = "tester") -> FaceClinic:
    from dermatrack.services import charting, patients
    from dermatrack.services.photos import import_photo

    patient = patients.add_patient(store, {
        "sex": "female", "age": 47, "fitzpatrick": "II",
        "concerns": [{"code": "wrinkles", "region": "forehead", "severity": 2}],
        "consents": [{"kind": kind, "version": "paper-1", "signed_at": "2025-06-01T09:00:00Z"}
                     for kind in ("treatment", "photography", "research")]},
        actor=actor, today=dt.date(2026, 1, 1))
    clinic = FaceClinic(patient_id=patient.id, files=face_photographs(folder))
    for timepoint, day in VISITS.items():
        clinic.visit_ids[timepoint] = patients.add_visit(store, {
            "patient_id": patient.id, "timepoint": timepoint, "date": day.isoformat()},
            actor=actor).id
    charting.add_session(store, {
        "patient_id": patient.id, "visit_id": clinic.visit_ids["baseline"],
        "date": VISITS["baseline"].isoformat(), "operator": "Dr Test",
        "modality": "superficial_peel", "regions": ["forehead"],
        "parameters": {"glycolic_acid_concentration": 30, "glycolic_contact_time": 3}},
        actor=actor)
    for timepoint, path in clinic.files.items():
        photo = import_photo(store, patient_id=patient.id,
                             visit_id=clinic.visit_ids[timepoint], path=path, actor=actor)
        clinic.photo_ids[timepoint] = photo.id
    return clinic
