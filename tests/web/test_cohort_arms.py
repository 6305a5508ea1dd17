"""Patients treated with several modalities (issue 14): the cohort counts each patient
once per arm, a plan that combines modalities makes a combination arm, and no role, on
the API, the pages or the command line, meets an error or a patient id it may not see."""

from __future__ import annotations

import datetime as dt
import re

import pytest

PATIENT_ID = re.compile(r"\bP-[0-9A-Z]{6}\b")
COMBINED = "microneedling + topical_retinoid"
DATES = {"baseline": dt.date(2026, 1, 5), "month_1": dt.date(2026, 2, 5),
         "month_3": dt.date(2026, 4, 5)}


def _patient(store, fitzpatrick, lengths, gais):
    from dermatrack.services import patients, scores
    from dermatrack.services.observations import record_observations

    patient = patients.add_patient(store, {
        "sex": "female", "age": 45, "fitzpatrick": fitzpatrick,
        "concerns": [{"code": "wrinkles", "region": "cheeks", "severity": 2}],
        "consents": [{"kind": kind, "version": "paper-1", "signed_at": "2025-06-01T09:00:00Z"}
                     for kind in ("treatment", "photography", "research")]},
        actor="tester", today=dt.date(2026, 1, 1))
    visits = {}
    for (timepoint, day), value in zip(DATES.items(), lengths, strict=True):
        visits[timepoint] = patients.add_visit(store, {
            "patient_id": patient.id, "timepoint": timepoint, "date": day.isoformat()},
            actor="tester").id
        record_observations(store, patient_id=patient.id, visit_id=visits[timepoint],
                            region="whole", kind="photo",
                            values={"wrinkles.length_mm": value},
                            units={"wrinkles.length_mm": "mm"}, device=None,
                            method="test values", source_sha256=None, settings=None,
                            actor="tester")
    scores.add_score(store, {"patient_id": patient.id, "visit_id": visits["month_3"],
                             "instrument": "gais_clinician", "total": gais,
                             "rater": "Dr Blind", "blinded": True}, actor="tester")
    return patient.id, visits


def _session(store, patient_id, visit_id, modality, day, parameters):
    from dermatrack.services import charting

    return charting.add_session(store, {
        "patient_id": patient_id, "visit_id": visit_id, "date": day.isoformat(),
        "operator": "Dr Test", "modality": modality, "regions": ["cheeks"],
        "parameters": parameters}, actor="tester").id


NEEDLING = {"needle_depth": 1.0, "passes": 3}


def build_multi_modality_clinic(store) -> dict[str, str]:
    """Five patients: two microneedling only; one with a plan combining a retinoid with
    microneedling (sessions linked to it); one treated with microneedling and, later and
    without a combined plan, a superficial peel (two arms); one peel only."""
    from dermatrack.services import plans

    ids = {}
    for name, fitz, lengths, gais in (("mn1", "II", (40, 36, 30), 2),
                                      ("mn2", "IV", (50, 48, 47), 4),
                                      ("combo", "III", (60, 50, 42), 1),
                                      ("two_arms", "V", (45, 41, 38), 3),
                                      ("peel", "VI", (30, 30, 29), 4)):
        pid, visits = _patient(store, fitz, lengths, gais)
        ids[name] = pid
        start = DATES["baseline"]
        if name in ("mn1", "mn2"):
            _session(store, pid, visits["baseline"], "microneedling", start, NEEDLING)
        elif name == "combo":
            plan = plans.add_plan(store, {
                "patient_id": pid, "created_on": "2026-01-02", "modalities": [
                    {"modality": "microneedling", "regions": ["cheeks"],
                     "parameters": NEEDLING, "sessions": [{"n": 1, "date": "2026-01-05"}]},
                    {"modality": "topical_retinoid", "regions": ["cheeks"],
                     "sessions": [{"n": 1, "date": "2026-01-05"}]}]}, actor="tester")
            for planned in plan.modalities:
                sid = _session(store, pid, visits["baseline"], planned.modality, start,
                               NEEDLING if planned.modality == "microneedling" else {})
                plans.link_session(store, planned.sessions[0].id, sid, actor="tester")
        elif name == "two_arms":
            _session(store, pid, visits["baseline"], "microneedling", start, NEEDLING)
            _session(store, pid, visits["month_1"], "superficial_peel", DATES["month_1"], {})
        else:
            _session(store, pid, visits["baseline"], "superficial_peel", start, {})
    return ids


def _arms(summary):
    return {row["modality"]: row["n"] for row in summary["responders"]["modality"]}


