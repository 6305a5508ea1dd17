"""Revision 0017 (photo region, view and scale) on SQLite and PostgreSQL: a stored
photograph survives upgrade and downgrade, and the new columns take values."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, text

from dermatrack.store.db import make_engine
from dermatrack.store.migrations import downgrade, upgrade

NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
NEW_COLUMNS = {"region", "view", "mm_per_px"}


def _photo_columns(engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("photo")}


def test_photo_region_view_scale_upgrade_and_downgrade(empty_database_url):
    url = empty_database_url
    upgrade(url, "0003")
    engine = make_engine(url)
    try:
        assert not NEW_COLUMNS & _photo_columns(engine)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO patient (id, sex, created_at) VALUES ('P-AAAAAA', 'female', :now)"),
                {"now": NOW})
            connection.execute(text(
                "INSERT INTO photo (id, patient_id, sha256, stored_path, width, height,"
                " created_at) VALUES ('PH-0000000001', 'P-AAAAAA', :sha, 'ab/cd.png', 64, 48,"
                " :now)"), {"sha": "a" * 64, "now": NOW})
        upgrade(url, "0017")
        assert _photo_columns(engine) >= NEW_COLUMNS
        with engine.begin() as connection:
            row = connection.execute(text(
                "SELECT width, region, view, mm_per_px FROM photo")).one()
            assert tuple(row) == (64, None, None, None)
            connection.execute(text(
                "UPDATE photo SET region = 'full_face', view = 'frontal', mm_per_px = 0.05"))
        downgrade(url, "0003")
        assert not NEW_COLUMNS & _photo_columns(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, width FROM photo")).one() == (
                "PH-0000000001", 64)
    finally:
        engine.dispose()
