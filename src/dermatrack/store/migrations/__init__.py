"""Alembic migrations, shipped inside the package and run from Python.

``upgrade(url)`` brings a database to the newest revision (creating every table in an
empty one); ``downgrade(url, revision)`` goes back. The command line calls
:func:`ensure_current` through :func:`dermatrack.services.common.open_store`, so a database
is created or upgraded on first use. ``alembic.ini`` at the repository root points here for
developers who want the ``alembic`` command (e.g. ``alembic revision --autogenerate``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from dermatrack.store.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would read '%' in a URL (escaped passwords) as a reference.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of dermatrack."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database dermatrack never touched."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``"base"`` drops every table)."""
    command.downgrade(alembic_config(url), revision)


def ensure_current(engine: Engine) -> None:
    """Create or upgrade the database behind ``engine`` when it is not at the head."""
    if current_revision(engine) == head_revision():
        return
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


__all__ = ["current_revision", "downgrade", "ensure_current", "head_revision", "make_engine",
           "upgrade"]
