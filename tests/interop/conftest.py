"""A second database of the same backend as the test's ``store`` (the import target)."""

from __future__ import annotations

import pytest


@pytest.fixture
def other_store(request, database_url, tmp_path):
    """An empty store on the same backend as ``store``, with its own file store."""
    import shutil
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from dermatrack.config import Settings
    from dermatrack.services.common import open_store

    data_dir = tmp_path / "other-data"
    data_dir.mkdir()
    if database_url.startswith("sqlite"):
        path = tmp_path / "other.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_at_head"), path)
        store = open_store(Settings(data_dir=data_dir, database_url=f"sqlite:///{path}"))
        yield store
        store.close()
        return
    url = make_url(database_url)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    server = url.set(query={})
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        store = open_store(Settings(data_dir=data_dir, database_url=server.update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)))
        yield store
        store.close()
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def clinic(store, tmp_path):
    from .clinic import build_clinic

    return build_clinic(store, tmp_path)
