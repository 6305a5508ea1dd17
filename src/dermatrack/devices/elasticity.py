"""Skin elasticity from suction (Cutometer-style) curves: U-values, R- and Q-parameters.

A suction device draws the skin into the opening of a probe (aperture 2-8 mm) with a
constant under-pressure (e.g. 400-450 mbar) for a set time, then releases it and lets it
relax; an optical system records how far the skin rises. A recording is a table of
``time_s``, ``deformation_mm`` (measured from the start of the recording) and ``suction``
(1 while the vacuum is on, 0 while off); each on/off pair is one cycle.

Reading points (per cycle; deformations from the cycle's onset, ``t_on``)
    * Ue: immediate deformation, at ``t_on`` + 0.1 s;
    * Uf: final deformation, at the release ``t_off`` (the first sample with suction 0);
    * Uv = Uf - Ue: delayed (viscoelastic) deformation;
    * Ur: immediate retraction, Uf minus the deformation at ``t_off`` + 0.1 s;
    * Ua: total recovery by the end of relaxation (the next onset, or the last sample),
      Uf minus the deformation then.
    Values between samples are linearly interpolated, so the reading points are exact times.

R-parameters (from the first cycle kept, except R3, R4 and R9)
    R0 = Uf (firmness, mm); R1 = Uf - Ua (mm); R2 = Ua / Uf (gross elasticity);
    R3 = the largest deformation of the last cycle (mm, from the start);
    R4 = the smallest deformation of the last cycle's relaxation (mm, from the start: what
    is left after the last release); R5 = Ur / Ue (net elasticity);
    R6 = Uv / Ue (viscoelastic portion); R7 = Ur / Uf (biological elasticity);
    R8 = Ua (mm); R9 = R3 - R0 (fatigue, mm).
    Uf = Ue + Uv, R5 = Ur/Ue and R0 = maximal deformation are checked against published
    sources (bio-protocol 564702, 18347292); the others follow the manufacturer's definitions
    as collected in ../shared/reference/measurement.md section 3 (marked [M] there).

Q-parameters (area parameters, first kept cycle; [M], after Courage + Khazaka's description
of the Cutometer Dual MPA 580 and J Cosmet Sci 2016;67:37)
    * F0: area under the curve during suction, integral of (d - d(t_on)) over the on-phase
      (mm·s);
    * Q0: maximum recovery area, Uf x relaxation time (mm·s): what a fully and instantly
      recovering skin would give;
    * Q1 = (area of recovery) / Q0, with the area of recovery the integral of
      (Uf - (d - d(t_on))) over the relaxation: total recovery;
    * Q2 = Ur x relaxation time / Q0 = Ur / Uf: elastic recovery;
    * Q3 = Q1 - Q2: viscous recovery.

Dropping the first cycle (``drop_first_cycle``)
    The first curve differs from the following ones (Abbas 2021), so it can be left out: the
    recording is then taken to start at the onset of the second cycle (its deformation there
    becomes zero), and R0 comes from the second cycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dermatrack.devices.tables import cell_number
from dermatrack.errors import InputError

#: Reading delay after suction on (Ue) and after release (Ur), in seconds.
READING_DELAY_S = 0.1

R_NAMES = tuple(f"R{i}" for i in range(10))
U_NAMES = ("Ue", "Uv", "Uf", "Ur", "Ua")
Q_NAMES = ("F0", "Q0", "Q1", "Q2", "Q3")

UNITS: dict[str, str] = {
    "Ue": "mm", "Uv": "mm", "Uf": "mm", "Ur": "mm", "Ua": "mm",
    "R0": "mm", "R1": "mm", "R2": "1", "R3": "mm", "R4": "mm", "R5": "1", "R6": "1",
    "R7": "1", "R8": "mm", "R9": "mm",
    "F0": "mm·s", "Q0": "mm·s", "Q1": "1", "Q2": "1", "Q3": "1",
}


@dataclass
class SuctionCurve:
    """A recording: strictly increasing times (s), deformation (mm), suction state (0/1)."""

    time_s: NDArray[np.float64]
    deformation_mm: NDArray[np.float64]
    suction: NDArray[np.bool_]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class CycleValues:
    """Reading points of one suction cycle (mm, from the cycle's onset) and its timing (s)."""

    index: int
    onset_s: float
    release_s: float
    end_s: float
    Ue: float
    Uv: float
    Uf: float
    Ur: float
    Ua: float
    maximum_mm: float
    minimum_relaxed_mm: float

    def to_json(self) -> dict[str, Any]:
        return {
            "cycle": self.index, "onset_s": self.onset_s, "release_s": self.release_s,
            "end_s": self.end_s, "Ue": self.Ue, "Uv": self.Uv, "Uf": self.Uf, "Ur": self.Ur,
            "Ua": self.Ua, "max_mm": self.maximum_mm, "min_relaxed_mm": self.minimum_relaxed_mm,
        }


@dataclass
class ElasticityResult:
    """U-, R- and Q-parameters, the cycles they came from and the protocol."""

    parameters: dict[str, float | None]
    cycles: list[CycleValues]
    settings: dict[str, Any]
    source: str  # "curve" or "device table"

    def to_json(self) -> dict[str, Any]:
        return {
            "parameters": dict(self.parameters),
            "cycles": [c.to_json() for c in self.cycles],
            "units": {k: UNITS[k] for k in self.parameters if k in UNITS},
            "settings": dict(self.settings),
            "source": self.source,
        }


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_CURVE_COLUMNS = {
    "time_s": ("time_s", "time", "t", "times", "t_s"),
    "deformation_mm": ("deformation_mm", "deformation", "d", "d_mm", "displacement_mm",
                       "height_mm"),
    "suction": ("suction", "vacuum", "suction_on", "pressure_on", "state"),
}

_SETTING_KEYS = {
    "aperture_mm": ("aperture_mm", "probe_aperture_mm", "probe_mm", "aperture"),
    "pressure_mbar": ("pressure_mbar", "negative_pressure_mbar", "suction_mbar", "pressure"),
    "on_time_s": ("on_time_s", "suction_time_s", "on_s"),
    "off_time_s": ("off_time_s", "relaxation_time_s", "off_s"),
    "repetitions": ("repetitions", "cycles"),
    "device": ("device", "instrument"),
}


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _find_columns(header: list[str], wanted: dict[str, tuple[str, ...]]) -> dict[str, int]:
    keys = [_key(h) for h in header]
    found: dict[str, int] = {}
    for name, aliases in wanted.items():
        for index, key in enumerate(keys):
            if key in aliases:
                found[name] = index
                break
    return found


def settings_from_header(fields: dict[str, tuple[str, int]]) -> dict[str, Any]:
    """Probe aperture, pressure and timing from ``# key: value`` comment lines."""
    settings: dict[str, Any] = {}
    for name, aliases in _SETTING_KEYS.items():
        for alias in aliases:
            if alias in fields:
                value, line = fields[alias]
                if name == "device":
                    settings[name] = value
                else:
                    try:
                        number = float(value)
                    except ValueError:
                        raise InputError(f"'{alias}' must be a number, not {value!r}",
                                         field=alias, line=line) from None
                    if not (math.isfinite(number) and number > 0):
                        raise InputError(f"'{alias}' must be positive", field=alias, line=line)
                    settings[name] = number
                break
    return settings


def parse_curve(header: list[str], rows: list[tuple[int, list[str]]],
                header_line: int = 1) -> SuctionCurve:
    """A :class:`SuctionCurve` from CSV header cells and (line, cells) rows.

    Raises
    ------
    InputError
        A missing column, a row whose cell count differs from the header, a non-numeric
        cell, a suction value other than 0/1, times that do not strictly increase, fewer
        than 3 samples, or suction never switched on.
    """
    found = _find_columns(header, _CURVE_COLUMNS)
    missing = [name for name in _CURVE_COLUMNS if name not in found]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}: a suction curve needs "
                         f"time_s, deformation_mm and suction (found {', '.join(header)})",
                         field=missing[0], line=header_line)
    times: list[float] = []
    deformations: list[float] = []
    states: list[bool] = []
    for line, cells in rows:
        if len(cells) != len(header):
            raise InputError(f"row has {len(cells)} cells but the header has {len(header)} "
                             "columns", field="columns", line=line)
        t = cell_number(cells[found["time_s"]], header[found["time_s"]], line)
        d = cell_number(cells[found["deformation_mm"]], header[found["deformation_mm"]], line)
        s = cell_number(cells[found["suction"]], header[found["suction"]], line)
        if s not in (0.0, 1.0):
            raise InputError(f"suction must be 1 (on) or 0 (off), not {cells[found['suction']]!r}",
                             field=header[found["suction"]], line=line)
        if times and t <= times[-1]:
            raise InputError(f"time {t:g} s does not increase (previous {times[-1]:g} s)",
                             field=header[found["time_s"]], line=line)
        times.append(t)
        deformations.append(d)
        states.append(s == 1.0)
    if len(times) < 3:
        raise InputError("a suction curve needs at least 3 samples", field="rows",
                         line=header_line)
    if not any(states):
        raise InputError("suction is never on (the suction column is all 0)",
                         field=header[found["suction"]])
    return SuctionCurve(np.asarray(times), np.asarray(deformations),
                        np.asarray(states, dtype=bool))


