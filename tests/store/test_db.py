"""Engine set-up: SQLite pragmas, URL handling."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dermatrack.errors import InputError
from dermatrack.store.db import make_engine, normalise_url


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
    assert (tmp_path / "nested" / "x.db").exists()


def test_postgresql_urls_use_psycopg3():
    assert normalise_url("postgresql://u@localhost/db").startswith("postgresql+psycopg://")
    assert normalise_url("postgresql+psycopg://u@h/db").startswith("postgresql+psycopg://")


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_other_databases_are_bad_input(url):
    with pytest.raises(InputError) as error:
        normalise_url(url)
    assert error.value.field == "database_url"
