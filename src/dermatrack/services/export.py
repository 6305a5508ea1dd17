"""De-identified research export of the clinical record (CSV or Parquet).

One long table, one row per recorded fact (``record``: ``measurement``, ``score``,
``session``, ``expected_reaction``, ``adverse_event``), with the patient's sex,
Fitzpatrick type and age at baseline on every row.

How the export is de-identified
-------------------------------
* **Subjects are re-keyed on every export.** Each patient gets a fresh random subject
  code (``SUBJ-`` and eight base-32 characters) that is not stored anywhere, so two
  exports cannot be joined to each other or to the clinic's ``P-`` pseudonyms. (The
  stored pseudonym is not used: anyone with access to the clinic database could link it
  back.)
* **Dates are shifted per patient** by a random whole number of days (-182 to +182)
  drawn for that export and kept nowhere; all of one patient's dates move together, so
  intervals within a patient stay exact. ``day`` (days since the baseline visit) and
  ``months`` are given besides the shifted ``date``.
* **Left out entirely:** names, email addresses and phone numbers (``patient_identity``),
  the date of birth (``age_at_baseline`` in whole years instead), every free-text note,
  photo files and everything about them (digests, stored paths, sizes, capture times,
  analysis settings), operators' and raters' names, product lot numbers, and the
  reasons recorded for deletions. Soft-deleted rows are not exported.

Rows keep what a researcher needs: modality, region, kind, metric, value and unit,
instrument (``device``) and method, session parameters (as JSON), scale instrument and
total, adverse-event grade, seriousness, relatedness and outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from dermatrack.errors import InputError
from dermatrack.services.common import Store

ExportFormat = Literal["csv", "parquet"]

MAX_SHIFT_DAYS = 182
SUBJECT_CODE_LENGTH = 8

COLUMNS = ("subject", "sex", "fitzpatrick", "age_at_baseline", "record", "date", "day",
           "months", "timepoint", "modality", "region", "kind", "metric", "value", "unit",
           "device", "method", "instrument", "parameters", "grade", "serious",
           "relatedness", "outcome")


def _subject_codes(patient_ids: Iterable[str]) -> dict[str, str]:
    from dermatrack.store.models import ID_ALPHABET

    codes: dict[str, str] = {}
    used: set[str] = set()
    for patient_id in patient_ids:
        while True:
            code = "SUBJ-" + "".join(secrets.choice(ID_ALPHABET)
                                     for _ in range(SUBJECT_CODE_LENGTH))
            if code not in used:
                break
        used.add(code)
        codes[patient_id] = code
    return codes


def _date_shifts(patient_ids: Iterable[str]) -> dict[str, dt.timedelta]:
    return {pid: dt.timedelta(days=secrets.randbelow(2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS)
            for pid in patient_ids}


def export_rows(store: Store) -> list[dict[str, Any]]:
    """The de-identified rows (see the module docstring), ordered by subject and day."""
    from dermatrack.services.outcomes import DAYS_PER_MONTH, age_on, baseline_dates
    from dermatrack.store.models import (
        AdverseEvent,
        ExpectedReaction,
        Observation,
        Patient,
        ScaleScore,
        TreatmentSession,
        Visit,
    )

    with store.reading() as session:
        patients = {p.id: p for p in session.scalars(select(Patient))}
        visits = {v.id: v for v in session.scalars(select(Visit))
                  if v.patient_id in patients}
        baseline = baseline_dates(visits.values())
        subjects = _subject_codes(sorted(patients, key=lambda _: secrets.randbits(32)))
        shifts = _date_shifts(patients)
        treatments = {s.id: s for s in session.scalars(select(TreatmentSession))
                      if s.patient_id in patients}

        rows: list[dict[str, Any]] = []

        def add(patient_id: str, record: str, day: dt.date | None, **values: Any) -> None:
            patient = patients[patient_id]
            start = baseline.get(patient_id)
            offset = (day - start).days if day is not None and start is not None else None
            row = dict.fromkeys(COLUMNS)
            row.update(subject=subjects[patient_id], sex=patient.sex,
                       fitzpatrick=patient.fitzpatrick,
                       age_at_baseline=age_on(patient, start), record=record,
                       date=(day + shifts[patient_id]).isoformat() if day else None,
                       day=offset,
                       months=None if offset is None else round(offset / DAYS_PER_MONTH, 3))
            row.update(values)
            rows.append(row)

        for obs in session.scalars(select(Observation)):
            if obs.patient_id not in patients:
                continue
            measured_at = visits.get(obs.visit_id) if obs.visit_id else None
            add(obs.patient_id, "measurement", measured_at.date if measured_at else None,
                timepoint=measured_at.timepoint if measured_at else None, region=obs.region,
                kind=obs.kind, metric=obs.metric, value=obs.value, unit=obs.unit,
                device=obs.device, method=obs.method)
        for score in session.scalars(select(ScaleScore)):
            rated_at = visits.get(score.visit_id)
            if score.patient_id in patients and rated_at is not None:
                add(score.patient_id, "score", rated_at.date, timepoint=rated_at.timepoint,
                    instrument=score.instrument, value=score.total, kind="scale",
                    metric=score.instrument)
        for treatment in treatments.values():
            treated_at = visits.get(treatment.visit_id) if treatment.visit_id else None
            add(treatment.patient_id, "session", treatment.date,
                timepoint=treated_at.timepoint if treated_at else None,
                modality=treatment.modality,
                region=",".join(treatment.regions or []),
                parameters=json.dumps(treatment.parameters or {}, sort_keys=True))
        for reaction in session.scalars(select(ExpectedReaction)):
            if reaction.patient_id in patients:
                source = treatments.get(reaction.session_id)
                add(reaction.patient_id, "expected_reaction", reaction.onset,
                    modality=source.modality if source else None, metric=reaction.code)
        for event in session.scalars(select(AdverseEvent)):
            if event.patient_id in patients:
                source = treatments.get(event.session_id) if event.session_id else None
                add(event.patient_id, "adverse_event", event.onset,
                    modality=source.modality if source else None, metric=event.term,
                    grade=event.grade, serious=event.serious, relatedness=event.relatedness,
                    outcome=event.outcome)
    rows.sort(key=lambda r: (r["subject"], r["day"] if r["day"] is not None else -10**6,
                             r["record"], r["kind"] or "", r["region"] or "",
                             r["metric"] or ""))
    return rows


def export_dataset(store: Store, out: str | Path, *, format: ExportFormat) -> dict[str, Any]:
    """Write the de-identified export to ``out``; return ``{path, format, rows, subjects}``.

    Raises
    ------
    InputError
        An unknown format, or a path that cannot be written.
    """
    import pandas as pd

    if format not in ("csv", "parquet"):
        raise InputError(f"format must be csv or parquet, got {format!r}", field="format")
    path = Path(out)
    rows = export_rows(store)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if format == "csv":
            frame.to_csv(path, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            # No pandas metadata block: it would only repeat the column names and types.
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table.replace_schema_metadata(None), path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}", field="out") from exc
    return {"path": str(path), "format": format, "rows": len(rows),
            "subjects": int(frame["subject"].nunique()) if rows else 0}
