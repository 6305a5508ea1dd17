"""Migrations on SQLite and PostgreSQL: a populated database survives upgrade and
downgrade, and the head schema is exactly what the models declare."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from dermatrack.config import Settings, load_settings
from dermatrack.services import observations
from dermatrack.services.common import open_store
from dermatrack.store.db import make_engine
from dermatrack.store.migrations import current_revision, downgrade, head_revision, upgrade
from dermatrack.store.models import Base

NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def _populate_revision_1(engine) -> None:
    """Rows written the way revision 0001's schema holds them (raw SQL, no models)."""
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO patient (id, age_years, age_recorded_on, sex, fitzpatrick, created_at)"
            " VALUES ('P-AAAAAA', 41, :day, 'female', 'V', :now)"),
            {"day": dt.date(2026, 1, 5), "now": NOW})
        connection.execute(text(
            "INSERT INTO patient_identity (patient_id, name) VALUES ('P-AAAAAA', 'Ada Old')"))
        connection.execute(text(
            "INSERT INTO visit (id, patient_id, timepoint, date)"
            " VALUES ('V-0000000001', 'P-AAAAAA', 'baseline', :day)"),
            {"day": dt.date(2026, 1, 5)})
        connection.execute(text(
            "INSERT INTO observation (id, patient_id, visit_id, region, kind, metric, value,"
            " unit, method, created_at) VALUES ('O-0000000001', 'P-AAAAAA', 'V-0000000001',"
            " 'cheeks', 'surface', 'Sa', 12.5, 'um', 'ISO 25178-2', :now)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO audit_event (at, actor, action, entity, entity_id, changes)"
            " VALUES (:now, 'migrator', 'insert', 'patient', 'P-AAAAAA', '{}')"), {"now": NOW})


def _rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            "patient": connection.execute(text(
                "SELECT id, age_years, sex, fitzpatrick FROM patient")).all(),
            "identity": connection.execute(text(
                "SELECT patient_id, name FROM patient_identity")).all(),
            "visit": connection.execute(text("SELECT id, timepoint FROM visit")).all(),
            "observation": connection.execute(text(
                "SELECT id, metric, value, unit FROM observation")).all(),
            "audit": connection.execute(text("SELECT actor, entity_id FROM audit_event")).all(),
        }


def _observation_columns(engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("observation")}


def test_populated_database_upgrades_downgrades_and_upgrades_again(empty_database_url,
                                                                   tmp_path):
    url = empty_database_url
    upgrade(url, "0001")
    engine = make_engine(url)
    try:
        assert current_revision(engine) == "0001"
        assert "settings" not in _observation_columns(engine)
        _populate_revision_1(engine)
        before = _rows(engine)

        upgrade(url, "0002")
        assert current_revision(engine) == "0002"
        assert _rows(engine) == before
        assert "settings" in _observation_columns(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT settings FROM observation")).scalar() is None

        # Later revisions keep the rows too, and the database takes new data through
        # the services.
        upgrade(url)
        assert current_revision(engine) == head_revision()
        assert _rows(engine) == before
        with engine.connect() as connection:  # revision 0018 keys the existing names
            assert connection.execute(text(
                "SELECT name_key FROM patient_identity")).scalar() == "ada old"
            # and revision 0019 prepares them for searching
            assert connection.execute(text(
                "SELECT search_text FROM patient_identity")).scalar() == "ada old"
        with open_store(Settings(data_dir=tmp_path, database_url=url)) as store:
            stored = observations.record_observations(
                store, patient_id="P-AAAAAA", visit_id="V-0000000001", region="cheeks",
                kind="surface", values={"Sq": 15.0}, units={"Sq": "um"}, device=None,
                method="ISO 25178-2", source_sha256=None, settings={"cutoff_mm": 0.8},
                actor="tester")
        assert stored[0].settings == {"cutoff_mm": 0.8}

        downgrade(url, "0001")
        assert current_revision(engine) == "0001"
        assert "settings" not in _observation_columns(engine)
        after_down = _rows(engine)
        assert after_down["patient"] == before["patient"]
        assert len(after_down["observation"]) == 2

        upgrade(url)
        assert _rows(engine)["observation"] == after_down["observation"]
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_head_schema_matches_the_models(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_base_downgrade_removes_every_table(empty_database_url):
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_open_store_creates_the_database_on_first_use(tmp_path, monkeypatch):
    monkeypatch.delenv("DERMATRACK_DATABASE_URL", raising=False)
    settings = load_settings(tmp_path / "fresh")
    with open_store(settings) as store:
        assert current_revision(store.engine) == head_revision()
    assert (tmp_path / "fresh" / "dermatrack.db").exists()
