"""Batch photo analysis (``dermatrack photo batch``): photos per second with 1 and 2
workers, on local processes and through a Dask scheduler on loopback (issue 14).

``--photos`` phantoms (default 24) of ``--size`` (default 640x480, 0.1 mm/px) are written
to a temporary folder; each configuration analyses all of them (``--no-face``, no
ColorChecker search) into a fresh Parquet file:

* ``local``: :func:`dermatrack.services.batch.run_batch` with its own local cluster of N
  worker processes (what ``photo batch --workers N`` does; the cluster's start-up is
  included in the time, as a user would wait for it);
* ``scheduler``: a scheduler and N workers started beforehand on 127.0.0.1, the batch
  sent with ``--scheduler tcp://127.0.0.1:PORT`` (start-up excluded: a cluster is
  already running).

Printed: wall time, photos per second and photos per second per worker. The machine may
be shared (the load average is printed): per-worker rates fall when other work competes
for the two cores.

Run: ``.venv/bin/python benchmarks/batch.py`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def phantoms(folder: Path, count: int, width: int, height: int) -> None:
    import cv2
    import numpy as np

    from dermatrack.imaging.phantom import make_phantom, random_spec

    for i in range(count):
        rng = np.random.default_rng([14, i])
        spec = random_spec(rng, width=width, height=height, mm_per_px=0.1)
        rgb = make_phantom(spec, rng).rgb
        cv2.imwrite(str(folder / f"p{i:04d}.png"),
                    cv2.cvtColor((np.clip(rgb, 0, 1) * 255).astype(np.uint8),
                                 cv2.COLOR_RGB2BGR))


def main() -> None:
    from distributed import LocalCluster

    from dermatrack.services.batch import BatchOptions, collect_inputs, run_batch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--size", default="640x480")
    options = parser.parse_args()
    width, height = (int(v) for v in options.size.split("x"))
    print(f"load average before: {os.getloadavg()}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        phantoms(folder, options.photos, width, height)
        items = collect_inputs([folder])
        settings = BatchOptions(use_face=False, calibrate=False)
        for mode in ("local", "scheduler"):
            for workers in (1, 2):
                out = Path(tmp) / f"{mode}-{workers}.parquet"
                cluster = None
                if mode == "scheduler":
                    cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, host="127.0.0.1",
                                           dashboard_address=":0")
                try:
                    started = time.perf_counter()
                    summary = run_batch(items, out, options=settings, workers=workers,
                                        scheduler=cluster.scheduler_address if cluster
                                        else None)
                    seconds = time.perf_counter() - started
                finally:
                    if cluster is not None:
                        cluster.close()
                assert summary.analysed == len(items), summary
                row = {"mode": mode, "workers": workers, "photos": len(items),
                       "size": options.size, "seconds": round(seconds, 2),
                       "photos_per_s": round(len(items) / seconds, 3),
                       "photos_per_s_per_worker": round(len(items) / seconds / workers, 3)}
                results.append(row)
                print(json.dumps(row), flush=True)
    print(f"load average after: {os.getloadavg()}")
    print("| mode | workers | photos | seconds | photos/s | photos/s per worker |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['mode']} | {r['workers']} | {r['photos']} ({r['size']}) | {r['seconds']} "
              f"| {r['photos_per_s']} | {r['photos_per_s_per_worker']} |")


if __name__ == "__main__":
    main()
