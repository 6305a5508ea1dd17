"""Fixtures for the clinic tests (helpers live in ``clinic_helpers``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from clinic_helpers import ON, PATIENTS


@pytest.fixture
def on() -> dt.date:
    return ON


@pytest.fixture
def patients_dir() -> Path:
    return PATIENTS
