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


@pytest.fixture
def cli():
    """Call as ``cli("kb", "list", "--json")``; returns a CliResult."""
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
