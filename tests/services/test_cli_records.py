"""The record commands, run in-process: JSON files and flags, --json output, exit 2 with
the field named for bad input."""

from __future__ import annotations

import json

import pytest

from .records import IDENTITY, patient_data


@pytest.fixture
def env(store_settings):
    """Points the CLI at the test's own database (through the environment)."""
    return store_settings


def _write(tmp_path, name, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def _ok(result):
    assert result.code == 0, result.stderr
    return result.json()


@pytest.fixture
def patient_id(cli, env, tmp_path):
    added = _ok(cli("patient", "add", _write(tmp_path, "patient.json", patient_data()),
                    "--json", "--actor", "dr.lee"))["id"]
    # Charting needs a treatment consent on file (issue 16).
    _ok(cli("patient", "consent", added, "--kind", "treatment", "--version", "2026-1",
            "--json"))
    return added


@pytest.fixture
def session_id(cli, patient_id):
    return _ok(cli("session", "add", "--patient", patient_id, "--date", "2026-09-01",
                   "--operator", "dr.lee", "--modality", "microneedling", "--region", "cheeks",
                   "--param", "needle_depth=1.5", "--product", "HA serum:LOT-7", "--json"))["id"]


def test_patient_add_show_list_delete(cli, env, tmp_path, patient_id):
    shown = _ok(cli("patient", "show", patient_id, "--json"))
    assert shown["id"] == patient_id and "identity" not in shown
    assert shown["concerns"][0]["code"] == "acne_scars"
    assert shown["visits"] == [] and shown["sessions"] == []
    with_identity = _ok(cli("patient", "show", patient_id, "--with-identity", "--json"))
    assert with_identity["identity"]["name"] == IDENTITY["name"]

    flags = _ok(cli("patient", "add", "--name", "Olu Ade", "--dob", "1980-02-29",
                    "--sex", "male", "--fitzpatrick", "VI", "--concern", "melasma:cheeks:2",
                    "--medication", "isotretinoin:2026-01-10", "--json"))
    assert flags["fitzpatrick"] == "VI" and flags["date_of_birth"] == "1980-02-29"
    assert flags["medications"][0]["last_taken"] == "2026-01-10"

    found = _ok(cli("patient", "list", "--search", "olu", "--json"))
    assert [p["id"] for p in found] == [flags["id"]] and "identity" not in found[0]
    human = cli("patient", "list")
    assert human.code == 0 and patient_id in human.stdout and "Olu" not in human.stdout

    deleted = _ok(cli("patient", "delete", patient_id, "--reason", "test record", "--json"))
    assert deleted["delete_reason"] == "test record"
    assert [p["id"] for p in _ok(cli("patient", "list", "--json"))] == [flags["id"]]
    gone = cli("patient", "show", patient_id)
    assert gone.code == 2 and patient_id in gone.stderr


def test_consent_and_withdrawal(cli, env, patient_id):
    consent = _ok(cli("patient", "consent", patient_id, "--kind", "photography",
                      "--version", "2026-1", "--json"))
    assert consent["kind"] == "photography" and consent["withdrawn_at"] is None
    withdrawn = _ok(cli("patient", "withdraw-consent", consent["id"], "--json"))
    assert withdrawn["withdrawn_at"] is not None
    shown = _ok(cli("patient", "show", patient_id, "--json"))
    assert [c["id"] for c in shown["consents"] if c["kind"] == "photography"] \
        == [consent["id"]]


def test_visit_session_event_score(cli, env, patient_id, session_id, tmp_path):
    visit = _ok(cli("visit", "add", patient_id, "--timepoint", "baseline",
                    "--date", "2026-09-01", "--json"))
    assert [v["id"] for v in _ok(cli("visit", "list", patient_id, "--json"))] == [visit["id"]]

    expected = _ok(cli("event", "add", "--session", session_id, "--code", "erythema",
                       "--onset", "2026-09-01", "--resolved-on", "2026-09-02", "--json"))
    assert expected["kind"] == "expected_reaction"
    adverse = cli("event", "add", "--session", session_id, "--code", "erythema",
                  "--onset", "2026-09-01", "--grade", "1", "--relatedness", "possible")
    assert adverse.code == 0 and "adverse event" in adverse.stdout
    assert "prolonged_erythema" in adverse.stdout

    score_file = _write(tmp_path, "score.json", {
        "patient_id": patient_id, "visit_id": visit["id"], "instrument": "gais_clinician",
        "total": 3, "rater": "dr.b"})
    score = _ok(cli("score", "add", score_file, "--blinded", "--json"))
    assert score["blinded"] is True and score["total"] == 3

    shown = _ok(cli("patient", "show", patient_id, "--json"))
    assert [e["kind"] for e in shown["events"]] == ["expected_reaction", "adverse_event"]
    assert len(shown["sessions"]) == 1 and len(shown["scores"]) == 1
    assert shown["sessions"][0]["products"][0]["lot"] == "LOT-7"

    # The human chart: one line per fact, no JSON blobs, nothing wider than 80 columns.
    human = cli("patient", "show", patient_id)
    assert human.code == 0, human.stderr
    lines = human.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "{" not in human.stdout and "Events (2)" in human.stdout
    text = " ".join(human.stdout.split())
    assert "acne_scars (cheeks, severity 3)" in text
    assert "microneedling on cheeks by dr.lee" in text and "HA serum (lot LOT-7)" in text
    assert f"adverse event {shown['events'][1]['code']}" in text
    assert "gais_clinician" in text and ": 3" in text and "dr.b, blinded" in text


def test_session_from_a_file(cli, env, patient_id, tmp_path):
    path = _write(tmp_path, "session.json", {
        "patient_id": patient_id, "date": "2026-09-01", "operator": "dr.lee",
        "modality": "microneedling", "regions": ["cheeks", "chin"],
        "parameters": {"needle_depth": 0.8}, "products": [{"name": "Serum", "lot": "A1"}]})
    recorded = _ok(cli("session", "add", path, "--json"))
    assert recorded["regions"] == ["cheeks", "chin"]
    human = cli("session", "add", path, "--param", "passes=2")
    assert human.code == 0 and "microneedling on cheeks, chin" in human.stdout


BAD = [
    # (arguments, text the one-line error must contain); {p}: a real patient id,
    # {s}: a real session id, {f}: a file holding broken JSON, {m}: a missing file.
    (["patient", "add", "--age", "-3", "--fitzpatrick", "IV"], "age"),
    (["patient", "add", "--age", "30", "--fitzpatrick", "VII"], "fitzpatrick"),
    (["patient", "add", "--age", "30", "--fitzpatrick", "IV", "--concern", "acne_scars:cheeks:9"],
     "concerns[0].severity"),
    (["patient", "add", "--age", "30", "--fitzpatrick", "IV", "--concern", "acne"],
     "concerns[0]"),
    (["patient", "add", "{f}"], "line 2"),
    (["patient", "add", "{m}"], "no such file"),
    (["patient", "show", "P-NOSUCH"], "P-NOSUCH"),
    (["patient", "delete", "{p}", "--reason", " "], "reason"),
    (["patient", "consent", "{p}", "--kind", "marketing", "--version", "1"], "kind"),
    (["patient", "withdraw-consent", "C-NOSUCH0000"], "C-NOSUCH0000"),
    (["visit", "add", "P-NOSUCH", "--timepoint", "baseline", "--date", "2026-09-01"],
     "patient_id"),
    (["visit", "add", "{p}", "--timepoint", "baseline", "--date", "2026-02-30"], "date"),
    (["session", "add", "--patient", "P-NOSUCH", "--date", "2026-09-01", "--operator", "x",
      "--modality", "microneedling", "--region", "cheeks"], "patient_id"),
    (["session", "add", "--patient", "{p}", "--date", "2026-09-01", "--operator", "x",
      "--modality", "laser_magic", "--region", "cheeks"], "modality"),
    (["session", "add", "--patient", "{p}", "--date", "2026-09-01", "--operator", "x",
      "--modality", "microneedling", "--region", "forehead", "--param", "needle_depth=2.4"],
     "parameters.needle_depth"),
    (["session", "add", "--patient", "{p}", "--date", "2026-09-01", "--operator", "x",
      "--modality", "microneedling", "--region", "cheeks", "--param", "needle_depth"],
     "--param"),
    (["session", "add", "{f}"], "line 2"),
    (["session", "add", "{m}"], "no such file"),
    (["event", "add", "--session", "{s}", "--code", "bacterial_infection", "--onset",
      "2026-09-03", "--grade", "7"], "grade"),
    (["event", "add", "--session", "S-NOSUCH0000", "--code", "erythema", "--onset",
      "2026-09-03"], "session_id"),
    (["event", "add", "--session", "{s}", "--code", "sneezing", "--onset", "2026-09-03"],
     "code"),
    (["event", "add", "{f}"], "line 2"),
    (["score", "add", "--patient", "{p}", "--visit", "V-NOSUCH0000", "--instrument",
      "gais_clinician", "--total", "2", "--rater", "x"], "visit_id"),
    (["score", "add", "{m}"], "no such file"),
    (["score", "add", "{f}"], "line 2"),
]


@pytest.mark.parametrize(("arguments", "named"), BAD,
                         ids=[f"{a[0]}-{i}" for i, (a, _) in enumerate(BAD)])
def test_bad_input_exits_2_naming_the_field(cli, env, tmp_path, patient_id, session_id,
                                            arguments, named):
    broken = _write(tmp_path, "broken.json", '{\n  "age": 34,,\n}')
    values = {"p": patient_id, "s": session_id, "f": broken, "m": str(tmp_path / "none.json")}
    result = cli(*[a.format(**values) for a in arguments])
    assert result.code == 2, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_patient_show_is_audited_as_a_read(cli, env, store, patient_id):
    """The CLI's chart view leaves the same trace as the web's: who read which parts."""
    from dermatrack.services import audit

    _ok(cli("patient", "show", patient_id, "--json", "--actor", "nurse.kim"))
    with store.reading() as session:
        reads = audit.history(session, action="read", actor="nurse.kim")
    assert [(r.entity, r.entity_id) for r in reads] == [("patient", patient_id)]
    assert {"sessions", "events", "scores"} <= set(reads[0].changes["fields"])
    assert reads[0].changes["purpose"] == "cli"
    _ok(cli("patient", "show", patient_id, "--with-identity", "--json", "--actor", "nurse.kim"))
    with store.reading() as session:
        reads = audit.history(session, action="read", actor="nurse.kim")
    assert ("patient_identity", patient_id) in [(r.entity, r.entity_id) for r in reads]


def test_patient_add_warns_of_a_likely_duplicate(cli, env, tmp_path):
    """The same name with the same email is most likely the same person: registered all
    the same (the clinician decides), with a warning naming the earlier patient."""
    first = _ok(cli("patient", "add", "--name", "Ana  Ruiz", "--email", "ana@example.org",
                    "--age", "40", "--fitzpatrick", "III", "--json"))
    assert first["likely_duplicates"] == []
    other = cli("patient", "add", "--name", "Ana Ruiz", "--email", "other@example.org",
                "--age", "40", "--fitzpatrick", "III", "--json")
    assert other.code == 0 and "warning" not in other.stderr  # same name only
    second = cli("patient", "add", "--name", "ana ruiz", "--email", "ANA@example.org",
                 "--age", "41", "--fitzpatrick", "III", "--json")
    assert second.code == 0, second.stderr
    assert second.json()["likely_duplicates"] == [first["id"]]
    assert "warning" in second.stderr and first["id"] in second.stderr
