"""Where dermatrack keeps its data, read from the environment.

``DERMATRACK_DATA_DIR`` (default ``./dermatrack-data``) holds the embedded SQLite
database ``dermatrack.db`` and the photo and file store beside it.
``DERMATRACK_DATABASE_URL``, when set, names another database (PostgreSQL) instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "DERMATRACK_DATA_DIR"
DATABASE_URL_ENV = "DERMATRACK_DATABASE_URL"
DEFAULT_DATA_DIR = "dermatrack-data"
SQLITE_FILENAME = "dermatrack.db"
DEMO_MARKER = ".dermatrack-demo"
"""File in a data directory made by ``dermatrack demo``: the directory holds synthetic data
only (reports say so), and a new demo run may replace it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

    @property
    def files_dir(self) -> Path:
        """Photos and other stored files, beside the database."""
        return self.data_dir / "files"


def load_settings(data_dir: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from the arguments, then the environment, then the defaults."""
    directory = Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).resolve()
    url = os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{directory / SQLITE_FILENAME}"
    return Settings(data_dir=directory, database_url=url)
