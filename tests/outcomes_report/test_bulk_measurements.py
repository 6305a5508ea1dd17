"""Loading a visit's readings in one write stores what one call per reading stores
(the fast demo build relies on it): the same observation rows and the same audit rows."""

from __future__ import annotations

import numpy as np

from outcomes_report.chart_content import content


def _load(tmp_path, name, *, together):
    from dermatrack.config import Settings
    from dermatrack.demo.readings import measure_devices
    from dermatrack.services import patients
    from dermatrack.services.common import open_store
    from dermatrack.services.observations import record_measurements, record_observations

    settings = Settings(data_dir=tmp_path / name,
                        database_url=f"sqlite:///{tmp_path / name / 'db.sqlite'}")
    state = {"furrow_effect": 0.3, "erythema": 2.0, "ita": 25.0, "firming": 0.1}
    readings = measure_devices(state, np.random.default_rng(1), np.random.default_rng(2))
    with open_store(settings) as store:
        patient = patients.add_patient(store, {"sex": "female", "age": 44,
                                               "fitzpatrick": "III"}, actor="t")
        visit = patients.add_visit(store, {"patient_id": patient.id, "timepoint": "baseline",
                                           "date": "2026-01-05"}, actor="t")
        if together:
            record_measurements(store, patient_id=patient.id, visit_id=visit.id, actor="t",
                                measurements=[r.measurement("cheek") for r in readings])
        else:
            for r in readings:
                record_observations(store, patient_id=patient.id, visit_id=visit.id,
                                    region="cheek", kind=r.kind, values=r.values,
                                    units=r.units, device=r.device, method=r.method,
                                    source_sha256=None, settings=r.settings, actor="t")
        return content(store.engine)


def test_one_write_per_visit_stores_what_one_call_per_reading_stores(tmp_path):
    together = _load(tmp_path, "together", together=True)
    singly = _load(tmp_path, "singly", together=False)
    assert sum(together["observation"].values()) > 20
    assert together == singly


def test_a_bad_measurement_stores_nothing(store):
    import pytest
    from sqlalchemy import func, select

    from dermatrack.errors import InputError
    from dermatrack.services import patients
    from dermatrack.services.observations import Measurement, record_measurements
    from dermatrack.store.models import Observation

    patient = patients.add_patient(store, {"sex": "male", "age": 50}, actor="t")
    good = Measurement(region="cheek", kind="colour", values={"L_star": 60.0},
                       units={"L_star": "1"}, method="CIELAB")
    bad = Measurement(region="cheek", kind="colour", values={"a_star": 1.0}, units={},
                      method="CIELAB")
    with pytest.raises(InputError, match="no unit for a_star"):
        record_measurements(store, patient_id=patient.id, visit_id=None, actor="t",
                            measurements=[good, bad])
    with store.reading() as session:
        assert session.scalar(select(func.count(Observation.id))) == 0
