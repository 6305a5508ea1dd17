"""``dermatrack screen`` and ``dermatrack plan``: JSON shapes, human output, bad input."""

from __future__ import annotations

import json

import pytest
from clinic_helpers import PATIENTS, read_patient

EXAMPLE = PATIENTS / "issue_example.json"


def test_screen_json_matches_the_issue(cli):
    r = cli("screen", EXAMPLE, "--on", "2026-11-21", "--json")
    assert r.code == 0, r.stderr
    data = r.json()
    assert data["on"] == "2026-11-21"
    from dermatrack.knowledge.modalities import load_modalities
    from dermatrack.knowledge.vocabulary import load_vocabulary

    assert [x["modality"] for x in data["results"]] == sorted(load_modalities(load_vocabulary()))
    by_code = {x["modality"]: x for x in data["results"]}
    needling = by_code["microneedling"]
    assert needling["verdict"] == "caution"
    rules = {reason["rule"]: reason for reason in needling["reasons"]}
    assert set(rules) == {"microneedling.herpes_history", "microneedling.isotretinoin"}
    iso = rules["microneedling.isotretinoin"]
    assert set(iso) == {"rule", "kind", "text", "mitigation", "source", "matched"}
    assert iso["kind"] == "relative" and iso["mitigation"]
    assert iso["source"].startswith("waldman2017: ")
    assert iso["matched"] == ["isotretinoin last taken 2026-08-01, within 6 calendar months of "
                              "2026-11-21 (the window ends 2027-02-01)"]
    assert data["warnings"] == []
    for result in data["results"]:
        kinds = {reason["kind"] for reason in result["reasons"]}
        expected = ("contraindicated" if "absolute" in kinds
                    else "caution" if kinds else "suitable")
        assert result["verdict"] == expected


def test_screen_one_modality_and_the_window_closing(cli):
    # Last taken 2026-08-01: the 6-calendar-month window still holds on its anniversary,
    # 2027-02-01, and is closed the day after.
    r = cli("screen", EXAMPLE, "--modality", "microneedling", "--on", "2027-02-01", "--json")
    assert r.code == 0, r.stderr
    [result] = r.json()["results"]
    assert "microneedling.isotretinoin" in [x["rule"] for x in result["reasons"]]
    r = cli("screen", EXAMPLE, "--modality", "microneedling", "--on", "2027-02-02", "--json")
    assert r.code == 0, r.stderr
    [result] = r.json()["results"]
    assert [x["rule"] for x in result["reasons"]] == ["microneedling.herpes_history"]


def test_screen_human_output_is_a_table(cli):
    r = cli("screen", EXAMPLE, "--modality", "microneedling", "--on", "2026-11-21")
    assert r.code == 0, r.stderr
    assert "caution" in r.stdout
    assert "microneedling.isotretinoin" in r.stdout.replace("\n", "").replace("│", "")
    assert r.stderr == ""


def test_plan_json_matches_the_issue(cli):
    r = cli("plan", PATIENTS / "fitz5_scars_melasma.json", "--on", "2026-11-21",
            "--start", "2026-12-01", "--json")
    assert r.code == 0, r.stderr
    data = r.json()
    assert set(data) >= {"recommended", "excluded"}
    first = data["recommended"][0]
    assert set(first) >= {"modality", "score", "addresses", "verdict", "sessions", "pre_care",
                          "post_care", "assessments", "mitigations", "combinations"}
    assert first["sessions"][0]["n"] == 1 and first["sessions"][0]["date"] == "2026-12-01"
    assert set(first["sessions"][0]) == {"n", "date", "parameters"}
    scores = [x["score"] for x in data["recommended"]]
    assert scores == sorted(scores, reverse=True)
    excluded = {x["modality"]: x for x in data["excluded"]}
    assert "deep_peel" in excluded and excluded["deep_peel"]["reasons"]
    assert all(set(x) >= {"modality", "reasons"} for x in data["excluded"])


def test_plan_human_output(cli):
    r = cli("plan", PATIENTS / "pregnant.json", "--on", "2026-11-21")
    assert r.code == 0, r.stderr
    assert "Left out" in r.stdout and "pregnancy" in r.stdout


