"""Input records the service and CLI tests share."""

from __future__ import annotations

import copy

PATIENT_JSON = {
    "age": 34, "sex": "female", "fitzpatrick": "IV",
    "concerns": [{"code": "acne_scars", "region": "cheeks", "severity": 3}],
    "conditions": ["herpes_simplex_history"],
    "medications": [{"code": "isotretinoin", "last_taken": "2026-08-01"}],
    "allergies": [],
}
IDENTITY = {"name": "Zelda Quimby-Fairweather", "email": "zelda.qf@example.org",
            "phone": "+44 20 7946 0958"}


def patient_data(**changes):
    """PATIENT.json with identity, changed as asked (a deep copy each time)."""
    data = copy.deepcopy(PATIENT_JSON)
    data["identity"] = dict(IDENTITY)
    data.update(changes)
    return data
