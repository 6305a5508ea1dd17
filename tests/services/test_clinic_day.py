"""The clinic's day in the service layer (issue 16): consent documents and the consent
check, products and lots, appointments and recalls, treatment maps; with the rules the
database enforces by itself (on SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import exc, text

from dermatrack.errors import ConflictError, InputError, NotFoundError
from dermatrack.services import (
    appointments,
    charting,
    consent,
    patients,
    plans,
    products,
    treatment_maps,
)

from .records import patient_data

TODAY = dt.date.today()


def signature_png(ink: bool = True) -> str:
    """A drawn signature as a PNG data URL (a blank canvas when ``ink`` is False)."""
    import cv2
    import numpy as np

    canvas = np.full((120, 400, 3), 255, np.uint8)
    if ink:
        cv2.polylines(canvas, [np.array([[20, 80], [90, 30], [150, 90], [240, 40], [370, 70]],
                                        np.int32)], False, (20, 20, 20), 3)
    ok, buffer = cv2.imencode(".png", canvas)
    assert ok
    return "data:image/png;base64," + base64.b64encode(buffer.tobytes()).decode()


def _bare_patient(store):
    """A patient with no consent on file."""
    return patients.add_patient(store, patient_data(), actor="reception")


def _session(patient_id, **changes):
    data = {"patient_id": patient_id, "date": TODAY.isoformat(), "operator": "dr.lee",
            "modality": "microneedling", "region": "cheeks",
            "parameters": {"needle_depth": 1.5}}
    data.update(changes)
    return data


@pytest.fixture
def templates(store):
    return {t.kind: t for t in consent.load_examples(store, actor="dr.lee")}


# --- consent -----------------------------------------------------------------------------

def test_signed_consent_is_stored_with_its_hash_and_allows_charting(store, templates):
    patient = _bare_patient(store)
    with pytest.raises(ConflictError) as refused:
        charting.add_session(store, _session(patient.id), actor="dr.lee")
    assert refused.value.field == "consent"
    assert "no treatment consent for microneedling has been signed" in refused.value.message

    signed = consent.sign(store, {"patient_id": patient.id,
                                  "template_id": templates["treatment"].id,
                                  "witness": "nurse.kim", "signature_png": signature_png()},
                          actor="reception")
    assert signed.intact and len(signed.content_sha256) == 64
    assert signed.body == templates["treatment"].body and signed.witness == "nurse.kim"
    assert consent.signature_image(store, signed.consent_id).startswith(b"\x89PNG")
    assert charting.add_session(store, _session(patient.id), actor="dr.lee").modality \
        == "microneedling"

    consent.withdraw(store, signed.consent_id, actor="reception")
    with pytest.raises(ConflictError) as withdrawn:
        charting.add_session(store, _session(patient.id), actor="dr.lee")
    assert "was withdrawn on" in withdrawn.value.message
    assert consent.get_signed(store, signed.consent_id).withdrawn_at is not None


def test_a_blank_or_foreign_signature_is_refused(store, templates):
    patient = _bare_patient(store)
    for value, words in ((signature_png(ink=False), "empty"), ("bm90IGEgcG5n", "PNG"),
                         ("data:image/jpeg;base64,AAAA", "PNG")):
        with pytest.raises(InputError) as error:
            consent.sign(store, {"patient_id": patient.id,
                                 "template_id": templates["treatment"].id, "witness": "w",
                                 "signature_png": value}, actor="reception")
        assert error.value.field == "signature_png" and words in error.value.message
    assert patients.get_patient_record(store, patient.id, actor="t").consents == []


def test_a_treatment_specific_consent_covers_only_its_modality(store):
    patient = _bare_patient(store)
    form = consent.add_template(store, {
        "kind": "treatment", "scope": "superficial_peel", "version": "2026-1",
        "title": "Peel consent", "body": "The peel, its risks and the alternatives."},
        actor="dr.lee")
    consent.sign(store, {"patient_id": patient.id, "template_id": form.id, "witness": "w",
                         "signature_png": signature_png()}, actor="reception")
    with pytest.raises(ConflictError) as error:
        charting.add_session(store, _session(patient.id), actor="dr.lee")
    assert "for microneedling" in error.value.message


def test_one_version_in_force_and_versions_are_never_rewritten(store, templates):
    first = templates["photography"]
    second = consent.add_template(store, {**{k: getattr(first, k) for k in
                                             ("kind", "scope", "title")},
                                          "version": "example-2",
                                          "body": first.body + "\n5. New clause."},
                                  actor="dr.lee")
    active = consent.list_templates(store, kind="photography", active_only=True)
    assert [t.id for t in active] == [second.id]
    with pytest.raises(ConflictError) as duplicate:
        consent.add_template(store, {"kind": "photography", "version": "example-2",
                                     "title": "x", "body": "another wording entirely"},
                             actor="dr.lee")
    assert duplicate.value.field == "version"
    patient = _bare_patient(store)
    with pytest.raises(ConflictError) as retired:
        consent.sign(store, {"patient_id": patient.id, "template_id": first.id,
                             "witness": "w", "signature_png": signature_png()},
                     actor="reception")
    assert "replaced" in retired.value.message

    # The database itself: one active version per kind and scope, template text frozen.
    with pytest.raises(exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(text("UPDATE consent_template SET active = :t WHERE id = :id"),
                           {"t": True, "id": first.id})
    with pytest.raises(exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(text("UPDATE consent_template SET body = 'edited' "
                                "WHERE id = :id"), {"id": second.id})


def test_the_database_refuses_to_change_a_signed_consent(store, templates):
    patient = _bare_patient(store)
    signed = consent.sign(store, {"patient_id": patient.id,
                                  "template_id": templates["research"].id, "witness": "w",
                                  "signature_png": signature_png()}, actor="reception")
    for statement in ("UPDATE consent_signature SET witness = 'someone else' "
                      "WHERE consent_id = :id",
                      "DELETE FROM consent_signature WHERE consent_id = :id",
                      "UPDATE consent SET version = 'other' WHERE id = :id",
                      "UPDATE consent SET kind = 'treatment' WHERE id = :id"):
        with pytest.raises(exc.IntegrityError), store.engine.begin() as connection:
            connection.execute(text(statement), {"id": signed.consent_id})
    consent.withdraw(store, signed.consent_id, actor="reception")
    # a withdrawal is recorded once
    with pytest.raises(exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(text("UPDATE consent SET withdrawn_at = NULL WHERE id = :id"),
                           {"id": signed.consent_id})
    assert consent.get_signed(store, signed.consent_id).intact


def test_photos_need_photography_consent_and_cohorts_research_consent(store, tmp_path,
                                                                      consented):
    import cv2
    import numpy as np

    from dermatrack.services import outcomes
    from dermatrack.services.photos import import_photo

    patient = _bare_patient(store)
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), np.full((64, 64, 3), 128, np.uint8))
    with pytest.raises(ConflictError) as error:
        import_photo(store, patient_id=patient.id, visit_id=None, path=image,
                     actor="dr.lee", analyze=False)
    assert "no photography consent" in error.value.message
    consented(store, patient.id, ["photography", "treatment"])
    stored = import_photo(store, patient_id=patient.id, visit_id=None, path=image,
                          actor="dr.lee", analyze=False, view="left_45")
    assert stored.view == "left_45"
    with pytest.raises(InputError) as view:
        import_photo(store, patient_id=patient.id, visit_id=None, path=image,
                     actor="dr.lee", analyze=False, view="sideways")
    assert view.value.field == "view"

    charting.add_session(store, _session(patient.id), actor="dr.lee")
    without = outcomes.cohort_data(store)
    assert without.patients.empty and without.excluded_without_consent == 1
    consented(store, patient.id, ["research"])
    assert list(outcomes.cohort_data(store).patients["patient"]) == [patient.id]


# --- products and lots -------------------------------------------------------------------

def _catalogue(store):
    filler = products.add_product(store, {"name": "Example HA filler",
                                          "manufacturer": "Example Labs", "kind": "filler"},
                                  actor="dr.lee")
    fresh = products.add_lot(store, {"product_id": filler.id, "lot_number": "HA-2031",
                                     "expiry": (TODAY + dt.timedelta(days=300)).isoformat()},
                             actor="dr.lee")
    old = products.add_lot(store, {"product_id": filler.id, "lot_number": "HA-1999",
                                   "expiry": (TODAY - dt.timedelta(days=3)).isoformat()},
                           actor="dr.lee")
    return filler, fresh, old


def test_lots_are_unique_expired_lots_refused_and_a_recall_finds_every_use(store, patient):
    filler, fresh, old = _catalogue(store)
    with pytest.raises(ConflictError) as duplicate:
        products.add_lot(store, {"product_id": filler.id, "lot_number": "HA-2031",
                                 "expiry": "2030-01-01"}, actor="dr.lee")
    assert duplicate.value.field == "lot_number"
    # and in the database
    with pytest.raises(exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO product_lot (id, product_id, lot_number, expiry, created_at) "
            "VALUES ('LT-DUPLICATE', :p, 'HA-2031', :e, :now)"),
            {"p": filler.id, "e": dt.date(2030, 1, 1),
             "now": dt.datetime.now(dt.UTC)})

    with pytest.raises(InputError) as expired:
        charting.add_session(store, _session(patient.id, lots=[{"lot_id": old.id}]),
                             actor="dr.lee")
    assert expired.value.field == "lots[0].lot_id" and "expired on" in expired.value.message
    assert charting.list_sessions(store, patient.id) == []  # nothing stored

    used = charting.add_session(store, _session(patient.id, lots=[
        {"lot_id": fresh.id, "amount": 1.0, "unit": "ml"}]), actor="dr.lee")
    assert [(lot.lot_number, lot.amount) for lot in used.lots] == [("HA-2031", 1.0)]
    # the database refuses the expired lot too
    with pytest.raises(exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(text("INSERT INTO session_product (id, session_id, lot_id) "
                                "VALUES ('SP-EXPIRED', :s, :l)"),
                           {"s": used.id, "l": old.id})

    other = _bare_patient(store)
    patients.add_consent(store, {"patient_id": other.id, "kind": "treatment",
                                 "version": "paper-1", "signed_at": "2025-01-01T09:00Z"},
                         actor="reception")
    charting.add_session(store, _session(other.id, lots=[{"lot_id": fresh.id}]),
                         actor="dr.lee")
    rows = products.recall(store, "HA-2031", actor="dr.lee")
    assert {r.patient_id for r in rows} == {patient.id, other.id}
    assert {r.name for r in rows} == {"Zelda Quimby-Fairweather"}
    assert products.recall(store, "HA-1999", actor="dr.lee") == []
    with pytest.raises(NotFoundError):
        products.recall(store, "NO-SUCH-LOT", actor="dr.lee")
    table = products.recall_csv(rows).splitlines()
    assert table[0].startswith("product,manufacturer,lot_number")
    assert len(table) == 3 and "'+44 20 7946 0958" in table[1] + table[2]


# --- appointments and recalls --------------------------------------------------------------

def _plan(store, patient_id, first: dt.date):
    return plans.add_plan(store, {"patient_id": patient_id, "modalities": [{
        "modality": "microneedling", "regions": ["cheeks"],
        "parameters": {"needle_depth": 1.5},
        "sessions": [{"n": n + 1, "date": (first + dt.timedelta(days=28 * n)).isoformat()}
                     for n in range(3)]}]}, actor="dr.lee")


def test_booking_a_plan_in_one_step_and_the_recall_list(store, patient):
    first = TODAY + dt.timedelta(days=7)
    plan = _plan(store, patient.id, first)
    due = appointments.recall_list(store, due_by=first + dt.timedelta(days=40), today=TODAY)
    assert [(r.kind, r.due) for r in due] == [("session", first),
                                              ("session", first + dt.timedelta(days=28))]

    booked = appointments.book_plan(store, {"plan_id": plan.id, "start": "10:00",
                                            "practitioner": "dr.lee", "room": "2"},
                                    actor="reception")
    assert [(b.kind, b.timepoint) for b in booked] == [
        ("session", "session_1"), ("session", "session_2"), ("session", "session_3"),
        ("assessment", "month_1"), ("assessment", "month_3"), ("assessment", "month_6")]
    last = first + dt.timedelta(days=56)
    assert booked[3].date == (last.replace(month=last.month % 12 + 1, year=last.year
                                           + (last.month == 12)))
    assert appointments.recall_list(store, due_by=TODAY + dt.timedelta(days=400)) == []
    with pytest.raises(ConflictError) as again:
        appointments.book_plan(store, {"plan_id": plan.id, "start": "11:00",
                                       "practitioner": "dr.lee"}, actor="reception")
    assert "nothing left to book" in again.value.message

    # Cancelling puts the session back on the recall list; no-show is final.
    appointments.update_appointment(store, booked[1].id, {"status": "cancelled"},
                                    actor="reception")
    back = appointments.recall_list(store, due_by=first + dt.timedelta(days=40))
    assert [r.scheduled_session_id for r in back] == [booked[1].scheduled_session_id]
    appointments.update_appointment(store, booked[0].id, {"status": "no-show"},
                                    actor="reception")
    with pytest.raises(ConflictError) as final:
        appointments.update_appointment(store, booked[0].id, {"status": "arrived"},
                                        actor="reception")
    assert "no-show" in final.value.message and final.value.field == "status"


def test_double_booking_is_refused_by_the_service_and_the_database(store, patient):
    day = TODAY + dt.timedelta(days=2)
    first = appointments.add_appointment(store, {
        "patient_id": patient.id, "date": day.isoformat(), "start": "09:00", "minutes": 30,
        "practitioner": "dr.lee", "kind": "consultation"}, actor="reception")
    with pytest.raises(ConflictError) as overlap:
        appointments.add_appointment(store, {
            "patient_id": patient.id, "date": day.isoformat(), "start": "09:15",
            "practitioner": "dr.lee"}, actor="reception")
    assert first.id in overlap.value.message
    other = appointments.add_appointment(store, {
        "patient_id": patient.id, "date": day.isoformat(), "start": "09:30",
        "practitioner": "dr.lee"}, actor="reception")
    from sqlalchemy import update

    from dermatrack.store.clinic_day import Appointment

    # the same start, bypassing the service
    with pytest.raises(exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(update(Appointment.__table__).where(
            Appointment.__table__.c.id == other.id).values(start=dt.time(9, 0)))
    listed = appointments.list_appointments(store, start=day, with_names=True,
                                            actor="reception")
    assert [a.id for a in listed] == [first.id, other.id]
    assert listed[0].patient_name == "Zelda Quimby-Fairweather"
    moved = appointments.update_appointment(store, other.id, {"start": "14:00"},
                                            actor="reception")
    assert moved.start == dt.time(14, 0)


# --- treatment maps -------------------------------------------------------------------------

def test_treatment_marks_are_stored_relative_and_drawn(store, patient):
    _filler, fresh, old = _catalogue(store)
    treated = charting.add_session(store, _session(patient.id), actor="dr.lee")
    saved = treatment_maps.add_marks(store, {"session_id": treated.id, "marks": [
        {"view": "front", "kind": "injection", "points": [[0.62, 0.55]], "lot_id": fresh.id,
         "amount": 0.1, "unit": "ml"},
        {"view": "left", "kind": "zone", "points": [[0.3, 0.4], [0.5, 0.4], [0.45, 0.6]]},
        {"view": "front", "kind": "pass", "points": [[0.2, 0.5], [0.4, 0.52]]}]},
        actor="dr.lee")
    assert len(saved) == 3
    injection = next(m for m in saved if m.kind == "injection")
    assert injection.points == [[0.62, 0.55]] and injection.lot_number == "HA-2031"
    svg = treatment_maps.diagrams(saved)
    assert set(svg) == {"front", "left"}
    assert 'cx="124.0" cy="143.0"' in svg["front"]  # 0.62 x 200, 0.55 x 260
    assert "HA-2031" in svg["front"] and "<polygon" in svg["left"]

    for marks, field in (([{"view": "front", "kind": "zone", "points": [[0.1, 0.1]]}],
                          "marks[0].points"),
                         ([{"view": "front", "kind": "injection", "points": [[1.2, 0.5]]}],
                          "marks[0].points"),
                         ([{"view": "front", "kind": "injection", "points": [[0.5, 0.5]],
                            "lot_id": old.id}], "marks[0].lot_id"),
                         ([{"view": "top", "kind": "injection", "points": [[0.5, 0.5]]}],
                          "marks[0].view")):
        with pytest.raises(InputError) as error:
            treatment_maps.add_marks(store, {"session_id": treated.id, "marks": marks},
                                     actor="dr.lee")
        assert error.value.field == field
    assert len(treatment_maps.list_marks(store, patient.id)) == 3
