"""Sessions and reactions through the service layer."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from dermatrack.errors import InputError
from dermatrack.services import audit, charting
from dermatrack.store.models import AdverseEvent, ExpectedReaction, TreatmentSession

TODAY = dt.date(2026, 11, 21)


def _session(patient, **changes):
    data = {"patient_id": patient.id, "date": "2026-09-01", "operator": "dr.lee",
            "modality": "microneedling", "region": "cheeks",
            "parameters": {"needle_depth": 1.5, "passes": 3},
            "products": [{"name": "Hyaluronic serum", "lot": "HS-2291"}],
            "immediate_reactions": ["erythema", "pinpoint_bleeding"], "notes": "well tolerated"}
    if "regions" in changes:
        del data["region"]
    data.update(changes)
    return data


def _count(store, model) -> int:
    with store.reading() as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def test_session_is_stored_with_products_and_findings(store, patient, visit):
    recorded = charting.add_session(store, _session(patient, visit_id=visit.id),
                                    actor="dr.lee")
    assert recorded.id.startswith("S-")
    assert recorded.regions == ["cheeks"] and recorded.visit_id == visit.id
    assert recorded.products == [{"name": "Hyaluronic serum", "lot": "HS-2291",
                                  "expiry": None}]
    assert all(f.level == "note" for f in recorded.parameter_findings)
    [listed] = charting.list_sessions(store, patient.id)
    assert listed.parameters == {"needle_depth": 1.5, "passes": 3}
    with store.reading() as session:
        assert [e.action for e in audit.history(session, entity="treatment_session")] == [
            "insert"]


def test_a_left_out_parameter_is_noted_with_its_default(store, patient, microneedling):
    recorded = charting.add_session(store, _session(patient, parameters={"passes": 2}),
                                    actor="dr.lee")
    [note] = recorded.parameter_findings
    expected_default = microneedling.protocol.parameters[0].range_for("cheeks").default
    assert note.parameter == "needle_depth" and note.level == "note"
    assert note.default == expected_default and note.region == "cheeks"


def test_out_of_range_is_refused_unless_overridden(store, patient, microneedling):
    depth = next(p for p in microneedling.protocol.parameters if p.code == "needle_depth")
    too_deep = depth.range_for("forehead").max + 0.5
    data = _session(patient, regions=["forehead"], parameters={"needle_depth": too_deep})
    with pytest.raises(InputError) as error:
        charting.add_session(store, data, actor="dr.lee")
    assert error.value.field == "parameters.needle_depth"
    assert "override_reason" in str(error.value)
    assert _count(store, TreatmentSession) == 0

    data["override_reason"] = "deep boxcar scar, consultant present"
    recorded = charting.add_session(store, data, actor="dr.lee")
    [error_finding] = [f for f in recorded.parameter_findings if f.level == "error"]
    assert error_finding.value == too_deep
    assert "deep boxcar scar" in error_finding.message


@pytest.mark.parametrize(("changes", "field"), [
    ({"modality": "laser_magic"}, "modality"),
    ({"region": "elbow"}, "regions[0]"),
    ({"parameters": {"needle_lenght": 1.0}}, "parameters.needle_lenght"),
    ({"parameters": {"needle_depth": "deep"}}, "parameters.needle_depth"),
    ({"products": [{"name": "Serum"}]}, "products[0].lot"),
    ({"immediate_reactions": ["sneezing"]}, "immediate_reactions[0]"),
    ({"date": "2026-13-01"}, "date"),
    ({"patient_id": "P-NOSUCH"}, "patient_id"),
    ({"visit_id": "V-NOSUCH0000"}, "visit_id"),
    ({"operator": ""}, "operator"),
    ({"regions": []}, "regions"),
    ({"region": "cheeks", "regions": ["chin"]}, "region"),
])
def test_bad_session_input_names_the_field(store, patient, changes, field):
    with pytest.raises(InputError) as error:
        charting.add_session(store, _session(patient, **changes), actor="dr.lee")
    assert error.value.field == field
    assert _count(store, TreatmentSession) == 0


def test_a_visit_of_another_patient_is_refused(store, patient, visit):
    from dermatrack.services import patients

    from .records import patient_data

    other = patients.add_patient(store, patient_data(), actor="dr.lee")
    with pytest.raises(InputError) as error:
        charting.add_session(store, _session(other, visit_id=visit.id), actor="dr.lee")
    assert error.value.field == "visit_id"


def _usual_days(modality, code):
    return next(r for r in modality.expected_reactions if r.code == code).usual_duration_days


def test_reaction_within_its_usual_duration_is_expected(store, patient, microneedling):
    treated = charting.add_session(store, _session(patient), actor="dr.lee")
    days = int(_usual_days(microneedling, "erythema"))
    event = charting.add_event(store, {
        "session_id": treated.id, "code": "erythema", "onset": "2026-09-01",
        "resolved_on": (dt.date(2026, 9, 1) + dt.timedelta(days=days)).isoformat()},
        actor="dr.lee", recorded_on=TODAY)
    assert event.kind == "expected_reaction" and event.id.startswith("ER-")
    assert event.patient_id == patient.id
    assert _count(store, ExpectedReaction) == 1 and _count(store, AdverseEvent) == 0


def test_reaction_outlasting_its_duration_becomes_the_escalated_adverse_event(
        store, patient, microneedling):
    treated = charting.add_session(store, _session(patient), actor="dr.lee")
    days = int(_usual_days(microneedling, "erythema")) + 1
    data = {"session_id": treated.id, "code": "erythema", "onset": "2026-09-01",
            "still_present_on": (dt.date(2026, 9, 1) + dt.timedelta(days=days)).isoformat()}
    with pytest.raises(InputError) as error:
        charting.add_event(store, data, actor="dr.lee", recorded_on=TODAY)
    assert error.value.field == "grade"
    event = charting.add_event(store, {**data, "grade": 1, "relatedness": "probably-likely",
                                       "action": "topical hydrocortisone"},
                               actor="dr.lee", recorded_on=TODAY)
    assert event.kind == "adverse_event" and event.code == "prolonged_erythema"
    assert event.serious is False and event.outcome == "ongoing"
    assert f"lasted {days} days" in event.reason
    assert [e.kind for e in charting.list_events(store, patient.id)] == ["adverse_event"]


def test_grade_three_is_serious_and_unlisted_reactions_are_adverse(store, patient):
    treated = charting.add_session(store, _session(patient), actor="dr.lee")
    event = charting.add_event(store, {
        "session_id": treated.id, "code": "bacterial_infection", "onset": "2026-09-04",
        "resolved_on": "2026-09-20", "grade": 3, "relatedness": "possible",
        "outcome": "resolved"}, actor="dr.lee", recorded_on=TODAY)
    assert event.kind == "adverse_event" and event.serious is True
    assert "not an expected reaction" in event.reason


def test_adverse_event_outside_a_session(store, patient):
    event = charting.add_event(store, {"patient_id": patient.id, "code": "contact_dermatitis",
                                       "onset": "2026-10-01", "grade": 2},
                               actor="dr.lee", recorded_on=TODAY)
    assert event.kind == "adverse_event" and event.session_id is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"grade": 7}, "grade"),
    ({"grade": 2, "relatedness": "maybe"}, "relatedness"),
    ({"grade": 2, "outcome": "fine"}, "outcome"),
    ({"grade": 2, "seriousness_criteria": ["boredom"]}, "seriousness_criteria[0]"),
    ({"code": "sneezing"}, "code"),
    ({"onset": "2026-08-01"}, "onset"),
    ({"onset": "2099-01-01"}, "onset"),
    ({"session_id": "S-NOSUCH0000"}, "session_id"),
    ({"resolved_on": "2026-09-05", "still_present_on": "2026-09-06"}, "still_present_on"),
    ({"resolved_on": "2026-08-30"}, "resolved_on"),
])
def test_bad_event_input_names_the_field(store, patient, changes, field):
    treated = charting.add_session(store, _session(patient), actor="dr.lee")
    data = {"session_id": treated.id, "code": "bacterial_infection", "onset": "2026-09-03",
            **changes}
    with pytest.raises(InputError) as error:
        charting.add_event(store, data, actor="dr.lee", recorded_on=TODAY)
    assert error.value.field == field
    assert _count(store, AdverseEvent) == 0 and _count(store, ExpectedReaction) == 0


@pytest.mark.parametrize(("code", "resolved_days", "kind"), [
    ("erythema", 1, "expected_reaction"),     # within its usual course
    ("erythema", 9, "adverse_event"),         # prolonged: escalated
    ("milia", 1, "adverse_event"),            # not an expected reaction to microneedling
    ("erythema", None, "adverse_event"),      # no session: always an adverse event
])
def test_the_form_preview_is_what_gets_stored(store, patient, code, resolved_days, kind):
    """The web form's live preview and the stored event come from one classification."""
    from dermatrack.web.pages.charting import preview_event

    session = charting.add_session(store, {
        "patient_id": patient.id, "date": "2026-10-01", "operator": "dr.lee",
        "modality": "microneedling", "region": "cheeks"}, actor="dr.lee")
    onset = dt.date(2026, 10, 1)
    data = {"code": code, "onset": onset.isoformat(),
            "session_id": session.id if resolved_days is not None else "",
            "resolved_on": (onset + dt.timedelta(days=resolved_days or 1)).isoformat()}
    preview = preview_event(data, [session], dt.date(2026, 11, 1))
    stored = charting.add_event(store, {
        "patient_id": patient.id, "code": code, "onset": data["onset"],
        "resolved_on": data["resolved_on"], "grade": 1,
        **({"session_id": session.id} if resolved_days is not None else {})},
        actor="dr.lee", recorded_on=dt.date(2026, 11, 1))
    assert preview["kind"] == stored.kind == kind
    assert preview["reason"] == stored.reason
