"""Speed of the FHIR and DICOM exchange on a demo clinic.

Builds (or reuses, ``--demo DIR``) a quick demo clinic of ``--patients`` synthetic
patients, then measures, each ``--runs`` times (median, wall and CPU time):

* ``export --format fhir`` with identities (every resource built and validated with
  ``fhir.resources``, photographs copied beside the bundle);
* ``import fhir`` of that bundle into an empty SQLite clinic (the whole bundle checked,
  then stored in one transaction);
* ``export --format dicom`` (every photograph as a VL Photographic Image).

The machine may be shared: the load average is printed, and CPU times beside wall times.

Run: ``.venv/bin/python benchmarks/interop.py [--patients 5] [--runs 3] [--demo DIR]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def _timed(function) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--demo", type=Path, default=None,
                        help="An existing demo directory (default: build one).")
    args = parser.parse_args()
    os.environ.pop("DERMATRACK_DATABASE_URL", None)

    from dermatrack.config import load_settings
    from dermatrack.services.common import open_store
    from dermatrack.services.dicom import export_dicom
    from dermatrack.services.fhir import export_fhir, import_fhir

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="dermatrack-bench-") as folder:
        work = Path(folder)
        demo = args.demo
        if demo is None:
            from dermatrack.demo.build import build_demo

            demo = work / "demo"
            seconds, _, _ = _timed(lambda: build_demo(demo, n_patients=args.patients,
                                                      quick=True, workers=1))
            print(f"demo of {args.patients} patients built in {seconds:.1f} s")
        rows: dict[str, list[tuple[float, float]]] = {"fhir export": [], "fhir import": [],
                                                       "dicom export": []}
        with open_store(load_settings(demo)) as store:
            for run in range(args.runs):
                bundle = work / f"run{run}" / "clinic.json"
                wall, cpu, exported = _timed(lambda b=bundle: export_fhir(
                    store, b, actor="bench", with_identity=True))
                rows["fhir export"].append((wall, cpu))
                with open_store(load_settings(work / f"target{run}")) as target:
                    wall, cpu, _ = _timed(lambda b=bundle, t=target: import_fhir(
                        t, b, actor="bench"))
                rows["fhir import"].append((wall, cpu))
                wall, cpu, dicom = _timed(lambda r=run: export_dicom(
                    store, work / f"dicom{r}", actor="bench"))
                rows["dicom export"].append((wall, cpu))
        resources = sum(exported["resources"].values())
        print(f"{resources} FHIR resources, {dicom['photos']} photographs "
              f"({bundle.stat().st_size / 1e6:.1f} MB bundle)")
        for name, times in rows.items():
            walls = [t[0] for t in times]
            cpus = [t[1] for t in times]
            print(f"{name:13s} median {statistics.median(walls):7.2f} s wall "
                  f"(range {min(walls):.2f}-{max(walls):.2f}), "
                  f"{statistics.median(cpus):7.2f} s CPU")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
