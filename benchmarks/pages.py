"""Time of the pages and reports a clinician opens, on the demo clinic.

Photographs are analysed, reduced to a screen copy with their feature masks and aligned
onto the patient's baseline when they are stored (``dermatrack.services.derived``); the
pages and reports read what was stored. This measures them through the web app
(FastAPI's test client, signed in as a clinician; the time includes routing, the audit
rows written and the response):

* the patient's chart page and photos page (gallery of thumbnails);
* the patient progress report (HTML) and its PDF;
* the patient sheet (HTML) and its PDF;
* the before/after viewer page and its layers (baseline vs latest photograph);
* the cohort page (de-identified statistics; made faster by another change, shown here
  for reference).

For each, the first request (cold: the viewer's layers are not cached yet) and the
median of ``--runs`` further requests, over the demo patients photographed as real faces
(their photographs are the largest) and one close-up patient.

The demo is built first in a temporary directory (``--patients``, default 40, as
``make demo``; the build time is printed), or an existing one is used (``--demo DIR``).
The machine may be shared: the load average is printed before and after.

Run: ``.venv/bin/python benchmarks/pages.py`` (``make bench``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def _timed(call, runs: int) -> tuple[float, float, float]:
    """(first wall time, median wall time of ``runs`` more, median CPU time of them): the
    CPU time (this process, all threads) is what other processes on a shared machine
    cannot inflate much."""
    start = time.perf_counter()
    call()
    cold = time.perf_counter() - start
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (cold, statistics.median(times) if times else cold,
            statistics.median(cpu) if cpu else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, help="an existing demo directory")
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")

    from fastapi.testclient import TestClient

    from dermatrack.config import SQLITE_FILENAME, Settings
    from dermatrack.services import accounts
    from dermatrack.services.common import open_store
    from dermatrack.web.app import create_app

    folder = args.demo
    if folder is None:
        from dermatrack.demo.build import build_demo

        folder = Path(tempfile.mkdtemp(prefix="dermatrack-bench-")) / "demo"
        start = time.perf_counter()
        build_demo(folder, n_patients=args.patients, seed=0)
        print(f"demo of {args.patients} patients built in "
              f"{time.perf_counter() - start:.0f} s")
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / SQLITE_FILENAME}")
    with open_store(settings) as store:
        user, password = f"bench-{os.getpid()}", "bench password 2026"
        accounts.add_user(store, user, "clinician", password, actor="benchmark")
        app = create_app(settings, secret_key="bench", store=store)
        client = TestClient(app)
        client.get("/signin")  # pages: a signed-in session, as a browser has
        signed = client.post("/signin", data={
            "username": user, "password": password,
            "csrf_token": client.cookies.get("dermatrack_csrf")}, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        api = TestClient(app)
        api.headers["Authorization"] = "Bearer " + app.state.signer.api_token(user)
        from sqlalchemy import text

        with store.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT patient_id, COUNT(*) FROM photo GROUP BY patient_id "
                "ORDER BY MAX(width * height) DESC, patient_id")).all()
        patients = [r[0] for r in rows if r[1] >= 2]
        chosen = patients[:3] + patients[-1:]

        def get(url: str):
            def call():
                response = (api if url.startswith("/api/") else client).get(
                    url, follow_redirects=False)
                assert response.status_code == 200, (url, response.status_code)
                wanted = ("application/pdf" if "format=pdf" in url else
                          "image/png" if url.endswith(".png") else "text/html")
                assert response.headers["content-type"].startswith(wanted), url
            return call

        results: dict[str, list[tuple[float, float, float]]] = {}
        for patient in chosen:
            photos = api.get(f"/api/patients/{patient}/photos").json()
            first, last = photos[0]["id"], photos[-1]["id"]
            base = f"/api/patients/{patient}/photos/{first}/compare/{last}"

            def viewer(base=base, patient=patient, first=first, last=last):
                get(f"/patients/{patient}/compare?baseline={first}&followup={last}")()
                for layer in ("baseline", "aligned", "change", "spots_before",
                              "spots_after"):
                    get(f"{base}/{layer}.png")()

            for name, call in (
                    ("chart page", get(f"/patients/{patient}")),
                    ("photos page", get(f"/patients/{patient}/photos")),
                    ("progress report (HTML)", get(f"/patients/{patient}/report")),
                    ("progress report (PDF)", get(f"/patients/{patient}/report?format=pdf")),
                    ("patient sheet (HTML)", get(f"/patients/{patient}/sheet")),
                    ("patient sheet (PDF)", get(f"/patients/{patient}/sheet?format=pdf")),
                    ("before/after viewer + 5 layers", viewer)):
                results.setdefault(name, []).append(_timed(call, args.runs))
        results["cohort page"] = [_timed(get("/cohort"), args.runs)]

    print(f"\n{len(chosen)} patients ({', '.join(chosen)}); seconds: first request (max "
          f"over patients), then wall and CPU time of {args.runs} more (median, max)")
    for name, values in results.items():
        colds = [c for c, _, _ in values]
        warms = [w for _, w, _ in values]
        cpus = [c for _, _, c in values]
        print(f"  {name:32s} first {max(colds):6.2f}  wall {statistics.median(warms):6.2f} "
              f"{max(warms):6.2f}  CPU {statistics.median(cpus):6.2f} {max(cpus):6.2f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
