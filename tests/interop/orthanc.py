"""A real Orthanc DICOM server (Debian's ``orthanc`` with ``orthanc-dicomweb``) on loopback,
with a generated configuration: random free ports, a temporary storage folder, DICOMweb
enabled, no remote access. Started and stopped by the test that needs it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ORTHANC = Path("/usr/sbin/Orthanc")
PLUGIN_CANDIDATES = (Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so"),
                     Path("/usr/lib/orthanc/libOrthancDicomWeb.so.1.7"))
REQUIRE_ENV = "DERMATRACK_REQUIRE_ORTHANC"


def dicomweb_plugin() -> Path | None:
    found = next((p for p in PLUGIN_CANDIDATES if p.exists()), None)
    if found is not None:
        return found
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        listing = subprocess.run(["dpkg", "-L", "orthanc-dicomweb"], capture_output=True,
                                 text=True, check=False).stdout
        for line in listing.splitlines():
            if "libOrthancDicomWeb.so" in line and Path(line).is_file():
                return Path(line)
    return None


def available() -> str | None:
    """None when Orthanc and its DICOMweb plugin are installed, else why not."""
    if not ORTHANC.exists():
        return "Debian's orthanc is not installed (/usr/sbin/Orthanc)"
    if dicomweb_plugin() is None:
        return "Debian's orthanc-dicomweb plugin is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_orthanc(folder: Path) -> Iterator[str]:
    """Start Orthanc with its own configuration in ``folder``; yield the DICOMweb root URL;
    stop it (and remove its storage) afterwards."""
    import requests

    folder.mkdir(parents=True, exist_ok=True)
    http_port, dicom_port = _free_port(), _free_port()
    storage = folder / "storage"
    config = {
        "Name": "dermatrack-test", "StorageDirectory": str(storage),
        "IndexDirectory": str(storage), "HttpPort": http_port, "DicomPort": dicom_port,
        "DicomServerEnabled": False, "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "HttpServerEnabled": True,
        "Plugins": [str(dicomweb_plugin())],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        "StorageCompression": False, "ConcurrentJobs": 1,
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config, indent=1))
    log = (folder / "orthanc.log").open("w")
    process = subprocess.Popen([str(ORTHANC), str(path)], stdout=log, stderr=subprocess.STDOUT,
                               cwd=folder, start_new_session=True)
    base = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("Orthanc exited at start:\n"
                                   + (folder / "orthanc.log").read_text()[-3000:])
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/dicom-web/studies", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("Orthanc did not answer within 60 s:\n"
                                   + (folder / "orthanc.log").read_text()[-3000:])
            time.sleep(0.2)
        yield f"{base}/dicom-web"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(storage, ignore_errors=True)
