"""Content-addressed file store under ``Settings.files_dir``.

A file is stored under the SHA-256 of its bytes (``ab/cd/abcd....ext``): storing the same
bytes twice keeps one copy, and a stored file can be checked against its name. Nothing of
the original file name, path or timestamps is kept; callers strip image metadata before
storing (``dermatrack.imaging.io``), since the bytes stored are exactly the bytes given.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from dermatrack.errors import InputError, NotFoundError
from dermatrack.store.partial_files import replacing

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


def sha256_hex(data: bytes) -> str:
    """Lower-case hexadecimal SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def relative_path(sha256: str, suffix: str = "") -> Path:
    """Where a file with this digest lives, relative to the files directory."""
    if not _SHA256.match(sha256):
        raise InputError(f"not a SHA-256 hex digest: {sha256!r}", field="sha256")
    if suffix and not _SUFFIX.match(suffix):
        raise InputError(f"file suffix must look like '.png', got {suffix!r}", field="suffix")
    return Path(sha256[:2]) / sha256[2:4] / f"{sha256}{suffix}"


def put_bytes(files_dir: Path, data: bytes, suffix: str = "") -> tuple[str, Path]:
    """Store ``data``; return its SHA-256 and its path relative to ``files_dir``.

    The file is written whole or not at all, owner-only, through
    :func:`dermatrack.store.partial_files.replacing`.
    """
    digest = sha256_hex(data)
    relative = relative_path(digest, suffix.lower())
    target = files_dir / relative
    if target.exists():
        return digest, relative
    with replacing(target) as replacement:
        replacement.partial.write_bytes(data)
    return digest, relative


def read_bytes(files_dir: Path, relative: Path | str) -> bytes:
    """The bytes of a stored file, checked against the digest in its name."""
    path = files_dir / relative
    if not path.is_file():
        raise NotFoundError(f"stored file missing: {relative}")
    data = path.read_bytes()
    expected = Path(relative).name.split(".")[0]
    if sha256_hex(data) != expected:
        raise NotFoundError(f"stored file {relative} does not match its digest (corrupted)")
    return data
