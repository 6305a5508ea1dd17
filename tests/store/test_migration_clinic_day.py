"""Revision 0016 (the clinic's day): existing consents and photos keep their rows with
the new columns empty, its triggers work after the upgrade, and a downgrade to 0003
removes its tables, columns, triggers and functions so that the upgrade can run again."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import exc, inspect, text

from dermatrack.store.db import make_engine
from dermatrack.store.migrations import downgrade, upgrade

NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
NEW_TABLES = {"appointment", "consent_template", "consent_signature", "product",
              "product_lot", "session_product", "treatment_mark"}


def test_0016_up_down_and_up_again(empty_database_url):
    url = empty_database_url
    upgrade(url, "0003")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO patient (id, age_years, sex, fitzpatrick, created_at) "
                "VALUES ('P-AAAAAA', 41, 'female', 'V', :now)"), {"now": NOW})
            connection.execute(text(
                "INSERT INTO consent (id, patient_id, kind, version, signed_at) "
                "VALUES ('C-0000000001', 'P-AAAAAA', 'treatment', 'paper-1', :now)"),
                {"now": NOW})
        upgrade(url, "0016")
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES
        with engine.connect() as connection:
            assert connection.execute(text("SELECT scope FROM consent")).scalar() is None
        # The consent may be withdrawn once; its kind may not change.
        with engine.begin() as connection:
            connection.execute(text("UPDATE consent SET withdrawn_at = :t"), {"t": NOW})
        with pytest.raises(exc.IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE consent SET kind = 'research'"))

        downgrade(url, "0003")
        assert not NEW_TABLES & set(inspect(engine).get_table_names())
        assert "scope" not in {c["name"] for c in inspect(engine).get_columns("consent")}
        assert "view" not in {c["name"] for c in inspect(engine).get_columns("photo")}
        with engine.begin() as connection:  # no trigger left behind
            connection.execute(text("UPDATE consent SET kind = 'research'"))
            assert connection.execute(text("SELECT count(*) FROM consent")).scalar() == 1
        upgrade(url)
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES
    finally:
        engine.dispose()
