"""Charting rules: parameter ranges per region, expected reactions vs adverse events, grading."""

from __future__ import annotations

import datetime as dt

import pytest
from clinic_helpers import make_modality

from dermatrack.clinic.charting import (
    CTCAE_GRADES,
    OUTCOMES,
    WHO_UMC_RELATEDNESS,
    adverse_event_code,
    check_parameters,
    classify_reaction,
    is_related,
    is_serious,
    validate_choice,
    validate_grade,
)
from dermatrack.errors import InputError
from dermatrack.knowledge.vocabulary import load_vocabulary

MODALITY = make_modality(
    "microneedling",
    excluded_regions=[{"region": "periorbital", "text": "Too thin.", "source": "ref1"}])


def test_values_within_the_regional_range_pass():
    assert check_parameters(MODALITY, "cheeks", {"needle_depth": 1.5, "passes": 2}) == []


def test_a_value_outside_the_regional_range_is_an_error_naming_it():
    # 1.0 mm is inside the overall 0.2-2.5 mm range but not the forehead's 0.25-0.5 mm.
    [finding] = check_parameters(MODALITY, "forehead", {"needle_depth": 1.0, "passes": 3})
    assert finding.level == "error"
    assert finding.parameter == "needle_depth"
    assert finding.allowed == (0.25, 0.5)
    assert finding.message == ("Needle depth 1 mm is outside 0.25-0.5 mm for forehead "
                               "(microneedling, source ref1)")


def test_imaging_region_aliases_use_the_clinic_region():
    [finding] = check_parameters(MODALITY, "cheek_left", {"needle_depth": 2.2, "passes": 1})
    assert finding.allowed == (0.5, 2.0)


def test_unknown_and_non_numeric_parameters_are_errors():
    findings = check_parameters(MODALITY, "cheeks", {"needle_dept": 1.0, "passes": "three",
                                                     "needle_depth": float("nan")})
    assert [(f.parameter, f.level) for f in findings] == [
        ("needle_dept", "error"), ("passes", "error"), ("needle_depth", "error")]
    assert "did you mean needle_depth" in findings[0].message


def test_missing_parameters_are_noted_with_the_regional_default():
    [note] = check_parameters(MODALITY, "forehead", {"passes": 2})
    assert (note.parameter, note.level, note.default) == ("needle_depth", "note", 0.5)


def test_an_excluded_region_is_an_error():
    findings = check_parameters(MODALITY, "periorbital", {"needle_depth": 1.0, "passes": 2})
    assert findings[0].parameter == "region" and findings[0].level == "error"
    assert "Too thin." in findings[0].message


ONSET = dt.date(2026, 11, 2)


@pytest.mark.parametrize(("code", "days", "expected"), [
    ("erythema", 0, "expected"),
    ("erythema", 2, "expected"),        # usual_duration_days is 2
    ("erythema", 3, "adverse_event"),   # outlasted its usual course
    ("bruising", 1, "adverse_event"),   # not an expected reaction of this modality
])
def test_classify_reaction(code, days, expected):
    seen = ONSET + dt.timedelta(days=days)
    assert classify_reaction(MODALITY, code, ONSET, still_present_on=seen).kind == expected
    assert classify_reaction(MODALITY, code, ONSET, resolved_on=seen).kind == expected


def test_classify_reaction_rejects_bad_dates():
    with pytest.raises(InputError) as err:
        classify_reaction(MODALITY, "erythema", ONSET)
    assert err.value.field == "resolved_on"
    with pytest.raises(InputError):
        classify_reaction(MODALITY, "erythema", ONSET, still_present_on=ONSET,
                          resolved_on=ONSET)
    with pytest.raises(InputError, match="before the onset") as err:
        classify_reaction(MODALITY, "erythema", ONSET, resolved_on=ONSET - dt.timedelta(1))
    assert err.value.field == "resolved_on"


def test_grading_tables():
    assert sorted(CTCAE_GRADES) == [1, 2, 3, 4, 5]
    assert list(WHO_UMC_RELATEDNESS) == ["certain", "probably-likely", "possible", "unlikely",
                                         "conditional-classified",
                                         "unassessable-unclassifiable"]
    assert "resolvedWithSequelae" in OUTCOMES


@pytest.mark.parametrize(("grade", "criteria", "serious"), [
    (1, [], False), (2, [], False), (3, [], True), (5, [], True),
    (1, ["hospitalisation"], True), (2, ["important_medical_event"], True),
])
def test_is_serious(grade, criteria, serious):
    assert is_serious(grade, criteria) is serious


def test_grade_and_choice_validation():
    for bad in (0, 6, 2.5, "3", True):
        with pytest.raises(InputError) as err:
            validate_grade(bad)
        assert err.value.field == "grade"
    with pytest.raises(InputError, match="did you mean possible"):
        validate_choice("posible", WHO_UMC_RELATEDNESS, "relatedness")
    with pytest.raises(InputError) as err:
        is_serious(2, ["hospitalized"])
    assert err.value.field == "seriousness_criteria"
    assert is_related("possible") and not is_related("unlikely")


def test_adverse_event_code_follows_the_vocabulary_escalation():
    vocabulary = load_vocabulary()
    assert adverse_event_code("erythema", vocabulary) == "prolonged_erythema"
    assert adverse_event_code("milia", vocabulary) == "milia"
    assert adverse_event_code("not_a_code", vocabulary) is None
