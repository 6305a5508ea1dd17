"""Wilson intervals and adverse-event rates."""

from __future__ import annotations

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from dermatrack.errors import InputError
from dermatrack.outcomes.proportions import wilson_interval
from dermatrack.outcomes.safety import (
    PIH_TERMS,
    adverse_event_rates,
    is_related,
    pih_rate_by_fitzpatrick,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # By hand from Wilson's formula with z = 1.959964.
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 20, 0.0089, 0.2361),
    ],
)
def test_wilson_by_hand(successes, n, low, high):
    result = wilson_interval(successes, n)
    assert result.rate == successes / n
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-4)


@pytest.mark.parametrize(("successes", "n"), [(0, 1), (1, 1), (3, 7), (17, 40), (99, 100)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(successes, n, confidence):
    result = wilson_interval(successes, n, confidence)
    reference = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    assert (result.ci_low, result.ci_high) == pytest.approx(reference, abs=1e-12)


def test_wilson_edge_cases():
    empty = wilson_interval(0, 0)
    assert empty.rate is None and empty.ci_low is None and empty.n == 0
    for successes, n in ((3, 2), (-1, 5), (1.5, 3), (True, 3)):
        with pytest.raises(InputError):
            wilson_interval(successes, n)
    with pytest.raises(InputError):
        wilson_interval(1, 2, confidence=1.0)


SESSIONS = pd.DataFrame({
    "session": ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"],
    "patient": ["a", "a", "a", "b", "b", "c", "c", "d"],
    "fitzpatrick": ["II", "II", "II", "V", "V", 4, 4, "V"],
})
EVENTS = pd.DataFrame({
    "session": ["s1", "s1", "s4", "s7"],
    "severity": [1, 2, 1, 3],
    "relatedness": ["possible", "unlikely", "Probable/likely", "unassessable"],
    "term": ["erythema persisting", "acne", "Post-inflammatory hyperpigmentation", "PIH"],
})


def test_rates_per_session_and_patient():
    summary = adverse_event_rates(SESSIONS, EVENTS)
    assert (summary.n_sessions, summary.n_patients) == (8, 4)
    # Sessions s1, s4, s7 had events; patients a, b, c.
    assert summary.any_event.n_events == 4
    assert (summary.any_event.per_session.successes, summary.any_event.per_session.n) == (3, 8)
    assert (summary.any_event.per_patient.successes, summary.any_event.per_patient.n) == (3, 4)
    assert summary.any_event.per_session == wilson_interval(3, 8)


def test_rates_by_severity_and_relatedness():
    summary = adverse_event_rates(SESSIONS, EVENTS)
    grade1 = summary.by_severity[1]
    assert (grade1.n_events, grade1.per_session.successes, grade1.per_patient.successes) == (
        2, 2, 2)
    assert summary.by_severity[3].per_patient.successes == 1
    assert summary.by_severity[5].n_events == 0
    assert summary.by_severity[5].per_session.ci_low == 0.0
    related = summary.by_relatedness["related"]
    unrelated = summary.by_relatedness["not related"]
    assert (related.n_events, related.per_patient.successes) == (2, 2)  # s1 possible, s4
    assert (unrelated.n_events, unrelated.per_session.successes) == (2, 2)  # s1, s7
    assert set(summary.to_dict()["by_severity"]) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("category", "related"),
    [("certain", True), ("probably-likely", True), ("Probable", True), ("possible", True),
     ("unlikely", False), ("conditional-classified", False), ("Unassessable", False),
     ("unassessable-unclassifiable", False)],
)
def test_who_umc_relatedness(category, related):
    assert is_related(category) is related


def test_no_events_and_bad_events():
    summary = adverse_event_rates(SESSIONS, EVENTS.iloc[0:0])
    assert summary.any_event.per_session.rate == 0.0
    with pytest.raises(InputError) as caught:
        adverse_event_rates(SESSIONS, EVENTS.assign(severity=[1, 2, 6, 1]))
    assert (caught.value.field, caught.value.line) == ("severity", 3)
    with pytest.raises(InputError) as caught:
        adverse_event_rates(SESSIONS, EVENTS.assign(relatedness=["possible", "maybe", "x", "y"]))
    assert (caught.value.field, caught.value.line) == ("relatedness", 2)
    with pytest.raises(InputError) as caught:
        adverse_event_rates(SESSIONS, EVENTS.assign(session=["s1", "s1", "s9", "s7"]))
    assert (caught.value.field, caught.value.line) == ("session", 3)
    with pytest.raises(InputError) as caught:
        adverse_event_rates(SESSIONS, EVENTS.drop(columns="severity"))
    assert caught.value.field == "severity"
    with pytest.raises(InputError):
        adverse_event_rates(pd.concat([SESSIONS, SESSIONS.iloc[[0]]]), EVENTS)


def test_pih_by_fitzpatrick_type():
    rates = pih_rate_by_fitzpatrick(SESSIONS, EVENTS)
    assert list(rates) == ["I", "II", "III", "IV", "V", "VI"]
    assert (rates["V"].successes, rates["V"].n) == (1, 2)  # b of b, d
    assert (rates["IV"].successes, rates["IV"].n) == (1, 1)  # c
    assert (rates["II"].successes, rates["II"].n) == (0, 1)
    assert rates["I"].n == 0 and rates["I"].rate is None
    assert rates["V"] == wilson_interval(1, 2)


def test_pih_terms_include_the_vocabulary_code_records_use():
    from dermatrack.knowledge.vocabulary import load_vocabulary

    (code,) = [c for c in load_vocabulary().terms("adverse_events")
               if "hyperpigmentation" in c and "inflammatory" in c]
    assert code in PIH_TERMS
    coded = EVENTS.assign(term=EVENTS["term"].replace(
        {"Post-inflammatory hyperpigmentation": code, "PIH": code}))
    assert pih_rate_by_fitzpatrick(SESSIONS, coded) == pih_rate_by_fitzpatrick(SESSIONS, EVENTS)


def test_pih_rejects_conflicting_phototypes():
    sessions = SESSIONS.copy()
    sessions.loc[1, "fitzpatrick"] = "III"
    with pytest.raises(InputError) as caught:
        pih_rate_by_fitzpatrick(sessions, EVENTS)
    assert (caught.value.field, caught.value.line) == ("fitzpatrick", 2)
