"""Files of health data written whole or not at all: exports (``dermatrack export``,
``dermatrack pull dicom``), stored photographs, photo-batch output, imported knowledge
topics.

A file is written to a hidden partial file beside its target, ``.NAME.XXXXXXXX.part``
(eight hex digits), which replaces the target only when complete (:func:`replacing`): a
failure leaves the target as it was. The partial file holds health data from its first
byte, so it is created readable by its owner only (0600); the finished file keeps the
permissions of the file it replaces, and a new one stays owner-only. A writer that fails
or is stopped (an exception, Ctrl-C, or SIGTERM and SIGHUP, which ``dermatrack export``
and ``pull dicom`` turn into an exception: :mod:`dermatrack.cli._signals`) removes its
partial file. One
killed outright (SIGKILL, a power cut) cannot, so each writer first removes the partial
files of its target that no live writer holds (:func:`remove_stale_partials`): a writer
holds an exclusive ``flock`` on its partial file from creation to rename, and the kernel
releases it when the process dies, however it dies.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Replacement", "remove_stale_partials", "replacing"]


@dataclass
class Replacement:
    """What :func:`replacing` gives its block: the partial file to write, and the names
    of the stale partial files of the same target it removed first (to report)."""

    partial: Path
    stale_removed: list[str] = field(default_factory=list)


def remove_stale_partials(path: Path) -> list[str]:
    """Remove the partial files of ``path`` left by writers that died; return their names.

    A partial file is stale when no process holds its ``flock``: every writer holds an
    exclusive lock on its partial file from creation to rename, and the kernel releases it
    when that process ends however it ends (SIGKILL included), and with the machine. A lock
    is the robust test: a PID in the name can be reused by another process (or belong to
    another machine or PID namespace sharing the folder), and an age limit would either
    delete a long export still being written or keep a dead one's data for that long.
    Files the lock cannot be taken on (another user's, a file system without locks) are
    left alone: only what is provably abandoned is removed.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{8}}\.part")
    try:
        candidates = sorted(entry for entry in path.parent.iterdir()
                            if pattern.fullmatch(entry.name))
    except OSError:
        return []
    removed = []
    for entry in candidates:
        try:
            # No symlink is followed and no FIFO blocks the open; flock needs no write right.
            descriptor = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Still the file we locked (not removed and recreated meanwhile), and a file.
            locked = os.fstat(descriptor)
            if (stat.S_ISREG(locked.st_mode)
                    and os.path.samestat(locked, os.stat(entry, follow_symlinks=False))):
                entry.unlink()
                removed.append(entry.name)
        except OSError:  # locked by a live writer (or gone, or no locks here): keep it
            continue
        finally:
            os.close(descriptor)
    return removed


#: flock's answers on a file system that has no locks.
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP})


def _create_partial(path: Path) -> tuple[Path, int]:
    """Create an empty partial file for ``path``, owner-only (0600), and lock it; return
    its path and the descriptor holding the lock (close it after the rename)."""
    while True:
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            # Blocking: another writer's remove_stale_partials may have locked the new,
            # unlocked file; it holds the lock only to remove it, which the check sees.
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(descriptor), os.stat(partial)):
                return partial, descriptor
        except FileNotFoundError:
            pass
        except OSError as error:
            if error.errno not in _NO_LOCKS:
                os.close(descriptor)
                partial.unlink(missing_ok=True)
                raise
            # A file system without locks (some network and FUSE mounts): write unlocked.
            # remove_stale_partials cannot lock such a file either, so it never removes
            # it: a killed writer's partial file stays there, a live one is never lost.
            return partial, descriptor
        except BaseException:
            os.close(descriptor)
            partial.unlink(missing_ok=True)
            raise
        os.close(descriptor)  # removed as stale before it was locked: draw another name


@contextmanager
def replacing(path: Path) -> Iterator[Replacement]:
    """Write ``path`` whole or not at all.

    Creates the folder of ``path`` when missing, removes the stale partial files of
    ``path``, and yields a :class:`Replacement` whose ``partial`` file (empty, 0600,
    locked) the block writes, by its path. When the block ends normally the partial file
    replaces ``path``, with the permissions of the file it replaces (a new file stays
    owner-only); when it raises, KeyboardInterrupt and the CLI's ``Terminated`` included,
    the partial file is removed and ``path`` is left as it was. ``OSError`` propagates.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    stale = remove_stale_partials(path)
    partial, lock = _create_partial(path)
    try:
        yield Replacement(partial, stale)
        if path.exists():  # a replaced file keeps who may read it
            partial.chmod(stat.S_IMODE(path.stat().st_mode))
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)  # before the lock goes: never left unlocked
        os.close(lock)
