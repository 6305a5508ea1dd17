"""Treatment planning: hand-computed scores on synthetic modalities, then representative
patients against the bundled knowledge base."""

from __future__ import annotations

import datetime as dt

import pytest
from clinic_helpers import ON, make_modality, parse_patient, read_patient

from dermatrack.clinic.planning import (
    CAUTION_FACTOR,
    PIH_RISK_FACTOR_DARK,
    add_months,
    plan,
)
from dermatrack.knowledge.modalities import load_modalities
from dermatrack.knowledge.vocabulary import load_vocabulary


def _patient(fitzpatrick="II", concerns=(), **extra):
    return parse_patient({"age": 45, "fitzpatrick": fitzpatrick, "concerns": list(concerns),
                          **extra}, on=ON)


def _concern(code, severity, region="cheeks"):
    return {"code": code, "region": region, "severity": severity}


def _effect(code, efficacy, evidence, severity_range=None):
    effect = {"code": code, "efficacy": efficacy, "evidence": evidence, "source": "ref1"}
    if severity_range:
        effect["severity_range"] = severity_range
    return effect


# --- arithmetic on synthetic modalities -------------------------------------------------

def test_score_by_hand():
    modality = make_modality(
        "microneedling",
        concerns=[_effect("acne_scars", 3, "high", [2, 4]), _effect("fine_lines", 1, "low")],
        downtime_days={"min": 0, "max": 2})
    patient = _patient(concerns=[_concern("acne_scars", 3), _concern("fine_lines", 2)])
    item = plan(patient, {"microneedling": modality}, ON, ON).recommended[0]
    # benefit  = (3 * 3/3 * 1 + 2 * 1/3 * 1) / (3 + 2) = 0.733333
    # evidence = (3 * 1.0 + 1 * 0.65) / (3 + 1)       = 0.9125
    # downtime = 1 - 0.03 * (0 + 2) / 2                = 0.97
    # score    = 100 * 0.733333 * 0.9125 * 0.97 * 1 * 1 = 64.909
    assert item.breakdown.benefit == pytest.approx(0.733333, abs=1e-6)
    assert item.breakdown.evidence == pytest.approx(0.9125)
    assert item.breakdown.downtime == pytest.approx(0.97)
    assert item.score == 64.9


def test_severity_outside_the_range_and_dark_skin_and_cautions_lower_the_score():
    modality = make_modality(
        "ipl", pih_risk="high", concerns=[_effect("dyspigmentation", 3, "high", [1, 2])],
        downtime_days={"min": 0, "max": 0},
        contraindications=[{"id": "ipl.hsv", "kind": "relative",
                            "when": {"condition": "herpes_simplex_history"}, "text": "t",
                            "mitigation": "Antivirals.", "source": "ref1"}])
    modalities = {"ipl": modality}
    light = plan(_patient("II", [_concern("dyspigmentation", 2)]), modalities, ON, ON)
    assert light.recommended[0].score == pytest.approx(100 * 0.9, abs=0.05)  # light-skin high
    severe = plan(_patient("II", [_concern("dyspigmentation", 4)]), modalities, ON, ON)
    assert severe.recommended[0].breakdown.benefit == pytest.approx(0.4)  # out of range
    dark = plan(_patient("V", [_concern("dyspigmentation", 2)]), modalities, ON, ON)
    assert dark.recommended[0].score == pytest.approx(100 * PIH_RISK_FACTOR_DARK["high"],
                                                      abs=0.05)
    cautious = plan(_patient("V", [_concern("dyspigmentation", 2)],
                             conditions=["herpes_simplex_history"]), modalities, ON, ON)
    item = cautious.recommended[0]
    assert item.verdict == "caution"
    assert item.score == pytest.approx(100 * PIH_RISK_FACTOR_DARK["high"] * CAUTION_FACTOR,
                                       abs=0.05)
    assert item.mitigations == ({"rule": "ipl.hsv", "mitigation": "Antivirals.",
                                 "source": "ref1: Author A. A test reference. 2020."},)


def test_sessions_parameters_and_assessments():
    modality = make_modality("microneedling", concerns=[_effect("acne_scars", 3, "high")])
    patient = _patient(concerns=[_concern("acne_scars", 3, "cheeks"),
                                 _concern("acne_scars", 2, "forehead")])
    item = plan(patient, {"microneedling": modality}, dt.date(2027, 1, 31), ON).recommended[0]
    assert [(s["n"], s["date"]) for s in item.sessions] == [
        (1, "2027-01-31"), (2, "2027-02-28"), (3, "2027-03-28")]
    params = item.sessions[0]["parameters"]
    assert params["cheeks"]["needle_depth"]["value"] == 1.5
    assert params["forehead"]["needle_depth"]["value"] == 0.5
    assert (params["forehead"]["needle_depth"]["min"],
            params["forehead"]["needle_depth"]["max"]) == (0.25, 0.5)
    assert params["forehead"]["passes"]["value"] == 3  # no regional range: overall default
    assert [(a["timepoint"], a["date"]) for a in item.assessments] == [
        ("baseline", "2027-01-31"), ("session_1", "2027-01-31"), ("session_2", "2027-02-28"),
        ("session_3", "2027-03-28"), ("month_1", "2027-04-28"), ("month_3", "2027-06-28"),
        ("month_6", "2027-09-28")]


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)


