"""The FHIR round trip on the demo clinic: ``dermatrack demo`` (small, quick), exported
with identities and imported into an empty clinic, gives back the same records."""

from __future__ import annotations

import pytest

from .test_fhir import EXPECTED_TYPES, snapshot


@pytest.mark.slow
def test_fhir_round_trip_on_the_demo_clinic(cli, tmp_path, monkeypatch):
    from dermatrack.config import DATA_DIR_ENV, DATABASE_URL_ENV, load_settings
    from dermatrack.services.common import open_store

    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    demo = tmp_path / "demo"
    built = cli("demo", "--patients", "2", "--out", str(demo), "--quick", "--workers", "1",
                "--seed", "5", "--json")
    assert built.code == 0, built.stderr
    monkeypatch.setenv(DATA_DIR_ENV, str(demo))
    bundle = tmp_path / "exchange" / "demo.json"
    exported = cli("export", "--format", "fhir", "--out", str(bundle), "--with-identity",
                   "--json")
    assert exported.code == 0, exported.stderr
    kinds = set(exported.json()["resources"])
    # Two synthetic patients need not have an adverse event, allergy or medication;
    # every other type is there (the fixture clinic of test_fhir.py has them all).
    assert kinds >= EXPECTED_TYPES - {"AdverseEvent", "AllergyIntolerance",
                                      "MedicationStatement"}, kinds

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "fresh"))
    imported = cli("import", "fhir", str(bundle), "--json")
    assert imported.code == 0, imported.stderr
    with open_store(load_settings(demo)) as source, \
            open_store(load_settings(tmp_path / "fresh")) as target:
        before, after = snapshot(source), snapshot(target)
    assert sum(len(rows) for rows in before.values()) > 50
    for table in before:
        assert after[table] == before[table], table
