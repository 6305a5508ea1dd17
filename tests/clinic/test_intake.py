"""Patient intake: the PATIENT.json shape parsed, and every kind of bad input named by field."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from clinic_helpers import ON, parse_patient, read_patient

from dermatrack.clinic.intake import load_patient_json
from dermatrack.errors import InputError
from dermatrack.knowledge.vocabulary import load_vocabulary


def test_issue_example_parses_to_the_profile():
    profile = parse_patient(read_patient("issue_example"), on=ON)
    assert profile.age == 34
    assert profile.fitzpatrick == "IV"
    assert profile.fitzpatrick_index == 4
    assert profile.sex == "female"
    assert [(c.code, c.region, c.severity) for c in profile.concerns] == [
        ("acne_scars", "cheeks", 3)]
    assert profile.conditions == ("herpes_simplex_history",)
    use = profile.medication("isotretinoin")
    # A dated medication without "ongoing" was stopped on that date.
    assert use.last_taken == dt.date(2026, 8, 1) and use.ongoing is False
    assert use.days_since_last_taken(ON) == 112
    assert profile.allergies == ()


def test_age_comes_from_date_of_birth_at_the_screening_date():
    data = read_patient("several_concerns")  # born 1968-03-14
    assert parse_patient(data, on=dt.date(2026, 3, 13)).age == 57
    assert parse_patient(data, on=dt.date(2026, 3, 14)).age == 58


def test_defaults_aliases_and_normalisation():
    profile = parse_patient({
        "age": 40, "fitzpatrick": 2,
        "concerns": [{"code": "acne_scars", "region": "cheek_left", "severity": 2}],
        "conditions": ["vitiligo", "pregnancy", "vitiligo"],
        "medications": ["anticoagulant", {"code": "isotretinoin", "last_taken": "2026-01-01",
                                          "ongoing": True}],
        "allergies": ["lidocaine_allergy"]}, on=ON)
    assert profile.fitzpatrick == "II"
    assert profile.concerns[0].region == "cheeks"  # imaging alias -> clinic region
    assert profile.conditions == ("pregnancy", "vitiligo")
    assert profile.medication("anticoagulant").ongoing is True
    assert profile.medication("isotretinoin").ongoing is True
    assert profile.allergies == ("lidocaine_allergy",)


def test_to_dict_round_trips():
    profile = parse_patient(read_patient("several_concerns"), on=ON)
    assert parse_patient(profile.to_dict(), on=ON) == profile


def test_ignore_keys_lets_the_store_pass_identity_fields():
    data = {**read_patient("issue_example"), "pseudonym": "P-0001"}
    with pytest.raises(InputError) as err:
        parse_patient(data, on=ON)
    assert err.value.field == "pseudonym"
    assert parse_patient(data, on=ON, ignore_keys={"pseudonym"}).age == 34


def _with(path: str, value):
    """The issue example with the value at a dotted/indexed path replaced (or deleted)."""
    data = copy.deepcopy(read_patient("issue_example"))
    target = data
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


class _Delete:
    """Marks a key to remove; its repr keeps test ids stable across xdist workers."""

    def __repr__(self) -> str:
        return "<deleted>"


_DELETE = _Delete()

BAD_INPUTS = [
    # (path to change, new value, expected error field, words in the message)
    ("age", -3, "age", "impossible"),
    ("age", 200, "age", "impossible"),
    ("age", "34", "age", "whole number"),
    ("age", 34.5, "age", "whole number"),
    ("age", True, "age", "whole number"),
    ("age", _DELETE, "age", "date_of_birth"),
    ("date_of_birth", "1990-02-30", "date_of_birth", "not a date"),
    ("date_of_birth", "2027-01-01", "date_of_birth", "after the screening date"),
    ("sex", "banana", "sex", "unknown sex"),
    ("fitzpatrick", "VII", "fitzpatrick", "not a Fitzpatrick"),
    ("fitzpatrick", 0, "fitzpatrick", "not a Fitzpatrick"),
    ("fitzpatrick", _DELETE, "fitzpatrick", "required"),
    ("concerns", "acne_scars", "concerns", "expected a list"),
    ("concerns[0]", "acne_scars", "concerns[0]", "expected an object"),
    ("concerns[0].code", "acne_scar", "concerns[0].code", "did you mean 'acne_scars'"),
    ("concerns[0].code", 7, "concerns[0].code", "expected a concern code"),
    ("concerns[0].region", "cheek", "concerns[0].region", "unknown region"),
    ("concerns[0].severity", 9, "concerns[0].severity", "out of range"),
    ("concerns[0].severity", 0, "concerns[0].severity", "out of range"),
    ("concerns[0].severity", "high", "concerns[0].severity", "whole number"),
    ("concerns[0].severity", _DELETE, "concerns[0].severity", "required"),
    ("concerns[0].depth", 2, "concerns[0].depth", "unknown key"),
    ("conditions[0]", "herpes", "conditions[0]", "unknown condition"),
    ("conditions", {"herpes_simplex_history": True}, "conditions", "expected a list"),
    ("medications[0].code", "accutane", "medications[0].code", "unknown medication"),
    ("medications[0].last_taken", "2026-13-01", "medications[0].last_taken", "not a date"),
    ("medications[0].last_taken", "2026-12-01", "medications[0].last_taken",
     "after the screening date"),
    ("medications[0].last_taken", 20260801, "medications[0].last_taken", "YYYY-MM-DD"),
    ("medications[0].ongoing", "yes", "medications[0].ongoing", "true or false"),
    ("medications[0].dose", 20, "medications[0].dose", "unknown key"),
    ("allergies", ["penicillin"], "allergies[0]", "unknown allergy"),
    ("medication", [], "medication", "did you mean 'medications'"),
]


@pytest.mark.parametrize(("path", "value", "field", "words"), BAD_INPUTS,
                         ids=[f"{p}={v!r}" for p, v, *_ in BAD_INPUTS])
def test_bad_input_names_the_field(path, value, field, words):
    with pytest.raises(InputError) as err:
        parse_patient(_with(path, value), on=ON)
    assert err.value.field == field
    assert words in err.value.message


def test_stopped_medication_needs_a_date():
    data = _with("medications[0]", {"code": "isotretinoin", "ongoing": False})
    with pytest.raises(InputError) as err:
        parse_patient(data, on=ON)
    assert err.value.field == "medications[0].last_taken"


def test_duplicates_are_rejected():
    data = read_patient("issue_example")
    data["concerns"].append(dict(data["concerns"][0]))
    with pytest.raises(InputError, match="listed twice") as err:
        parse_patient(data, on=ON)
    assert err.value.field == "concerns[1]"
    data = read_patient("issue_example")
    data["medications"].append({"code": "isotretinoin", "ongoing": True})
    with pytest.raises(InputError, match="listed twice") as err:
        parse_patient(data, on=ON)
    assert err.value.field == "medications[1]"


def test_top_level_must_be_an_object():
    with pytest.raises(InputError) as err:
        parse_patient([1, 2], on=ON)
    assert err.value.field == "patient"


def test_malformed_json_names_the_file_and_line():
    with pytest.raises(InputError) as err:
        load_patient_json('{"age": 34,\n "fitzpatrick": IV}', source="p.json", on=ON,
                          vocabulary=load_vocabulary())
    assert err.value.field == "p.json"
    assert err.value.line == 2
    assert "not valid JSON" in str(err.value)


# --- plausibility: allowed but contradictory facts come back as warnings --------------------

def _base(**extra):
    data = {"age": 40, "fitzpatrick": "III", "concerns": [], "conditions": [],
            "medications": [], "allergies": []}
    data.update(extra)
    return data


def test_pregnancy_in_a_male_patient_is_a_warning_not_silence():
    profile = parse_patient(_base(sex="male", conditions=["vitiligo", "pregnancy"]), on=ON)
    assert profile.conditions == ("pregnancy", "vitiligo")  # the fact is kept
    [warning] = profile.warnings
    assert warning.field == "conditions[1]"
    assert "pregnancy is recorded for a male patient" in warning.message
    assert parse_patient(_base(sex="female", conditions=["pregnancy"]), on=ON).warnings == ()
    assert parse_patient(_base(conditions=["breastfeeding"]), on=ON).warnings == ()
    assert len(parse_patient(_base(sex="male", conditions=["breastfeeding"]),
                             on=ON).warnings) == 1


def test_medication_last_taken_before_it_was_started_is_a_warning():
    meds = [{"code": "isotretinoin", "started": "2026-06-01", "last_taken": "2026-03-01"}]
    profile = parse_patient(_base(medications=meds), on=ON)
    [warning] = profile.warnings
    assert warning.field == "medications[0].last_taken"
    assert "before it was started 2026-06-01" in warning.message
    assert profile.medication("isotretinoin").started == dt.date(2026, 6, 1)
    fine = [{"code": "isotretinoin", "started": "2026-03-01", "last_taken": "2026-06-01"}]
    assert parse_patient(_base(medications=fine), on=ON).warnings == ()
    with pytest.raises(InputError) as err:
        parse_patient(_base(medications=[{"code": "isotretinoin", "started": "2027-01-01"}]),
                      on=ON)
    assert err.value.field == "medications[0].started"


def test_age_disagreeing_with_the_date_of_birth_is_a_warning_and_the_birth_date_wins():
    profile = parse_patient(_base(age=34, date_of_birth="1990-01-01"), on=ON)
    assert profile.age == 36
    [warning] = profile.warnings
    assert warning.field == "age"
    assert "age 34 disagrees with date_of_birth 1990-01-01 (age 36 on 2026-11-21)" in (
        warning.message)


def test_undated_past_use_is_allowed_only_where_no_window_needs_the_date():
    gold = parse_patient(_base(medications=[{"code": "gold_therapy", "ongoing": False}]), on=ON)
    assert gold.medication("gold_therapy").last_taken is None
    with pytest.raises(InputError):
        parse_patient(_base(medications=[{"code": "amiodarone", "ongoing": False}]), on=ON)
