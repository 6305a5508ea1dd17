"""Revision 0012 (server-side web sessions) upgrades and downgrades on SQLite and
PostgreSQL, keeping the accounts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, text

from dermatrack.store.db import make_engine
from dermatrack.store.migrations import downgrade, upgrade

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def test_web_session_table_comes_and_goes_with_revision_0012(empty_database_url):
    url = empty_database_url
    upgrade(url, "0003")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO account (id, username, role, password_hash, active, created_at)"
                " VALUES ('U-1', 'kim', 'clinician', 'x', :yes, :now)"),
                {"yes": True, "now": NOW})
        assert "web_session" not in inspect(engine).get_table_names()
        upgrade(url, "0012")
        assert "web_session" in inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO web_session (id, token_hash, username, client, created_at,"
                " last_seen_at, expires_at) VALUES ('S-1', :hash, 'kim', '127.0.0.1', :now,"
                " :now, :now)"), {"hash": "a" * 64, "now": NOW})
        downgrade(url, "0003")
        engine.dispose()
        assert "web_session" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT username FROM account")).scalars().all() \
                == ["kim"]
    finally:
        engine.dispose()