def test_ranking_combinations_exclusions_and_region_bans():
    iso_rule = {"id": "ablative_fractional_laser.iso", "kind": "absolute",
                "when": {"medication": "isotretinoin", "within_days": 180}, "text": "t",
                "mitigation": None, "source": "ref1"}
    modalities = {
        "microneedling": make_modality(
            "microneedling", concerns=[_effect("acne_scars", 2, "moderate")],
            combinations=[{"with": "topical_retinoid", "note": "Prime with a retinoid.",
                           "source": "ref1"},
                          {"with": "ablative_fractional_laser", "note": "x", "source": "ref1"}]),
        "topical_retinoid": make_modality("topical_retinoid",
                                          concerns=[_effect("fine_lines", 2, "high")]),
        "ablative_fractional_laser": make_modality(
            "ablative_fractional_laser", concerns=[_effect("acne_scars", 3, "moderate")],
            contraindications=[iso_rule]),
        "plla": make_modality(
            "plla", concerns=[_effect("acne_scars", 3, "high")],
            excluded_regions=[{"region": "cheeks", "text": "Not here.", "source": "ref1"}]),
        "caha": make_modality("caha", concerns=[_effect("volume_loss", 3, "high")]),
    }
    patient = _patient(concerns=[_concern("acne_scars", 3)],
                       medications=[{"code": "isotretinoin", "last_taken": "2026-09-21"}])
    result = plan(patient, modalities, ON, ON)
    # Only modalities that address a concern appear; caha and topical_retinoid do not.
    assert [r.modality for r in result.recommended] == ["microneedling"]
    # The retinoid is suitable (not contraindicated), so the combination is proposed; the
    # laser is contraindicated, so its combination is not.
    assert [c["with"] for c in result.recommended[0].combinations] == ["topical_retinoid"]
    excluded = {e.modality: e for e in result.excluded}
    assert set(excluded) == {"ablative_fractional_laser", "plla"}
    laser = excluded["ablative_fractional_laser"]
    assert [r.rule for r in laser.reasons] == ["ablative_fractional_laser.iso"]
    assert laser.eligible_from == dt.date(2027, 3, 21)  # 2026-09-21 + 180 + 1 days
    assert excluded["plla"].reasons == ()
    assert excluded["plla"].region_exclusions[0]["region"] == "cheeks"


def test_plan_is_deterministic_and_ties_break_on_code():
    same = [_effect("acne_scars", 2, "moderate")]
    modalities = {"rf_microneedling": make_modality("rf_microneedling", concerns=same),
                  "microneedling": make_modality("microneedling", concerns=same)}
    patient = _patient(concerns=[_concern("acne_scars", 2)])
    first = plan(patient, modalities, ON, ON).to_dict()
    assert [r["modality"] for r in first["recommended"]] == ["microneedling", "rf_microneedling"]
    assert plan(patient, dict(reversed(modalities.items())), ON, ON).to_dict() == first


# --- representative patients on the bundled knowledge base ------------------------------

@pytest.fixture(scope="module")
def kb():
    return load_modalities(load_vocabulary())


def _plan(name, kb, start=ON):
    return plan(parse_patient(read_patient(name), on=ON), kb, start, ON)


def _check_common(result, patient):
    scores = [r.score for r in result.recommended]
    assert scores == sorted(scores, reverse=True)
    concern_codes = {c["code"] for c in patient["concerns"]}
    for item in result.recommended:
        assert item.verdict in ("suitable", "caution")
        assert item.addresses and {a["concern"] for a in item.addresses} <= concern_codes
        assert item.sessions[0]["date"] == result.start.isoformat()
        assert item.assessments[0]["timepoint"] == "baseline"
        assert [a["timepoint"] for a in item.assessments[-3:]] == ["month_1", "month_3",
                                                                   "month_6"]
    for item in result.excluded:
        assert item.reasons or item.region_exclusions