def _unboxed(text):
    """Terminal output as one string of words, without box drawing or line breaks."""
    return " ".join(text.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


def test_plan_human_output_fits_80_columns_with_a_panel_per_modality(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("plan", PATIENTS / "fitz5_scars_melasma.json", "--on", "2026-11-21")
    assert r.code == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    data = cli("plan", PATIENTS / "fitz5_scars_melasma.json", "--on", "2026-11-21",
               "--json").json()
    words = _unboxed(r.stdout)
    for rank, item in enumerate(data["recommended"], start=1):
        # each recommendation has its own panel, and its notes survive whole
        assert f"{rank}. {item['name']}, {item['verdict']}" in words
        for note in ([m["mitigation"] for m in item["mitigations"]]
                     + [c["note"] for c in item["combinations"]] + item["pre_care"]):
            assert " ".join(note.split()) in words
        assert " ".join(f"{s['n']}: {s['date']}," for s in item["sessions"]).rstrip(",") \
            in words


def test_screen_human_output_fits_80_columns(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("screen", EXAMPLE, "--on", "2026-11-21")
    assert r.code == 0, r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    words = _unboxed(r.stdout)
    data = cli("screen", EXAMPLE, "--on", "2026-11-21", "--json").json()
    for result in data["results"]:
        for reason in result["reasons"]:
            assert reason["rule"] in words and " ".join(reason["text"].split()) in words
            if reason["mitigation"]:
                assert " ".join(reason["mitigation"].split()) in words


def _write(tmp_path, data, name="patient.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _example(**changes):
    data = read_patient("issue_example")
    data.update(changes)
    return data


BAD = [
    # (patient data or raw text, extra arguments, words expected on stderr)
    (_example(age=-3), [], "field 'age'"),
    (_example(fitzpatrick="VII"), [], "field 'fitzpatrick'"),
    (_example(concerns=[{"code": "acne_scars", "region": "cheeks", "severity": 9}]), [],
     "field 'concerns[0].severity'"),
    (_example(concerns=[{"code": "acne_scar", "region": "cheeks", "severity": 2}]), [],
     "did you mean 'acne_scars'"),
    (_example(conditions=["herpes"]), [], "field 'conditions[0]'"),
    (_example(medications=[{"code": "isotretinoin", "last_taken": "2027-01-01"}]), [],
     "field 'medications[0].last_taken'"),
    (_example(allergies=["peanuts"]), [], "field 'allergies[0]'"),
    ('{"age": 34,\n "fitzpatrick": IV}', [], "line 2, field 'patient.json'"),
    ("[]", [], "field 'patient'"),
    (read_patient("issue_example"), ["--on", "2026-02-30"], "field '--on'"),
    (read_patient("issue_example"), ["--on", "tomorrow"], "field '--on'"),
]


@pytest.mark.parametrize("command", ["screen", "plan"])
@pytest.mark.parametrize(("data", "extra", "words"), BAD,
                         ids=[w for *_, w in BAD])
def test_bad_input_exits_2_naming_the_field(cli, tmp_path, command, data, extra, words):
    path = _write(tmp_path, data)
    r = cli(command, path, "--on", "2026-11-21", *extra, "--json") if "--on" not in extra \
        else cli(command, path, *extra, "--json")
    assert r.code == 2
    assert r.stdout == ""
    assert words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("command", ["screen", "plan"])
def test_missing_file_and_directory(cli, tmp_path, command):
    r = cli(command, tmp_path / "nope.json", "--json")
    assert r.code == 2 and "no such file" in r.stderr and "PATIENT.json" in r.stderr
    r = cli(command, tmp_path, "--json")
    assert r.code == 2 and "directory" in r.stderr


def test_unknown_modality_and_bad_start(cli):
    r = cli("screen", EXAMPLE, "--modality", "microneedle", "--json")
    assert r.code == 2 and "field 'modality'" in r.stderr and "microneedling" in r.stderr
    r = cli("plan", EXAMPLE, "--start", "2026/12/01", "--json")
    assert r.code == 2 and "field '--start'" in r.stderr
    r = cli("plan", EXAMPLE, "--on", "2026-11-21", "--start", "2026-11-01", "--json")
    assert r.code == 2 and "field 'start'" in r.stderr


def test_plan_without_concerns_exits_2(cli, tmp_path):
    path = _write(tmp_path, _example(concerns=[]))
    r = cli("plan", path, "--on", "2026-11-21", "--json")
    assert r.code == 2 and "field 'concerns'" in r.stderr
    assert cli("screen", path, "--on", "2026-11-21", "--json").code == 0


def test_screen_and_plan_show_plausibility_warnings(cli, tmp_path):
    patient = tmp_path / "PATIENT.json"
    patient.write_text(json.dumps({
        "age": 30, "sex": "male", "fitzpatrick": "II", "conditions": ["pregnancy"],
        "concerns": [{"code": "acne_scars", "region": "cheeks", "severity": 3}]}))
    r = cli("screen", patient, "--on", "2026-11-21", "--json")
    assert r.code == 0, r.stderr
    assert [w["field"] for w in r.json()["warnings"]] == ["conditions[0]"]
    r = cli("screen", patient, "--on", "2026-11-21")
    assert "pregnancy is recorded for a male patient" in " ".join(r.stdout.split())
    r = cli("plan", patient, "--on", "2026-11-21", "--json")
    assert [w["field"] for w in r.json()["warnings"]] == ["conditions[0]"]
    r = cli("plan", patient, "--on", "2026-11-21")
    assert "pregnancy is recorded for a male patient" in " ".join(r.stdout.split())
