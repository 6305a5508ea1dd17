"""Reflectance spectra: CIELAB against published ColorChecker values and colour-science's own
integration, the log-inverse-reflectance indices against hand-computed values, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dermatrack.devices.colorimetry import parse_colour_csv
from dermatrack.devices.spectra import (
    dawson_indices,
    diffey_indices,
    spectrum_to_xyz_lab,
)
from dermatrack.errors import InputError

WAVELENGTHS = np.arange(400.0, 701.0, 10.0)


def spectral_csv(spectra: dict[str, np.ndarray], wavelengths=WAVELENGTHS, *, percent=True,
                 header: str = "", suffix: str = "nm") -> str:
    lines = [header + "Sample," + ",".join(f"{w:g}{suffix}" for w in wavelengths)]
    for name, values in spectra.items():
        scaled = values * (100.0 if percent else 1.0)
        lines.append(name + "," + ",".join(f"{v:.6f}" for v in scaled))
    return "\n".join(lines) + "\n"


def babelcolor():
    import colour

    return colour.SDS_COLOURCHECKERS["BabelColor Average"], \
        colour.CCS_COLOURCHECKERS["BabelColor Average"]


def test_colorchecker_spectra_give_the_published_chromaticities():
    """BabelColor's average ColorChecker spectra (380-730 nm) under D50/2° give BabelColor's
    published xyY for all 24 patches, including 'dark skin' and 'light skin'."""
    sds, published = babelcolor()
    names = list(sds)
    wavelengths = sds[names[0]].wavelengths
    text = spectral_csv({n.replace(",", " "): sds[n].values for n in names}, wavelengths,
                        percent=False)
    readings = parse_colour_csv(text, illuminant="D50", observer="2")
    assert len(readings) == 24
    for name, reading in zip(names, readings, strict=True):
        xyz = np.array(reading.xyz)
        x, y = xyz[0] / xyz.sum(), xyz[1] / xyz.sum()
        ref = published.data[name]
        assert x == pytest.approx(ref[0], abs=1.5e-3), name
        assert y == pytest.approx(ref[1], abs=1.5e-3), name
        assert xyz[1] / 100 == pytest.approx(ref[2], abs=2e-3), name


@pytest.mark.parametrize("illuminant,observer", [("D65", "2"), ("A", "10"), ("F2", "2"),
                                                 ("D50", "10")])
def test_lab_equals_colour_science_integration(illuminant, observer):
    """Against colour-science's independent chain: plain integration (not the ASTM E308
    tables) and the tabulated white point; the two agree to a few hundredths of a unit."""
    import colour

    sds, _ = babelcolor()
    sd = sds["light skin"]
    cmfs_name = {"2": "CIE 1931 2 Degree Standard Observer",
                 "10": "CIE 1964 10 Degree Standard Observer"}[observer]
    key = "FL2" if illuminant == "F2" else illuminant
    expected_xyz = colour.sd_to_XYZ(sd, colour.MSDS_CMFS[cmfs_name],
                                    colour.SDS_ILLUMINANTS[key], method="Integration")
    expected = colour.XYZ_to_Lab(expected_xyz / 100, colour.CCS_ILLUMINANTS[cmfs_name][key])
    (reading,) = parse_colour_csv(spectral_csv({"s": sd.values}, sd.wavelengths),
                                  illuminant=illuminant, observer=observer)
    assert reading.illuminant == key and reading.observer == observer
    lab = np.array([reading.l_star, reading.a_star, reading.b_star])
    assert np.max(np.abs(lab - expected)) < 0.15
    assert colour.delta_E(lab, expected, method="CIE 2000") < 0.1


def test_observer_and_illuminant_change_the_result():
    sds, _ = babelcolor()
    text = spectral_csv({"s": sds["dark skin"].values}, sds["dark skin"].wavelengths)
    two = parse_colour_csv(text)[0]
    ten = parse_colour_csv(text, observer="10")[0]
    tungsten = parse_colour_csv(text, illuminant="A")[0]
    assert (two.illuminant, two.observer) == ("D65", "2")
    assert abs(two.a_star - ten.a_star) > 0.1
    assert abs(two.a_star - tungsten.a_star) > 1.0


def test_perfect_white_is_l100_and_the_scale_is_detected():
    ones = np.ones_like(WAVELENGTHS)
    (percent,) = parse_colour_csv(spectral_csv({"w": ones}))
    (fraction,) = parse_colour_csv(spectral_csv({"w": ones}, percent=False))
    for reading in (percent, fraction):
        assert reading.l_star == pytest.approx(100.0, abs=1e-9)
        assert reading.a_star == pytest.approx(0.0, abs=1e-9)
        assert reading.b_star == pytest.approx(0.0, abs=1e-9)
    assert percent.reflectance_scale.startswith("percent")
    assert fraction.reflectance_scale.startswith("fraction")
    # A declared scale wins over the detection: 1.0 read as 1 % is a dark grey.
    (declared,) = parse_colour_csv(spectral_csv({"w": ones}, percent=False,
                                                header="# reflectance: percent\n"))
    assert declared.reflectance_scale == "percent"
    assert declared.xyz[1] == pytest.approx(1.0, rel=1e-9)


def test_indices_of_a_flat_spectrum():
    """R = 0.5 everywhere: A = log10 2 at every wavelength, so the slope (Dawson MI), the
    haemoglobin bump (Dawson EI) and the green-red difference (Diffey EI) are all 0, and
    Diffey's MI is 100 log10 2."""
    flat = np.full_like(WAVELENGTHS, 0.5)
    mi_d, ei_d = dawson_indices(WAVELENGTHS, flat)
    mi_r, ei_r = diffey_indices(WAVELENGTHS, flat)
    assert mi_d == pytest.approx(0.0, abs=1e-12) and ei_d == pytest.approx(0.0, abs=1e-12)
    assert mi_r == pytest.approx(100 * math.log10(2), rel=1e-12)
    assert ei_r == pytest.approx(0.0, abs=1e-12)


