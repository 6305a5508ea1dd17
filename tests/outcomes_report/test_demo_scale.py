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
    for row in rows:
        # The measured change follows the simulated one (3 % capture noise).
        assert row["estimated_mean_change"] == pytest.approx(row["true_mean_change"],
                                                             rel=0.5, abs=1e-3), row


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
