"""The bundled knowledge data: every file valid, typed loading, and the checks that keep it so.

The broken examples are written here as small edits of a real modality mapping, so each
test shows one fault and the exact message (file and path) that reports it.
"""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from dermatrack.errors import DermatrackError, NotFoundError
from dermatrack.knowledge import modalities as kb
from dermatrack.knowledge.modalities import (
    RECORD_FIELDS,
    Condition,
    Fitzpatrick,
    Medication,
    Range,
    iter_leaves,
    load_modalities,
    load_modality,
    validate_all,
    validate_modality_data,
)
from dermatrack.knowledge.modalities import files as modality_files
from dermatrack.knowledge.record import parse_records
from dermatrack.knowledge.vocabulary import load_vocabulary

DATA = resources.files("dermatrack.knowledge").joinpath("data")
CONDITION_RECORDS = (
    "photoaging", "skin_laxity", "volume_loss", "melasma", "post_inflammatory_hyperpigmentation",
    "acne_scarring", "striae", "enlarged_pores", "textural_irregularity", "facial_erythema",
)


def read_modality(code: str) -> dict:
    text = DATA.joinpath("modalities", f"{code}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


#: Rules in the modality-file shape (bundled rules live in matrix.yaml; a modality file may
#: still carry its own, as synthetic modalities do), for the validator tests below.
IPL_RULES = yaml.safe_load('''
contraindications:
  - id: ipl.recent_tan
    kind: absolute
    when: {condition: recent_tan}
    text: Tanned skin absorbs the light in the epidermis and blisters or changes pigment.
    mitigation: null
    source: goldberg2012
  - id: ipl.dark_skin
    kind: relative
    when: {fitzpatrick: [IV, V, VI]}
    text: Side effects rise with skin pigmentation and fluence; clinics treat mainly types I-III.
    mitigation: Test spot, longer cut-off filter, lower fluence and longer pulse, with cooling.
    source: thaysen2016
  - id: ipl.pregnancy
    kind: relative
    when: {condition: pregnancy}
    text: Hormonal pigment is unstable in pregnancy and safety data are lacking.
    mitigation: Defer until after pregnancy.
    source: goldberg2012
  - id: ipl.photosensitivity
    kind: absolute
    when: {any: [{condition: photosensitivity_disorder}, {medication: photosensitizing}]}
    text: Light-triggered disease or photosensitising drugs exaggerate reactions to light.
    mitigation: null
    source: goldberg2012
  - id: ipl.gold
    kind: absolute
    when: {medication: gold_therapy}
    text: Intense light can cause chrysiasis in skin holding gold.
    mitigation: null
    source: goldberg2012
  - id: ipl.melasma
    kind: relative
    when: {condition: melasma_history}
    text: Heat from intense light can darken melasma.
    mitigation: Low fluence, lightening agent before and after, strict sun protection.
    source: goldberg2012
  - id: ipl.vitiligo
    kind: relative
    when: {condition: vitiligo}
    text: Thermal injury can trigger new patches.
    mitigation: Avoid active disease; test a spot first.
    source: goldberg2012
  - id: ipl.active_infection
    kind: absolute
    when: {any: [{condition: active_infection}, {condition: active_herpes}]}
    text: Infection in the field must clear first.
    mitigation: null
    source: goldberg2012
  - id: ipl.herpes_history
    kind: relative
    when: {condition: herpes_simplex_history}
    text: Heat can reactivate perioral herpes.
    mitigation: Antiviral prophylaxis when treating around the mouth.
    source: goldberg2012
  - id: ipl.isotretinoin
    kind: relative
    when: {medication: isotretinoin, within_days: 180}
    text: Consensus found no need to delay light treatments; the label advises caution.
    mitigation: Document the consensus advice and test a spot first.
    source: goldberg2012
''')["contraindications"]


@pytest.fixture
def ipl() -> dict:
    """A fresh, valid modality mapping to break, with rules of its own."""
    data = copy.deepcopy(read_modality("ipl"))
    data["contraindications"] = copy.deepcopy(IPL_RULES)
    return data


# ------------------------------------------------------------------ the bundled data is valid


def test_every_bundled_file_is_valid():
    assert validate_all() == []


def test_one_modality_per_vocabulary_code_in_vocabulary_order():
    modalities = load_modalities(load_vocabulary())
    assert list(modalities) == list(load_vocabulary().modalities)
    assert len(modalities) == 11
    for code, modality in modalities.items():
        assert modality.code == code
        assert modality.record == code


@pytest.mark.parametrize("stem", sorted(
    [*load_vocabulary().modalities, *CONDITION_RECORDS]))
def test_every_record_has_all_fields_in_seed_order(stem):
    text = DATA.joinpath("records", f"{stem}.txt").read_text(encoding="utf-8")
    (record,) = parse_records(text, source=stem)
    for name in RECORD_FIELDS:
        assert record.get(name), f"{stem}: {name}"
    written = [line.split(" | ", 1)[0] for line in text.splitlines() if line != "|"]
    assert written == list(RECORD_FIELDS)
    if stem != "microneedling":  # seed 000 itself carries no sources
        assert record.other_important_details[-1].startswith("Sources: ")


def test_every_code_in_the_modality_data_resolves():
    vocab = load_vocabulary()
    for modality in load_modalities(load_vocabulary()).values():
        for concern in modality.concerns:
            assert concern.code in vocab.concerns
        for rule in modality.contraindications:
            for leaf in iter_leaves(rule.when):
                if isinstance(leaf, Condition | kb.Allergy):
                    assert leaf.code in vocab.conditions, rule.id
                elif isinstance(leaf, Medication):
                    assert leaf.code in vocab.medications, rule.id
                elif isinstance(leaf, Fitzpatrick):
                    assert set(leaf.types) <= set(vocab.skin_types), rule.id
        for parameter in modality.protocol.parameters:
            assert set(parameter.by_region) <= set(vocab.regions)
        for item in (*modality.concerns, *modality.contraindications,
                     *modality.protocol.parameters, *modality.expected_reactions,
                     *modality.adverse_events, *modality.combinations):
            assert modality.reference(item.source).citation


def test_rule_ids_are_unique_across_the_knowledge_base():
    ids = [r.id for m in load_modalities(load_vocabulary()).values() for r in m.contraindications]
    assert len(ids) == len(set(ids))


def test_every_relative_rule_has_a_mitigation():
    for modality in load_modalities(load_vocabulary()).values():
        for rule in modality.contraindications:
            assert rule.kind in ("absolute", "relative")
            if rule.kind == "relative":
                assert rule.mitigation


# ------------------------------------------------------------------ the clinical rules asked for


def rule(modality: str, rule_id: str) -> kb.Rule:
    found = [r for r in load_modality(modality, load_vocabulary()).contraindications
             if r.id == rule_id]
    assert found, rule_id
    return found[0]


@pytest.mark.parametrize(("modality", "kind"), [
    # Fractional ablative lasers need not be delayed (Spring 2017; ASDS 2017): caution, not
    # the absolute stop this test once encoded.
    ("ablative_fractional_laser", "relative"),
    ("medium_peel", "absolute"),
    ("deep_peel", "absolute"),
    ("superficial_peel", "relative"),
    ("microneedling", "relative"),
    ("nonablative_fractional_laser", "relative"),
])
def test_isotretinoin_is_stratified_by_depth(modality, kind):
    found = rule(modality, f"{modality}.isotretinoin")
    assert found.kind == kind
    assert found.when == Medication("isotretinoin", within_months=6)


def test_dark_skin_rules():
    deep = rule("deep_peel", "deep_peel.dark_skin")
    assert (deep.kind, deep.when) == ("absolute", Fitzpatrick(("IV", "V", "VI")))
    for modality in ("ablative_fractional_laser", "ipl"):
        found = rule(modality, f"{modality}.dark_skin")
        assert found.kind == "relative"
        assert "test spot" in found.mitigation.lower()


@pytest.mark.parametrize(("rule_id", "code"), [
    ("plla.keloid", "keloid_history"),
    ("microneedling.keloid", "keloid_history"),
    ("caha.bleeding", "bleeding_disorder"),
    ("microneedling.bleeding", "bleeding_disorder"),
    ("microneedling.bleeding", "anticoagulant"),
    ("topical_retinoid.pregnancy", "pregnancy"),
    ("rf_microneedling.pacemaker", "pacemaker"),
    ("rf_microneedling.metal_implant", "metal_implant_area"),
    ("ipl.recent_tan", "recent_tan"),
    ("plla.hypersensitivity", "hypersensitivity_plla"),
    ("caha.hypersensitivity", "hypersensitivity_caha"),
    ("microneedling.lidocaine_allergy", "lidocaine_allergy"),
])
def test_required_rules_name_their_trigger(rule_id, code):
    modality = rule_id.split(".")[0]
    leaves = list(iter_leaves(rule(modality, rule_id).when))
    assert code in [leaf.code for leaf in leaves if hasattr(leaf, "code")]


def test_needle_depth_by_region_with_imaging_aliases():
    depth = load_modality("microneedling", load_vocabulary()).parameter("needle_depth")
    assert depth.unit == "mm"
    assert depth.range_for("periorbital_left") == depth.range_for("periorbital")
    assert depth.range_for("periorbital").max <= 0.3
    assert depth.range_for("cheek_right") == depth.by_region["cheeks"]
    overall = depth.range_for("neck")  # no regional value: the overall range
    assert overall == Range(depth.min, depth.max, depth.default)
    assert depth.range_for(None) == overall
    parameters = load_modality("rf_microneedling", load_vocabulary()).protocol.parameters
    assert "needle_depth" in [p.code for p in parameters]


def test_single_session_procedure_has_no_interval():
    protocol = load_modality("deep_peel", load_vocabulary()).protocol
    assert protocol.sessions == Range(1, 1, 1)
    assert protocol.interval_days is None


def test_lookups_that_miss_raise_not_found():
    with pytest.raises(NotFoundError, match="known: microneedling"):
        load_modality("dermabrasion", load_vocabulary())
    modality = load_modality("plla", load_vocabulary())
    with pytest.raises(NotFoundError):
        modality.reference("nobody2020")
    with pytest.raises(NotFoundError):
        modality.parameter("fluence")
    assert modality.concern("melasma") is None
    assert modality.concern("volume_loss").efficacy == 3


def test_adverse_event_rates_are_percentages_or_explained():
    laser = load_modality("nonablative_fractional_laser", load_vocabulary())
    graber = {a.code: a for a in laser.adverse_events}
    assert graber["acneiform_eruption"].rate_percent == pytest.approx(1.87)
    for modality in load_modalities(load_vocabulary()).values():
        for event in modality.adverse_events:
            assert event.rate_percent is not None or event.note


# ------------------------------------------------------------------ broken examples are rejected


def test_valid_example_passes(ipl):
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == []


def test_rule_missing_its_source(ipl):
    del ipl["contraindications"][1]["source"]
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: contraindications[1]: 'source' is a required property"]


def test_rule_citing_an_undeclared_reference(ipl):
    ipl["contraindications"][0]["source"] = "someone2099"
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: contraindications[0].source: 'someone2099' is not a reference id"]


def test_relative_rule_without_mitigation(ipl):
    assert ipl["contraindications"][1]["kind"] == "relative"
    ipl["contraindications"][1]["mitigation"] = None
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: contraindications[1].mitigation: a relative rule needs a mitigation"]


def test_default_outside_min_max(ipl):
    ipl["protocol"]["parameters"][1]["default"] = 45
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: protocol.parameters[1].default: 45 is outside min..max (8..30)"]


def test_regional_range_outside_the_overall_range():
    data = copy.deepcopy(read_modality("microneedling"))
    data["protocol"]["parameters"][0]["by_region"]["forehead"] = {"min": 0.25, "max": 3.0,
                                                                   "default": 0.5}
    problems = validate_modality_data(data, name="microneedling.yaml", vocabulary=load_vocabulary())
    assert problems == ["microneedling.yaml: protocol.parameters[0].by_region.forehead: "
                        "0.25..3.0 reaches outside the overall range 0.2..2.5"]


def test_unknown_concern_code(ipl):
    ipl["concerns"][0]["code"] = "sun_spots"
    problems = validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary())
    assert len(problems) == 1
    assert problems[0].startswith("ipl.yaml: concerns[0].code: unknown concern code 'sun_spots'")