def test_indices_of_a_melanin_slope_and_a_haemoglobin_bump():
    """A linear absorbance A = k (800 - λ)/100 has Dawson MI = 50 k and Dawson EI = 0 (the
    510-610 baseline removes any straight line); a bump at 540-580 nm raises EI only."""
    k = 0.4
    absorbance = k * (800.0 - WAVELENGTHS) / 100.0
    mi, ei = dawson_indices(WAVELENGTHS, 10 ** -absorbance)
    assert mi == pytest.approx(50 * k, rel=1e-12)
    assert ei == pytest.approx(0.0, abs=1e-10)
    bump = 0.1 * np.isin(WAVELENGTHS, [540.0, 560.0, 580.0])
    mi2, ei2 = dawson_indices(WAVELENGTHS, 10 ** -(absorbance + bump))
    assert mi2 == pytest.approx(mi, rel=1e-12)
    # 100 [0.1 + 1.5 (0.1 + 0.1)] = 40
    assert ei2 == pytest.approx(40.0, rel=1e-12)


def test_diffey_indices_at_568_and_655_nm():
    wavelengths = np.arange(500.0, 701.0, 1.0)
    reflectance = np.where(wavelengths < 600, 0.2, 0.6)
    mi, ei = diffey_indices(wavelengths, reflectance)
    assert mi == pytest.approx(-100 * math.log10(0.6), rel=1e-12)
    assert ei == pytest.approx(100 * (math.log10(1 / 0.2) - math.log10(1 / 0.6)), rel=1e-12)


def test_short_range_leaves_uncovered_indices_empty():
    wavelengths = np.arange(400.0, 641.0, 10.0)
    (reading,) = parse_colour_csv(spectral_csv({"s": np.full(len(wavelengths), 0.4)},
                                               wavelengths))
    assert reading.indices["melanin_index_dawson"] is None
    assert reading.indices["erythema_index_dawson"] is not None
    assert reading.indices["melanin_index_diffey"] is None


