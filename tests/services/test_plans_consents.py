"""Treatment plans (screened against the stored patient) and consents."""

from __future__ import annotations

import datetime as dt

import pytest

from dermatrack.errors import InputError
from dermatrack.services import audit, charting, patients, plans

from .records import patient_data


def _plan(patient_id, **changes):
    item = {"modality": "microneedling", "regions": ["cheeks"],
            "parameters": {"needle_depth": 1.0},
            "sessions": [{"n": 1, "date": "2027-03-01"}, {"n": 2, "date": "2027-03-29"}]}
    item.update(changes)
    return {"patient_id": patient_id, "created_on": "2026-11-21", "modalities": [item]}


def test_plan_is_saved_with_its_schedule_and_screening_cautions(store, patient):
    saved = plans.add_plan(store, _plan(patient.id), actor="dr.lee")
    [item] = saved.modalities
    assert [(s.number, s.scheduled_on) for s in item.sessions] == [
        (1, dt.date(2027, 3, 1)), (2, dt.date(2027, 3, 29))]
    # The fixture patient has a history of herpes simplex: a relative contraindication.
    assert item.verdict == "caution"
    assert any(c.rule == "microneedling.herpes_history" and c.mitigation
               for c in item.cautions)
    [listed] = plans.list_plans(store, patient.id)
    assert listed.id == saved.id and listed.modalities[0].regions == ["cheeks"]


def test_contraindicated_modality_is_refused(store):
    pregnant = patients.add_patient(store, patient_data(conditions=["pregnancy"]),
                                    actor="dr.lee")
    with pytest.raises(InputError, match="microneedling.pregnancy") as error:
        plans.add_plan(store, _plan(pregnant.id), actor="dr.lee")
    assert error.value.field == "modalities[0].modality"
    assert plans.list_plans(store, pregnant.id) == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"modality": "laser_magic"}, "modalities[0].modality"),
    ({"regions": ["elbow"]}, "modalities[0].regions[0]"),
    ({"parameters": {"needle_depth": 9}}, "modalities[0].parameters.needle_depth"),
    ({"sessions": [{"n": 2, "date": "2027-03-01"}]}, "modalities[0].sessions"),
    ({"sessions": [{"n": 1, "date": "2027-03-29"}, {"n": 2, "date": "2027-03-01"}]},
     "modalities[0].sessions"),
    ({"sessions": []}, "modalities[0].sessions"),
])
def test_bad_plans_name_the_field(store, patient, changes, field):
    with pytest.raises(InputError) as error:
        plans.add_plan(store, _plan(patient.id, **changes), actor="dr.lee")
    assert error.value.field == field
    assert plans.list_plans(store, patient.id) == []


def test_a_done_session_is_linked_to_its_scheduled_one(store, patient):
    saved = plans.add_plan(store, _plan(patient.id), actor="dr.lee")
    first = saved.modalities[0].sessions[0]
    treated = charting.add_session(store, {
        "patient_id": patient.id, "date": "2027-03-01", "operator": "dr.lee",
        "modality": "microneedling", "region": "cheeks"}, actor="dr.lee")
    linked = plans.link_session(store, first.id, treated.id, actor="dr.lee")
    assert linked.session_id == treated.id
    with pytest.raises(InputError) as error:
        plans.link_session(store, first.id, treated.id, actor="dr.lee")
    assert error.value.field == "scheduled_id"
    with store.reading() as session:
        updates = [e for e in audit.history(session, entity="scheduled_session")
                   if e.action == "update"]
    assert [u.changes for u in updates] == [{"session_id": [None, treated.id]}]


