"""Helpers shared by the clinic tests: the screening date, patient files, synthetic modalities.

Synthetic modalities (built with the knowledge package's own ``modality_from_data``) let the
engine's arithmetic be checked against hand-computed values that do not move when the bundled
knowledge data is edited; tests that read the bundled data say so in their names.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

PATIENTS = Path(__file__).parent / "patients"


def parse_patient(data: Any, **options: Any) -> Any:
    """:func:`dermatrack.clinic.intake.parse_patient` with the bundled vocabulary, which is
    what the services pass it."""
    from dermatrack.clinic import intake
    from dermatrack.knowledge.vocabulary import load_vocabulary

    return intake.parse_patient(data, vocabulary=load_vocabulary(), **options)

#: The screening date every test uses.
ON = dt.date(2026, 11, 21)

_BASE_MODALITY: dict[str, Any] = {
    "code": "microneedling",
    "name": "Test modality",
    "record": "microneedling",
    "category": "procedure",
    "depth": "medium",
    "pih_risk": "low",
    "concerns": [],
    "contraindications": [],
    "protocol": {
        "sessions": {"min": 1, "max": 4, "default": 3},
        "interval_days": {"min": 21, "max": 42, "default": 28},
        "maintenance": None,
        "parameters": [
            {"code": "needle_depth", "label": "Needle depth", "unit": "mm", "min": 0.2,
             "max": 2.5, "default": 1.0, "source": "ref1",
             "by_region": {"forehead": {"min": 0.25, "max": 0.5, "default": 0.5},
                           "cheeks": {"min": 0.5, "max": 2.0, "default": 1.5}}},
            {"code": "passes", "label": "Passes", "unit": "passes", "min": 1, "max": 6,
             "default": 3, "source": "ref1"},
        ],
    },
    "expected_reactions": [
        {"code": "erythema", "label": "Redness", "usual_duration_days": 2, "source": "ref1"},
    ],
    "adverse_events": [],
    "downtime_days": {"min": 0, "max": 2},
    "pre_care": ["Stop retinoids 3 days before."],
    "post_care": ["Sunscreen daily."],
    "combinations": [],
    "references": [{"id": "ref1", "citation": "Author A. A test reference. 2020."}],
}


def make_modality(code: str = "microneedling", **overrides: Any):
    """A Modality from the base mapping above with top-level keys replaced."""
    from dermatrack.knowledge.modalities import modality_from_data
    from dermatrack.knowledge.vocabulary import load_vocabulary

    data = copy.deepcopy(_BASE_MODALITY)
    data["code"] = code
    data.update(copy.deepcopy(overrides))
    return modality_from_data(data, load_vocabulary())


def read_patient(name: str) -> dict[str, Any]:
    return json.loads((PATIENTS / f"{name}.json").read_text())