def parse_device_table(header: list[str], rows: list[tuple[int, list[str]]],
                       header_line: int = 1) -> list[dict[str, float | None]]:
    """Rows of a device's exported R-parameter table (columns R0..R9, optional U and Q).

    Cells left empty stay ``None``; every row needs at least one R-parameter.
    """
    names = {name.lower(): name for name in (*R_NAMES, *U_NAMES, *Q_NAMES)}
    columns = {index: names[_key(h)] for index, h in enumerate(header) if _key(h) in names}
    if not rows:
        raise InputError("the table has a header but no rows", line=header_line)
    tables: list[dict[str, float | None]] = []
    for line, cells in rows:
        if len(cells) != len(header):
            raise InputError(f"row has {len(cells)} cells but the header has {len(header)} "
                             "columns", field="columns", line=line)
        values: dict[str, float | None] = {}
        for index, name in columns.items():
            cell = cells[index]
            values[name] = None if cell == "" else cell_number(cell, header[index], line)
        if all(values.get(name) is None for name in R_NAMES):
            raise InputError("row has no R-parameter value", field="R0", line=line)
        tables.append(values)
    return tables


def is_device_table(header: list[str]) -> bool:
    """Whether the header is an R-parameter table (has R0 and no suction column)."""
    keys = {_key(h) for h in header}
    return "r0" in keys and not keys & set(_CURVE_COLUMNS["suction"])


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------

