"""Load test of the clinic web app on SQLite and PostgreSQL, side by side.

For each backend: a clinic of ``--patients`` patients (each with a baseline visit and a
session), a real server (``dermatrack serve``) on loopback, and ``--clients`` concurrent
API clients for ``--seconds`` doing a clinic's mix of requests: searching and paging the
patient list, opening a patient and their visits, sessions and measurements (reads), and
registering patients, booking visits and charting sessions (writes). Every write that was
answered 201 is looked up afterwards: a missing one is a lost write.

Prints, per backend: requests and their rate, read and write latency (p50, p95), 5xx
answers, lost writes and the server's CPU time. PostgreSQL runs with fsync on, in a
private cluster started and stopped here; the app serves it with ``--workers 2`` (SQLite
allows one writer process, so it gets one).

    .venv/bin/python benchmarks/load.py                       # 2,000 patients, 16 x 60 s
    .venv/bin/python benchmarks/load.py --patients 40000      # the issue's clinic group
    .venv/bin/python benchmarks/load.py --backends sqlite --clinic DIR

``--clinic DIR`` runs the SQLite mix on a copy of an existing clinic instead, e.g. one built
by ``dermatrack demo --patients 40000 --no-photos --out DIR`` (whole records: visits,
sessions, plans and about 150 measurements a patient); the two load-test accounts are
added to the copy.

Every request goes to 127.0.0.1 only; the loops are bounded in time and stop by themselves.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from pg_cluster import PostgresCluster, postgres_bin  # noqa: E402

PASSWORD = "load-test password 1"
POPULATE_BATCH = 500
FIRST = ("Ada", "Bea", "Cai", "Dan", "Eve", "Fox", "Gus", "Hal", "Ivy", "Jon", "Kim", "Lea")
LAST = ("Moss", "Nash", "Orr", "Park", "Quinn", "Reyes", "Shaw", "Tran", "Vance", "Wolfe")


def patient_json(rng: random.Random, i: int, *, clinical: bool = True) -> dict:
    """A registration: identity and demographics, plus the clinical facts (skin type,
    concerns) when a clinician registers; reception may not record those (issue 12)."""
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i}"
    record = {"age": rng.randint(22, 70), "sex": rng.choice(["female", "male"]),
              "identity": {"name": name, "email": f"p{i}@example.org"}}
    if clinical:
        record |= {"fitzpatrick": rng.choice(["I", "II", "III", "IV", "V", "VI"]),
                   "concerns": [{"code": "fine_lines", "region": "periorbital",
                                 "severity": 2}]}
    return record


def copy_clinic(source: Path, data_dir: Path) -> int:
    """Copy the SQLite clinic in ``source`` to ``data_dir`` and add the load-test accounts;
    return its number of patients."""
    import shutil
    import sqlite3

    from dermatrack.config import SQLITE_FILENAME, load_settings
    from dermatrack.services import accounts
    from dermatrack.services.common import open_store

    database = source / SQLITE_FILENAME
    if not database.is_file():
        raise SystemExit(f"--clinic: no {SQLITE_FILENAME} in {source}")
    with sqlite3.connect(database) as db:  # fold the write-ahead log in before copying
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        patients = db.execute("SELECT count(*) FROM patient").fetchone()[0]
    shutil.copy2(database, data_dir / SQLITE_FILENAME)
    with open_store(load_settings(data_dir)) as store:
        for role in ("clinician", "reception"):
            accounts.add_user(store, f"{role}1", role, PASSWORD, actor="bench")
    return patients


def populate(data_dir: Path, database_url: str | None, n_patients: int) -> None:
    """A clinic of ``n_patients``, each with signed consents, a baseline visit and one
    session, written through the services (:data:`POPULATE_BATCH` patients per
    transaction, :meth:`~dermatrack.services.common.Store.batch`)."""
    from dermatrack.config import Settings, load_settings
    from dermatrack.services import accounts
    from dermatrack.services.common import open_store

    settings = (Settings(data_dir=data_dir, database_url=database_url) if database_url
                else load_settings(data_dir))
    rng = random.Random(0)
    with open_store(settings) as store, Progress(
            "populating", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            transient=True) as progress:
        for role in ("clinician", "reception"):
            accounts.add_user(store, f"{role}1", role, PASSWORD, actor="bench")
        task = progress.add_task("patients", total=n_patients)
        for start in range(0, n_patients, POPULATE_BATCH):
            with store.batch("bench"):
                for i in range(start, min(n_patients, start + POPULATE_BATCH)):
                    add_one(store, rng, i)
                    progress.advance(task)


def add_one(store: object, rng: random.Random, i: int) -> None:
    """Patient ``i``: registration, consents, a baseline visit and a session."""
    import datetime as dt

    from dermatrack.demo.consents import sign_demo_consents
    from dermatrack.services import charting, patients

    pid = patients.add_patient(store, patient_json(rng, i), actor="bench").id
    # Charting a session needs a signed treatment consent (issue 16).
    sign_demo_consents(store, pid, i, dt.date(2026, 1, 5), actor="bench")
    patients.add_visit(store, {"patient_id": pid, "timepoint": "baseline",
                               "date": "2026-01-05"}, actor="bench")
    charting.add_session(store, {"patient_id": pid, "date": "2026-01-05", "operator": "dr",
                                 "modality": "microneedling", "region": "cheeks",
                                 "parameters": {"needle_depth": 1.0}}, actor="bench")


@dataclass
class Results:
    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    errors_5xx: int = 0
    other_errors: dict[int, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_loop(base: str, role: str, deadline: float, seed: int, ids: list[str],
                results: Results) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30) as client:
        # The clients share two accounts: parallel sign-ins of one account beyond the
        # sign-in limit are asked to wait (429 with Retry-After), as a browser would.
        while (token := client.post("/api/token", data={"username": f"{role}1",
                                                        "password": PASSWORD})
               ).status_code == 429:
            time.sleep(float(token.headers.get("Retry-After", "1")))
        token.raise_for_status()
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        n = 0
        while time.monotonic() < deadline:
            n += 1
            pid = rng.choice(ids)
            roll = rng.random()
            write = roll >= 0.8
            if roll < 0.25:
                request = ("GET", "/api/patients", {"params": {"q": rng.choice(LAST)}})
            elif roll < 0.35:
                request = ("GET", "/api/patients", {})
            elif roll < 0.55:
                request = ("GET", f"/api/patients/{pid}", {})
            elif roll < 0.65:
                request = ("GET", f"/api/patients/{pid}/visits", {})
            elif roll < 0.8:
                request = ("GET", f"/api/patients/{pid}/sessions" if role == "clinician"
                           else f"/api/patients/{pid}/visits", {})
            elif roll < 0.88:
                request = ("POST", "/api/patients",
                           {"json": patient_json(rng, 10_000_000 + seed * 100_000 + n,
                                                 clinical=role == "clinician")})
            elif roll < 0.94 or role != "clinician":
                request = ("POST", f"/api/patients/{pid}/visits",
                           {"json": {"timepoint": f"t{seed}_{n}", "date": "2026-03-01"}})
            else:
                request = ("POST", f"/api/patients/{pid}/sessions",
                           {"json": {"date": "2026-03-01", "operator": "dr",
                                     "modality": "microneedling", "region": "cheeks",
                                     "parameters": {"needle_depth": 1.0}}})
            method, url, options = request
            start = time.perf_counter()
            response = client.request(method, url, **options)
            elapsed = time.perf_counter() - start
            with results.lock:
                (results.writes if write else results.reads).append(elapsed)
                if response.status_code >= 500:
                    results.errors_5xx += 1
                elif response.status_code >= 400:
                    results.other_errors[response.status_code] = \
                        results.other_errors.get(response.status_code, 0) + 1
                elif response.status_code == 201:
                    results.created.append(f"{url}|{response.json()['id']}")


def count_lost(base: str, created: list[str]) -> int:
    """Writes answered 201 that the server cannot show afterwards."""
    lost = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        token = client.post("/api/token", data={"username": "clinician1",
                                                "password": PASSWORD}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        by_list: dict[str, set[str]] = {}
        for entry in created:
            url, record_id = entry.split("|")
            if url == "/api/patients":
                lost += client.get(f"/api/patients/{record_id}").status_code != 200
                continue
            if url not in by_list:
                ids, next_url = set(), f"{url}?limit=500"
                while next_url:
                    page = client.get(next_url)
                    ids |= {row["id"] for row in page.json()}
                    next_url = page.links.get("next", {}).get("url")
                by_list[url] = ids
            lost += record_id not in by_list[url]
    return lost


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def server_cpu_s(pid: int) -> float:
    """CPU time (user + system, seconds) of a process and its children (workers)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid] + [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def run_backend(name: str, args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"dermatrack-load-{name}-"))
    cluster = PostgresCluster(fsync=True) if name == "postgresql" else None
    url = cluster.url if cluster else None
    server = None
    try:
        started = time.perf_counter()
        if args.clinic is not None and name == "sqlite":
            patients_in_clinic = copy_clinic(args.clinic, folder)
        else:
            populate(folder, url, args.patients)
            patients_in_clinic = args.patients
        built = time.perf_counter() - started
        env = {**os.environ, "DERMATRACK_DATA_DIR": str(folder)}
        if url:
            env["DERMATRACK_DATABASE_URL"] = url
        else:
            env.pop("DERMATRACK_DATABASE_URL", None)
        port = _free_port()
        workers = ["--workers", str(args.pg_workers)] if cluster else []
        server = subprocess.Popen([str(Path(sys.executable).parent / "dermatrack"), "serve",
                                   "--port", str(port), *workers], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{name}: the server did not become ready")
        from dermatrack.config import Settings, load_settings
        from dermatrack.services import patients
        from dermatrack.services.common import open_store

        settings = Settings(data_dir=folder, database_url=url) if url else load_settings(folder)
        with open_store(settings) as store:
            ids = [p.id for p in patients.list_patients(store, actor="bench", limit=500).items]
        cpu_before = server_cpu_s(server.pid)
        results = Results()
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client_loop, args=(
            base, "clinician" if i % 4 else "reception", deadline, i, ids, results))
            for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu = server_cpu_s(server.pid) - cpu_before
        lost = count_lost(base, results.created)
        return {"backend": name, "patients": patients_in_clinic, "build_s": built,
                "requests": len(results.reads) + len(results.writes),
                "rate": (len(results.reads) + len(results.writes)) / args.seconds,
                "read_p50": percentile(results.reads, 50),
                "read_p95": percentile(results.reads, 95),
                "write_p50": percentile(results.writes, 50),
                "write_p95": percentile(results.writes, 95),
                "5xx": results.errors_5xx, "4xx": dict(results.other_errors), "lost": lost,
                "server_cpu_s": cpu}
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if cluster is not None:
            cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pg-workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--clinic", type=Path, default=None,
                        help="SQLite: a copy of this clinic (a `dermatrack demo` directory) "
                        "instead of a populated one")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "postgresql" in backends and postgres_bin() is None:
        print("PostgreSQL binaries not found: SQLite only", file=sys.stderr)
        backends.remove("postgresql")
    rows = [run_backend(name, args) for name in backends]
    print(f"load: {args.clients} clients x {args.seconds:.0f} s "
          f"(python benchmarks/load.py {' '.join(sys.argv[1:])}); load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"{'backend':<11} {'patients':>8} {'build s':>8} {'requests':>9} {'req/s':>7} "
          f"{'read p50':>9} "
          f"{'read p95':>9} {'write p50':>10} {'write p95':>10} {'5xx':>4} {'lost':>5} "
          f"{'srv CPU s':>9}")
    for r in rows:
        print(f"{r['backend']:<11} {r['patients']:>8} {r['build_s']:>8.0f} {r['requests']:>9} "
              f"{r['rate']:>7.1f} "
              f"{r['read_p50']:>9.3f} {r['read_p95']:>9.3f} {r['write_p50']:>10.3f} "
              f"{r['write_p95']:>10.3f} {r['5xx']:>4} {r['lost']:>5} {r['server_cpu_s']:>9.1f}")
        if r["4xx"]:
            print(f"  {r['backend']}: 4xx answers {r['4xx']}")


if __name__ == "__main__":
    main()
