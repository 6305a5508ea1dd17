"""Clinician scales: levels, sources, totals from items and every kind of bad score."""

from __future__ import annotations

import pytest

from dermatrack.clinic.scales import get_scale, load_scales, validate_score
from dermatrack.errors import InputError


def test_bundled_scales_and_their_ranges():
    scales = load_scales()
    assert set(scales) == {"fitzpatrick", "glogau", "gais_clinician", "gais_subject",
                           "goodman_baron_qualitative", "vancouver_scar_scale"}
    expected_ranges = {"fitzpatrick": (1, 6), "glogau": (1, 4), "gais_clinician": (1, 5),
                       "gais_subject": (1, 5), "goodman_baron_qualitative": (1, 4),
                       "vancouver_scar_scale": (0, 13)}
    for code, scale in scales.items():
        assert (scale.min, scale.max) == expected_ranges[code], code
        assert scale.source and scale.name
    vss = scales["vancouver_scar_scale"]
    assert [(i.code, i.min, i.max) for i in vss.items] == [
        ("vascularity", 0, 3), ("pigmentation", 0, 2), ("pliability", 0, 5), ("height", 0, 3)]
    assert scales["fitzpatrick"].improvement == "none"
    assert scales["gais_clinician"].improvement == "lower"  # 1 is "very much improved"


def test_vancouver_total_is_the_sum_of_items():
    items = {"vascularity": 2, "pigmentation": 1, "pliability": 3, "height": 1}
    result = validate_score("vancouver_scar_scale", "1990", items, None)
    assert result.total == 7.0  # 2 + 1 + 3 + 1
    assert result.item_scores == items
    assert validate_score("vancouver_scar_scale", None, items, 7).total == 7.0
    assert validate_score("vancouver_scar_scale", None, None, 13).total == 13.0


@pytest.mark.parametrize(("items", "total", "field", "words"), [
    ({"vascularity": 2, "pigmentation": 1, "pliability": 3, "height": 1}, 8, "total",
     "sum to 7"),
    ({"vascularity": 2, "pigmentation": 1, "pliability": 6, "height": 1}, None,
     "item_scores.pliability", "0 to 5"),
    ({"vascularity": 2, "pigmentation": 1.5, "pliability": 3, "height": 1}, None,
     "item_scores.pigmentation", "whole number"),
    ({"vascularity": 2, "pigmentation": 1, "pliability": 3, "hight": 1}, None,
     "item_scores.hight", "did you mean height"),
    ({"vascularity": 2, "pigmentation": 1, "pliability": 3}, None, "item_scores.height",
     "missing"),
    ({"vascularity": "2", "pigmentation": 1, "pliability": 3, "height": 1}, None,
     "item_scores.vascularity", "number"),
    (None, 14, "total", "out of range"),
    (None, None, "item_scores", "needs"),
])
def test_vancouver_bad_scores_name_the_item(items, total, field, words):
    with pytest.raises(InputError) as err:
        validate_score("vancouver_scar_scale", None, items, total)
    assert err.value.field == field
    assert words in err.value.message


def test_ordinal_scales_give_the_level_label():
    assert validate_score("gais_clinician", "5-point", None, 2).label == "Much improved"
    assert validate_score("goodman_baron_qualitative", None, None, 4).label == "Severe"
    assert validate_score("fitzpatrick", None, None, 4).label == "IV Type IV"
    assert validate_score("glogau", None, None, 3).label == "III Advanced"


@pytest.mark.parametrize(("instrument", "version", "items", "total", "field"), [
    ("gais_subject", None, None, 6, "total"),
    ("gais_subject", None, None, 0, "total"),
    ("gais_subject", None, None, None, "total"),
    ("gais_subject", None, {"overall": 2}, 2, "item_scores"),
    ("glogau", "2001", None, 2, "version"),
    ("gais", None, None, 2, "instrument"),
])
def test_bad_ordinal_scores(instrument, version, items, total, field):
    with pytest.raises(InputError) as err:
        validate_score(instrument, version, items, total)
    assert err.value.field == field


def test_unknown_instrument_suggests_close_codes():
    with pytest.raises(InputError, match="did you mean glogau"):
        get_scale("glogua")
