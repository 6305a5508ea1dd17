"""One test per knowledge-base rule: a patient it fires for and one it does not.

The patients are built from each rule's own predicate tree by a small "witness" builder:
:func:`satisfy` adds the facts that make a predicate hold, :func:`refute` the facts that make
it fail as narrowly as possible (a medication one day outside its window, the age one year
across the bound, every other part of an ``all`` still true). Both patients go through the
real intake (so every code in the rule must be a vocabulary code) and the real engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from clinic_helpers import ON, parse_patient

from dermatrack.clinic.dates import add_months
from dermatrack.clinic.intake import FITZPATRICK_TYPES, SEXES
from dermatrack.clinic.screening import screen_modality
from dermatrack.knowledge.modalities import (
    AgeAtLeast,
    AgeBand,
    AgeBelow,
    All,
    Allergy,
    Any,
    Condition,
    Fitzpatrick,
    Medication,
    Sex,
    load_modalities,
)
from dermatrack.knowledge.vocabulary import load_vocabulary

#: Age used when no rule constrains it.
USUAL_AGE = 40


@dataclass
class Witness:
    """Constraints on one patient, turned into PATIENT.json by :meth:`patient`."""

    conditions: set[str] = field(default_factory=set)
    allergies: set[str] = field(default_factory=set)
    medications: dict[str, dict] = field(default_factory=dict)
    phototypes: set[str] = field(default_factory=lambda: set(FITZPATRICK_TYPES))
    ages: set[int] = field(default_factory=lambda: set(range(126)))
    sexes: set[str | None] = field(default_factory=lambda: {None, *SEXES})

    def patient(self) -> dict:
        assert self.phototypes, "no Fitzpatrick type satisfies the rule"
        assert self.ages, "no age satisfies the rule"
        assert self.sexes, "no sex satisfies the rule"
        age = USUAL_AGE if USUAL_AGE in self.ages else min(self.ages)
        data = {"age": age, "fitzpatrick": min(self.phototypes, key=FITZPATRICK_TYPES.index),
                "concerns": [], "conditions": sorted(self.conditions),
                "medications": [{"code": c, **use}
                                for c, use in sorted(self.medications.items())],
                "allergies": sorted(self.allergies)}
        sex = None if None in self.sexes else sorted(self.sexes)[0]
        if sex is not None:
            data["sex"] = sex
        return data


def _band_ages(codes) -> set[int]:
    bands = load_vocabulary().age_bands
    return {age for code in codes
            for age in range(bands[code].min_years, bands[code].max_years + 1)}


def _day(days_ago: int) -> str:
    return (ON - dt.timedelta(days=days_ago)).isoformat()


def satisfy(predicate, witness: Witness) -> None:
    """Add to ``witness`` what makes ``predicate`` true."""
    match predicate:
        case Condition(code=code):
            witness.conditions.add(code)
        case Allergy(code=code):
            witness.allergies.add(code)
        case Medication(code=code, ever=True):
            # Past use without a date: "ever" must count it.
            witness.medications[code] = {"ongoing": False}
        case Medication(code=code, within_months=int(months)):
            # Last taken exactly N calendar months before: the anniversary still counts.
            witness.medications[code] = {"last_taken": add_months(ON, -months).isoformat(),
                                         "ongoing": False}
        case Medication(code=code, within_days=None):
            witness.medications[code] = {"ongoing": True}
        case Medication(code=code, within_days=days):
            # Last taken on the window's last day: the boundary must still count.
            witness.medications[code] = {"last_taken": _day(days), "ongoing": False}
        case Fitzpatrick(types=types):
            witness.phototypes &= set(types)
        case AgeBand(codes=codes):
            witness.ages &= _band_ages(codes)
        case Sex(codes=codes):
            witness.sexes &= set(codes)
        case AgeBelow(years=years):
            witness.ages &= set(range(years))
        case AgeAtLeast(years=years):
            witness.ages -= set(range(years))
        case All(predicates=items):
            for item in items:
                satisfy(item, witness)
        case Any(predicates=items):
            satisfy(items[0], witness)
        case _:
            raise AssertionError(f"no witness for {predicate!r}")


def refute(predicate, witness: Witness) -> None:
    """Add to ``witness`` what makes ``predicate`` false, as narrowly as possible."""
    match predicate:
        case Condition() | Allergy():
            pass  # simply not recorded
        case Medication(ever=True):
            pass  # any recorded use counts, so only no use refutes it
        case Medication(code=code, within_months=int(months)):
            day_after = add_months(ON, -months) - dt.timedelta(days=1)
            witness.medications[code] = {"last_taken": day_after.isoformat(), "ongoing": False}
        case Medication(code=code, within_days=None):
            # Stopped a month ago: past use alone must not fire a current-use rule.
            witness.medications[code] = {"last_taken": _day(30), "ongoing": False}
        case Medication(code=code, within_days=days):
            witness.medications[code] = {"last_taken": _day(days + 1), "ongoing": False}
        case Fitzpatrick(types=types):
            witness.phototypes -= set(types)
        case AgeBand(codes=codes):
            witness.ages -= _band_ages(codes)
        case Sex(codes=codes):
            witness.sexes -= set(codes)
            if "unknown" in codes:
                witness.sexes.discard(None)
        case AgeBelow(years=years):
            witness.ages -= set(range(years))
        case AgeAtLeast(years=years):
            witness.ages &= set(range(years))
        case All(predicates=items):
            for item in items[1:]:
                satisfy(item, witness)
            refute(items[0], witness)
        case Any(predicates=items):
            for item in items:
                refute(item, witness)
        case _:
            raise AssertionError(f"no witness for {predicate!r}")


def _all_rules():
    return [(modality, rule) for modality in load_modalities(load_vocabulary()).values()
            for rule in modality.contraindications]


RULES = _all_rules()


def test_the_knowledge_base_has_rules_to_test():
    assert len(RULES) >= 10
    assert {rule.kind for _, rule in RULES} == {"absolute", "relative"}


@pytest.mark.parametrize(("modality", "rule"), RULES, ids=[r.id for _, r in RULES])
def test_rule_fires_for_its_witness_and_not_for_its_refutation(modality, rule):
    firing = Witness()
    satisfy(rule.when, firing)
    result = screen_modality(parse_patient(firing.patient(), on=ON), modality, ON)
    fired = {reason.rule: reason for reason in result.reasons}
    assert rule.id in fired, firing.patient()
    assert fired[rule.id].matched, "a fired rule must say which facts matched"
    assert fired[rule.id].source.startswith(f"{rule.source}: ")
    if rule.kind == "absolute":
        assert result.verdict == "contraindicated"
    else:
        assert result.verdict in ("caution", "contraindicated")
        assert fired[rule.id].mitigation

    quiet = Witness()
    refute(rule.when, quiet)
    result = screen_modality(parse_patient(quiet.patient(), on=ON), modality, ON)
    assert rule.id not in {reason.rule for reason in result.reasons}, quiet.patient()