def test_duplicate_rule_id(ipl):
    ipl["contraindications"][2]["id"] = ipl["contraindications"][0]["id"]
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: contraindications[2].id: duplicate 'ipl.recent_tan'"]


def test_unknown_codes_inside_a_predicate_tree(ipl):
    ipl["contraindications"][7]["when"] = {"any": [{"condition": "active_infection"},
                                                   {"condition": "impetigo"}]}
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: contraindications[7].when.any[1].condition: unknown condition code "
        "'impetigo'"]


def test_time_window_needs_a_dated_medication(ipl):
    ipl["contraindications"][0]["when"] = {"medication": "anticoagulant", "within_days": 7}
    problems = validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary())
    assert len(problems) == 1
    assert problems[0].startswith("ipl.yaml: contraindications[0].when.within_days: ")


def test_malformed_predicate(ipl):
    ipl["contraindications"][0]["when"] = {"condition": "recent_tan", "fitzpatrick": ["IV"]}
    problems = validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary())
    assert problems == ["ipl.yaml: contraindications[0].when: not a valid predicate: expected "
                        "exactly one of condition, medication (with optional within_days), "
                        "allergy, fitzpatrick, age_below, age_at_least, all, any"]


def test_unknown_top_level_key_and_bad_enum(ipl):
    ipl["price"] = 300
    ipl["depth"] = "very"
    problems = validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary())
    assert any(p.startswith("ipl.yaml: (top level): Additional properties") for p in problems)
    assert any(p.startswith("ipl.yaml: depth: 'very' is not one of") for p in problems)