def test_spectra_agree_with_the_xyz_function():
    sds, _ = babelcolor()
    sd = sds["dark skin"]
    (reading,) = parse_colour_csv(spectral_csv({"s": sd.values}, sd.wavelengths,
                                               suffix=""))
    xyz, lab = spectrum_to_xyz_lab(sd.wavelengths, sd.values)
    assert reading.xyz == pytest.approx(tuple(xyz), rel=1e-12)
    assert reading.l_star == pytest.approx(lab[0], rel=1e-12)
    assert reading.extra == {"Sample": "s"}


@pytest.mark.parametrize("text,kwargs,words", [
    ("S,400,410,420,430,450\nx,1,2,3,4,5\n", {}, "equally spaced"),
    ("S,400,405,410,415,420,425\nx,1,2,3,4,5,6\n", {"illuminant": "D99"}, "illuminant"),
    ("S,400,410,420,430,440\nx,1,2,3,4,5\n", {"observer": "5"}, "observer"),
    ("S,400,410,420,430,440\nx,1,2,three,4,5\n", {}, "420"),
    ("S,400,410,420,430,440\nx,1,2,,4,5\n", {}, "missing"),
    ("S,400,410,420,430,440\nx,1,2,3,4\n", {}, "cells"),
    ("S,400,410,420,430,440\nx,10,20,30,40,180\n", {}, "outside"),
    ("S,400,410,420,430,440\nx,10,20,-3,40,50\n", {}, "outside"),
    ("S,400,410,420,430,440\n", {}, "no readings"),
    ("S,400,403,406,409,412\nx,1,2,3,4,5\n", {}, "ASTM E308"),
    ("S,400,410,410,420,430,440\nx,1,2,3,4,5,6\n", {}, "repeated"),
    ("# reflectance: permille\nS,400,410,420,430,440\nx,1,2,3,4,5\n", {}, "percent"),
])
def test_bad_spectra_are_refused(text, kwargs, words):
    with pytest.raises(InputError, match=words):
        parse_colour_csv(text, **kwargs)


def test_cli_spectra_json_table_and_storage(cli, store, tmp_path):
    from dermatrack.services import patients
    from dermatrack.services.observations import list_observations

    sds, _ = babelcolor()
    path = tmp_path / "cm700d.csv"
    path.write_text(spectral_csv({"a": sds["light skin"].values, "b": sds["dark skin"].values},
                                 sds["light skin"].wavelengths))
    result = cli("measure", "colour", path, "--illuminant", "D50", "--observer", "10",
                 "--json")
    assert result.code == 0, result.stderr
    data = result.json()
    assert len(data) == 2
    assert {"row", "l_star", "a_star", "b_star", "ita_deg", "ita_category", "illuminant",
            "observer", "extra", "spectral_indices", "X", "Y", "Z"} <= set(data[0])
    assert (data[0]["illuminant"], data[0]["observer"]) == ("D50", "10")
    table = cli("measure", "colour", path)
    assert table.code == 0 and "MI-Da" in table.stdout and "percent" in table.stdout

    patient = patients.add_patient(store, {"age": 50, "sex": "female", "fitzpatrick": "II"},
                                   actor="dr.test")
    stored = cli("measure", "colour", path, "--patient", patient.id, "--region", "cheeks",
                 "--actor", "dr.test", "--json")
    assert stored.code == 0, stored.stderr
    rows = list_observations(store, patient_id=patient.id, kind="spectral")
    assert not list_observations(store, patient_id=patient.id, kind="colour")
    mi = sorted(o.value for o in rows if o.metric == "melanin_index_dawson")
    assert mi == pytest.approx(sorted(d["spectral_indices"]["melanin_index_dawson"]
                                      for d in stored.json()))
    assert {o.unit for o in rows if o.metric.startswith("erythema")} == {"a.u."}
    assert all("Dawson 1980" in o.method for o in rows)


def test_cli_triples_refuse_another_observer(cli, tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("L,a,b\n60,10,15\n")
    result = cli("measure", "colour", path, "--observer", "10", "--json")
    assert result.code == 2 and "spectra" in result.stderr and result.stdout == ""
    assert cli("measure", "colour", path, "--illuminant", "D65", "--json").code == 0
