"""How long ``dermatrack photo reanalyse`` takes to bring stored photographs to this
version of the photo method, on one and on two worker processes, side by side.

A temporary clinic (SQLite) stores the real faces (the package's astronaut and
grace_hopper, and every face in ``../shared/realdata/faces`` where present, Thor the
cat excepted) for one patient at one visit. Their figures are then made to look
measured by an earlier version (the version their observations and capture facts
record is rewritten), and ``services.photos.reanalyse_many`` measures them all again,
first on one process, then, after the same rewrite, on two. It prints, for each, the
wall time, the CPU time of the process and its workers, and the wall time per
photograph, and checks that the two runs stored the same figures as the import.

Run: ``.venv/bin/python benchmarks/reanalyse.py`` (under a minute on two cores;
``--copies 3`` stores every face three times, at three visits).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "faces"
EARLIER = "2026.11.01"


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _as_if_earlier(store) -> None:
    from sqlalchemy import select

    from dermatrack.store.models import Observation, PhotoDerivative

    with store.transaction("benchmark") as session:
        for row in session.scalars(select(Observation).where(Observation.kind == "photo")):
            row.settings = dict(row.settings or {}, method_version=EARLIER)
        for row in session.scalars(select(PhotoDerivative).where(
                PhotoDerivative.kind == "display")):
            if row.data.get("capture"):
                row.data = dict(row.data, capture=dict(row.data["capture"],
                                                       method_version=EARLIER))


def _figures(store, patient: str) -> dict:
    from dermatrack.services import observations

    return {((o.settings or {}).get("photo_id"), o.region, o.metric): o.value
            for o in observations.list_observations(store, patient_id=patient, kind="photo")}


def main() -> None:
    from dermatrack.config import Settings
    from dermatrack.imaging.io import read_image, sample_face, write_png
    from dermatrack.services import patients
    from dermatrack.services.common import open_store
    from dermatrack.services.photos import import_photo, photos_to_reanalyse, reanalyse_many

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=1, help="store each face this many "
                        "times, at as many visits (more photographs to measure)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dermatrack-reanalyse-") as folder:
        root = Path(folder)
        store = open_store(Settings(data_dir=root, database_url=f"sqlite:///{root}/db.sqlite"))
        patient = patients.add_patient(store, {"sex": "female", "fitzpatrick": "III",
                                               "age": 50}, actor="benchmark").id
        patients.add_consent(store, {"patient_id": patient, "kind": "photography",
                                     "version": "benchmark", "signed_at":
                                     "2026-01-01T09:00:00+00:00"}, actor="benchmark")
        faces = {name: sample_face(name) for name in ("astronaut", "grace_hopper")}
        if SHARED_FACES.is_dir():
            faces.update({p.stem: read_image(p).rgb for p in sorted(SHARED_FACES.iterdir())
                          if p.suffix.lower() in (".jpg", ".png") and p.stem != "Thor"})
        for name, rgb in faces.items():
            write_png(root / f"{name}.png", rgb)
        for copy in range(args.copies):
            visit = patients.add_visit(store, {"patient_id": patient,
                                               "timepoint": f"month_{copy}",
                                               "date": f"2026-01-{copy + 1:02d}"},
                                       actor="benchmark").id
            for name in faces:
                import_photo(store, patient_id=patient, visit_id=visit,
                             path=root / f"{name}.png", actor="benchmark")
        imported = _figures(store, patient)
        print(f"{len(faces) * args.copies} photographs stored ({', '.join(faces)}, "
              f"{args.copies} time(s) each)")
        rows = []
        for workers in (1, 2):
            _as_if_earlier(store)
            stale = photos_to_reanalyse(store, patient_id=patient)
            cpu, wall = _cpu_s(), time.perf_counter()
            done = reanalyse_many(store, stale, actor="benchmark", workers=workers)
            wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
            same = _figures(store, patient) == imported
            rows.append((workers, len(done), wall, cpu))
            print(f"workers {workers}: {len(done)} photographs in {wall:.1f} s wall, "
                  f"{cpu:.1f} s CPU, {wall / len(done):.2f} s per photograph; "
                  f"figures as imported: {same}", flush=True)
        print(f"two workers against one: {rows[0][2] / rows[1][2]:.2f}x faster (wall)")
        store.close()


if __name__ == "__main__":
    main()
