"""The demo's reports and its check: one progress report per patient, the cohort report,
and the true simulated change beside the estimated one.

:func:`true_vs_estimated` compares, for the phantom patients (whose truth is exact), the
mean true change of the concern's metric from baseline to month 3 with the change
measured on their photographs; :func:`write_reports` writes the per-patient reports in the
workers (:func:`report_job`) and the cohort index with that check;
:func:`write_cohort_index` writes the cohort report alone (the no-photos demo).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dermatrack.config import Settings
from dermatrack.demo.design import FAMILY_METRIC
from dermatrack.demo.records import DemoResult, Progress


def report_job(job: dict[str, Any]) -> dict[str, Any]:
    """Write one patient's progress report (reads the demo database, writes one file)."""
    from dermatrack.services.common import open_store
    from dermatrack.services.reports import patient_report_html

    settings = Settings(data_dir=Path(job["data_dir"]), database_url=job["database_url"])
    with open_store(settings) as store:
        html = patient_report_html(store, job["patient_id"], synthetic=True,
                                   cohort_link="index.html")
    Path(job["path"]).write_text(html, encoding="utf-8")
    return job


def true_vs_estimated(store: Any, result: DemoResult) -> list[dict[str, Any]]:
    """Per modality and metric: mean true change of the phantoms beside the measured one."""
    from dermatrack.outcomes.cohort import paired_change
    from dermatrack.services.outcomes import cohort_data

    measured = cohort_data(store, metrics=[("photo", m) for m, _ in FAMILY_METRIC.values()]
                           ).measurements
    photo = measured[(measured["kind"] == "photo") & (measured["region"] == "whole")]
    # (patient, metric, visit) -> value, looked up instead of filtering per patient.
    value_at = {(p, m, v): value for p, m, v, value in zip(
        photo["patient"], photo["metric"], photo["visit"], photo["value"], strict=True)}
    groups: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for patient_id, truth in result.truth.items():
        design = result.designs[patient_id]
        modality = result.treated.get(patient_id)
        if modality is None or "baseline" not in truth or "month_3" not in truth:
            continue
        metric, key = FAMILY_METRIC[design.family]
        groups.setdefault((modality, metric), []).append(
            (patient_id, truth["month_3"][key] - truth["baseline"][key]))
    rows = []
    for (modality, metric), items in sorted(groups.items()):
        before, after, true = [], [], []
        for patient_id, change in items:
            first = value_at.get((patient_id, metric, "baseline"))
            last = value_at.get((patient_id, metric, "month_3"))
            if first is None or last is None:
                continue
            before.append(float(first))
            after.append(float(last))
            true.append(change)
        if not true:
            continue
        estimate = paired_change(before, after)
        rows.append({"modality": modality, "metric": metric, "n": len(true),
                     "true_mean_change": float(np.mean(true)),
                     "estimated_mean_change": estimate.mean,
                     "ci_low": estimate.ci_low, "ci_high": estimate.ci_high})
    return rows


def write_reports(store: Any, result: DemoResult, pool: Any, tick: Progress) -> None:
    """One progress report per patient (in the workers), then the cohort index."""
    from dermatrack.services.reports import cohort_report_html

    settings = result.settings
    reports = settings.data_dir / "reports"
    reports.mkdir(exist_ok=True)
    tick("Writing reports", len(result.patients) + 1)
    links = {patient_id: f"{patient_id}.html" for patient_id in result.patients}
    for _ in pool([{"type": "report", "patient_id": patient_id,
                    "path": str(reports / links[patient_id]),
                    "data_dir": str(settings.data_dir), "database_url": settings.database_url}
                   for patient_id in result.patients]):
        tick("Writing reports", None)
    check = {
        "title": "Check: true simulated change against the estimated one",
        "note": "Phantom patients only (their truth is exact): mean change from baseline to "
                "month 3 of the concern's metric, the truth from the phantom generator, the "
                "estimate from the photographs' analysis (95 % t CI).",
        "headers": ["modality", "metric", "n", "true mean change", "estimated mean change",
                    "CI low", "CI high"],
        "rows": [[r["modality"], r["metric"], r["n"], r["true_mean_change"],
                  r["estimated_mean_change"], r["ci_low"], r["ci_high"]]
                 for r in result.true_vs_estimated]}
    result.index = reports / "index.html"
    result.index.write_text(cohort_report_html(store, synthetic=True, patient_links=links,
                                               extra_tables=[check]), encoding="utf-8")
    tick("Writing reports", None)


def write_cohort_index(store: Any, result: DemoResult, tick: Progress) -> None:
    """The cohort report alone (the no-photos demo writes no per-patient report)."""
    from dermatrack.services.reports import cohort_report_html

    reports = result.settings.data_dir / "reports"
    reports.mkdir(exist_ok=True)
    tick("Writing the cohort report", 1)
    result.index = reports / "index.html"
    result.index.write_text(cohort_report_html(store, synthetic=True), encoding="utf-8")
    tick("Writing the cohort report", None)
