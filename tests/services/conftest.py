"""Records the service tests share (the ``store`` fixture is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from .records import patient_data


@pytest.fixture
def patient(store, consented):
    """A registered patient with treatment, photography and research consents on file."""
    from dermatrack.services import patients

    registered = patients.add_patient(store, patient_data(), actor="dr.lee")
    consented(store, registered.id, actor="dr.lee")
    return registered


@pytest.fixture
def visit(store, patient):
    from dermatrack.services import patients

    return patients.add_visit(store, {"patient_id": patient.id, "timepoint": "baseline",
                                      "date": "2026-09-01"}, actor="dr.lee")


@pytest.fixture
def microneedling():
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    return load_modalities(load_vocabulary())["microneedling"]
