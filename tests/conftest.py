"""Fixtures shared by the whole suite.

``cli`` runs the ``dermatrack`` command in-process, exactly as ``main`` does (so exit
codes and stderr messages are the real ones), and returns a :class:`CliResult`.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "seeds"
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, stdin: str = "") -> CliResult:
    from dermatrack.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin = old_stdin
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def cli():
    """Call as ``cli("kb", "list", "--json")``; returns a CliResult (session-scoped, so
    module fixtures can run commands too)."""
    return run_cli


@pytest.fixture(scope="session")
def seed_record_path() -> Path:
    path = SEEDS / "000_57c6fe6298f5adc9.txt"
    if not path.exists():
        # The seeds live in ../shared beside the checkout; the tests carry no copy of
        # their own so that they check the real documents.
        pytest.fail(f"seed document missing: {path}")
    return path


@pytest.fixture(scope="session")
def seed_article_path() -> Path:
    path = SEEDS / "004_7313768c28665a86.txt"
    if not path.exists():
        pytest.fail(f"seed document missing: {path}")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save screenshots, reports and images for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- Database fixtures (store and services) ------------------------------------------
# Every database test runs on SQLite and on PostgreSQL. The PostgreSQL server comes from
# DERMATRACK_TEST_POSTGRES_URL (scripts/run-tests.sh starts a throwaway one on loopback when
# Debian's binaries are installed). Without it the PostgreSQL cases are skipped, unless
# DERMATRACK_REQUIRE_POSTGRES=1 (CI), where they fail. Each test gets its own database: a
# temporary SQLite file, or a fresh PostgreSQL schema (first on the search path) that is
# dropped afterwards.

POSTGRES_URL_ENV = "DERMATRACK_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "DERMATRACK_REQUIRE_POSTGRES"


def _postgres_server_url() -> str:
    import os

    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        return url
    reason = (f"PostgreSQL cases need {POSTGRES_URL_ENV} (scripts/run-tests.sh starts a "
              "server when Debian's postgresql package is installed)")
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
        pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _sqlite_at_head(tmp_path_factory) -> Path:
    """A SQLite database migrated to the newest revision once, copied by each test."""
    from dermatrack.store.migrations import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "dermatrack.db"
    upgrade(f"sqlite:///{path}")
    return path


@contextlib.contextmanager
def _own_database(backend: str, tmp_path: Path, template: Path | None = None):
    """Yield the URL of a database for one test: a SQLite file (a copy of ``template``
    when given, else empty) or an empty PostgreSQL schema, dropped afterwards."""
    if backend == "sqlite":
        import shutil

        path = tmp_path / "dermatrack.db"
        if template is not None:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = make_url(_postgres_server_url()).set(drivername="postgresql+psycopg")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        # libpq's "options" puts the schema first on the search path of every connection.
        yield server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=_BACKENDS)
def database_url(request, tmp_path):
    """A database of the test's own, on each backend in turn, for ``open_store``.

    SQLite starts as a copy of a database migrated once per run (migrating is most of a
    small test's time); PostgreSQL starts empty and ``open_store`` migrates it.
    """
    template = request.getfixturevalue("_sqlite_at_head") if request.param == "sqlite" else None
    with _own_database(request.param, tmp_path, template) as url:
        yield url


@pytest.fixture(params=_BACKENDS)
def empty_database_url(request, tmp_path):
    """An empty database of the test's own, on each backend in turn (migration tests)."""
    with _own_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store_settings(database_url, tmp_path, monkeypatch):
    """Settings for the test's database; the environment points the CLI at it too."""
    from dermatrack.config import DATA_DIR_ENV, DATABASE_URL_ENV, load_settings

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    return load_settings()


@pytest.fixture
def store(store_settings):
    """An open :class:`dermatrack.services.common.Store` on the test's own database."""
    from dermatrack.services.common import open_store

    opened = open_store(store_settings)
    yield opened
    opened.close()


CONSENT_KINDS = ("treatment", "photography", "research")


def give_consents(store, patient_id: str, kinds=CONSENT_KINDS, *, actor: str = "test-setup",
                  signed_at: str = "2025-01-01T09:00:00+00:00") -> list[str]:
    """Record general consents (on paper, version ``test-1``) of ``kinds`` for a patient:
    charting needs treatment, photographs photography, cohort inclusion research (issue
    16). Returns the consent ids."""
    from dermatrack.services import patients

    return [patients.add_consent(store, {"patient_id": patient_id, "kind": kind,
                                         "version": "test-1", "signed_at": signed_at},
                                 actor=actor).id
            for kind in kinds]


@pytest.fixture(scope="session")
def consented():
    """``consented(store, patient_id, kinds=...)``: see :func:`give_consents`."""
    return give_consents
