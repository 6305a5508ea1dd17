"""Content-addressed file store."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

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


def test_written_whole_owner_only_and_a_stale_partial_file_removed(tmp_path, monkeypatch):
    """put_bytes writes through store/partial_files.replacing: a failure mid-write leaves
    neither the file nor a partial file, a stored file is owner-only, and a partial file
    of it left by a killed writer is removed by the next write of the same file."""
    data = b"\x89PNG a photograph"
    digest = hashlib.sha256(data).hexdigest()
    relative = relative_path(digest, ".png")
    target = tmp_path / relative
    write_bytes = Path.write_bytes

    def disk_full_for_partials(self, content):
        if self.name.endswith(".part"):
            write_bytes(self, content[:4])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return write_bytes(self, content)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "write_bytes", disk_full_for_partials)
        with pytest.raises(OSError) as failed:
            put_bytes(tmp_path, data, ".png")
    assert failed.value.errno == errno.ENOSPC
    assert list(target.parent.iterdir()) == []

    abandoned = target.parent / f".{target.name}.0123abcd.part"  # no process holds its lock
    abandoned.write_bytes(b"half a photograph of a killed import")
    assert put_bytes(tmp_path, data, ".png") == (digest, relative)
    assert list(target.parent.iterdir()) == [target]
    assert read_bytes(tmp_path, relative) == data
    assert target.stat().st_mode & 0o777 == 0o600


def test_written_on_a_file_system_without_locks(tmp_path, monkeypatch):
    """Where flock is not supported (some network and FUSE mounts) a photograph is still
    stored; a partial file there is never removed as stale, since its writer cannot be
    told alive or dead."""
    from dermatrack.store import partial_files

    def no_locks(descriptor, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(partial_files.fcntl, "flock", no_locks)
    data = b"\x89PNG another photograph"
    digest, relative = put_bytes(tmp_path, data, ".png")
    assert read_bytes(tmp_path, relative) == data
    target = tmp_path / relative
    other = target.parent / f".{target.name}.0123abcd.part"
    other.write_bytes(b"a writer we cannot tell alive or dead")
    assert partial_files.remove_stale_partials(target) == []
    assert other.exists()
    monkeypatch.setattr(partial_files.fcntl, "flock",
                        lambda d, o: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError):
        put_bytes(tmp_path, b"\x89PNG a third", ".png")
    assert not [p for p in tmp_path.rglob("*.part") if p != other]
