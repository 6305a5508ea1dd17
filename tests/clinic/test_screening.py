"""The screening engine on synthetic rules: predicates, windows, verdicts, explanations."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from clinic_helpers import ON, make_modality, parse_patient, read_patient

from dermatrack.clinic import screening
from dermatrack.clinic.screening import evaluate, screen
from dermatrack.errors import InputError
from dermatrack.knowledge.modalities import (
    AgeAtLeast,
    AgeBelow,
    All,
    Allergy,
    Any,
    Condition,
    Fitzpatrick,
    Medication,
)
from dermatrack.knowledge.vocabulary import load_vocabulary


def _patient(**overrides):
    data = {"age": 40, "fitzpatrick": "III", "concerns": [], "conditions": [],
            "medications": [], "allergies": []}
    data.update(overrides)
    return parse_patient(data, on=ON)


def _taken(days_ago: int, code: str = "isotretinoin"):
    return [{"code": code, "last_taken": (ON - dt.timedelta(days=days_ago)).isoformat()}]


@pytest.mark.parametrize(("days_ago", "fires"), [(0, True), (179, True), (180, True),
                                                 (181, False), (400, False)])
def test_medication_window_is_inclusive_of_its_last_day(days_ago, fires):
    profile = _patient(medications=_taken(days_ago))
    facts = evaluate(Medication("isotretinoin", 180), profile, ON)
    assert (facts is not None) is fires
    if fires:
        assert facts == (f"isotretinoin last taken {(ON - dt.timedelta(days=days_ago))}, "
                         f"{days_ago} days before {ON}, within 180 days",)


def test_ongoing_medication_fires_windows_and_current_use_rules():
    profile = _patient(medications=[{"code": "isotretinoin", "last_taken": "2020-01-01",
                                     "ongoing": True}])
    assert evaluate(Medication("isotretinoin", 180), profile, ON) == (
        "isotretinoin taken now (ongoing)",)
    assert evaluate(Medication("isotretinoin"), profile, ON) is not None


def test_stopped_medication_does_not_fire_a_current_use_rule():
    profile = _patient(medications=_taken(3, "anticoagulant"))
    assert evaluate(Medication("anticoagulant"), profile, ON) is None
    assert evaluate(Medication("anticoagulant", 7), profile, ON) is not None


def test_leaf_predicates():
    profile = _patient(age=17, fitzpatrick="V", conditions=["pregnancy"],
                       allergies=["lidocaine_allergy"])
    assert evaluate(Condition("pregnancy"), profile, ON) == ("condition pregnancy recorded",)
    assert evaluate(Condition("vitiligo"), profile, ON) is None
    assert evaluate(Allergy("lidocaine_allergy"), profile, ON) == (
        "allergy lidocaine_allergy recorded",)
    assert evaluate(Fitzpatrick(("IV", "V", "VI")), profile, ON) == (
        "Fitzpatrick type V is one of IV, V, VI",)
    assert evaluate(Fitzpatrick(("I", "II")), profile, ON) is None
    assert evaluate(AgeBelow(18), profile, ON) == ("age 17 is below 18",)
    assert evaluate(AgeBelow(17), profile, ON) is None
    assert evaluate(AgeAtLeast(17), profile, ON) == ("age 17 is at least 17",)
    assert evaluate(AgeAtLeast(18), profile, ON) is None


def test_an_allergy_listed_under_conditions_still_fires():
    profile = _patient(conditions=["hypersensitivity_plla"])
    assert evaluate(Allergy("hypersensitivity_plla"), profile, ON) is not None


def test_all_and_any_combine_and_collect_facts():
    profile = _patient(fitzpatrick="IV", conditions=["melasma_history"])
    tree = All((Fitzpatrick(("IV", "V", "VI")),
                Any((Condition("vitiligo"), Condition("melasma_history")))))
    assert evaluate(tree, profile, ON) == ("Fitzpatrick type IV is one of IV, V, VI",
                                           "condition melasma_history recorded")
    assert evaluate(All((Fitzpatrick(("IV",)), Condition("vitiligo"))), profile, ON) is None
    assert evaluate(Any((Condition("vitiligo"), AgeBelow(18))), profile, ON) is None


def _rule(rule_id, kind, when, mitigation=None):
    return {"id": rule_id, "kind": kind, "when": when, "text": f"text of {rule_id}",
            "mitigation": mitigation, "source": "ref1"}


MODALITIES = {
    "microneedling": make_modality("microneedling", contraindications=[
        _rule("microneedling.pregnancy", "absolute", {"condition": "pregnancy"}),
        _rule("microneedling.hsv", "relative", {"condition": "herpes_simplex_history"},
              "Antiviral prophylaxis."),
        _rule("microneedling.iso", "relative", {"medication": "isotretinoin", "within_days": 180},
              "Start shallow."),
    ]),
    "ipl": make_modality("ipl", contraindications=[
        _rule("ipl.dark", "absolute", {"fitzpatrick": ["V", "VI"]}),
    ]),
}


def test_verdicts_follow_the_kinds_of_the_rules_that_fire():
    profile = parse_patient(read_patient("issue_example"), on=ON)
    result = screen(profile, MODALITIES, ON).by_modality()
    assert result["ipl"].verdict == "suitable" and result["ipl"].reasons == ()
    needling = result["microneedling"]
    assert needling.verdict == "caution"
    assert [r.rule for r in needling.reasons] == ["microneedling.hsv", "microneedling.iso"]
    iso = needling.reasons[1]
    assert iso.mitigation == "Start shallow."
    assert iso.source == "ref1: Author A. A test reference. 2020."
    assert iso.matched == ("isotretinoin last taken 2026-08-01, 112 days before 2026-11-21, "
                           "within 180 days",)

    pregnant = _patient(fitzpatrick="VI", conditions=["pregnancy", "herpes_simplex_history"])
    result = screen(pregnant, MODALITIES, ON).by_modality()
    assert result["ipl"].verdict == "contraindicated"
    assert result["microneedling"].verdict == "contraindicated"
    # The hard stop reads first, then the cautions.
    assert [r.kind for r in result["microneedling"].reasons] == ["absolute", "relative"]


def test_the_screening_date_moves_the_window():
    profile = parse_patient(read_patient("issue_example"), on=ON)
    later = dt.date(2027, 2, 1)  # 184 days after 2026-08-01
    result = screen(profile, MODALITIES, later, only="microneedling")
    assert [r.rule for r in result.results[0].reasons] == ["microneedling.hsv"]


def test_json_shape_matches_the_issue():
    profile = parse_patient(read_patient("issue_example"), on=ON)
    data = screen(profile, MODALITIES, ON).to_dict()
    assert data["on"] == "2026-11-21"
    assert [r["modality"] for r in data["results"]] == ["ipl", "microneedling"]
    reason = data["results"][1]["reasons"][0]
    assert set(reason) >= {"rule", "kind", "text", "mitigation", "source"}


def test_only_screens_one_and_rejects_unknown_codes():
    profile = _patient()
    assert [r.modality for r in screen(profile, MODALITIES, ON, only="ipl").results] == ["ipl"]
    with pytest.raises(InputError, match="did you mean microneedling") as err:
        screen(profile, MODALITIES, ON, only="microneedle")
    assert err.value.field == "modality"


def test_engine_has_no_branch_for_any_modality():

    source = inspect.getsource(screening)
    named = [code for code in load_vocabulary().modalities if f'"{code}"' in source
             or f"'{code}'" in source]
    assert named == []


# --- exposure windows: both sides of every boundary ------------------------------------------

@pytest.mark.parametrize(("last_taken", "fires"), [
    ("2026-05-23", True),   # 5 months 29 days before 2026-11-21: still inside
    ("2026-05-21", True),   # exactly 6 calendar months: the anniversary counts
    ("2026-05-20", False),  # 6 months and 1 day: outside
    ("2026-11-21", True),   # stopped today
])
def test_calendar_month_window_boundary(last_taken, fires):
    profile = _patient(medications=[{"code": "isotretinoin", "last_taken": last_taken}])
    facts = evaluate(Medication("isotretinoin", within_months=6), profile, ON)
    assert (facts is not None) is fires
    if fires:
        assert "within 6 calendar months" in facts[0]


def test_calendar_month_window_clamps_to_the_end_of_february():
    profile = _patient(medications=[{"code": "isotretinoin", "last_taken": "2026-08-31"}])
    window = Medication("isotretinoin", within_months=6)
    assert evaluate(window, profile, dt.date(2027, 2, 28)) is not None
    assert evaluate(window, profile, dt.date(2027, 3, 1)) is None
    assert screening.window_end(window, profile) == dt.date(2027, 3, 1)


def test_six_calendar_months_is_not_180_days():
    # 2026-05-23 to 2026-11-21 is 182 days: a 180-day window would already have closed.
    profile = _patient(medications=[{"code": "isotretinoin", "last_taken": "2026-05-23"}])
    assert (ON - dt.date(2026, 5, 23)).days == 182
    assert evaluate(Medication("isotretinoin", 180), profile, ON) is None
    assert evaluate(Medication("isotretinoin", within_months=6), profile, ON) is not None


def test_ever_exposure_counts_undated_and_old_past_use_and_nothing_else():
    ever = Medication("gold_therapy", ever=True)
    past = _patient(medications=[{"code": "gold_therapy", "ongoing": False}])
    assert evaluate(ever, past, ON) == (
        "gold_therapy taken in the past (date not recorded); any past use counts",)
    old = _patient(medications=[{"code": "gold_therapy", "last_taken": "1995-03-01"}])
    assert "last taken 1995-03-01" in evaluate(ever, old, ON)[0]
    assert evaluate(Medication("gold_therapy"), old, ON) is None  # current use only
    assert evaluate(ever, _patient(), ON) is None


def test_window_end_of_an_any_tree_waits_for_every_leaf_that_holds():
    tree = Any((Medication("photosensitizing"), Medication("amiodarone", within_months=24)))
    stopped = _patient(medications=[{"code": "amiodarone", "last_taken": "2025-03-21"}])
    assert screening.window_end(tree, stopped, ON) == dt.date(2027, 3, 22)
    both = _patient(medications=[{"code": "amiodarone", "last_taken": "2025-03-21"},
                                 "photosensitizing"])
    assert screening.window_end(tree, both, ON) is None  # current use has no end


# --- implications, applied before the rules --------------------------------------------------

def test_pacemaker_implies_conduction_and_cardiac_disease_and_the_reason_says_so():
    profile = _patient(conditions=["pacemaker"])
    assert evaluate(Condition("cardiac_disease"), profile, ON) == (
        "condition cardiac_disease implied by pacemaker -> cardiac_conduction_disease "
        "(vocabulary implication)",)
    assert evaluate(Condition("cardiac_conduction_disease"), profile, ON) == (
        "condition cardiac_conduction_disease implied by pacemaker (vocabulary implication)",)


def test_lupus_implies_photosensitivity_and_chemotherapy_immunosuppression_while_taken():
    lupus = _patient(conditions=["systemic_lupus"])
    assert "implied by systemic_lupus" in evaluate(Condition("photosensitivity_disorder"),
                                                   lupus, ON)[0]
    assert evaluate(Condition("autoimmune_disease"), lupus, ON) is not None
    chemo = _patient(medications=["chemotherapy"])
    assert evaluate(Condition("immunosuppression"), chemo, ON) == (
        "condition immunosuppression implied by chemotherapy (vocabulary implication)",)
    finished = _patient(medications=[{"code": "chemotherapy", "last_taken": "2026-09-01"}])
    assert evaluate(Condition("immunosuppression"), finished, ON) is None


def test_implications_fire_the_bundled_rules_with_the_implication_in_the_reason():
    from dermatrack.knowledge.modalities import load_modalities

    modalities = load_modalities(load_vocabulary())
    lupus = screen(_patient(conditions=["systemic_lupus"]), modalities, ON).by_modality()
    reasons = {r.rule: r for r in lupus["ipl"].reasons}
    assert lupus["ipl"].verdict == "contraindicated"
    assert "implied by systemic_lupus" in reasons["ipl.photosensitivity"].matched[0]
    assert "implied by systemic_lupus" in reasons["ipl.autoimmune"].matched[0]
    chemo = screen(_patient(medications=["chemotherapy"]), modalities, ON).by_modality()
    deep = {r.rule: r for r in chemo["deep_peel"].reasons}
    assert "implied by chemotherapy" in deep["deep_peel.immunosuppression"].matched[0]


def test_warnings_travel_with_the_screening_result():
    profile = _patient(sex="male", conditions=["pregnancy"])
    data = screen(profile, MODALITIES, ON).to_dict()
    assert data["warnings"] == [{"field": "conditions[0]", "message": profile.warnings[0].message}]
    assert data["results"][1]["verdict"] == "contraindicated"  # the fact is still screened
