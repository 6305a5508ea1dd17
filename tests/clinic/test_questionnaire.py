"""Questionnaire engine: the bundled demonstrations scored by hand, and definition errors."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from dermatrack.clinic.questionnaire import (
    SCORING_URL,
    build_response,
    bundled_questionnaires,
    load_bundled_questionnaire,
    load_questionnaire,
    score_response,
)
from dermatrack.errors import InputError


def test_bundled_demonstrations_load():
    assert bundled_questionnaires() == ["procedure_pain", "recovery_checklist",
                                        "treatment_satisfaction"]
    for name in bundled_questionnaires():
        questionnaire = load_bundled_questionnaire(name)
        assert questionnaire.resource["status"] == "draft"
        assert questionnaire.url.startswith("https://dermatrack.org/")


def test_satisfaction_mean_with_a_reversed_item_rescaled():
    q = load_bundled_questionnaire("treatment_satisfaction")
    score = score_response(q, {"result": "4", "care": "5", "regret": "2"})
    # regret reversed: 1 + 5 - 2 = 4; mean (4 + 5 + 4) / 3 = 4.3333; (4.3333 - 1) / 4 * 100
    assert score.item_scores == {"result": 4.0, "care": 5.0, "regret": 4.0}
    assert score.total == pytest.approx(83.333333, abs=1e-5)
    assert (score.answered, score.missing) == (3, ())
    assert score.improvement == "higher"


def test_satisfaction_with_missing_items():
    q = load_bundled_questionnaire("treatment_satisfaction")
    partial = score_response(q, {"result": "4", "care": None, "regret": {"code": "2"}})
    assert partial.total == pytest.approx(75.0)  # mean (4 + 4) / 2 = 4 -> (4 - 1) / 4 * 100
    assert partial.missing == ("care",)
    too_few = score_response(q, {"result": "4"})  # minAnswered is 2
    assert too_few.total is None and too_few.answered == 1


def test_pain_rating_0_to_10():
    q = load_bundled_questionnaire("procedure_pain")
    assert score_response(q, {"pain": 7}).total == 7
    assert score_response(q, {"pain": 0}).total == 0
    assert score_response(q, {}).total is None
    for bad in (11, -1, 7.5, "7", True):
        with pytest.raises(InputError) as err:
            score_response(q, {"pain": bad})
        assert err.value.field == "answers.pain"


def test_recovery_checklist_counts_yes_and_prorates():
    q = load_bundled_questionnaire("recovery_checklist")  # items inside a group
    answers = {"redness": True, "swelling": False, "darkening": True, "blisters": None,
               "work": False}
    score = score_response(q, answers)
    assert score.total == pytest.approx(2.5)  # 2 yes of 4 answered, prorated: 2 * 5 / 4
    assert score_response(q, {"redness": True, "swelling": True}).total is None  # < 3
    with pytest.raises(InputError) as err:
        score_response(q, {"redness": "yes"})
    assert err.value.field == "answers.redness"


def test_unknown_items_and_options_are_named():
    q = load_bundled_questionnaire("treatment_satisfaction")
    with pytest.raises(InputError, match="did you mean result") as err:
        score_response(q, {"reslt": "4"})
    assert err.value.field == "answers.reslt"
    with pytest.raises(InputError) as err:
        score_response(q, {"result": "6"})
    assert err.value.field == "answers.result"


def test_build_response():
    q = load_bundled_questionnaire("treatment_satisfaction")
    response = build_response(q, {"result": "4", "care": "5", "regret": "2"},
                              subject="Patient/p-1", authored=dt.date(2026, 11, 21))
    assert response["resourceType"] == "QuestionnaireResponse"
    assert response["status"] == "completed"
    assert response["questionnaire"] == (
        "https://dermatrack.org/fhir/Questionnaire/treatment-satisfaction-demo|1")
    assert response["subject"] == {"reference": "Patient/p-1"}
    assert response["item"][0]["answer"][0]["valueCoding"]["display"] == "Satisfied"
    partial = build_response(q, {"result": "4"})
    assert partial["status"] == "in-progress" and len(partial["item"]) == 1
    pain = build_response(load_bundled_questionnaire("procedure_pain"), {"pain": 3})
    assert pain["item"][0]["answer"] == [{"valueInteger": 3}]


def _definition():
    return copy.deepcopy(load_bundled_questionnaire("treatment_satisfaction").resource)


def _scoring_parts(data):
    return next(e for e in data["extension"] if e["url"] == SCORING_URL)["extension"]


def test_a_clinic_definition_with_sum_and_min_max_bounds():
    data = {"resourceType": "Questionnaire", "name": "ClinicScale",
            "extension": [{"url": SCORING_URL, "extension": [
                {"url": "method", "valueCode": "sum"}, {"url": "reverse", "valueString": "b"},
                {"url": "rescale", "valueBoolean": True}]}],
            "item": [
                {"linkId": "a", "type": "integer", "text": "A", "extension": [
                    {"url": "http://hl7.org/fhir/StructureDefinition/minValue",
                     "valueInteger": 0},
                    {"url": "http://hl7.org/fhir/StructureDefinition/maxValue",
                     "valueInteger": 4}]},
                {"linkId": "b", "type": "boolean", "text": "B"}]}
    q = load_questionnaire(data)
    # a = 3; b = true reversed to 0 + 1 - 1 = 0; sum 3 of a possible 0..5 -> 60
    assert score_response(q, {"a": 3, "b": True}).total == pytest.approx(60.0)


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.update(resourceType="Patient"), "resourceType"),
    (lambda d: d.update(item=[]), "item"),
    (lambda d: d.update(extension=[]), "extension"),
    (lambda d: d["item"][1].pop("linkId"), "item[1].linkId"),
    (lambda d: d["item"][1].update(type="date"), "item[1].type"),
    (lambda d: d["item"][1]["answerOption"][0].pop("extension"), "item[1].answerOption[0]"),
    (lambda d: d["item"][1]["answerOption"][0].pop("valueCoding"),
     "item[1].answerOption[0].valueCoding"),
    (lambda d: d["item"][2].update(linkId="result"), "item"),
    (lambda d: _scoring_parts(d).append({"url": "reverse", "valueString": "nope"}),
     "extension.scoring.reverse"),
    (lambda d: _scoring_parts(d).append({"url": "weights", "valueString": "x"}),
     "extension.scoring.weights"),
    (lambda d: _scoring_parts(d).__setitem__(0, {"url": "method", "valueCode": "median"}),
     "extension.scoring.method"),
    (lambda d: _scoring_parts(d).__setitem__(2, {"url": "minAnswered", "valueInteger": 9}),
     "extension.scoring.minAnswered"),
])
def test_definition_errors_name_the_path(change, field):
    data = _definition()
    change(data)
    with pytest.raises(InputError) as err:
        load_questionnaire(data)
    assert err.value.field == field


def test_an_integer_item_needs_bounds():
    data = {"resourceType": "Questionnaire", "name": "X",
            "extension": [{"url": SCORING_URL, "extension": []}],
            "item": [{"linkId": "a", "type": "integer"}]}
    with pytest.raises(InputError) as err:
        load_questionnaire(data)
    assert err.value.field == "item[0].extension"
