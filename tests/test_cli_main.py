"""The root command: usage errors and exit codes are the same for every group."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("kb", "list", "--jsn"), "No such option: --jsn"),
        (("kb", "nosuch"), "No such command 'nosuch'"),
        (("kb", "search"), "Missing argument"),
        (("nosuch",), "No such command 'nosuch'"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(cli, args, words):
    result = cli(*args)
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and words in lines[0]


def test_help_and_version_exit_0(cli):
    assert cli("--help").code == 0
    version = cli("--version")
    assert version.code == 0 and version.stdout.strip()


def test_every_group_is_listed_in_help(cli):
    from dermatrack.cli.commands import _GROUPS

    assert sorted(_GROUPS) == _GROUPS
    text = cli("--help").stdout
    for command in ("kb", "screen", "plan", "patient", "measure", "photo", "serve"):
        assert command in text


def test_cli_reference_is_up_to_date():
    """docs/cli.md is generated from the commands; regenerate it when they change."""
    from dermatrack.cli.reference import render

    reference = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    committed = reference.read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/cli.md is out of date: run "
        "`.venv/bin/python -m dermatrack.cli.reference > docs/cli.md`"
    )