def test_several_sessions_need_an_interval(ipl):
    ipl["protocol"]["interval_days"] = None
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: protocol.interval_days: required when more than one session"]


def test_combination_with_unknown_modality(ipl):
    ipl["combinations"] = [{"with": "botox", "note": "n", "source": "goldberg2012"}]
    assert validate_modality_data(ipl, name="ipl.yaml", vocabulary=load_vocabulary()) == [
        "ipl.yaml: combinations[0].with: unknown modality code 'botox'"]


def test_validate_all_reports_broken_bundled_data(monkeypatch):
    broken = copy.deepcopy(read_modality("caha"))
    broken["contraindications"] = [{"id": "caha.hypersensitivity", "kind": "absolute",
                                    "when": {"allergy": "hypersensitivity_caha"},
                                    "text": "t", "source": "goldie2018"}]
    broken["code"] = "plla"  # wrong file, and its rule ids now clash with plla.yaml's prefix
    files = {"modalities/caha.yaml": broken,
             "modalities/plla.yaml": read_modality("plla"),
             "modalities/ipl.yaml": "not valid YAML: mapping values are not allowed here"}
    monkeypatch.setattr(modality_files, "read_modality_files", lambda: files)
    problems = validate_all()
    assert "modalities/ipl.yaml: not valid YAML: mapping values are not allowed here" in problems
    assert any(p.startswith("modalities/caha.yaml: contraindications[0].id: 'caha."
                            "hypersensitivity' must start with 'plla.'") for p in problems)
    assert "modalities/microneedling.yaml: missing (vocabulary modality 'microneedling')" \
        in problems


def test_load_modalities_refuses_broken_bundled_data(monkeypatch):
    broken = copy.deepcopy(read_modality("ipl"))
    del broken["references"]
    monkeypatch.setattr(modality_files, "read_modality_files",
                        lambda: {"modalities/ipl.yaml": broken})
    load_modalities.cache_clear()
    try:
        with pytest.raises(DermatrackError, match="modalities/ipl.yaml: .*'references'"):
            load_modalities(load_vocabulary())
    finally:
        load_modalities.cache_clear()
