"""The controlled vocabulary: coverage of issue 2's lists, lookups, and its own checks."""

from __future__ import annotations

import copy

import pytest

from dermatrack.errors import DermatrackError, InputError
from dermatrack.knowledge.vocabulary import (
    FITZPATRICK,
    KINDS,
    Term,
    load_vocabulary,
    read_vocabulary_data,
    validate_vocabulary_data,
)

# The lists of issue 2, written out here so the test fails if the data drops one.
ISSUE_CODES = {
    "modalities": [
        "microneedling", "rf_microneedling", "topical_retinoid", "superficial_peel",
        "medium_peel", "deep_peel", "nonablative_fractional_laser", "ablative_fractional_laser",
        "ipl", "plla", "caha",
    ],
    "concerns": [
        "fine_lines", "wrinkles", "laxity", "volume_loss", "dyspigmentation", "melasma",
        "erythema", "texture", "enlarged_pores", "acne_scars", "stretch_marks",
    ],
    "conditions": [
        "pregnancy", "breastfeeding", "active_infection", "active_herpes",
        "herpes_simplex_history", "keloid_history", "hypertrophic_scar_history",
        "bleeding_disorder", "immunosuppression", "uncontrolled_diabetes", "active_acne",
        "active_dermatitis", "autoimmune_disease", "active_cancer", "radiotherapy_area",
        "recent_tan", "vitiligo", "photosensitivity_disorder", "pacemaker",
        "metal_implant_area", "hypersensitivity_plla", "hypersensitivity_caha",
        "lidocaine_allergy",
    ],
    "medications": [
        "isotretinoin", "anticoagulant", "antiplatelet", "photosensitizing", "topical_retinoid",
        "immunosuppressant", "gold_therapy",
    ],
    "regions": [
        "forehead", "glabella", "periorbital", "cheeks", "nose", "perioral", "chin", "jawline",
        "neck", "full_face", "abdomen", "thighs", "breasts", "arms",
    ],
}


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


@pytest.mark.parametrize("kind", sorted(ISSUE_CODES))
def test_every_issue_code_is_declared(vocab, kind):
    missing = [code for code in ISSUE_CODES[kind] if code not in vocab.terms(kind)]
    assert missing == []


def test_every_term_has_a_label_and_its_own_code(vocab):
    for kind in KINDS:
        terms = vocab.terms(kind)
        assert terms, kind
        for code, term in terms.items():
            assert isinstance(term, Term)
            assert term.code == code
            assert term.label.strip()


def test_skin_types_are_fitzpatrick_with_snomed_codes(vocab):
    assert tuple(vocab.skin_types) == FITZPATRICK == ("I", "II", "III", "IV", "V", "VI")
    snomed = [vocab.skin_types[t].snomed for t in FITZPATRICK]
    # SNOMED CT skin phototype findings (clinical.md section 5).
    assert snomed == ["403221005", "403222003", "403226000", "403231003", "403235007",
                      "403236008"]
    assert "never tans" in vocab.skin_types["I"].description
    assert "never burns" in vocab.skin_types["VI"].description


def test_isotretinoin_takes_a_last_taken_date(vocab):
    assert vocab.medications["isotretinoin"].needs_last_taken
    assert not vocab.medications["anticoagulant"].needs_last_taken


def test_imaging_region_aliases(vocab):
    assert vocab.region_aliases == {
        "periorbital_left": "periorbital",
        "periorbital_right": "periorbital",
        "cheek_left": "cheeks",
        "cheek_right": "cheeks",
        "whole": "full_face",
    }
    assert vocab.require("regions", "cheek_right", field="region").code == "cheeks"
    assert vocab.canonical_region("whole") == "full_face"
    assert vocab.canonical_region("forehead") == "forehead"


def test_expected_reactions_escalate_to_adverse_events(vocab):
    escalations = {c: t.escalates_to for c, t in vocab.expected_reactions.items()}
    assert escalations["erythema"] == "prolonged_erythema"
    for target in filter(None, escalations.values()):
        assert target in vocab.adverse_events


def test_concerns_and_modalities_name_their_records(vocab):
    assert vocab.concerns["fine_lines"].record == "photoaging"
    assert vocab.concerns["melasma"].record == "melasma"
    assert all(t.record == code for code, t in vocab.modalities.items())


def test_require_unknown_code_names_field_and_close_matches(vocab):
    with pytest.raises(InputError) as info:
        vocab.require("concerns", "acne_scar", field="concerns[2]")
    assert info.value.field == "concerns[2]"
    assert "acne_scars" in str(info.value)
    assert "field 'concerns[2]'" in str(info.value)


def test_require_unknown_code_without_close_match_lists_known(vocab):
    with pytest.raises(InputError) as info:
        vocab.require("skin_types", "7", field="fitzpatrick")
    assert "known: I, II, III, IV, V, VI" in str(info.value)


def test_unknown_kind_is_a_programming_error(vocab):
    with pytest.raises(DermatrackError):
        vocab.terms("allergens")


def test_load_is_cached():
    assert load_vocabulary() is load_vocabulary()


def test_bundled_vocabulary_validates():
    assert validate_vocabulary_data(read_vocabulary_data()) == []


def test_alias_to_unknown_region_is_reported():
    data = copy.deepcopy(read_vocabulary_data())
    data["region_aliases"]["lip_upper"] = "upper_lip"
    problems = validate_vocabulary_data(data)
    assert problems == ["vocabulary.yaml: region_aliases.lip_upper: 'upper_lip' is not a "
                        "region code"]


def test_unknown_term_key_is_rejected_by_schema():
    data = copy.deepcopy(read_vocabulary_data())
    data["conditions"]["pregnancy"]["severity"] = 3
    problems = validate_vocabulary_data(data)
    assert len(problems) == 1
    assert problems[0].startswith("vocabulary.yaml: conditions.pregnancy: ")
    assert "severity" in problems[0]


def test_escalation_to_unknown_adverse_event_is_reported():
    data = copy.deepcopy(read_vocabulary_data())
    data["expected_reactions"]["erythema"]["escalates_to"] = "redness_forever"
    problems = validate_vocabulary_data(data)
    assert problems == ["vocabulary.yaml: expected_reactions.erythema.escalates_to: "
                        "'redness_forever' is not an adverse-event code"]


def test_skin_types_must_be_complete():
    data = copy.deepcopy(read_vocabulary_data())
    del data["skin_types"]["VI"]
    problems = validate_vocabulary_data(data)
    assert problems and all("skin_types" in p for p in problems)
