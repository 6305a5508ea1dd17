"""Colorimeter readings: ITA° and its classes, device indices, illuminants, bad rows."""

from __future__ import annotations

import math

import pytest

from dermatrack.devices.colorimetry import (
    adapt_to_d65,
    ita_category,
    ita_degrees,
    parse_colour_csv,
)
from dermatrack.errors import InputError


def test_ita_uses_atan2():
    assert ita_degrees(50.0 + 10.0, 10.0) == pytest.approx(45.0)
    assert ita_degrees(70.0, 0.0) == pytest.approx(90.0)  # b* = 0 is defined
    assert ita_degrees(30.0, 20.0) == pytest.approx(math.degrees(math.atan(-20.0 / 20.0)))


@pytest.mark.parametrize("ita,category", [
    (60.0, "very light"), (55.0, "light"), (41.5, "light"), (41.0, "intermediate"),
    (30.0, "intermediate"), (28.0, "tanned"), (10.0, "brown"), (0.0, "brown"),
    (-30.0, "brown"), (-30.1, "dark"), (-60.0, "dark"),
])
def test_ita_categories(ita, category):
    assert ita_category(ita) == category


def test_rows_with_tolerant_headers_and_device_indices():
    text = ("# device: CM-700d + MX18\n"
            "Site, L* ,A_star,b star,Melanin Index,erythema_index\n"
            "cheek,65.0,10.5,15.0,180,320\n"
            "forehead,45.0,12.0,20.0,420,\n")
    readings = parse_colour_csv(text)
    assert [r.row for r in readings] == [3, 4]
    first, second = readings
    assert first.ita_deg == pytest.approx(math.degrees(math.atan2(15.0, 15.0)))
    assert first.ita_category == "light"  # 45°
    assert first.melanin_index == 180 and first.erythema_index == 320
    assert first.extra == {"Site": "cheek"}
    assert second.ita_category == "brown"
    assert second.erythema_index is None
    data = first.to_json()
    assert {"l_star", "a_star", "b_star", "ita_deg", "ita_category", "melanin_index",
            "erythema_index"} <= set(data)


def test_other_illuminant_is_adapted_to_d65():
    readings = parse_colour_csv("L,a,b,illuminant,observer\n"
                                "100,0,0,D50,2\n"
                                "60,10,15,D50,2°\n"
                                "60,10,15,d65,\n")
    white, adapted, native = readings
    # The source white maps onto the target white under a von Kries transform.
    assert (white.l_star, white.a_star, white.b_star) == pytest.approx((100.0, 0.0, 0.0),
                                                                     abs=1e-6)
    assert adapted.adapted_from == "D50"
    assert native.adapted_from is None and native.b_star == 15.0
    # Bradford von Kries by hand: cone responses scaled by the ratio of the two whites.
    import colour
    import numpy as np

    whites = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]
    bradford = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367],
                         [0.0389, -0.0685, 1.0296]])
    src, dst = colour.xy_to_XYZ(whites["D50"]), colour.xy_to_XYZ(whites["D65"])
    scale = np.diag((bradford @ dst) / (bradford @ src))
    xyz = colour.Lab_to_XYZ(np.array([60.0, 10.0, 15.0]), whites["D50"])
    expected = colour.XYZ_to_Lab(np.linalg.inv(bradford) @ scale @ bradford @ xyz,
                                 whites["D65"])
    assert (adapted.l_star, adapted.a_star, adapted.b_star) == pytest.approx(
        tuple(expected), abs=1e-6)
    assert adapt_to_d65((60.0, 10.0, 15.0), "D65") == pytest.approx((60.0, 10.0, 15.0))


@pytest.mark.parametrize("text,message,line", [
    ("L,a\n50,10\n", "missing column", 1),
    ("L,a,b\n50,10\n", "cells", 2),
    ("L,a,b\n50,10,x\n", "not a number", 2),
    ("L,a,b\n50,10,20\n120,10,20\n", "outside 0-100", 3),
    ("L,a,b\n-1,10,20\n", "outside 0-100", 2),
    ("L,a,b,melanin_index\n50,10,20,1500\n", "0-999", 2),
    ("L,a,b,observer\n50,10,20,10\n", "10° observer", 2),
    ("L,a,b,illuminant\n50,10,20,XYZ\n", "unknown illuminant", 2),
    ("L,a,b\n", "no readings", 1),
    ("", "empty", None),
    ("L,a,b,L*\n50,1,2,50\n", "repeats", 1),
])
def test_bad_tables_are_refused_naming_row_and_column(text, message, line):
    with pytest.raises(InputError, match=message) as error:
        parse_colour_csv(text)
    assert error.value.line == line
