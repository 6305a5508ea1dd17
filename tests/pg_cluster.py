"""A private PostgreSQL server on loopback that a test (or a benchmark) can stop and start.

The suite's shared server (scripts/run-tests.sh) must stay up for every other test, so a
test that takes the database away makes its own cluster with Debian's binaries: ``initdb``
into a temporary folder, ``pg_ctl start`` on a free port, ``pg_ctl stop -m immediate``
(as a crash would) and ``start`` again on the same port and data.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def postgres_bin() -> Path | None:
    """Debian's newest PostgreSQL binaries folder, or None when not installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """``with PostgresCluster() as pg:``; ``pg.url``, ``pg.stop()``, ``pg.start()``."""

    def __init__(self, fsync: bool = False):
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.folder = Path(tempfile.mkdtemp(prefix="dermatrack-pgc-"))
        self.port = _free_port()
        self.fsync = fsync
        self.runas: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            if subprocess.run(["id", "postgres"], capture_output=True).returncode:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"],
                               check=True)
            shutil.chown(self.folder, "postgres")
            self.runas = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "dermatrack",
                  "--auth=trust")
        self.start()
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "dermatrack", "dermatrack"], check=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://dermatrack@127.0.0.1:{self.port}/dermatrack"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.runas, str(self.bin / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   f"-c fsync={'on' if self.fsync else 'off'}")
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                  "-w", "-o", options, "start")

    def stop(self) -> None:
        """Stop at once, as a crash would (no checkpoint)."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
