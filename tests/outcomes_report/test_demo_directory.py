"""The demo's directory: an earlier demo there is replaced whole, anything else kept."""

from __future__ import annotations

import pytest

from dermatrack.config import DEMO_MARKER, SQLITE_FILENAME
from dermatrack.demo.build import prepare_directory
from dermatrack.errors import InputError


def test_an_earlier_demo_is_replaced_with_what_a_killed_one_left(tmp_path):
    """A demo killed outright (SIGKILL, a power cut) leaves the photographs it had
    rendered for import in its ".incoming-*" folder; the next demo removes them with
    the rest of the earlier one."""
    out = tmp_path / "demo"
    out.mkdir()
    (out / DEMO_MARKER).write_text("made by `dermatrack demo`")
    (out / SQLITE_FILENAME).write_bytes(b"old")
    for folder in ("files", "reports", ".incoming-k2j4_x", ".incoming-0a9b"):
        (out / folder).mkdir()
        (out / folder / "V-1.png").write_bytes(b"pixels")
    settings = prepare_directory(out)
    assert sorted(p.name for p in out.iterdir()) == [DEMO_MARKER]
    assert settings.database_url == f"sqlite:///{out / SQLITE_FILENAME}"


def test_a_folder_no_demo_made_is_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("a clinic's own file")
    with pytest.raises(InputError, match="holds no earlier demo"):
        prepare_directory(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "a clinic's own file"
    with pytest.raises(InputError, match="is a file, not a directory"):
        prepare_directory(tmp_path / "notes.txt")