def test_kb_fitzpatrick_i_with_fine_lines(kb):
    result = _plan("fitz1_fine_lines", kb)
    _check_common(result, read_patient("fitz1_fine_lines"))
    assert result.recommended, "someone with fine lines and no risk factors has options"
    assert all(r.verdict == "suitable" for r in result.recommended)
    assert all(r.breakdown.pigment_risk >= 0.9 for r in result.recommended)
    treats_fine_lines = {code for code, m in kb.items() if m.concern("fine_lines")}
    assert {r.modality for r in result.recommended} | {e.modality for e in result.excluded} \
        == treats_fine_lines


def test_kb_dark_skin_with_acne_scars_and_melasma(kb):
    result = _plan("fitz5_scars_melasma", kb)
    _check_common(result, read_patient("fitz5_scars_melasma"))
    recommended = {r.modality: r for r in result.recommended}
    excluded = {e.modality: e for e in result.excluded}
    assert "deep_peel" not in recommended
    if kb["deep_peel"].concern("acne_scars") or kb["deep_peel"].concern("melasma"):
        assert "deep_peel" in excluded
    # The same concerns on Fitzpatrick II skin: PIH-prone options lose ground on type V.
    light_data = {**read_patient("fitz5_scars_melasma"), "fitzpatrick": "II"}
    light = {r.modality: r for r in
             plan(parse_patient(light_data, on=ON), kb, ON, ON).recommended}
    for code, item in recommended.items():
        expected = PIH_RISK_FACTOR_DARK[kb[code].pih_risk]
        assert item.breakdown.pigment_risk == expected
        if code in light and kb[code].pih_risk != "low":
            assert item.score < light[code].score
    low = [r.score for r in result.recommended if kb[r.modality].pih_risk == "low"]
    high = [r.score for r in result.recommended if kb[r.modality].pih_risk == "high"]
    if low and high:
        assert max(high) < max(low)


def test_kb_several_concerns(kb):
    data = read_patient("several_concerns")
    result = _plan("several_concerns", kb, start=dt.date(2027, 1, 4))
    _check_common(result, data)
    assert len({a["concern"] for r in result.recommended for a in r.addresses}) >= 3
    multi = [r for r in result.recommended if len(r.addresses) > 1]
    assert multi, "some modality addresses more than one of the four concerns"
    # Ongoing antiplatelet and a lidocaine allergy: cautions carry their mitigations.
    for item in result.recommended:
        if item.verdict == "caution":
            assert item.mitigations and all(m["mitigation"] for m in item.mitigations)


def test_kb_pregnant_patient(kb):
    result = _plan("pregnant", kb)
    _check_common(result, read_patient("pregnant"))
    for item in result.recommended:
        rules = [r for r in kb[item.modality].contraindications if r.kind == "absolute"]
        assert not any("pregnancy" in repr(r.when) for r in rules), item.modality
    excluded = {e.modality: e for e in result.excluded}
    assert "microneedling" in excluded
    assert "microneedling.pregnancy" in [r.rule for r in excluded["microneedling"].reasons]
    assert excluded["microneedling"].eligible_from is None  # not a medication window


def test_kb_isotretinoin_two_months_ago(kb):
    result = _plan("isotretinoin_recent", kb)  # last taken 2026-09-21, 61 days before ON
    _check_common(result, read_patient("isotretinoin_recent"))
    fired = {r.rule for item in result.excluded for r in item.reasons}
    fired |= {m["rule"] for item in result.recommended for m in item.mitigations}
    planned = {r.modality for r in result.recommended} | {e.modality for e in result.excluded}
    iso_rules = [rule.id for code in planned for rule in kb[code].contraindications
                 if "isotretinoin" in repr(rule.when)]
    # Every isotretinoin rule of every modality treating acne scars fired (61 < any window).
    assert iso_rules and set(iso_rules) <= fired
    for item in result.excluded:
        if item.reasons and all("isotretinoin" in r.rule for r in item.reasons
                                if r.kind == "absolute"):
            assert item.eligible_from is not None
            assert item.eligible_from > ON
    needling = {r.modality: r for r in result.recommended}.get("microneedling")
    assert needling is not None and needling.verdict == "caution"
    assert "microneedling.isotretinoin" in [m["rule"] for m in needling.mitigations]


def test_plan_needs_concerns_and_a_start_on_or_after_the_screening_date():
    from dermatrack.errors import InputError

    modalities = {"microneedling": make_modality(concerns=[_effect("acne_scars", 2, "low")])}
    with pytest.raises(InputError) as err:
        plan(_patient(), modalities, ON, ON)
    assert err.value.field == "concerns"
    with pytest.raises(InputError) as err:
        plan(_patient(concerns=[_concern("acne_scars", 2)]), modalities,
             ON - dt.timedelta(days=1), ON)
    assert err.value.field == "start"
