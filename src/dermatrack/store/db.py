"""Engines and sessions for the embedded SQLite default and for PostgreSQL.

SQLite connections get write-ahead logging (readers do not block the writer) and foreign
key enforcement, which SQLite leaves off unless each connection asks for it
(https://www.sqlite.org/foreignkeys.html#fk_enable). PostgreSQL is reached through
psycopg 3: a plain ``postgresql://`` URL is rewritten to ``postgresql+psycopg://``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dermatrack.errors import InputError

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another one before giving up (milliseconds)."""


POOL_SIZE = 10
"""PostgreSQL connections a process keeps open (its request threads share them)."""
POOL_OVERFLOW = 10
"""Extra connections a process may open under load beyond POOL_SIZE."""
POOL_TIMEOUT_S = 10
"""How long a request waits for a free connection before it is answered 503 (seconds)."""
CONNECT_TIMEOUT_S = 5
"""How long opening a PostgreSQL connection may take before it counts as an outage."""


def normalise_url(url: str) -> str:
    """Return ``url`` with the driver dermatrack uses for its backend.

    Raises
    ------
    InputError
        When the URL cannot be parsed or names a backend other than SQLite or PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and ValueError
        raise InputError(f"not a database URL: {url!r}", field="database_url") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise InputError(f"unsupported database {backend!r}: use sqlite or postgresql",
                     field="database_url")


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; a SQLite file's directory is created when missing."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    # Pre-ping: a connection that died while pooled (a database restart) is replaced
    # before use, so the app reconnects by itself. The pool serves one worker process:
    # each of ``dermatrack serve --workers N`` holds up to POOL_SIZE + POOL_OVERFLOW
    # connections, which must fit the server's max_connections (100 by default).
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE,
                         max_overflow=POOL_OVERFLOW, pool_timeout=POOL_TIMEOUT_S,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S})


def make_session_factory(engine: Engine,
                         session_class: type[Session] = Session) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (results are read after the commit)."""
    return sessionmaker(bind=engine, class_=session_class, expire_on_commit=False)
