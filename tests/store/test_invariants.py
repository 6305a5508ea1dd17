"""Invariants held by the database under concurrency, on SQLite and PostgreSQL.

Each race starts several writers at one barrier, each with its own store (its own
connections, as separate server workers or CLI processes would have): exactly one wins,
the others get a ConflictError that names the rule (and, where it can, the record that
won), and the database holds exactly one record. The migration test starts from a database
of revision 0003 that already holds duplicates.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from dermatrack.config import Settings
from dermatrack.errors import ConflictError
from dermatrack.services import accounts, patients, plans
from dermatrack.services.common import open_store
from dermatrack.store.db import make_engine
from dermatrack.store.migrations import current_revision, head_revision, upgrade
from services.records import patient_data

WRITERS = 6


def _race(settings: Settings, action: Callable[[Any, int], Any]) -> tuple[list, list]:
    """Run ``action(store, i)`` in WRITERS threads released together; (results, errors)."""
    stores = [open_store(settings) for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            value = action(stores[i], i)
        except Exception as error:  # collected and checked below
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for store in stores:
        store.close()
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return results, errors


def _one_winner(results: list, errors: list, rule: str) -> None:
    assert len(results) == 1, (results, errors)
    assert len(errors) == WRITERS - 1
    for error in errors:
        assert isinstance(error, ConflictError), repr(error)
        assert error.rule == rule


def test_simultaneous_baselines_store_exactly_one_visit(store, store_settings):
    patient = patients.add_patient(store, patient_data(), actor="dr.lee")
    results, errors = _race(store_settings, lambda s, i: patients.add_visit(
        s, {"patient_id": patient.id, "timepoint": "baseline", "date": f"2026-10-0{i + 1}"},
        actor=f"writer{i}"))
    _one_winner(results, errors, "uq_visit_patient_timepoint")
    # Every loser is told which visit is the baseline, whichever check caught it.
    assert {e.existing for e in errors} == {results[0].id}
    assert all(results[0].id in str(e) for e in errors)
    assert [v.id for v in patients.list_visits(store, patient.id)] == [results[0].id]


def test_simultaneous_accounts_with_one_username_store_exactly_one(store, store_settings):
    results, errors = _race(store_settings, lambda s, i: accounts.add_user(
        s, "nurse.kim", "clinician", f"long-password-{i}", actor="admin"))
    _one_winner(results, errors, "uq_account_username")
    assert [u.username for u in accounts.list_users(store)] == ["nurse.kim"]


def test_a_consent_is_withdrawn_once_when_withdrawals_race(store, store_settings):
    patient = patients.add_patient(store, patient_data(), actor="dr.lee")
    consent = patients.add_consent(store, {
        "patient_id": patient.id, "kind": "photography", "version": "v1",
        "signed_at": "2026-09-01T09:00:00+00:00"}, actor="dr.lee")
    results, errors = _race(store_settings, lambda s, i: patients.withdraw_consent(
        s, consent.id, actor=f"writer{i}",
        at=dt.datetime(2026, 10, 1, 9, i, tzinfo=dt.UTC)))
    _one_winner(results, errors, "consent_withdrawn_once")
    with store.reading() as session:
        from sqlalchemy import select

        from dermatrack.store.models import Consent

        stored = session.scalars(select(Consent.withdrawn_at)).all()
        withdrawals = session.execute(text(
            "SELECT count(*) FROM audit_event WHERE entity = 'consent' AND action = 'update'"
        )).scalar()
    # One withdrawal stored, the winner's, and audited once.
    assert stored == [results[0].withdrawn_at] and withdrawals == 1


def _plan_with_sessions(store, n_sessions: int):
    from dermatrack.services import charting

    patient = patients.add_patient(store, patient_data(), actor="dr.lee")
    plan = plans.add_plan(store, {"patient_id": patient.id, "created_on": "2026-11-21",
                                  "modalities": [{
                                      "modality": "microneedling", "regions": ["cheeks"],
                                      "parameters": {"needle_depth": 1.0},
                                      "sessions": [{"n": n + 1, "date": f"2027-0{n + 1}-01"}
                                                   for n in range(3)]}]}, actor="dr.lee")
    [planned] = plan.modalities
    patients.add_consent(store, {"patient_id": patient.id, "kind": "treatment",
                                 "version": "test-1", "signed_at": "2026-01-01T09:00:00+00:00"},
                         actor="dr.lee")
    sessions = [charting.add_session(store, {
        "patient_id": patient.id, "date": f"2027-01-0{i + 1}", "operator": "dr.lee",
        "modality": "microneedling", "regions": ["cheeks"],
        "parameters": {"needle_depth": 1.0}}, actor="dr.lee") for i in range(n_sessions)]
    return planned, sessions


def test_a_scheduled_session_is_linked_once_when_links_race(store, store_settings):
    planned, sessions = _plan_with_sessions(store, WRITERS)
    slot = planned.sessions[0].id
    results, errors = _race(store_settings, lambda s, i: plans.link_session(
        s, slot, sessions[i].id, actor=f"writer{i}"))
    _one_winner(results, errors, "scheduled_session_linked_once")
    assert {e.existing for e in errors} == {results[0].session_id}


def test_one_session_carries_out_one_scheduled_session(store, store_settings):
    planned, sessions = _plan_with_sessions(store, 1)
    slots = [s.id for s in planned.sessions][:WRITERS]
    assert len(slots) >= 2
    results, errors = _race(store_settings, lambda s, i: plans.link_session(
        s, slots[i % len(slots)], sessions[0].id, actor=f"writer{i}"))
    # Writers given the same slot lose on the slot, the others on the session: one wins.
    assert len(results) == 1, (results, errors)
    assert all(isinstance(e, ConflictError) for e in errors)
    with store.reading() as session:
        links = session.execute(text("SELECT count(*) FROM scheduled_session "
                                     "WHERE session_id IS NOT NULL")).scalar()
    assert links == 1


def test_api_answers_409_naming_the_visit_never_500(store, store_settings):
    from fastapi.testclient import TestClient

    from dermatrack.web.app import create_app

    accounts.add_user(store, "dr.api", "clinician", "correct-horse-battery", actor="admin")
    patient = patients.add_patient(store, patient_data(), actor="dr.lee")
    app = create_app(store_settings, secret_key="k" * 32)
    clients = [TestClient(app) for _ in range(WRITERS)]
    with TestClient(app) as first:
        token = first.post("/api/token", data={"username": "dr.api",
                                               "password": "correct-horse-battery"})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        statuses: list[int] = []
        bodies: list[dict] = []
        barrier = threading.Barrier(WRITERS)

        def post(client) -> None:
            barrier.wait()
            response = client.post(f"/api/patients/{patient.id}/visits", headers=headers,
                                   json={"timepoint": "baseline", "date": "2026-10-01"})
            statuses.append(response.status_code)
            bodies.append(response.json())

        threads = [threading.Thread(target=post, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sorted(statuses) == [201] + [409] * (WRITERS - 1), statuses
    winner = next(b for b in bodies if "id" in b)["id"]
    for body in bodies:
        if "detail" in body:
            item = body["detail"][0]
            assert item["rule"] == "uq_visit_patient_timepoint"
            assert item["existing"] == winner and winner in item["msg"]


def test_cli_exits_2_on_a_second_visit(cli, store):
    patient = patients.add_patient(store, patient_data(), actor="dr.lee")
    args = ("visit", "add", patient.id, "--timepoint", "baseline", "--actor", "dr.lee")
    first = cli(*args, "--date", "2026-10-01")
    assert first.code == 0, first.stderr
    second = cli(*args, "--date", "2026-10-02")
    assert second.code == 2
    assert "already has a baseline visit" in second.stderr
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr


def _insert(connection, sql: str, **params) -> None:
    connection.execute(text(sql), params)


def test_migration_flags_duplicate_visits_and_links_without_losing_data(empty_database_url,
                                                                         tmp_path):
    url = empty_database_url
    upgrade(url, "0003")
    engine = make_engine(url)
    now = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    try:
        with engine.begin() as c:
            for pid in ("P-AAAAAA", "P-BBBBBB"):
                _insert(c, "INSERT INTO patient (id, age_years, age_recorded_on, sex, "
                        "fitzpatrick, created_at) VALUES (:id, 41, :d, 'female', 'IV', :now)",
                        id=pid, d=dt.date(2026, 1, 5), now=now)
            visits = [("V-0000000003", "P-AAAAAA", "baseline", dt.date(2026, 1, 7)),
                      ("V-0000000001", "P-AAAAAA", "baseline", dt.date(2026, 1, 5)),
                      ("V-0000000002", "P-AAAAAA", "baseline", dt.date(2026, 1, 6)),
                      ("V-0000000004", "P-AAAAAA", "m3", dt.date(2026, 4, 5)),
                      ("V-0000000005", "P-BBBBBB", "baseline", dt.date(2026, 1, 5))]
            for vid, pid, tp, day in visits:
                _insert(c, "INSERT INTO visit (id, patient_id, timepoint, date) VALUES "
                        "(:id, :p, :t, :d)", id=vid, p=pid, t=tp, d=day)
            # A score on the duplicate visit must stay where it is.
            _insert(c, "INSERT INTO scale_score (id, patient_id, visit_id, instrument, "
                    "item_scores, total, rater, blinded) VALUES ('SC-0000000001', 'P-AAAAAA', "
                    "'V-0000000003', 'glogau', '{}', 3, 'dr.lee', false)")
            _insert(c, "INSERT INTO treatment_plan (id, patient_id, created_on, status) VALUES "
                    "('TP-0000000001', 'P-AAAAAA', :d, 'active')", d=dt.date(2026, 1, 5))
            _insert(c, "INSERT INTO planned_modality (id, plan_id, modality, regions, "
                    "parameters) VALUES ('PL-0000000001', 'TP-0000000001', 'microneedling', "
                    "'[]', '{}')")
            _insert(c, "INSERT INTO treatment_session (id, patient_id, date, operator, "
                    "modality, regions, parameters, products, immediate_reactions, "
                    "parameter_findings) VALUES ('S-0000000001', 'P-AAAAAA', :d, 'dr.lee', "
                    "'microneedling', '[]', '{}', '[]', '[]', '[]')", d=dt.date(2026, 1, 5))
            for n, ssid in ((1, "SS-0000000001"), (2, "SS-0000000002")):
                _insert(c, "INSERT INTO scheduled_session (id, planned_modality_id, number, "
                        "scheduled_on, session_id) VALUES (:id, 'PL-0000000001', :n, :d, "
                        "'S-0000000001')", id=ssid, n=n, d=dt.date(2026, 1, 4 + n))

        upgrade(url)
        assert current_revision(engine) == head_revision()
        with engine.connect() as c:
            rows = dict(c.execute(text("SELECT id, timepoint FROM visit")).all())
            notes = dict(c.execute(text("SELECT id, notes FROM visit")).all())
            score_visit = c.execute(text("SELECT visit_id FROM scale_score")).scalar()
            links = dict(c.execute(text("SELECT id, session_id FROM scheduled_session")).all())
            audit = c.execute(text("SELECT entity_id FROM audit_event WHERE actor = "
                                   "'migration 0004' ORDER BY entity_id")).scalars().all()
        # Nothing deleted; the earliest baseline kept; the others flagged, in date order.
        assert rows == {"V-0000000001": "baseline", "V-0000000002": "baseline_dup2",
                        "V-0000000003": "baseline_dup3", "V-0000000004": "m3",
                        "V-0000000005": "baseline"}
        assert "V-0000000001 was kept" in notes["V-0000000003"]
        assert score_visit == "V-0000000003"
        assert links == {"SS-0000000001": "S-0000000001", "SS-0000000002": None}
        assert audit == ["SS-0000000002", "V-0000000002", "V-0000000003"]

        # The rule now holds in the database, and the service reports it as a conflict.
        with open_store(Settings(data_dir=tmp_path, database_url=url)) as store:
            with pytest.raises(ConflictError) as caught:
                patients.add_visit(store, {"patient_id": "P-AAAAAA", "timepoint": "baseline",
                                           "date": "2026-02-01"}, actor="dr.lee")
            assert caught.value.existing == "V-0000000001"
        with pytest.raises(Exception, match="(?i)unique"), engine.begin() as c:
            _insert(c, "INSERT INTO visit (id, patient_id, timepoint, date) VALUES "
                    "('V-0000000009', 'P-BBBBBB', 'baseline', :d)", d=dt.date(2026, 2, 1))
    finally:
        engine.dispose()


def test_a_soft_deleted_visit_does_not_block_a_new_one(store):
    patient = patients.add_patient(store, patient_data(), actor="dr.lee")
    first = patients.add_visit(store, {"patient_id": patient.id, "timepoint": "baseline",
                                       "date": "2026-10-01"}, actor="dr.lee")
    with store.transaction("dr.lee") as session:
        from dermatrack.services.common import get_row, soft_delete
        from dermatrack.store.models import Visit

        soft_delete(get_row(session, Visit, first.id), actor="dr.lee", reason="wrong date")
    second = patients.add_visit(store, {"patient_id": patient.id, "timepoint": "baseline",
                                        "date": "2026-10-02"}, actor="dr.lee")
    assert second.id != first.id


@pytest.mark.parametrize(("sql", "rule"), [
    ("UPDATE consent SET withdrawn_at = '2020-01-01 00:00:00.000000'",
     "ck_consent_withdrawn_after_signed"),
    ("UPDATE treatment_plan SET status = 'paused'", "ck_treatment_plan_status"),
])
def test_check_rules_hold_in_the_database_and_read_as_conflicts(store, sql, rule):
    """Writes that bypass the services are refused by the database itself, and a refusal
    inside a service transaction becomes a ConflictError naming the rule."""
    planned, _ = _plan_with_sessions(store, 0)
    patient_id = patients.list_patients(store, actor="dr.lee").items[0].id
    patients.add_consent(store, {"patient_id": patient_id, "kind": "research",
                                 "version": "v1", "signed_at": "2026-09-01T09:00:00+00:00"},
                         actor="dr.lee")
    with pytest.raises(ConflictError) as caught, store.transaction("tester") as session:
        session.execute(text(sql))
    assert caught.value.rule == rule


def test_the_last_links_of_a_plan_complete_it_exactly_once(store, store_settings):
    planned, sessions = _plan_with_sessions(store, 3)
    slots = [s.id for s in planned.sessions]
    plans.link_session(store, slots[0], sessions[0].id, actor="dr.lee")

    def link(s, i):
        # Two writers per remaining slot: each slot is won once, the plan completed once.
        return plans.link_session(s, slots[1 + i % 2], sessions[1 + i % 2].id,
                                  actor=f"writer{i}")

    results, errors = _race(store_settings, link)
    assert len(results) == 2 and all(isinstance(e, ConflictError) for e in errors)
    [plan] = plans.list_plans(store, planned_patient(store))
    assert plan.status == "completed"
    assert [s.session_id for s in plan.modalities[0].sessions] == [s.id for s in sessions]
    with store.reading() as session:
        completions = session.execute(text(
            "SELECT count(*) FROM audit_event WHERE entity = 'treatment_plan' "
            "AND action = 'update'")).scalar()
    assert completions == 1
    # A completed plan takes no more links, and says why.
    extra = _plan_with_sessions(store, 1)[1][0]
    with pytest.raises(ConflictError, match="is completed") as caught:
        plans.link_session(store, slots[0], extra.id, actor="dr.lee")
    assert caught.value.rule == "plan_active"


def planned_patient(store) -> str:
    return patients.list_patients(store, actor="dr.lee").items[0].id