def test_service_counts_each_patient_once_per_arm(store):
    from dermatrack.services.outcomes import cohort_data, cohort_summary

    ids = build_multi_modality_clinic(store)
    data = cohort_data(store)
    units = set(zip(data.patients["patient"], data.patients["modality"], strict=True))
    assert units == {(ids["mn1"], "microneedling"), (ids["mn2"], "microneedling"),
                     (ids["combo"], COMBINED), (ids["two_arms"], "microneedling"),
                     (ids["two_arms"], "superficial_peel"), (ids["peel"], "superficial_peel")}
    summary = cohort_summary(store, deidentified=True)
    assert summary["n_patients"] == 5 and summary["n_units"] == 6
    assert _arms(summary) == {"microneedling": 3, COMBINED: 1, "superficial_peel": 2}
    # Pooled over arms, by phototype group, every patient counts once.
    assert sum(row["n"] for row in summary["responders"]["fitzpatrick_group"]) == 5
    pooled = [c for c in summary["changes_by_fitzpatrick"]
              if c["metric"] == "photo:wrinkles.length_mm"]
    assert sum(c["change"]["n"] for c in pooled) == 5
    by_arm = {c["group"]["modality"]: c["change"] for c in summary["changes"]
              if c["metric"] == "photo:wrinkles.length_mm"}
    assert by_arm["microneedling"]["n"] == 3
    assert by_arm["microneedling"]["mean"] == pytest.approx(((30 - 40) + (47 - 50)
                                                             + (38 - 45)) / 3)
    assert by_arm[COMBINED]["mean"] == pytest.approx(42 - 60)
    assert set(summary["safety"]) == {"all", "microneedling", COMBINED, "superficial_peel"}
    assert summary["safety"]["all"]["n_sessions"] == 7
    # --modality keeps the arms that include it, the combination too.
    only = cohort_summary(store, modality="topical_retinoid", deidentified=True)
    assert _arms(only) == {COMBINED: 1}
    assert not PATIENT_ID.search(str(summary))


@pytest.mark.parametrize("role", ["clinician", "reception", "researcher", "admin"])
def test_api_and_pages_for_every_role(web, role):
    from dermatrack.web.app import modality_name
    from dermatrack.web.deps import PERMISSIONS

    ids = build_multi_modality_clinic(web.store)
    allowed = role in PERMISSIONS["cohort"]
    identified = role in PERMISSIONS["cohort_identified"]
    api = web.client(role)
    pages = web.signed_in(role)
    for client, url in ((api, "/api/cohort"), (api, "/api/cohort?modality=microneedling"),
                        (api, "/api/cohort/export"), (api, "/api/cohort/export.csv"),
                        (pages, "/cohort"), (pages, "/cohort?modality=topical_retinoid"),
                        (pages, "/cohort/report")):
        response = client.get(url)
        if not allowed:
            assert response.status_code == 403, (role, url)
            continue
        assert response.status_code == 200, (role, url, response.text[:300])
        if url.startswith("/api/cohort?") or url == "/api/cohort":
            assert sum(_arms(response.json()).values()) == (
                6 if "modality" not in url else 4)  # the combination arm too
        if url.startswith("/cohort"):
            assert "listed twice" not in response.text
            shown = COMBINED if url == "/cohort/report" else modality_name(COMBINED)
            assert " + " in shown and shown in response.text, (role, url)
        if not identified or url != "/cohort/report":
            assert not PATIENT_ID.search(response.text), (role, url)
        else:
            assert all(pid in response.text for pid in ids.values())


def test_cli_report_cohort_with_several_modalities(store_settings, store, cli, tmp_path):
    build_multi_modality_clinic(store)
    for extra in ((), ("--deidentified",), ("--modality", "topical_retinoid")):
        out = tmp_path / f"cohort{len(extra)}.html"
        result = cli("report", "cohort", "--out", out, *extra)
        assert result.code == 0, result.stderr
        text = out.read_text(encoding="utf-8")
        assert COMBINED in text and "listed twice" not in text
        if "--deidentified" in extra:
            assert not PATIENT_ID.search(text)


def test_grouping_errors_name_no_patient():
    import pandas as pd

    from dermatrack.errors import InputError
    from dermatrack.outcomes.responders import responder_rates

    frame = pd.DataFrame({"patient": ["P-AAAAAA", "P-AAAAAA"], "modality": ["a", "a"],
                          "fitzpatrick": ["I", "I"], "responder": [True, False]})
    with pytest.raises(InputError) as error:
        responder_rates(frame, ("modality",))
    assert "P-AAAAAA" not in str(error.value) and "row 2" in str(error.value)