def test_consent_given_then_withdrawn(store):
    # A patient with no consent yet (the ``patient`` fixture has all three on file).
    patient = patients.add_patient(store, patient_data(), actor="dr.lee")
    signed = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
    consent = patients.add_consent(store, {"patient_id": patient.id, "kind": "photography",
                                           "version": "2026-1", "signed_at": signed},
                                   actor="reception")
    during = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    with store.reading() as session:
        assert patients.has_consent(session, patient.id, "photography", during)
        assert not patients.has_consent(session, patient.id, "research", during)
    withdrawn = patients.withdraw_consent(store, consent.id, actor="reception",
                                          at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert withdrawn.withdrawn_at is not None
    with store.reading() as session:
        assert patients.has_consent(session, patient.id, "photography", during)
        assert not patients.has_consent(session, patient.id, "photography",
                                        dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
        [update] = [e for e in audit.history(session, entity="consent", entity_id=consent.id)
                    if e.action == "update"]
    assert update.actor == "reception" and "withdrawn_at" in update.changes
    with pytest.raises(InputError) as error:
        patients.withdraw_consent(store, consent.id, actor="reception")
    assert error.value.field == "consent_id"


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "marketing"}, "kind"),
    ({"version": ""}, "version"),
    ({"patient_id": "P-NOSUCH"}, "patient_id"),
    ({"signed_at": "yesterday"}, "signed_at"),
])
def test_bad_consents_name_the_field(store, patient, changes, field):
    data = {"patient_id": patient.id, "kind": "research", "version": "1",
            "signed_at": "2026-09-01T09:00:00Z", **changes}
    with pytest.raises(InputError) as error:
        patients.add_consent(store, data, actor="reception")
    assert error.value.field == field


def test_a_plan_made_from_a_recommendation_is_screened_and_saved(store, patient):
    from dermatrack.clinic.intake import parse_patient
    from dermatrack.clinic.planning import plan as make_plan
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    record = patients.get_patient_record(store, patient.id, actor="dr.lee")
    on = dt.date(2026, 11, 21)
    profile = parse_patient(record.patient_json(on=on), on=on, vocabulary=load_vocabulary())
    modalities = load_modalities(load_vocabulary())
    proposal = make_plan(profile, modalities, on + dt.timedelta(days=14), on)
    recommendation = proposal.recommended[0]
    defaults = recommendation.sessions[0]["parameters"]
    region = sorted(defaults)[0]
    with pytest.raises(InputError) as error:
        plans.plan_from_recommendation(patient.id, recommendation, "no_such_region")
    assert error.value.field == "region"
    saved = plans.add_plan(store, plans.plan_from_recommendation(
        patient.id, recommendation, region, created_on=on), actor="dr.lee")
    [item] = saved.modalities
    assert (item.modality, item.regions) == (recommendation.modality, [region])
    assert item.parameters == {code: p["value"] for code, p in defaults[region].items()}
    assert [s.scheduled_on.isoformat() for s in item.sessions] == [
        s["date"] for s in recommendation.sessions]


def test_plan_is_completed_when_its_last_session_is_carried_out_and_peels_use_one_agent(store):
    """A superficial peel plan proposes one agent's parameters (the knowledge default,
    glycolic acid), and the plan turns ``completed`` once every session is linked."""
    import datetime as dt

    from dermatrack.clinic.planning import default_parameters
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary
    from dermatrack.services import charting, patients, plans

    peel = load_modalities(load_vocabulary())["superficial_peel"]
    proposed = default_parameters(peel, ["cheeks"])["cheeks"]
    assert set(proposed) == {"glycolic_acid_concentration", "glycolic_contact_time"}

    patient = patients.add_patient(store, {
        "sex": "female", "age": 40, "fitzpatrick": "II",
        "consents": [{"kind": "treatment", "version": "paper-1",
                      "signed_at": "2025-06-01T09:00:00Z"}]},
        actor="tester", today=dt.date(2026, 1, 1))
    days = [dt.date(2026, 1, 5), dt.date(2026, 1, 26)]
    (item,) = plans.add_plan(store, plans.PlanIn(
        patient_id=patient.id, created_on=days[0], modalities=[plans.PlannedModalityIn(
            modality="superficial_peel", regions=["cheeks"],
            parameters={k: v["value"] for k, v in proposed.items()},
            sessions=[plans.ScheduledIn(n=i + 1, date=d) for i, d in enumerate(days)])]),
        actor="tester").modalities
    for scheduled, day in zip(item.sessions, days, strict=True):
        [plan] = plans.list_plans(store, patient.id)
        assert plan.status == "active"
        done = charting.add_session(store, {
            "patient_id": patient.id, "date": day.isoformat(), "operator": "Dr Test",
            "modality": "superficial_peel", "regions": ["cheeks"],
            "parameters": {k: v["value"] for k, v in proposed.items()}}, actor="tester")
        plans.link_session(store, scheduled.id, done.id, actor="tester")
    [plan] = plans.list_plans(store, patient.id)
    assert plan.status == "completed"