def find_cycles(suction: NDArray[np.bool_]) -> list[tuple[int, int, int]]:
    """(onset, release, end) sample indexes of each on/off pair.

    The onset is the first sample with suction on, the release the first sample after it with
    suction off, and the end the next onset (or the last sample). A trailing on-phase that is
    never released is not a cycle.
    """
    state = np.asarray(suction, dtype=bool)
    rises = [int(i) for i in np.flatnonzero(state[1:] & ~state[:-1]) + 1]
    if state[0]:
        rises.insert(0, 0)
    falls = np.flatnonzero(~state[1:] & state[:-1]) + 1
    cycles = []
    for number, onset in enumerate(rises):
        later = falls[falls > onset]
        if later.size == 0:
            break
        end = rises[number + 1] if number + 1 < len(rises) else state.size - 1
        cycles.append((int(onset), int(later[0]), int(end)))
    return cycles


def _at(curve: SuctionCurve, t: float, start: int, stop: int, what: str) -> float:
    """Deformation at time ``t`` by linear interpolation within samples [start, stop]."""
    times = curve.time_s[start:stop + 1]
    if t > times[-1] + 1e-12:
        raise InputError(f"the {what} phase is shorter than the {READING_DELAY_S} s reading "
                         f"delay (at {curve.time_s[start]:g} s)", field="time_s")
    return float(np.interp(t, times, curve.deformation_mm[start:stop + 1]))


