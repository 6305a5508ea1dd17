"""Patients: registration, identity kept apart, audit trail, soft delete, one transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from dermatrack.errors import InputError, NotFoundError
from dermatrack.services import audit, patients
from dermatrack.services.common import INCLUDE_DELETED
from dermatrack.store.models import Base, Patient, PatientIdentity

from .records import IDENTITY, patient_data


def _count(store, model, *, include_deleted=False) -> int:
    with store.reading() as session:
        query = select(func.count()).select_from(model)
        if include_deleted:
            return session.execute(query).scalar()
        return len(session.scalars(select(model)).all())


def test_add_patient_stores_the_clinical_record(store, patient):
    assert patient.id.startswith("P-") and len(patient.id) == 8
    shown = patients.get_patient_record(store, patient.id, actor="dr.lee")
    assert shown.identity is None
    assert shown.fitzpatrick == "IV" and shown.sex == "female"
    assert shown.age_years == 34 and shown.age_recorded_on == dt.date.today()
    assert [(c.code, c.region, c.severity) for c in shown.concerns] == [
        ("acne_scars", "cheeks", 3)]
    assert shown.conditions == ["herpes_simplex_history"]
    assert [(m.code, m.last_taken, m.ongoing) for m in shown.medications] == [
        ("isotretinoin", dt.date(2026, 8, 1), False)]
    assert shown.patient_json(on=dt.date.today())["age"] == 34


def test_patient_json_round_trips_through_the_clinic_intake(patient):
    from dermatrack.clinic.intake import parse_patient
    from dermatrack.knowledge.vocabulary import load_vocabulary

    profile = parse_patient(patient.patient_json(), vocabulary=load_vocabulary())
    assert profile.fitzpatrick == "IV"
    assert profile.medication("isotretinoin").last_taken == dt.date(2026, 8, 1)


def test_identity_is_only_in_patient_identity(store, patient):
    """No clinical table, and not the audit trail, holds the name or contacts."""
    with store.reading() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == PatientIdentity.__tablename__:
                continue
            for row in session.execute(select(*table.columns)):
                flat = repr(tuple(row))
                for value in IDENTITY.values():
                    assert value not in flat, f"{value!r} found in {table.name}"
        identity = session.get(PatientIdentity, patient.id)
        assert identity.name == IDENTITY["name"]


def test_identity_only_when_asked_and_the_read_is_audited(store, patient):
    shown = patients.get_patient_record(store, patient.id, actor="dr.kim", with_identity=True)
    assert shown.identity.email == IDENTITY["email"]
    with store.reading() as session:
        reads = [e for e in audit.history(session, entity="patient_identity")
                 if e.action == "read"]
    assert [(r.actor, r.entity_id) for r in reads] == [("dr.kim", patient.id)]
    assert reads[0].changes["fields"] == ["email", "name", "phone"]


def test_search_by_name_email_or_id(store, patient):
    other = patients.add_patient(store, patient_data(identity={"name": "Otto Other"}),
                                 actor="dr.lee")
    assert [p.id for p in patients.list_patients(store, search="quimby", actor="x").items] == [
        patient.id]
    assert [p.id for p in patients.list_patients(store, search="ZELDA.QF@", actor="x").items] == [
        patient.id]
    assert [p.id for p in patients.list_patients(store, search=other.id[:5], actor="x").items
            if p.id == other.id] == [other.id]
    # Case and spacing aside, any part of one field; never across two fields; the id
    # in any case; % and _ literally.
    for text in ("  quimby-FAIRWEATHER ", "zelda   quimby", "7946 0958", other.id.lower()):
        found = {p.id for p in patients.list_patients(store, search=text, actor="x").items}
        assert found & {patient.id, other.id} and found <= {patient.id, other.id}, text
    for text in ("fairweather zelda", "fairweather zelda.qf", "%", "quimby_"):
        assert patients.list_patients(store, search=text, actor="x").items == [], text
    listed = patients.list_patients(store, actor="x").items
    assert {p.id for p in listed} == {patient.id, other.id}
    assert all(p.identity is None for p in listed)
    named = patients.list_patients(store, actor="x", with_identity=True).items
    assert {p.identity.name for p in named} == {IDENTITY["name"], "Otto Other"}


def test_every_write_is_audited_in_the_same_transaction(store, patient):
    with store.reading() as session:
        entries = audit.history(session)
    inserted = {(e.entity, e.action) for e in entries}
    for table in ("patient", "patient_identity", "concern", "patient_condition",
                  "patient_medication"):
        assert (table, "insert") in inserted
    assert all(e.actor == "dr.lee" and e.at.tzinfo is not None for e in entries)
    patient_row = next(e for e in entries if e.entity == "patient")
    assert patient_row.entity_id == patient.id
    assert patient_row.changes["fitzpatrick"] == [None, "IV"]
    identity_row = next(e for e in entries if e.entity == "patient_identity")
    assert identity_row.changes["name"] == [None, None]  # recorded, value redacted


def test_updates_record_before_and_after(store, patient):
    with store.transaction("dr.nguyen") as session:
        row = session.scalars(select(Patient).where(Patient.id == patient.id)).one()
        row.fitzpatrick = "V"
    with store.reading() as session:
        update = [e for e in audit.history(session, entity="patient", entity_id=patient.id)
                  if e.action == "update"]
    assert len(update) == 1
    assert update[0].actor == "dr.nguyen"
    assert update[0].changes == {"fitzpatrick": ["IV", "V"]}


def test_soft_delete_hides_but_keeps_the_patient(store, patient):
    with pytest.raises(InputError) as error:
        patients.delete_patient(store, patient.id, reason="  ", actor="dr.lee")
    assert error.value.field == "reason"
    deleted = patients.delete_patient(store, patient.id, reason="registered twice",
                                      actor="dr.lee")
    assert deleted.deleted_at is not None and deleted.delete_reason == "registered twice"
    assert patients.list_patients(store, actor="x").items == []
    with pytest.raises(NotFoundError):
        patients.get_patient_record(store, patient.id, actor="x")
    with pytest.raises(InputError, match="no patient"):
        patients.add_visit(store, {"patient_id": patient.id, "timepoint": "m1",
                                   "date": "2026-10-01"}, actor="x")
    with store.reading() as session:
        kept = session.scalars(select(Patient).execution_options(**{INCLUDE_DELETED: True})
                               ).one()
        assert kept.deleted_by == "dr.lee"
        actions = [e.action for e in audit.history(session, entity="patient")]
    assert actions == ["insert", "soft_delete"]


def test_rows_are_never_deleted_outright(store, patient):
    with pytest.raises(audit.AuditError, match="never deleted"), \
            store.transaction("dr.lee") as session:
        session.delete(session.get(Patient, patient.id))
    assert _count(store, Patient) == 1


def test_writes_need_an_actor(store):
    with pytest.raises(InputError) as error, store.transaction(" "):
        pass
    assert error.value.field == "actor"
    with pytest.raises(audit.AuditError), store.reading() as session:
        session.add(Patient(id="P-ZZZZZZ", fitzpatrick="II"))
        session.flush()
    assert _count(store, Patient, include_deleted=True) == 0


def test_a_failure_part_way_stores_nothing(store, monkeypatch):
    """The patient row is flushed before the consents; a failure there undoes it all."""
    def broken_consent(**_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(patients, "Consent", broken_consent)
    data = patient_data(consents=[{"kind": "research", "version": "2",
                                   "signed_at": "2026-09-01T10:00:00Z"}])
    with pytest.raises(RuntimeError, match="disk full"):
        patients.add_patient(store, data, actor="dr.lee")
    with store.reading() as session:
        assert session.execute(select(func.count()).select_from(Patient)).scalar() == 0
        assert audit.history(session) == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"age": -3}, "age"),
    ({"fitzpatrick": "VII"}, "fitzpatrick"),
    ({"concerns": [{"code": "acne_scars", "region": "cheeks", "severity": 9}]},
     "concerns[0].severity"),
    ({"conditions": ["not_a_condition"]}, "conditions[0]"),
    ({"identity": {"email": "not-an-email"}}, "identity.email"),
    ({"identity": {"nickname": "Z"}}, "identity.nickname"),
    ({"consents": [{"kind": "marketing", "version": "1", "signed_at": "2026-01-01T00:00Z"}]},
     "consents[0].kind"),
    ({"consents": [{"kind": "research", "version": "1", "signed_at": "2026-02-01T00:00Z",
                    "withdrawn_at": "2026-01-01T00:00Z"}]}, "consents[0].withdrawn_at"),
    ({"medication": []}, "medication"),
])
def test_bad_patient_input_names_the_field(store, changes, field):
    with pytest.raises(InputError) as error:
        patients.add_patient(store, patient_data(**changes), actor="dr.lee")
    assert error.value.field == field
    assert _count(store, Patient, include_deleted=True) == 0


def test_visits_one_per_timepoint(store, patient, visit):
    assert visit.id.startswith("V-") and visit.timepoint == "baseline"
    with pytest.raises(InputError) as error:
        patients.add_visit(store, {"patient_id": patient.id, "timepoint": "baseline",
                                   "date": "2026-09-02"}, actor="dr.lee")
    assert error.value.field == "timepoint"
    with pytest.raises(InputError) as error:
        patients.add_visit(store, {"patient_id": patient.id, "timepoint": "Month 1!",
                                   "date": "2026-09-02"}, actor="dr.lee")
    assert error.value.field == "timepoint"
    patients.add_visit(store, {"patient_id": patient.id, "timepoint": "m1",
                               "date": "2026-10-01"}, actor="dr.lee")
    assert [v.timepoint for v in patients.list_visits(store, patient.id)] == ["baseline", "m1"]
