"""The contraindication matrix: complete, sourced, consistent with the vocabulary's
implications, printed by ``kb matrix`` and in docs/contraindication-matrix.md."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path

import pytest

from dermatrack.knowledge.matrix import (
    STRONG_KINDS,
    load_matrix,
    matrix_markdown,
    read_matrix_data,
    validate_matrix_data,
)
from dermatrack.knowledge.modalities import load_modalities
from dermatrack.knowledge.vocabulary import load_vocabulary

DOC = Path(__file__).resolve().parents[2] / "docs" / "contraindication-matrix.md"


@pytest.fixture
def data():
    matrix, sources = read_matrix_data()
    return copy.deepcopy(matrix), copy.deepcopy(sources)


def _entry(matrix, **match):
    for entry in matrix["entries"]:
        if all(entry.get(k) == v for k, v in match.items()):
            return entry
    raise AssertionError(match)


def test_every_factor_has_a_verdict_for_every_modality():
    matrix = load_matrix(load_vocabulary())
    vocab = load_vocabulary()
    kinds = {f.kind for f in matrix.factors}
    assert kinds == {"condition", "allergy", "medication", "age_band", "skin_type", "sex"}
    expected_rows = (len(vocab.conditions) + len(vocab.medications) + len(vocab.age_bands)
                     + len(vocab.skin_types) + len(vocab.sexes))
    assert len(matrix.factors) == expected_rows
    assert tuple(matrix.modalities) == tuple(vocab.modalities)
    for factor in matrix.factors:
        for modality in matrix.modalities:
            cell = matrix.cell(factor.key, modality)
            assert cell.verdict in ("contraindicated", "caution", "no_effect")
            assert cell.rationale and cell.source.kind
            if cell.verdict == "caution":
                assert cell.mitigation
            if cell.verdict == "contraindicated":
                assert cell.source.kind in STRONG_KINDS
                assert cell.basis in ("stated", "inferred")
            if cell.verdict != "no_effect":
                assert cell.rule and cell.rule.startswith(f"{modality}.")


def test_a_missing_pair_fails_validation(data):
    matrix, sources = data
    entry = _entry(matrix, conditions=["vitiligo"], verdict="no_effect")
    entry["modalities"].remove("plla")
    problems = validate_matrix_data(matrix, sources, load_vocabulary())
    assert problems == ["matrix.yaml: no verdict for condition vitiligo x plla"]


def test_a_pair_covered_twice_fails_validation(data):
    matrix, sources = data
    entry = _entry(matrix, conditions=["vitiligo"], verdict="no_effect")
    entry["modalities"].append("ipl")
    problems = validate_matrix_data(matrix, sources, load_vocabulary())
    assert any("condition vitiligo x ipl is also covered by" in p for p in problems)


def test_a_new_vocabulary_code_without_verdicts_fails_validation(data):
    import dataclasses

    from dermatrack.knowledge.vocabulary import Term

    matrix, sources = data
    vocab = load_vocabulary()
    conditions = {**vocab.conditions, "rosacea": Term("rosacea", "Rosacea")}
    problems = validate_matrix_data(matrix, sources,
                                    dataclasses.replace(vocab, conditions=conditions))
    assert problems == ["matrix.yaml: no verdict for condition rosacea x microneedling, "
                        "rf_microneedling, topical_retinoid, superficial_peel, medium_peel, "
                        "deep_peel, nonablative_fractional_laser, ablative_fractional_laser, "
                        "ipl, plla, caha"]


def test_a_hard_stop_on_a_web_page_is_refused(data):
    matrix, sources = data
    sources["sources"]["spa_page"] = {"kind": "web", "citation": "A spa's page."}
    _entry(matrix, rule="gold")["source"] = "spa_page"
    problems = validate_matrix_data(matrix, sources, load_vocabulary())
    assert problems and all("needs a label, guideline, consensus or peer-reviewed" in p
                            for p in problems)


def test_caution_needs_a_mitigation_and_rules_need_exposures(data):
    matrix, sources = data
    del _entry(matrix, rule="melasma")["mitigation"]
    _entry(matrix, rule="gold")["medications"] = ["gold_therapy"]
    problems = validate_matrix_data(matrix, sources, load_vocabulary())
    assert any(p.endswith(".mitigation: a caution needs a mitigation") for p in problems)
    assert any("medications.gold_therapy: a contraindicated rule needs an exposure" in p
               for p in problems)


def test_an_implying_code_may_not_be_milder_than_what_it_implies(data):
    matrix, sources = data
    cardiac = _entry(matrix, rule="cardiac")
    cardiac["conditions"].remove("pacemaker")
    _entry(matrix, conditions=["pacemaker"], verdict="no_effect")["modalities"].append(
        "deep_peel")
    problems = validate_matrix_data(matrix, sources, load_vocabulary())
    assert ("matrix.yaml: pacemaker x deep_peel is no_effect but pacemaker implies "
            "cardiac_conduction_disease, which is contraindicated there") in problems


def test_no_rule_cites_a_clinic_page_or_an_answer_site():
    weak = {"balancedayspa", "droracle", "skinpractice", "psk_darkskin", "tca_ae",
            "dermpearls2012"}
    for modality in load_modalities(load_vocabulary()).values():
        for rule in modality.contraindications:
            assert rule.source not in weak, rule.id
            assert modality.reference(rule.source).kind is not None, rule.id


VERDICTS_THE_ISSUE_FOUND_WRONG = [
    # (factor key, modality, verdict the sources give)
    ("medication:gold_therapy", "ipl", "contraindicated"),
    ("condition:systemic_lupus", "ipl", "contraindicated"),
    ("condition:autoimmune_disease", "ipl", "caution"),
    ("condition:active_acne", "caha", "contraindicated"),
    ("condition:active_acne", "plla", "contraindicated"),
    ("condition:pacemaker", "deep_peel", "contraindicated"),
    ("medication:isotretinoin", "medium_peel", "contraindicated"),
    ("medication:isotretinoin", "deep_peel", "contraindicated"),
    ("condition:active_cancer", "rf_microneedling", "contraindicated"),
    ("condition:active_cancer", "ablative_fractional_laser", "contraindicated"),
    ("condition:active_cancer", "nonablative_fractional_laser", "contraindicated"),
    ("condition:active_cancer", "medium_peel", "contraindicated"),
    ("condition:active_cancer", "deep_peel", "contraindicated"),
    ("medication:chemotherapy", "rf_microneedling", "contraindicated"),
    ("condition:active_dermatitis", "nonablative_fractional_laser", "contraindicated"),
    ("condition:radiotherapy_area", "rf_microneedling", "contraindicated"),
    ("condition:radiotherapy_area", "microneedling", "contraindicated"),
    ("skin_type:VI", "ipl", "contraindicated"),
    # ... and the other way
    ("medication:isotretinoin", "ablative_fractional_laser", "caution"),
    ("condition:breastfeeding", "ablative_fractional_laser", "caution"),
    ("condition:breastfeeding", "medium_peel", "caution"),
    ("condition:breastfeeding", "microneedling", "no_effect"),
    ("condition:body_dysmorphic_disorder", "microneedling", "contraindicated"),
    ("condition:unrealistic_expectations", "plla", "contraindicated"),
]


@pytest.mark.parametrize(("key", "modality", "verdict"), VERDICTS_THE_ISSUE_FOUND_WRONG)
def test_the_verdicts_the_issue_found_wrong(key, modality, verdict):
    assert load_matrix(load_vocabulary()).cell(key, modality).verdict == verdict


def test_exposure_windows_are_the_labels():
    matrix = load_matrix(load_vocabulary())
    assert matrix.cell("medication:gold_therapy", "ipl").exposure == "ever"
    assert matrix.cell("medication:isotretinoin", "medium_peel").exposure == (
        "within 6 calendar months")
    assert matrix.cell("medication:amiodarone", "ipl").exposure == "within 24 calendar months"
    assert matrix.cell("medication:amiodarone", "ipl").source.id == "goldberg2012"
    assert matrix.cell("medication:photosensitizing", "ipl").exposure == "current"


def test_the_docs_matrix_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == matrix_markdown(load_matrix(load_vocabulary())), (
        "regenerate with `.venv/bin/python -m dermatrack.knowledge.matrix > "
        "docs/contraindication-matrix.md`")


# ------------------------------------------------------------------ dermatrack kb matrix


def test_kb_matrix_json_and_one_modality(cli):
    r = cli("kb", "matrix", "--format", "json")
    assert r.code == 0, r.stderr
    data = r.json()
    matrix = load_matrix(load_vocabulary())
    assert len(data["cells"]) == len(matrix.cells)
    assert data["counts"] == matrix.counts()
    r = cli("kb", "matrix", "--modality", "ipl", "--json")
    cells = r.json()["cells"]
    assert len(cells) == len(matrix.factors) and {c["modality"] for c in cells} == {"ipl"}
    vi = next(c for c in cells if c["factor"] == "VI")
    assert (vi["verdict"], vi["rule"], vi["source"], vi["source_kind"]) == (
        "contraindicated", "ipl.very_dark_skin", "alexis2013", "peer_reviewed")


def test_kb_matrix_csv_and_table(cli):
    r = cli("kb", "matrix", "--format", "csv", "--modality", "deep_peel")
    assert r.code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == len(load_matrix(load_vocabulary()).factors)
    pacemaker = next(row for row in rows if row["factor"] == "pacemaker")
    assert (pacemaker["verdict"], pacemaker["rule"], pacemaker["source"]) == (
        "contraindicated", "deep_peel.cardiac", "landau2007")
    r = cli("kb", "matrix")
    assert r.code == 0 and "systemic_lupus" in r.stdout and "X contraindicated" in r.stdout
    r = cli("kb", "matrix", "--modality", "caha")
    assert r.code == 0 and "radiesse_ifu" in r.stdout


def test_kb_matrix_bad_options(cli):
    r = cli("kb", "matrix", "--format", "xml")
    assert r.code == 2 and "--format" in r.stderr
    r = cli("kb", "matrix", "--modality", "iplx")
    assert r.code == 2 and "did you mean ipl" in r.stderr
