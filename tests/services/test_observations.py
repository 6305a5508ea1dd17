"""The observation service other packages store measurements through."""

from __future__ import annotations

import math

import pytest

from dermatrack.errors import InputError
from dermatrack.services import audit
from dermatrack.services.observations import list_observations, record_observations

SHA = "ab" * 32


def _record(store, patient, visit_id=None, **changes):
    arguments = {"patient_id": patient.id, "visit_id": visit_id, "region": "cheeks",
                 "kind": "surface", "values": {"Sa": 12.5, "Sq": 15.25, "Sdr": math.nan},
                 "units": {"Sa": "um", "Sq": "um", "Sdr": "%"}, "device": "Primos Lite",
                 "method": "ISO 25178-2 after 0.8 mm Gaussian S-filter",
                 "source_sha256": SHA, "settings": {"cutoff_mm": 0.8}, "actor": "tech.e"}
    arguments.update(changes)
    return record_observations(store, **arguments)


def test_one_row_per_metric_read_back_by_kind(store, patient, visit):
    stored = _record(store, patient, visit.id)
    assert [(o.metric, o.value, o.unit) for o in stored] == [
        ("Sa", 12.5, "um"), ("Sq", 15.25, "um"), ("Sdr", None, "%")]
    assert all(o.visit_id == visit.id and o.settings == {"cutoff_mm": 0.8} for o in stored)
    _record(store, patient, kind="colour", values={"L_star": 61.0}, units={"L_star": "1"})
    assert [o.metric for o in list_observations(store, patient_id=patient.id,
                                                kind="surface")] == ["Sa", "Sq", "Sdr"]
    assert len(list_observations(store, patient_id=patient.id)) == 4
    with store.reading() as session:
        inserts = audit.history(session, entity="observation")
    assert len(inserts) == 4 and {e.actor for e in inserts} == {"tech.e"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"values": {"Sa": "big"}}, "values.Sa"),
    ({"values": {"Sa": math.inf}}, "values.Sa"),
    ({"values": {}}, "values"),
    ({"units": {"Sa": "um"}}, "units.Sq"),
    ({"kind": "Surface Scan"}, "kind"),
    ({"region": ""}, "region"),
    ({"method": " "}, "method"),
    ({"source_sha256": "xyz"}, "source_sha256"),
    ({"visit_id": "V-NOSUCH0000"}, "visit_id"),
    ({"patient_id": "P-NOSUCH"}, "patient_id"),
])
def test_bad_observations_store_nothing(store, patient, changes, field):
    with pytest.raises(InputError) as error:
        _record(store, patient, **changes)
    assert error.value.field == field
    assert list_observations(store, patient_id=patient.id) == []


def test_observations_written_in_a_callers_transaction_share_its_fate(store, patient):
    from dermatrack.services.observations import Measurement, add_observations

    good = Measurement(region="cheeks", kind="colour", values={"L_star": 61.0},
                       units={"L_star": "1"}, method="CIELAB D65/2°")
    bad = Measurement(region="cheeks", kind="colour", values={"a_star": "red"},
                      units={"a_star": "1"}, method="CIELAB D65/2°")
    with pytest.raises(InputError) as error, store.transaction("tech.e") as session:
        add_observations(session, patient_id=patient.id, visit_id=None,
                         measurements=[good, bad])
    assert error.value.field == "values.a_star"
    with pytest.raises(RuntimeError), store.transaction("tech.e") as session:
        stored = add_observations(session, patient_id=patient.id, visit_id=None,
                                  measurements=[good])
        assert [(o.metric, o.value) for o in stored] == [("L_star", 61.0)]
        raise RuntimeError("the caller's next write failed")
    assert list_observations(store, patient_id=patient.id) == []
    with store.transaction("tech.e") as session:
        add_observations(session, patient_id=patient.id, visit_id=None, measurements=[good])
    assert [o.metric for o in list_observations(store, patient_id=patient.id)] == ["L_star"]
