"""Patient vignettes written from the sources, screened against the bundled knowledge base.

``vignettes/vignettes.yaml`` holds at least 60 patients. Each states the verdict the sources
give for some modalities, the rule that must fire and the source it rests on. Besides those
expectations, every vignette is checked against the matrix as an oracle: no modality whose
matrix cell is ``contraindicated`` for a factor the patient has now may come back
``suitable`` (nor ``caution``), and no factor with a non-``no_effect`` cell is passed silently.
Together the vignettes exercise every row of the matrix (every vocabulary factor).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from clinic_helpers import ON, parse_patient

from dermatrack.clinic.planning import plan
from dermatrack.clinic.screening import implied_conditions, screen
from dermatrack.knowledge.matrix import STRONG_KINDS, load_matrix
from dermatrack.knowledge.modalities import load_modalities
from dermatrack.knowledge.vocabulary import load_vocabulary

VIGNETTES = yaml.safe_load((Path(__file__).parent / "vignettes" / "vignettes.yaml")
                           .read_text(encoding="utf-8"))
BASE = {"age": 40, "sex": "female", "fitzpatrick": "II", "concerns": [], "conditions": [],
        "medications": [], "allergies": []}


def _profile(vignette):
    on = dt.date.fromisoformat(vignette.get("on", ON.isoformat()))
    return parse_patient({**BASE, **vignette["patient"]}, on=on), on


def _factor_keys(profile, *, active_only: bool) -> set[str]:
    """The matrix rows this patient has: active now (windows aside) or merely listed."""
    vocab = load_vocabulary()
    keys = set()
    for code in (*profile.conditions, *profile.allergies):
        kind = "allergy" if vocab.conditions[code].group == "allergy" else "condition"
        keys.add(f"{kind}:{code}")
    if active_only:
        for code in implied_conditions(profile):
            kind = "allergy" if vocab.conditions[code].group == "allergy" else "condition"
            keys.add(f"{kind}:{code}")
    for use in profile.medications:
        if not active_only or use.ongoing:
            keys.add(f"medication:{use.code}")
    keys.add(f"age_band:{vocab.age_band(profile.age)}")
    keys.add(f"skin_type:{profile.fitzpatrick}")
    keys.add(f"sex:{profile.sex or 'unknown'}")
    return keys


def test_there_are_at_least_sixty_vignettes_with_unique_ids():
    ids = [v["id"] for v in VIGNETTES]
    assert len(ids) >= 60
    assert len(ids) == len(set(ids))


def test_the_vignettes_exercise_every_row_of_the_matrix():
    seen = set()
    for vignette in VIGNETTES:
        seen |= _factor_keys(_profile(vignette)[0], active_only=False)
    rows = {factor.key for factor in load_matrix(load_vocabulary()).factors}
    assert rows - seen == set()


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_vignette(vignette):
    profile, on = _profile(vignette)
    matrix = load_matrix(load_vocabulary())
    result = screen(profile, load_modalities(load_vocabulary()), on).by_modality()
    assert [w.field for w in profile.warnings] == vignette.get("warnings", [])
    assert [w.field for w in screen(profile, load_modalities(load_vocabulary()), on).warnings] == (
        vignette.get("warnings", []))
    listed = _factor_keys(profile, active_only=False) | _factor_keys(profile, active_only=True)
    for modality, expected in vignette["expect"].items():
        got = result[modality]
        verdict, source = expected[0], expected[-1]
        assert source in matrix.sources, source
        assert got.verdict == verdict, (modality, [r.rule for r in got.reasons])
        if verdict == "suitable":
            assert len(expected) == 2
            # The source must be one the matrix cites for this patient's rows here.
            assert source in {matrix.cell(key, modality).source.id for key in listed}
            continue
        rule = expected[1]
        fired = {reason.rule: reason for reason in got.reasons}
        assert rule in fired, (modality, list(fired))
        assert fired[rule].source.startswith(f"{source}: ")
        assert fired[rule].kind == ("absolute" if verdict == "contraindicated" else "relative")
        if verdict == "contraindicated":
            assert matrix.sources[source].kind in STRONG_KINDS


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_no_hard_stop_is_ever_returned_suitable(vignette):
    """The matrix as oracle: every modality, not only the ones the vignette names."""
    profile, on = _profile(vignette)
    matrix = load_matrix(load_vocabulary())
    active = _factor_keys(profile, active_only=True)
    listed = _factor_keys(profile, active_only=False)
    results = screen(profile, load_modalities(load_vocabulary()), on).by_modality()
    for modality, got in results.items():
        cells = [matrix.cell(key, modality) for key in active]
        if any(cell.verdict == "contraindicated" for cell in cells):
            assert got.verdict == "contraindicated", (modality, sorted(active))
        elif any(cell.verdict == "caution" for cell in cells):
            assert got.verdict != "suitable", (modality, sorted(active))
        if got.verdict != "suitable":
            # Something the patient has must explain it: no rule fires from nowhere.
            assert any(matrix.cell(key, modality).verdict != "no_effect"
                       for key in active | listed), modality


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_the_plan_never_recommends_a_contraindicated_modality(vignette):
    profile, on = _profile(vignette)
    concerns = [{"code": "acne_scars", "region": "cheeks", "severity": 3},
                {"code": "fine_lines", "region": "periorbital", "severity": 2},
                {"code": "dyspigmentation", "region": "cheeks", "severity": 2},
                {"code": "volume_loss", "region": "cheeks", "severity": 2}]
    data = {**BASE, **vignette["patient"], "concerns": concerns}
    profile = parse_patient(data, on=on)
    screening = screen(profile, load_modalities(load_vocabulary()), on).by_modality()
    result = plan(profile, load_modalities(load_vocabulary()), on, on)
    for item in result.recommended:
        assert screening[item.modality].verdict != "contraindicated"
        for reason in screening[item.modality].mitigations:
            assert any(reason.rule in step for step in item.pre_care), (item.modality,
                                                                         reason.rule)
    hard = {code for code, s in screening.items() if s.verdict == "contraindicated"}
    assert hard.isdisjoint(r.modality for r in result.recommended)
