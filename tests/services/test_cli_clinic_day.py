"""``dermatrack appointment``, ``recall``, ``product`` and ``consent`` in-process: JSON
output, human output, and exit 2 with a one-line message for refused input."""

from __future__ import annotations

import datetime as dt

import pytest

from dermatrack.services import plans


@pytest.fixture
def env(store_settings):
    return store_settings


def _ok(result):
    assert result.code == 0, result.stderr
    return result.json()


def test_appointments_from_the_command_line(cli, env, store, patient):
    day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    booked = _ok(cli("appointment", "add", patient.id, "--date", day, "--start", "09:30",
                     "--practitioner", "dr.lee", "--room", "2", "--json"))
    assert booked["status"] == "booked" and booked["start"] == "09:30:00"
    busy = cli("appointment", "add", patient.id, "--date", day, "--start", "09:45",
               "--practitioner", "dr.lee")
    assert busy.code == 2 and "dr.lee is booked" in busy.stderr and booked["id"] in busy.stderr
    listed = _ok(cli("appointment", "list", "--day", day, "--json"))
    assert [a["id"] for a in listed] == [booked["id"]]
    assert listed[0]["patient_name"] == "Zelda Quimby-Fairweather"
    human = cli("appointment", "list", "--day", day, "--days", "7")
    assert human.code == 0 and "Zelda" in human.stdout and "09:30" in human.stdout
    done = _ok(cli("appointment", "update", booked["id"], "--status", "arrived", "--json"))
    assert done["status"] == "arrived"
    refused = cli("appointment", "update", booked["id"], "--status", "booked")
    assert refused.code == 2 and "cannot become booked" in refused.stderr
    nothing = cli("appointment", "update", booked["id"])
    assert nothing.code == 2 and "nothing to change" in nothing.stderr


def test_recall_list_and_book_plan(cli, env, store, patient):
    first = dt.date.today() - dt.timedelta(days=10)
    plan = plans.add_plan(store, {"patient_id": patient.id, "modalities": [{
        "modality": "microneedling", "regions": ["cheeks"], "parameters": {"needle_depth": 1.5},
        "sessions": [{"n": 1, "date": first.isoformat()},
                     {"n": 2, "date": (first + dt.timedelta(days=28)).isoformat()}]}]},
        actor="dr.lee")
    due = _ok(cli("recall", "list", "--due-by", dt.date.today().isoformat(), "--json"))
    assert [(r["kind"], r["days_overdue"]) for r in due] == [("session", 10)]
    human = cli("recall", "list", "--due-by", dt.date.today().isoformat())
    assert "10 days overdue" in human.stdout
    bad = cli("recall", "list", "--due-by", "next week")
    assert bad.code == 2 and "--due-by" in bad.stderr
    booked = _ok(cli("appointment", "book-plan", plan.id, "--start", "08:30",
                     "--practitioner", "dr.lee", "--json"))
    assert [b["kind"] for b in booked] == ["session"] * 2 + ["assessment"] * 3
    assert _ok(cli("recall", "list", "--due-by", "2030-01-01", "--json")) == []


def test_products_lots_and_the_lot_recall(cli, env, store, patient, tmp_path):
    product = _ok(cli("product", "add", "Example toxin", "--manufacturer", "Example Labs",
                      "--kind", "neurotoxin", "--json"))
    lot = _ok(cli("product", "lot-add", product["id"], "--lot", "TX-77",
                  "--expiry", "2031-01-31", "--json"))
    again = cli("product", "lot-add", product["id"], "--lot", "TX-77", "--expiry", "2031-01-31")
    assert again.code == 2 and "TX-77 is recorded already" in again.stderr
    _ok(cli("session", "add", "--patient", patient.id, "--date", dt.date.today().isoformat(),
            "--operator", "dr.lee", "--modality", "microneedling", "--region", "cheeks",
            "--param", "needle_depth=1.5", "--lot", f"{lot['id']}:20:U", "--json"))
    unknown = cli("session", "add", "--patient", patient.id, "--date", "2026-01-01",
                  "--operator", "dr.lee", "--modality", "microneedling", "--region", "cheeks",
                  "--lot", "LT-NOPE")
    assert unknown.code == 2 and "lots[0].lot_id" in unknown.stderr
    sheet = tmp_path / "recall.csv"
    rows = _ok(cli("recall", "lot", "TX-77", "--csv", str(sheet), "--json"))
    assert [(r["patient_id"], r["amount"], r["unit"]) for r in rows] == [(patient.id, 20, "U")]
    assert sheet.read_text().count("\n") == 2
    missing = cli("recall", "lot", "NOPE-1")
    assert missing.code == 2 and "no lot 'NOPE-1'" in missing.stderr
    human = cli("product", "list")
    assert "TX-77" in human.stdout


def test_consent_templates_from_the_command_line(cli, env, tmp_path):
    loaded = _ok(cli("consent", "load-examples", "--json"))
    assert sorted(t["kind"] for t in loaded) == ["photography", "research", "treatment"]
    assert _ok(cli("consent", "load-examples", "--json")) == []
    text = tmp_path / "peel.txt"
    text.write_text("Our clinic's own wording of the peel consent, reviewed.", encoding="utf-8")
    added = _ok(cli("consent", "template-add", str(text), "--kind", "treatment", "--scope",
                    "superficial_peel", "--version", "2026-1", "--title", "Peel", "--json"))
    assert added["active"] and added["scope"] == "superficial_peel"
    duplicate = cli("consent", "template-add", str(text), "--kind", "treatment", "--scope",
                    "superficial_peel", "--version", "2026-1", "--title", "Peel")
    assert duplicate.code == 2 and "exists already" in duplicate.stderr
    wrong = cli("consent", "template-add", str(text), "--kind", "photography", "--scope",
                "superficial_peel", "--version", "x", "--title", "x")
    assert wrong.code == 2 and "scope" in wrong.stderr
    assert "in force" in cli("consent", "template-list").stdout
