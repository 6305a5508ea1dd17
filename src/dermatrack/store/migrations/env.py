"""Alembic environment: runs revisions on a connection handed over by dermatrack, or on
one opened from the configured URL (the ``alembic`` command)."""

from __future__ import annotations

from alembic import context

from dermatrack.store.db import make_engine
from dermatrack.store.models import Base

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("migrations need a connection or sqlalchemy.url in their config")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("dermatrack migrations run online only (they need a connection)")
run_migrations_online()
