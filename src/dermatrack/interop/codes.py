"""The code tables of ``codes.yaml``: dermatrack codes to SNOMED CT (read-only data)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
BASE = "https://dermatrack.org/fhir"
ID_SYSTEM = f"{BASE}/id"
DICOM_SCHEME = "99DERMATRACK"
"""DICOM coding scheme designator of dermatrack's own codes (``99`` marks a private
scheme, DICOM PS3.3 section 8.2)."""


def code_system(kind: str) -> str:
    """URL of dermatrack's code system for one kind of code (``metric``, ``regions``)."""
    return f"{BASE}/CodeSystem/{kind}"


def extension_url(name: str) -> str:
    return f"{BASE}/StructureDefinition/{name}"


@cache
def tables() -> dict[str, Any]:
    text = resources.files("dermatrack.interop").joinpath("codes.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def snomed(table: str, code: str | None) -> dict[str, str] | None:
    """The SNOMED CT ``{code, display}`` of a dermatrack code, or None."""
    if code is None:
        return None
    return tables()[table].get(code)


def from_snomed(table: str, sct: str) -> str | None:
    """The dermatrack code of a SNOMED CT code, when exactly one maps to it."""
    found = [key for key, value in tables()[table].items() if value["code"] == sct]
    return found[0] if len(found) == 1 else None


def views() -> dict[str, str]:
    return dict(tables()["views"])
