"""Content-addressed file store."""

from __future__ import annotations

import hashlib

import pytest

from dermatrack.errors import InputError, NotFoundError
from dermatrack.store.files import put_bytes, read_bytes, relative_path


def test_stored_under_digest_once_and_read_back(tmp_path):
    data = b"\x89PNG fake bytes"
    digest, relative = put_bytes(tmp_path, data, ".PNG")
    assert digest == hashlib.sha256(data).hexdigest()
    assert relative.as_posix() == f"{digest[:2]}/{digest[2:4]}/{digest}.png"
    again = put_bytes(tmp_path, data, ".png")
    assert again == (digest, relative)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [tmp_path / relative]
    assert read_bytes(tmp_path, relative) == data


def test_corrupted_or_missing_files_are_reported(tmp_path):
    digest, relative = put_bytes(tmp_path, b"original")
    (tmp_path / relative).write_bytes(b"tampered")
    with pytest.raises(NotFoundError, match="corrupted"):
        read_bytes(tmp_path, relative)
    with pytest.raises(NotFoundError, match="missing"):
        read_bytes(tmp_path, relative_path("0" * 64))


def test_names_are_checked():
    with pytest.raises(InputError):
        relative_path("../../etc/passwd")
    with pytest.raises(InputError):
        relative_path("a" * 64, "/x")