def _trapezoid(y: NDArray, x: NDArray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


def _area(curve: SuctionCurve, start: int, stop: int, baseline: float) -> float:
    return _trapezoid(curve.deformation_mm[start:stop + 1] - baseline,
                      curve.time_s[start:stop + 1])


def analyse_curve(curve: SuctionCurve, *, drop_first_cycle: bool = False,
                  settings: dict[str, Any] | None = None) -> ElasticityResult:
    """U-, R- and Q-parameters of a suction curve (see the module docstring).

    Parameters
    ----------
    curve:
        The recording.
    drop_first_cycle:
        Leave the first cycle out and measure from the onset of the second.
    settings:
        Protocol facts to record (aperture_mm, pressure_mbar, ...); on/off times and the
        number of cycles are added from the curve.
    """
    cycles_idx = find_cycles(curve.suction)
    if not cycles_idx:
        raise InputError("no complete suction cycle (suction never switches off after "
                         "switching on)", field="suction")
    if drop_first_cycle:
        if len(cycles_idx) < 2:
            raise InputError("--drop-first-cycle needs at least two cycles", field="suction")
        cycles_idx = cycles_idx[1:]
    # Deformation is measured from the start of what is analysed.
    origin = float(curve.deformation_mm[cycles_idx[0][0]]) if drop_first_cycle else 0.0
    d = curve.deformation_mm - origin
    rebased = SuctionCurve(curve.time_s, d, curve.suction)
    t = curve.time_s

    cycles: list[CycleValues] = []
    for number, (on, off, end) in enumerate(cycles_idx, start=1 + int(drop_first_cycle)):
        baseline = float(d[on])
        ue = _at(rebased, t[on] + READING_DELAY_S, on, off, "suction") - baseline
        uf = float(d[off]) - baseline
        ur = uf - (_at(rebased, t[off] + READING_DELAY_S, off, end, "relaxation") - baseline)
        ua = uf - (float(d[end]) - baseline)
        cycles.append(CycleValues(
            index=number, onset_s=float(t[on]), release_s=float(t[off]), end_s=float(t[end]),
            Ue=ue, Uv=uf - ue, Uf=uf, Ur=ur, Ua=ua,
            maximum_mm=float(d[on:off + 1].max()),
            minimum_relaxed_mm=float(d[off:end + 1].min())))

    first, last = cycles[0], cycles[-1]

    def ratio(a: float, b: float) -> float | None:
        return a / b if b > 0 else None

    on, off, end = cycles_idx[0]
    relax_time = float(t[end] - t[off])
    q0 = first.Uf * relax_time
    recovery_area = first.Uf * relax_time - _area(rebased, off, end, float(d[on]))
    params: dict[str, float | None] = {
        "Ue": first.Ue, "Uv": first.Uv, "Uf": first.Uf, "Ur": first.Ur, "Ua": first.Ua,
        "R0": first.Uf,
        "R1": first.Uf - first.Ua,
        "R2": ratio(first.Ua, first.Uf),
        "R3": last.maximum_mm,
        "R4": last.minimum_relaxed_mm,
        "R5": ratio(first.Ur, first.Ue),
        "R6": ratio(first.Uv, first.Ue),
        "R7": ratio(first.Ur, first.Uf),
        "R8": first.Ua,
        "R9": last.maximum_mm - first.Uf,
        "F0": _area(rebased, on, off, float(d[on])),
        "Q0": q0,
        "Q1": ratio(recovery_area, q0),
        "Q2": ratio(first.Ur * relax_time, q0),
    }
    params["Q3"] = (params["Q1"] - params["Q2"]
                    if params["Q1"] is not None and params["Q2"] is not None else None)
    on_times = [c.release_s - c.onset_s for c in cycles]
    off_times = [c.end_s - c.release_s for c in cycles]
    recorded = dict(settings or {})
    recorded.update({
        "cycles": len(cycles),
        "first_cycle_dropped": drop_first_cycle,
        "on_time_s": float(np.median(on_times)),
        "off_time_s": float(np.median(off_times)),
        "reading_delay_s": READING_DELAY_S,
    })
    return ElasticityResult(parameters=params, cycles=cycles, settings=recorded, source="curve")


def parse_elasticity_csv(text: str, *, drop_first_cycle: bool = False,
                         aperture_mm: float | None = None,
                         pressure_mbar: float | None = None) -> list[ElasticityResult]:
    """Analyse a suction-curve CSV, or carry a device's R-parameter table through.

    Options override the ``# aperture_mm:`` / ``# pressure_mbar:`` header comments. A curve
    gives one result; a device table gives one per row.
    """
    from dermatrack.devices.tables import csv_rows, split_comment_header

    fields, body, first_line = split_comment_header(text)
    if not body.strip():
        raise InputError("the file holds no data (empty)", field="file")
    header, rows = csv_rows(body, first_line)
    settings = settings_from_header(fields)
    for name, value in (("aperture_mm", aperture_mm), ("pressure_mbar", pressure_mbar)):
        if value is not None:
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"--{name.replace('_', '-')} must be positive", field=name)
            settings[name] = value
    if is_device_table(header):
        if drop_first_cycle:
            settings["first_cycle_dropped"] = "not applicable: device table"
        return [ElasticityResult(parameters=row, cycles=[], settings=dict(settings),
                                 source="device table")
                for row in parse_device_table(header, rows, first_line)]
    curve = parse_curve(header, rows, first_line)
    return [analyse_curve(curve, drop_first_cycle=drop_first_cycle, settings=settings)]
