"""Suction curves built from exponential creep and recovery, whose reading points are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dermatrack.devices.elasticity import (
    SuctionCurve,
    analyse_curve,
    find_cycles,
    parse_elasticity_csv,
)
from dermatrack.errors import InputError

ON_S, OFF_S, DT = 3.0, 2.0, 0.01
# Creep: elastic part E with time constant A, viscous part V with time constant C.
E, A, V, C = 0.30, 0.02, 0.12, 0.8
# Recovery: elastic part RE (time constant A2), viscous part RV (time constant C2).
RE, A2, RV, C2 = 0.26, 0.025, 0.09, 0.6


def creep(tau):
    return E * (1 - np.exp(-tau / A)) + V * (1 - np.exp(-tau / C))


def recovery(sigma):
    return RE * (1 - np.exp(-sigma / A2)) + RV * (1 - np.exp(-sigma / C2))


UE = float(creep(0.1))
UF = float(creep(ON_S))
UR = float(recovery(0.1))
UA = float(recovery(OFF_S))
RESIDUAL = UF - UA


def curve_csv(cycles: int = 3, header: str = "") -> str:
    """time_s,deformation_mm,suction for ``cycles`` identical cycles; residues accumulate."""
    per_on, per_off = round(ON_S / DT), round(OFF_S / DT)
    lines = [header + "time_s,deformation_mm,suction"]
    step = 0
    for cycle in range(cycles):
        base = cycle * RESIDUAL
        for k in range(per_on):
            lines.append(f"{step * DT:.4f},{base + creep(k * DT):.12f},1")
            step += 1
        last = per_off + 1 if cycle == cycles - 1 else per_off
        for k in range(last):
            lines.append(f"{step * DT:.4f},{base + UF - recovery(k * DT):.12f},0")
            step += 1
    return "\n".join(lines) + "\n"


def test_reading_points_and_r_parameters_are_exact():
    (result,) = parse_elasticity_csv(curve_csv())
    p = result.parameters
    assert p["Ue"] == pytest.approx(UE, abs=1e-9)
    assert p["Uf"] == pytest.approx(UF, abs=1e-9)
    assert p["Uv"] == pytest.approx(UF - UE, abs=1e-9)
    assert p["Ur"] == pytest.approx(UR, abs=1e-9)
    assert p["Ua"] == pytest.approx(UA, abs=1e-9)
    assert p["R0"] == pytest.approx(UF, abs=1e-9)
    assert p["R1"] == pytest.approx(UF - UA, abs=1e-9)
    assert p["R2"] == pytest.approx(UA / UF, rel=1e-8)
    assert p["R3"] == pytest.approx(2 * RESIDUAL + UF, abs=1e-9)
    assert p["R4"] == pytest.approx(3 * RESIDUAL, abs=1e-9)
    assert p["R5"] == pytest.approx(UR / UE, rel=1e-8)
    assert p["R6"] == pytest.approx((UF - UE) / UE, rel=1e-8)
    assert p["R7"] == pytest.approx(UR / UF, rel=1e-8)
    assert p["R8"] == pytest.approx(UA, abs=1e-9)
    assert p["R9"] == pytest.approx(2 * RESIDUAL, abs=1e-9)
    assert len(result.cycles) == 3
    assert result.settings["on_time_s"] == pytest.approx(ON_S)
    assert result.settings["off_time_s"] == pytest.approx(OFF_S)


def test_area_parameters_match_the_integrals():
    (result,) = parse_elasticity_csv(curve_csv())
    p = result.parameters

    def integral(amplitude, tau, span):
        return amplitude * (span - tau * (1 - math.exp(-span / tau)))

    f0 = integral(E, A, ON_S) + integral(V, C, ON_S)
    recovered = integral(RE, A2, OFF_S) + integral(RV, C2, OFF_S)
    # Trapezoids at 10 ms steps: the error is second order in the step.
    assert p["F0"] == pytest.approx(f0, rel=1e-3)
    assert p["Q0"] == pytest.approx(UF * OFF_S, rel=1e-9)
    assert p["Q1"] == pytest.approx(recovered / (UF * OFF_S), rel=1e-3)
    assert p["Q2"] == pytest.approx(UR / UF, rel=1e-8)
    assert p["Q3"] == pytest.approx(p["Q1"] - p["Q2"], rel=1e-12)


def test_drop_first_cycle_measures_from_the_second_onset():
    (result,) = parse_elasticity_csv(curve_csv(), drop_first_cycle=True)
    p = result.parameters
    assert p["R0"] == pytest.approx(UF, abs=1e-9)
    assert p["R3"] == pytest.approx(RESIDUAL + UF, abs=1e-9)
    assert p["R9"] == pytest.approx(RESIDUAL, abs=1e-9)
    assert [c.index for c in result.cycles] == [2, 3]
    assert result.settings["first_cycle_dropped"] is True
    with pytest.raises(InputError, match="two cycles"):
        parse_elasticity_csv(curve_csv(cycles=1), drop_first_cycle=True)


def test_protocol_from_header_and_options():
    text = curve_csv(header="# aperture_mm: 2\n# pressure_mbar: 450\n# device: Cutometer\n")
    (result,) = parse_elasticity_csv(text)
    assert result.settings["aperture_mm"] == 2.0
    assert result.settings["pressure_mbar"] == 450.0
    assert result.settings["device"] == "Cutometer"
    (overridden,) = parse_elasticity_csv(text, aperture_mm=6.0)
    assert overridden.settings["aperture_mm"] == 6.0


def test_device_table_is_carried_through():
    text = ("R0,R1,R2,R3,R4,R5,R6,R7,R8,R9,Q1\n"
            "0.41,0.08,0.80,0.46,0.07,0.86,0.40,0.62,0.33,0.05,0.71\n"
            "0.39,0.07,0.82,0.44,,0.88,0.38,0.64,0.32,0.05,\n")
    results = parse_elasticity_csv(text, pressure_mbar=450)
    assert [r.source for r in results] == ["device table", "device table"]
    assert results[0].parameters["R2"] == 0.80
    assert results[1].parameters["R4"] is None
    assert results[0].settings["pressure_mbar"] == 450


def test_cycles_are_on_off_pairs():
    suction = np.array([0, 1, 1, 0, 0, 1, 1, 0, 1], dtype=bool)
    # The trailing on-phase is never released, so it is not a cycle.
    assert find_cycles(suction) == [(1, 3, 5), (5, 7, 8)]


@pytest.mark.parametrize("text,message", [
    ("time_s,deformation_mm\n0,0\n0.1,0.1\n0.2,0.1\n", "suction"),
    ("time_s,deformation_mm,suction\n0,0,0\n0.1,0,0\n0.2,0,0\n", "never on"),
    ("time_s,deformation_mm,suction\n0,0,1\n0.2,0.1,1\n0.1,0.1,0\n", "does not increase"),
    ("time_s,deformation_mm,suction\n0,0,1\n0.1,0.1\n0.2,0.1,0\n", "cells"),
    ("time_s,deformation_mm,suction\n0,0,1\n0.1,x,1\n0.2,0.1,0\n", "not a number"),
    ("time_s,deformation_mm,suction\n0,0,1\n0.1,0.1,2\n0.2,0.1,0\n", "1 \\(on\\) or 0"),
    ("time_s,deformation_mm,suction\n0,0,1\n0.1,0.1,1\n0.2,0.1,1\n", "no complete"),
    ("time_s,deformation_mm,suction\n0,0,1\n0.05,0.1,0\n0.2,0.1,0\n", "reading"),
    ("", "empty"),
    ("R0,R1,site\n,,cheek\n", "no R-parameter"),
])
def test_bad_curves_are_refused(text, message):
    with pytest.raises(InputError, match=message):
        parse_elasticity_csv(text)


def test_negative_protocol_options_are_refused():
    with pytest.raises(InputError, match="positive"):
        parse_elasticity_csv(curve_csv(cycles=1), aperture_mm=-2.0)
    with pytest.raises(InputError, match="positive"):
        parse_elasticity_csv(curve_csv(cycles=1, header="# pressure_mbar: 0\n"))


def test_core_takes_arrays():
    # Ramp to 0.2 mm in 1 s of suction, then an immediate drop to 0.05 mm.
    time_s = np.array([0.0, 1.0, 1.1, 3.0])
    curve = SuctionCurve(time_s, np.array([0.0, 0.2, 0.05, 0.05]),
                         np.array([True, False, False, False]))
    result = analyse_curve(curve, settings={"aperture_mm": 2.0})
    assert result.parameters["Ue"] == pytest.approx(0.02)
    assert result.parameters["Uf"] == pytest.approx(0.2)
    assert result.parameters["Ur"] == pytest.approx(0.15)
    assert result.parameters["Ua"] == pytest.approx(0.15)
    assert result.settings["aperture_mm"] == 2.0
    assert result.to_json()["units"]["R0"] == "mm"
