"""Colorimeter and Mexameter-style readings: CIELAB, ITA° and its category, device indices.

Input is the text of a CSV file with one reading per row: ``L``, ``a`` and ``b`` columns
(header names are matched ignoring case, spaces, ``*``, ``_`` and ``-``, so ``L*``,
``l star`` and ``L_star`` all work), optional ``illuminant`` and ``observer`` columns, optional
``melanin_index`` and ``erythema_index`` columns (Mexameter MX18: 0-999 a.u., carried
through unchanged) and any other columns (kept as text under ``extra``).

Illuminant and observer
    Results are reported for CIE illuminant D65 and the CIE 1931 2° observer. A reading under
    another illuminant (A, C, D50, D55, D75, F2, F7, F11, ...) is converted to D65 through
    XYZ with the Bradford chromatic adaptation transform (von Kries scaling in the Bradford
    cone space; colour-science ``chromatic_adaptation``). A reading for the 1964 10° observer is
    refused: the two observers are different colour matching functions, and a 10° L*a*b*
    triple does not determine the 2° one without the reflectance spectrum, so any conversion
    would be a guess.

ITA° (individual typology angle)
    ITA = atan2(L* - 50, b*) x 180 / pi, which equals arctan((L* - 50) / b*) x 180 / pi for
    b* > 0 and stays defined at b* = 0 (Chardon 1991; the atan2 form as in derm-ita).
    Categories: > 55 very light, 41-55 light, 28-41 intermediate, 10-28 tanned, -30 to 10 brown,
    < -30 dark (Chardon 1991 for the first four, Del Bino 2006 for brown and dark; see
    ../shared/reference/measurement.md section 2). A boundary value belongs to the darker
    class except -30, which is brown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dermatrack.devices.ita import (  # noqa: F401  (re-exported)
    ITA_CATEGORIES,
    ita_category,
    ita_degrees,
)
from dermatrack.devices.tables import cell_number
from dermatrack.errors import InputError

#: Mexameter melanin and erythema indices run from 0 to 999 (arbitrary units).
DEVICE_INDEX_RANGE = (0.0, 999.0)

#: |a*| and |b*| beyond this are not surface colours; such a cell is a typing or unit error.
AB_LIMIT = 200.0

_ALIASES: dict[str, str] = {
    "l": "l_star", "lstar": "l_star", "cielabl": "l_star",
    "a": "a_star", "astar": "a_star", "cielaba": "a_star",
    "b": "b_star", "bstar": "b_star", "cielabb": "b_star",
    "illuminant": "illuminant", "illum": "illuminant", "light": "illuminant",
    "observer": "observer", "obs": "observer", "observerangle": "observer",
    "melaninindex": "melanin_index", "melanin": "melanin_index", "mi": "melanin_index",
    "erythemaindex": "erythema_index", "erythema": "erythema_index", "ei": "erythema_index",
}

_ILLUMINANT_NAMES = {"F2": "FL2", "F7": "FL7", "F11": "FL11"}


def normalise_column(name: str) -> str:
    """Canonical column key: lower case without spaces, ``*``, ``_``, ``-``, ``°`` and dots."""
    key = name.strip().lower()
    for char in " *_-°.":
        key = key.replace(char, "")
    return _ALIASES.get(key, name.strip())


@dataclass
class ColourReading:
    """One reading, in D65 / 2° CIELAB."""

    row: int
    l_star: float
    a_star: float
    b_star: float
    ita_deg: float
    ita_category: str
    melanin_index: float | None = None
    erythema_index: float | None = None
    illuminant: str = "D65"
    observer: str = "2"
    adapted_from: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row, "l_star": self.l_star, "a_star": self.a_star,
            "b_star": self.b_star, "ita_deg": self.ita_deg, "ita_category": self.ita_category,
            "melanin_index": self.melanin_index, "erythema_index": self.erythema_index,
            "illuminant": self.illuminant, "observer": self.observer,
            "adapted_from": self.adapted_from, "extra": dict(self.extra),
        }

    def values(self) -> dict[str, float | None]:
        """The numeric results, as stored in an observation."""
        return {"l_star": self.l_star, "a_star": self.a_star, "b_star": self.b_star,
                "ita_deg": self.ita_deg, "melanin_index": self.melanin_index,
                "erythema_index": self.erythema_index}


UNITS: dict[str, str] = {
    "l_star": "1", "a_star": "1", "b_star": "1", "ita_deg": "°",
    "melanin_index": "a.u.", "erythema_index": "a.u.",
}


def _observer_code(text: str, line: int) -> str:
    cleaned = text.strip().lower().replace("°", "").replace("deg", "").replace("degree", "")
    cleaned = cleaned.replace("cie", "").strip()
    if cleaned in ("", "2", "1931", "19312", "2.0"):
        return "2"
    if cleaned in ("10", "1964", "196410", "10.0"):
        return "10"
    raise InputError(f"unknown observer {text!r} (use 2 or 10)", field="observer", line=line)


def _illuminant_code(text: str, line: int) -> str:
    import colour

    name = text.strip().upper().replace(" ", "")
    if name in ("", "D65"):
        return "D65"
    name = _ILLUMINANT_NAMES.get(name, name)
    table = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]
    for key in table:
        if key.upper() == name:
            return str(key)
    raise InputError(f"unknown illuminant {text!r} (use a CIE illuminant such as D65, D50, A, "
                     "C or F2)", field="illuminant", line=line)


def adapt_to_d65(lab: tuple[float, float, float], illuminant: str) -> tuple[float, float, float]:
    """L*a*b* under ``illuminant`` (2° observer) to L*a*b* under D65, Bradford CAT."""
    import colour

    whites = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]
    source, target = whites[illuminant], whites["D65"]
    xyz = colour.Lab_to_XYZ(np.asarray(lab, dtype=np.float64), illuminant=source)
    adapted = colour.chromatic_adaptation(
        xyz, colour.xy_to_XYZ(source), colour.xy_to_XYZ(target), method="Von Kries",
        transform="Bradford")
    result = colour.XYZ_to_Lab(adapted, illuminant=target)
    return float(result[0]), float(result[1]), float(result[2])


def parse_colour_table(header: list[str], rows: list[tuple[int, list[str]]],
                       header_line: int = 1) -> list[ColourReading]:
    """Readings from CSV header cells and (line, cells) rows.

    Raises
    ------
    InputError
        Missing L/a/b columns, a row with a different number of cells than the header,
        non-numeric cells, L* outside 0-100, |a*| or |b*| above 200, device indices outside
        0-999, an unknown illuminant or observer, or a 10° observer.
    """
    keys = [normalise_column(name) for name in header]
    seen: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key in seen and key in _ALIASES.values():
            raise InputError(f"column {header[index]!r} repeats {header[seen[key]]!r}",
                             field=header[index], line=header_line)
        seen[key] = index
    missing = [name for name, key in (("L", "l_star"), ("a", "a_star"), ("b", "b_star"))
               if key not in seen]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}: the header must name L, a "
                         f"and b (found {', '.join(header) or 'nothing'})",
                         field=missing[0], line=header_line)
    if not rows:
        raise InputError("the file has a header but no readings", line=header_line)
    readings: list[ColourReading] = []
    for line, cells in rows:
        if len(cells) != len(header):
            raise InputError(f"row has {len(cells)} cells but the header has {len(header)} "
                             "columns", field="columns", line=line)
        record = dict(zip(keys, cells, strict=True))
        l_star = cell_number(record["l_star"], header[seen["l_star"]], line)
        a_star = cell_number(record["a_star"], header[seen["a_star"]], line)
        b_star = cell_number(record["b_star"], header[seen["b_star"]], line)
        if not 0.0 <= l_star <= 100.0:
            raise InputError(f"L* = {l_star:g} is outside 0-100", field=header[seen["l_star"]],
                             line=line)
        for key, value in (("a_star", a_star), ("b_star", b_star)):
            if abs(value) > AB_LIMIT:
                raise InputError(f"{value:g} is outside -{AB_LIMIT:g} to {AB_LIMIT:g}",
                                 field=header[seen[key]], line=line)
        indices: dict[str, float | None] = {}
        for key in ("melanin_index", "erythema_index"):
            cell = record.get(key, "")
            if cell == "":
                indices[key] = None
                continue
            value = cell_number(cell, header[seen[key]], line)
            low, high = DEVICE_INDEX_RANGE
            if not low <= value <= high:
                raise InputError(f"{value:g} is outside the device range {low:g}-{high:g}",
                                 field=header[seen[key]], line=line)
            indices[key] = value
        observer = _observer_code(record.get("observer", ""), line)
        if observer != "2":
            raise InputError("readings for the 10° observer cannot be converted to the 2° "
                             "observer without the spectrum; export them for D65/2°",
                             field="observer", line=line)
        illuminant = _illuminant_code(record.get("illuminant", ""), line)
        adapted_from = None
        if illuminant != "D65":
            l_star, a_star, b_star = adapt_to_d65((l_star, a_star, b_star), illuminant)
            adapted_from = illuminant
        ita = ita_degrees(l_star, b_star)
        extra = {header[i]: cells[i] for i, key in enumerate(keys) if key not in _ALIASES.values()}
        readings.append(ColourReading(
            row=line, l_star=l_star, a_star=a_star, b_star=b_star, ita_deg=ita,
            ita_category=ita_category(ita), melanin_index=indices["melanin_index"],
            erythema_index=indices["erythema_index"], adapted_from=adapted_from, extra=extra))
    return readings


def parse_colour_csv(text: str, *, illuminant: str | None = None,
                     observer: str | None = None) -> list[Any]:
    """Readings from the text of a colorimeter or spectrophotometer CSV.

    A file whose header names wavelengths is a reflectance spectrum export and is read by
    :func:`dermatrack.devices.spectra.parse_spectral_table` (CIELAB for ``illuminant`` and
    ``observer``, default D65 and 2°, and the spectral indices); otherwise it holds L*a*b*
    triples (module docstring), which are reported for D65/2° only.

    Raises
    ------
    InputError
        As the two parsers; also ``illuminant`` or ``observer`` other than D65/2° for a file
        of L*a*b* triples (a triple cannot be recomputed for another illuminant or observer
        without its spectrum).
    """
    from dermatrack.devices import spectra
    from dermatrack.devices.tables import csv_rows, split_comment_header

    fields, body, first_line = split_comment_header(text)
    if not body.strip():
        raise InputError("the file holds no readings (empty)", field="file")
    header, rows = csv_rows(body, first_line)
    if spectra.is_spectral_header(header):
        return spectra.parse_spectral_table(
            header, rows, header_line=first_line, illuminant=illuminant or "D65",
            observer=observer or "2", declared_scale=fields.get("reflectance"))
    if illuminant is not None and spectra.illuminant_name(illuminant) != "D65":
        raise InputError("--illuminant applies to reflectance spectra; L*a*b* readings are "
                         "reported for D65 (readings under another illuminant are adapted "
                         "through their 'illuminant' column)", field="illuminant")
    if observer is not None and spectra.observer_code(observer) != "2":
        raise InputError("--observer 10 needs reflectance spectra: an L*a*b* triple cannot be "
                         "converted between observers", field="observer")
    return parse_colour_table(header, rows, header_line=first_line)
