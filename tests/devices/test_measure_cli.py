"""``dermatrack measure``: JSON shapes, refusals with exit 2, storing as observations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import x3pio

from .test_elasticity import UF, curve_csv

AMPLITUDE = 4.0


@pytest.fixture
def sinusoid_x3p(tmp_path):
    x = np.arange(200, dtype=float)
    z_um = np.tile(AMPLITUDE * np.sin(2 * np.pi * x / 40.0), (30, 1))
    path = tmp_path / "replica.x3p"
    x3pio.write(path, z_um * 1e-6, x_scale=2e-6, y_scale=2e-6)
    return path


@pytest.fixture
def colour_csv(tmp_path):
    path = tmp_path / "colour.csv"
    path.write_text("L,a,b,melanin_index,erythema_index\n62,11,16,210,330\n58,12,18,260,\n")
    return path


@pytest.fixture
def suction_csv(tmp_path):
    path = tmp_path / "curve.csv"
    path.write_text(curve_csv(header="# aperture_mm: 2\n# pressure_mbar: 450\n"))
    return path


def test_surface_json(cli, sinusoid_x3p):
    result = cli("measure", "surface", sinusoid_x3p, "--form", "none", "--json")
    assert result.code == 0, result.stderr
    data = result.json()
    assert set(data) >= {"areal", "profile", "furrows", "units", "settings"}
    # every parameter issue 5 names, each with its unit
    assert set(data["areal"]) >= {"Sa", "Sq", "Sp", "Sv", "Sz", "Ssk", "Sku", "Sdq", "Sdr",
                                  "Vmp", "Vmc", "Vvc", "Vvv", "Sk", "Spk", "Svk"}
    assert set(data["profile"]) >= {"Ra", "Rq", "Rp", "Rv", "Rz", "Rt"}
    assert set(data["furrows"]) >= {"furrow_depth_um", "furrow_volume_mm3"}
    assert set(data["units"]) >= {*data["areal"], *data["profile"], *data["furrows"]}
    assert {"form", "ls_um", "lc_um", "dx_um", "dy_um"} <= set(data["settings"])
    assert data["areal"]["Sq"] == pytest.approx(AMPLITUDE / math.sqrt(2), rel=1e-9)
    assert data["profile"]["Ra"] == pytest.approx(2 * AMPLITUDE / math.pi, rel=5e-3)
    assert data["settings"]["dx_um"] == pytest.approx(2.0)
    assert data["units"]["Sa"] == "µm"


def test_surface_filters_and_human_output(cli, sinusoid_x3p):
    result = cli("measure", "surface", sinusoid_x3p, "--ls", "4", "--lc", "200")
    assert result.code == 0, result.stderr
    assert "Sdr" in result.stdout and "µm" in result.stdout and "Furrows" in result.stdout
    as_json = cli("measure", "surface", sinusoid_x3p, "--ls", "4", "--lc", "200", "--json")
    settings = as_json.json()["settings"]
    assert (settings["ls_um"], settings["lc_um"]) == (4.0, 200.0)


def test_surface_npy_with_options(cli, tmp_path):
    path = tmp_path / "map.npy"
    np.save(path, np.random.default_rng(0).normal(size=(20, 30)))
    result = cli("measure", "surface", path, "--spacing-um", "3", "--z-unit", "um", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["settings"]["dx_um"] == 3.0


@pytest.mark.parametrize("name,content,args,message", [
    ("ragged.csv", "# spacing_um: 1\n# z_unit: um\n1,2,3\n4,5\n", (), "rectangular"),
    ("nan.csv", "# spacing_um: 1\n# z_unit: um\nnan,nan\nnan,nan\n", (), "all NaN"),
    ("nounit.csv", "# spacing_um: 1\n1,2\n3,4\n", (), "unit"),
    ("nospacing.csv", "# z_unit: um\n1,2\n3,4\n", (), "--spacing-um"),
    ("empty.csv", "", (), "empty"),
    ("ok.csv", "# spacing_um: 1\n# z_unit: um\n1,2\n3,4\n", ("--form", "cubic"), "--form"),
])
def test_bad_height_maps_exit_2(cli, tmp_path, name, content, args, message):
    path = tmp_path / name
    path.write_text(content)
    result = cli("measure", "surface", path, *args, "--json")
    assert result.code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_one_dimensional_npy_exits_2(cli, tmp_path):
    path = tmp_path / "line.npy"
    np.save(path, np.arange(5.0))
    result = cli("measure", "surface", path, "--spacing-um", "1", "--z-unit", "um")
    assert result.code == 2 and "2-D" in result.stderr


def test_colour_json_and_table(cli, colour_csv):
    result = cli("measure", "colour", colour_csv, "--json")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert len(rows) == 2
    assert rows[0]["ita_deg"] == pytest.approx(math.degrees(math.atan2(12.0, 16.0)))
    assert rows[0]["ita_category"] == "intermediate"  # 36.9°
    assert rows[0]["melanin_index"] == 210 and rows[1]["erythema_index"] is None
    human = cli("measure", "colour", colour_csv)
    assert human.code == 0 and "ITA" in human.stdout and "intermediate" in human.stdout


def test_colour_mismatched_columns_exit_2(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("L,a,b\n60,10,15\n60,10\n")
    result = cli("measure", "colour", path)
    assert result.code == 2
    assert "line 3" in result.stderr and "cells" in result.stderr


def test_elasticity_json(cli, suction_csv):
    result = cli("measure", "elasticity", suction_csv, "--pressure-mbar", "400", "--json")
    assert result.code == 0, result.stderr
    (item,) = result.json()
    assert item["parameters"]["R0"] == pytest.approx(UF, abs=1e-9)
    for name in ("Ue", "Uv", "Uf", "Ua", "Ur", *(f"R{i}" for i in range(10)), "Q1", "Q2",
                 "Q3"):
        assert name in item["parameters"]
    assert item["settings"]["aperture_mm"] == 2.0
    assert item["settings"]["pressure_mbar"] == 400.0
    assert item["units"]["R2"] == "1"
    dropped = cli("measure", "elasticity", suction_csv, "--drop-first-cycle", "--json")
    assert dropped.json()[0]["settings"]["first_cycle_dropped"] is True
    human = cli("measure", "elasticity", suction_csv)
    assert human.code == 0 and "R9" in human.stdout
    assert max(len(line) for line in human.stdout.splitlines()) <= 80


def test_elasticity_bad_curve_exit_2(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time_s,deformation_mm\n0,0\n0.1,0.1\n0.2,0.1\n")
    result = cli("measure", "elasticity", path, "--json")
    assert result.code == 2 and "suction" in result.stderr and result.stdout == ""


def test_storing_needs_patient_and_region(cli, colour_csv):
    result = cli("measure", "colour", colour_csv, "--region", "cheeks")
    assert result.code == 2 and "--patient" in result.stderr
    result = cli("measure", "colour", colour_csv, "--patient", "P1")
    assert result.code == 2 and "--region" in result.stderr
    result = cli("measure", "colour", colour_csv, "--patient", "P1", "--region", "cheekz")
    assert result.code == 2 and "region" in result.stderr


@pytest.fixture
def patient_visit(store):
    from dermatrack.services import patients

    patient = patients.add_patient(store, {"age": 41, "sex": "female", "fitzpatrick": "III"},
                                   actor="dr.test")
    visit = patients.add_visit(store, {"patient_id": patient.id, "timepoint": "baseline",
                                       "date": "2026-11-02"}, actor="dr.test")
    return patient.id, visit.id


def test_measurements_are_stored_as_observations(cli, store, patient_visit, sinusoid_x3p,
                                                 colour_csv, suction_csv):
    from dermatrack.services.observations import list_observations

    patient_id, visit_id = patient_visit
    where = ("--patient", patient_id, "--visit", visit_id, "--actor", "dr.test")
    surface = cli("measure", "surface", sinusoid_x3p, "--form", "none", *where,
                  "--region", "cheek_left", "--device", "PRIMOS lite", "--json")
    assert surface.code == 0, surface.stderr
    assert surface.json()["observation_ids"]
    colour = cli("measure", "colour", colour_csv, *where, "--region", "forehead", "--json")
    assert colour.code == 0, colour.stderr
    elasticity = cli("measure", "elasticity", suction_csv, *where, "--region", "cheeks",
                     "--json")
    assert elasticity.code == 0, elasticity.stderr

    stored = {o.metric: o for o in list_observations(store, patient_id=patient_id,
                                                     kind="surface")}
    assert stored["Sq"].value == pytest.approx(AMPLITUDE / math.sqrt(2), rel=1e-9)
    assert stored["Sq"].unit == "µm" and stored["Sdr"].unit == "%"
    assert stored["Sq"].region == "cheek_left" and stored["Sq"].visit_id == visit_id
    assert stored["Sq"].device == "PRIMOS lite"
    assert stored["Sq"].settings["form"] == "none"
    assert len(stored["Sq"].source_sha256) == 64
    colours = list_observations(store, patient_id=patient_id, kind="colour")
    assert sorted(o.value for o in colours if o.metric == "ita_deg") == pytest.approx(
        sorted([math.degrees(math.atan2(12.0, 16.0)), math.degrees(math.atan2(8.0, 18.0))]))
    r0 = [o for o in list_observations(store, patient_id=patient_id, kind="elasticity")
          if o.metric == "R0"]
    assert len(r0) == 1 and r0[0].value == pytest.approx(UF, abs=1e-9) and r0[0].unit == "mm"
    assert r0[0].settings["pressure_mbar"] == 450.0


def test_unknown_patient_stores_nothing(cli, store, colour_csv):
    result = cli("measure", "colour", colour_csv, "--patient", "nobody", "--region", "cheeks",
                 "--actor", "dr.test")
    assert result.code == 2 and "patient" in result.stderr


@pytest.mark.parametrize("command", ["surface", "colour", "elasticity"])
def test_missing_directory_and_binary_files_exit_2(cli, tmp_path, command):
    binary = tmp_path / "readings.csv"
    binary.write_bytes(b"L,a,b\n\x00\xff\xfe\n")
    for path, words in ((tmp_path / "absent.csv", "absent.csv"), (binary, "readings.csv")):
        result = cli("measure", command, path, "--json")
        assert result.code == 2 and result.stdout == ""
        assert words in result.stderr and result.stderr.count("\n") == 1
    result = cli("measure", command, tmp_path)
    assert result.code == 2 and "directory" in result.stderr
