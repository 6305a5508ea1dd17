"""Filtering the audit trail in the database: actor, action, table, row and days."""

from __future__ import annotations

import datetime as dt

import pytest

from dermatrack.errors import InputError
from dermatrack.services import audit, patients

from .records import patient_data


@pytest.fixture
def trail(store):
    """Three patients added by three actors; the second is then read by ``alice``."""
    ids = [patients.add_patient(store, patient_data(), actor=actor).id
           for actor in ("alice@10.0.0.5", "alxce@10.0.0.6", "bob")]
    with store.transaction("alice@10.0.0.5") as session:
        audit.record_read(session, entity="patient", entity_id=ids[1], fields=("chart",))
    return ids


def _history(store, **filters):
    with store.reading() as session:
        return audit.history(session, **filters)


def test_actor_matches_a_username_or_the_whole_actor_string(store, trail):
    by_user = _history(store, actor="alice")
    assert by_user and {e.actor for e in by_user} == {"alice@10.0.0.5"}
    # "_" is a LIKE wildcard: escaped, "al_ce" matches neither alice nor alxce.
    assert _history(store, actor="al_ce") == []
    assert {e.actor for e in _history(store, actor="bob")} == {"bob"}
    assert _history(store, actor="alice@10.0.0.5") == by_user


def test_action_table_row_and_order_filters_combine(store, trail):
    (read,) = _history(store, actor="alice", action="read")
    assert (read.entity, read.entity_id) == ("patient", trail[1])
    rows = _history(store, entity="patient", entity_id=trail[1])
    assert [e.action for e in rows] == ["insert", "read"]
    newest = _history(store, newest_first=True, limit=2)
    everything = _history(store)
    assert newest == everything[::-1][:2] and len(everything) > 2
    with pytest.raises(InputError) as caught:
        _history(store, action="peek")
    assert caught.value.field == "action"
    with pytest.raises(InputError) as caught:
        _history(store, limit=0)
    assert caught.value.field == "limit"


def test_days_are_inclusive_utc_dates(store, trail):
    today = dt.datetime.now(dt.UTC).date()
    day = dt.timedelta(days=1)
    everything = _history(store)
    assert _history(store, since=today, until=today) == everything
    assert _history(store, since=today + day) == []
    assert _history(store, until=today - day) == []
