"""Cohort report and research export at research scale (issue 14): time and peak memory.

For each size (default 400 and 4,000 patients; ``--sizes 400,4000,40000``) a synthetic
clinic is built with ``dermatrack demo --patients N --no-photos`` (its build time is
reported too; a clinic already built by an earlier run in ``--cache DIR`` is reused),
then, each in a fresh process:

* ``dermatrack report cohort`` (the HTML cohort report: every statistic, forest plots);
* ``dermatrack export --format parquet`` (the de-identified long table);
* the cohort summary twice in one process, cold then warm (what the web cohort page
  computes; the second call is served from the cache until the record changes).

Wall time, CPU time (user + system, which other load inflates much less than wall
time) and peak resident memory (``VmHWM``) of each process are printed as a table
and as JSON. The machine may be shared: the load average is printed beside the figures.

Every size is built through the services by default; ``--replicate-from 400`` makes the
larger clinics as copies of the 400-patient one with new ids instead (SQLite, seconds, but
every copy has the same records). ``--sizes 400,4000,40000`` adds 40,000 patients (about
6 million observations and 15 GB of SQLite database: see the README for its build time).

Run: ``.venv/bin/python benchmarks/cohort.py`` (``make bench``);
``--sizes 400`` for a quick look.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

WRAPPER = r"""
import sys, time
started = time.perf_counter()
try:
    {body}
finally:
    import resource
    peak = next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print('BENCH', time.perf_counter() - started, int(peak) / 1024,
          usage.ru_utime + usage.ru_stime, file=sys.stderr)
"""

CLI = """from dermatrack.cli.main import main
    try:
        main({args!r})
    except SystemExit as exit:
        assert not exit.code, exit.code"""

SUMMARY = """from dermatrack.config import load_settings
    from dermatrack.services.common import open_store
    from dermatrack.services.outcomes import cohort_summary
    with open_store(load_settings()) as store:
        for label in ('cold', 'warm'):
            t = time.perf_counter()
            cohort_summary(store, deidentified=True)
            print('SUMMARY', label, time.perf_counter() - t, file=sys.stderr)"""


def run(body: str, env: dict[str, str]) -> dict[str, float | str]:
    code = WRAPPER.replace("{body}", body)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed:\n{done.stderr[-3000:]}")
    result: dict[str, float | str] = {}
    for line in done.stderr.splitlines():
        parts = line.split()
        if parts[:1] == ["BENCH"]:
            result["seconds"], result["peak_mib"] = float(parts[1]), float(parts[2])
            result["cpu_s"] = float(parts[3])
        elif parts[:1] == ["SUMMARY"]:
            result[f"summary_{parts[1]}_s"] = float(parts[2])
    return result


def replicate(base: Path, out: Path, copies: int) -> float:
    """A clinic of ``copies`` x the patients of ``base``: its database copied, then every
    clinical row inserted again ``copies - 1`` times with a suffix on each id and
    reference (SQLite; the audit trail and web accounts are not copied)."""
    import shutil
    import sqlite3

    from sqlalchemy import String

    from dermatrack.store.models import CLINICAL_TABLES, Base

    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(base, out)
    tables = [Base.metadata.tables[model.__tablename__] for model in CLINICAL_TABLES]
    tables += [t for t in Base.metadata.sorted_tables
               if t.name == "patient_identity"]
    with sqlite3.connect(out / "dermatrack.db") as db:
        for copy in range(1, copies):
            for table in Base.metadata.sorted_tables:
                if table not in tables:
                    continue
                names, values = [], []
                for column in table.columns:
                    names.append(f'"{column.name}"')
                    keyed = (column.primary_key or column.foreign_keys) \
                        and isinstance(column.type, String)
                    values.append(f"\"{column.name}\" || '~{copy}'" if keyed
                                  else f'"{column.name}"')
                db.execute(f'INSERT INTO "{table.name}" ({", ".join(names)}) SELECT '
                           f'{", ".join(values)} FROM "{table.name}" '
                           f"WHERE \"{table.primary_key.columns.values()[0].name}\" "
                           f"NOT LIKE '%~%'" if table.primary_key.columns else "")
        db.commit()
    return time.perf_counter() - started


def build(n: int, cache: Path, env: dict[str, str], base: int | None = None
          ) -> tuple[Path, float | None]:
    out = cache / f"clinic-{n}"
    if (out / "reports" / "index.html").is_file():
        return out, None
    if base and n % base == 0 and n > base:
        source, _ = build(base, cache, env)
        seconds = replicate(source, out, n // base)
        print(f"{n} patients: {n // base} copies of the {base}-patient clinic "
              f"({seconds:.0f} s)", flush=True)
        return out, None
    started = time.perf_counter()
    run(CLI.format(args=["demo", "--patients", str(n), "--no-photos", "--out", str(out),
                         "--json"]), env)
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="400,4000")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/dermatrack-bench-cohort"))
    parser.add_argument("--replicate-from", type=int, default=0,
                        help="Make the larger clinics by copying this size's clinic "
                        "(new ids) instead of building each through the services; 0 "
                        "builds every size with `demo --no-photos`.")
    options = parser.parse_args()
    options.cache.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERMATRACK_")}
    print(f"load average before: {os.getloadavg()}")
    results = []
    for n in [int(part) for part in options.sizes.split(",")]:
        out, built = build(n, options.cache, env, options.replicate_from)
        clinic_env = {**env, "DERMATRACK_DATA_DIR": str(out)}
        row: dict[str, object] = {"patients": n, "build_s": built,
                                  "replicated": built is None and bool(options.replicate_from)
                                  and n > options.replicate_from}
        import sqlite3

        with sqlite3.connect(out / "dermatrack.db") as db:
            row["observations"] = db.execute("select count(*) from observation").fetchone()[0]
        report = run(CLI.format(args=["report", "cohort", "--out", str(out / "bench.html")]),
                     clinic_env)
        export = run(CLI.format(args=["export", "--format", "parquet", "--out",
                                      str(out / "bench.parquet")]), clinic_env)
        summary = run(SUMMARY, clinic_env)
        row.update(report_s=report["seconds"], report_cpu_s=report["cpu_s"],
                   report_peak_mib=report["peak_mib"],
                   export_s=export["seconds"], export_cpu_s=export["cpu_s"],
                   export_peak_mib=export["peak_mib"],
                   summary_cold_s=summary["summary_cold_s"],
                   summary_warm_s=summary["summary_warm_s"])
        results.append(row)
        print(json.dumps(row), flush=True)
    print(f"load average after: {os.getloadavg()}")
    print("| patients | observations | build s | report s (CPU s) | report MiB | "
          "export s (CPU s) | export MiB | summary cold s | warm s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        built = ("copies" if r["replicated"] else "reused") if r["build_s"] is None \
            else f"{r['build_s']:.0f}"
        print(f"| {r['patients']} | {r['observations']} | {built} | {r['report_s']:.1f} "
              f"({r['report_cpu_s']:.1f}) | {r['report_peak_mib']:.0f} | {r['export_s']:.1f} "
              f"({r['export_cpu_s']:.1f}) | {r['export_peak_mib']:.0f} | "
              f"{r['summary_cold_s']:.2f} | {r['summary_warm_s']:.3f} |")


if __name__ == "__main__":
    main()
