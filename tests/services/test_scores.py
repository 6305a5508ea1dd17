"""Scale scores at visits."""

from __future__ import annotations

import pytest

from dermatrack.errors import InputError
from dermatrack.services import scores


def test_ordinal_score_is_stored_with_its_label_and_version(store, patient, visit):
    stored = scores.add_score(store, {"patient_id": patient.id, "visit_id": visit.id,
                                      "instrument": "gais_clinician", "total": 2,
                                      "rater": "dr.b", "blinded": True}, actor="dr.b")
    assert stored.id.startswith("SC-") and stored.blinded is True
    assert stored.label and stored.version and stored.timepoint == "baseline"
    [listed] = scores.list_scores(store, patient.id, instrument="gais_clinician")
    assert listed.total == 2 and listed.date == visit.date


def test_summed_scale_total_comes_from_its_items(store, patient, visit):
    from dermatrack.clinic.scales import load_scales

    scale = load_scales()["vancouver_scar_scale"]
    items = {item.code: item.max for item in scale.items}
    stored = scores.add_score(store, {"patient_id": patient.id, "visit_id": visit.id,
                                      "instrument": "vancouver_scar_scale",
                                      "item_scores": items, "rater": "dr.b"}, actor="dr.b")
    assert stored.total == scale.max and stored.item_scores == items


@pytest.mark.parametrize(("changes", "field"), [
    ({"instrument": "faceq_secret"}, "instrument"),
    ({"total": 9}, "total"),
    ({"version": "99"}, "version"),
    ({"visit_id": "V-NOSUCH0000"}, "visit_id"),
    ({"patient_id": "P-NOSUCH"}, "patient_id"),
    ({"rater": ""}, "rater"),
    ({"blinded": "perhaps"}, "blinded"),
])
def test_bad_score_input_names_the_field(store, patient, visit, changes, field):
    data = {"patient_id": patient.id, "visit_id": visit.id, "instrument": "gais_clinician",
            "total": 2, "rater": "dr.b", **changes}
    with pytest.raises(InputError) as error:
        scores.add_score(store, data, actor="dr.b")
    assert error.value.field == field
    assert scores.list_scores(store, patient.id) == []
