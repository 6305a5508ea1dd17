"""``dermatrack demo --patients N --no-photos`` (issue 14): photo observations drawn from
the simulated truth, recorded in batches through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest


def test_no_photos_demo_records_observations_from_the_truth(cli, database_url, tmp_path):
    from sqlalchemy import func, select

    from dermatrack.config import Settings
    from dermatrack.demo.scale import NO_PHOTO_METHOD
    from dermatrack.services.common import open_store
    from dermatrack.store.models import AuditEvent, Observation, Patient, Photo

    out = tmp_path / "clinic"
    args = ["demo", "--patients", "8", "--no-photos", "--out", out, "--json", "--seed", "4"]
    if not database_url.startswith("sqlite"):
        args += ["--database", database_url]
    result = cli(*args)
    assert result.code == 0, result.stderr
    data = result.json()
    assert len(data["patients"]) == 8
    assert (out / "reports" / "index.html").is_file()
    url = database_url if not database_url.startswith("sqlite") else \
        f"sqlite:///{out / 'dermatrack.db'}"
    with open_store(Settings(data_dir=out, database_url=url)) as store, \
            store.reading() as session:
        assert session.scalar(select(func.count(Patient.id))) == 8
        assert session.scalar(select(func.count(Photo.id))) == 0
        photo_rows = session.scalar(select(func.count(Observation.id)).where(
            Observation.kind == "photo", Observation.method == NO_PHOTO_METHOD))
        assert photo_rows >= 8 * 20  # 21 whole-face metrics at each photo visit
        # Written through the services: every observation has its audit row.
        audited = session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.entity == "observation", AuditEvent.action == "insert"))
        assert audited == session.scalar(select(func.count(Observation.id)))
    rows = data["true_vs_estimated"]
    assert rows
    import json

    # The measured change follows the simulated one, within the capture noise: the MDC95
    # saved from the noise model bounds a single difference at 95 % (a patient's own
    # level may be up to ~1.5x the template's, hence the factor 2).
    mdc = {entry["metric"]: entry["mdc95"] for entry in json.loads(
        (out / "repeatability-imaging.json").read_text())["metrics"]}
    for row in rows:
        allowed = 0.25 * abs(row["true_mean_change"]) + 2 * mdc[row["metric"]]
        assert abs(row["estimated_mean_change"] - row["true_mean_change"]) <= allowed, row
    # And treatment shows: a clear simulated change is measured, in its direction.
    clear = [row for row in rows if abs(row["true_mean_change"]) > 2 * mdc[row["metric"]]]
    assert clear
    assert all(row["estimated_mean_change"] * row["true_mean_change"] > 0 for row in clear)


def test_a_batch_commits_together_or_not_at_all(store):
    from sqlalchemy import func, select

    from dermatrack.services import patients
    from dermatrack.store.models import Patient

    data = {"sex": "female", "age": 40, "fitzpatrick": "II"}
    with pytest.raises(RuntimeError), store.batch("tester"):
        first = patients.add_patient(store, data, actor="tester")
        # Inside the batch its uncommitted rows are seen by the services.
        patients.add_visit(store, {"patient_id": first.id, "timepoint": "baseline",
                                   "date": "2026-01-05"}, actor="tester")
        raise RuntimeError("stop")
    with store.reading() as session:
        assert session.scalar(select(func.count(Patient.id))) == 0
    with store.batch("tester"):
        for _ in range(3):
            patients.add_patient(store, data, actor="tester")
    with store.reading() as session:
        assert session.scalar(select(func.count(Patient.id))) == 3



def test_a_batch_sees_a_consent_signed_after_the_patient_was_read(store):
    # Inside a batch the session holds the patient and the collections it has loaded; a
    # consent recorded later must show in the record read after it, as it does outside.
    from dermatrack.services import patients

    with store.batch("tester"):
        patient = patients.add_patient(store, {"sex": "female", "age": 40,
                                               "fitzpatrick": "II"}, actor="tester")
        assert patients.get_patient_record(store, patient.id, actor="tester").consents == []
        patients.add_consent(store, {"patient_id": patient.id, "kind": "treatment",
                                     "version": "1", "signed_at": "2026-01-05T10:00:00Z"},
                             actor="tester")
        record = patients.get_patient_record(store, patient.id, actor="tester")
        assert [c.kind for c in record.consents] == ["treatment"]
        # Consents signed on the screen too (the demo signs the three example forms).
        import datetime as dt

        from dermatrack.demo.consents import sign_demo_consents

        sign_demo_consents(store, patient.id, 0, dt.date(2026, 1, 6), actor="tester")
        record = patients.get_patient_record(store, patient.id, actor="tester")
        assert len(record.consents) == 4

def test_readings_simulated_in_workers_equal_those_simulated_in_process():
    """The device readings depend on the design alone: the worker processes that simulate
    them ahead of the recording give the same readings as the recording process would."""
    import datetime as dt

    import numpy as np

    from dermatrack.demo.design import design_cohort
    from dermatrack.demo.records import simulate_readings
    from dermatrack.demo.scale import simulated_batches
    from dermatrack.demo.workers import workers
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    designs = design_cohort(6, load_modalities(load_vocabulary()), np.random.default_rng(3),
                            today=dt.date(2026, 12, 1))
    with workers(2) as pool:
        batches = list(simulated_batches(designs, 4, pool))
    assert [len(batch) for batch, _ in batches] == [4, 2]
    simulated = [readings for _, batch in batches for readings in batch]
    assert simulated == [simulate_readings(design) for design in designs]
    assert any(readings.series for readings in simulated)  # index 0: the series too
    assert all(readings.devices["baseline"] for readings in simulated)
