"""Reflectance spectra from skin spectrophotometers: CIELAB under any CIE illuminant and
observer, ITA°, and melanin and erythema indices from log-inverse reflectance.

Input
    The text of a spectral CSV export, one reading per row and one column per wavelength,
    as Konica Minolta CM-600d/700d/2600d software (and similar) writes it: 360 or 400 to 700
    or 740 nm in 10 nm steps. A wavelength column is one whose header is a wavelength in nm
    between 300 and 830 (``400``, ``400nm``, ``400 nm``, ``R400``, ``SCI 400``,
    ``400.0``); every other column is kept as text under ``extra``. At least
    :data:`MIN_WAVELENGTHS` wavelength columns, equally spaced, make a spectral file.

Reflectance scale
    Percent (0-100) or a fraction (0-1). A ``# reflectance: percent`` or
    ``# reflectance: fraction`` comment line states it; otherwise it is detected: any value
    above 1.5 means percent, else a fraction (skin reflects more than 1.5 % above 600 nm, so a
    percent file never stays below it). The scale used is reported with every reading.

Colour
    XYZ by the ASTM E308 weighting tables that colour-science computes
    (``colour.sd_to_XYZ``, method ``"ASTM E308"``), for the chosen CIE illuminant
    (``colour.SDS_ILLUMINANTS``) and the CIE 1931 2° or 1964 10° observer
    (``colour.MSDS_CMFS``). The reference white is the perfect reflecting diffuser computed the
    same way, so a reflectance of 1 everywhere is exactly L* = 100, a* = b* = 0. CIELAB from XYZ
    (CIE 15:2018). ITA° as for L*a*b* readings (:func:`dermatrack.devices.colorimetry.ita_degrees`).

Indices (absorbance A(λ) = log10(1 / R(λ)), R as a fraction)
    * **Dawson melanin index** ``MI_D = 100 [A(650) - A(700)]``: the slope of the
      log-inverse reflectance over 650-700 nm, where haemoglobin absorbs little and melanin's
      absorbance still falls steeply with wavelength.
    * **Dawson erythema index** ``EI_D = 100 [A(560) + 1.5 (A(540) + A(580))
      - 2 (A(510) + A(610))]``: the area of the oxy-haemoglobin double peak (540/580 nm) above a
      straight line drawn between 510 and 610 nm, which removes melanin's sloping absorbance.
      Dawson JB, Barker DJ, Ellis DJ, et al. A theoretical and experimental study of light
      absorption and scattering by in vivo skin. Phys Med Biol 1980;25:695-709.
    * **Diffey melanin and erythema indices**, the two-wavelength (green/red) form used by
      narrow-band reflectance meters: ``MI_R = 100 A(655)``,
      ``EI_R = 100 [A(568) - A(655)]``. Diffey BL, Oliver RJ, Farr PM. A portable instrument
      for quantifying erythema induced by ultraviolet radiation. Br J Dermatol
      1984;111:663-672; the 568 and 655 nm wavelengths are those of the DermaSpectrometer
      that implements them (Takiwaki H. Measurement of skin color: practical application
      and theoretical considerations. J Med Invest 1998;44:121-126).

    Reflectance between sampled wavelengths is linearly interpolated. The formulas are as
    reproduced in the reviews cited; the primary papers were not re-read for this module.
    All four are dimensionless (reported as "a.u.") and are *not* on the Mexameter's 0-999
    scale: see ``docs/devices.md`` for how they compare.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dermatrack.devices.ita import ita_category, ita_degrees
from dermatrack.devices.tables import cell_number
from dermatrack.errors import InputError

#: Fewest wavelength columns that make a file a reflectance spectrum.
MIN_WAVELENGTHS = 5
#: Wavelength range a column header may name, nm (the CIE colour-matching functions' range).
WAVELENGTH_RANGE_NM = (300.0, 830.0)
#: Reflectance (as a fraction) above this is not a surface reflectance: a unit error.
MAX_REFLECTANCE = 1.5
#: A reflectance below this (fraction) cannot be logged meaningfully (instrument floor).
MIN_REFLECTANCE = 1e-4

OBSERVERS = {"2": "CIE 1931 2 Degree Standard Observer",
             "10": "CIE 1964 10 Degree Standard Observer"}

_WAVELENGTH_HEADER = re.compile(
    r"^\s*(?:[A-Za-z%]{1,8}\s*[-_ ]?\s*)?(\d{3}(?:\.\d+)?)\s*(?:nm)?\s*$", re.IGNORECASE)

UNITS: dict[str, str] = {
    "l_star": "1", "a_star": "1", "b_star": "1", "ita_deg": "°",
    "X": "1", "Y": "1", "Z": "1",
    "melanin_index_dawson": "a.u.", "erythema_index_dawson": "a.u.",
    "melanin_index_diffey": "a.u.", "erythema_index_diffey": "a.u.",
}


def wavelength_of(header: str) -> float | None:
    """The wavelength (nm) a column header names, or None for another column."""
    match = _WAVELENGTH_HEADER.match(header)
    if not match:
        return None
    value = float(match.group(1))
    low, high = WAVELENGTH_RANGE_NM
    return value if low <= value <= high else None


def is_spectral_header(header: list[str]) -> bool:
    """Whether a CSV header has enough wavelength columns to be a reflectance spectrum."""
    return sum(wavelength_of(cell) is not None for cell in header) >= MIN_WAVELENGTHS


def illuminant_name(text: str) -> str:
    """The colour-science key of a CIE illuminant name (``d65`` -> ``D65``, ``F2`` -> ``FL2``).

    Raises
    ------
    InputError
        Not a CIE illuminant colour-science tabulates.
    """
    import colour

    name = text.strip().upper().replace(" ", "")
    if re.fullmatch(r"F\d+", name):
        name = "FL" + name[1:]
    for key in colour.SDS_ILLUMINANTS:
        if key.upper() == name:
            return str(key)
    raise InputError(f"unknown illuminant {text!r} (use a CIE illuminant such as D65, D50, A, "
                     "C, F2 or F11)", field="illuminant")


def observer_code(text: str) -> str:
    """``2`` or ``10`` from ``2``, ``2°``, ``10``, ``1964``, ...; InputError otherwise."""
    cleaned = text.strip().lower().replace("°", "").replace("deg", "").strip()
    if cleaned in ("2", "1931"):
        return "2"
    if cleaned in ("10", "1964"):
        return "10"
    raise InputError(f"unknown observer {text!r} (use 2 or 10)", field="observer")


def spectrum_to_xyz_lab(wavelengths_nm: np.ndarray, reflectance: np.ndarray, *,
                        illuminant: str = "D65", observer: str = "2"
                        ) -> tuple[np.ndarray, np.ndarray]:
    """XYZ (Y of the perfect diffuser = 100) and CIELAB of one reflectance spectrum.

    Parameters
    ----------
    wavelengths_nm:
        Equally spaced wavelengths, nm (shape (n,)).
    reflectance:
        Reflectance as a fraction (0-1) at those wavelengths.
    illuminant:
        colour-science key of a CIE illuminant (:func:`illuminant_name`).
    observer:
        ``"2"`` (CIE 1931) or ``"10"`` (CIE 1964).

    Returns
    -------
    (xyz, lab)
        Arrays of shape (3,).

    References
    ----------
    ASTM E308-22 (weighting factors; colour-science ``sd_to_XYZ_ASTME308``); CIE 15:2018.
    """
    import colour

    sd = colour.SpectralDistribution(np.asarray(reflectance, dtype=np.float64),
                                     np.asarray(wavelengths_nm, dtype=np.float64))
    cmfs = colour.MSDS_CMFS[OBSERVERS[observer]]
    light = colour.SDS_ILLUMINANTS[illuminant]
    # colour-science warns that it trims the illuminant and CMFs to the measured range and
    # extrapolates per ASTM E308: that is the intended computation, not a fault.
    with colour.utilities.suppress_warnings(colour_runtime_warnings=True):
        xyz = np.asarray(colour.sd_to_XYZ(sd, cmfs, light), dtype=np.float64)
        white = _white(sd.shape.start, sd.shape.end, sd.shape.interval, illuminant, observer)
    lab = np.asarray(colour.XYZ_to_Lab(xyz / 100.0, colour.XYZ_to_xy(white / 100.0)),
                     dtype=np.float64)
    return xyz, lab


@functools.lru_cache(maxsize=64)
def _white(start: float, end: float, interval: float, illuminant: str,
           observer: str) -> np.ndarray:
    """XYZ of the perfect reflecting diffuser over a spectral range (cached per file shape)."""
    import colour

    shape = colour.SpectralShape(start, end, interval)
    with colour.utilities.suppress_warnings(colour_runtime_warnings=True):
        white = np.asarray(colour.sd_to_XYZ(colour.sd_ones(shape), colour.MSDS_CMFS[
            OBSERVERS[observer]], colour.SDS_ILLUMINANTS[illuminant]), dtype=np.float64)
    white.setflags(write=False)
    return white


def reflectance_at(wavelengths_nm: np.ndarray, reflectance: np.ndarray, nm: float) -> float:
    """Reflectance at ``nm`` by linear interpolation; InputError outside the measured range."""
    if not wavelengths_nm[0] <= nm <= wavelengths_nm[-1]:
        raise InputError(f"the spectrum ({wavelengths_nm[0]:g}-{wavelengths_nm[-1]:g} nm) does "
                         f"not cover {nm:g} nm", field="wavelengths")
    return float(np.interp(nm, wavelengths_nm, reflectance))


def _absorbance(wavelengths_nm: np.ndarray, reflectance: np.ndarray, nm: float) -> float:
    value = max(reflectance_at(wavelengths_nm, reflectance, nm), MIN_REFLECTANCE)
    return -math.log10(value)


def dawson_indices(wavelengths_nm: np.ndarray,
                   reflectance: np.ndarray) -> tuple[float | None, float | None]:
    """Dawson 1980 melanin and erythema indices (module docstring); None when not covered."""
    def a(nm: float) -> float:
        return _absorbance(wavelengths_nm, reflectance, nm)

    low, high = wavelengths_nm[0], wavelengths_nm[-1]
    melanin = 100.0 * (a(650) - a(700)) if low <= 650 and high >= 700 else None
    erythema = (100.0 * (a(560) + 1.5 * (a(540) + a(580)) - 2.0 * (a(510) + a(610)))
                if low <= 510 and high >= 610 else None)
    return melanin, erythema


def diffey_indices(wavelengths_nm: np.ndarray,
                   reflectance: np.ndarray) -> tuple[float | None, float | None]:
    """Diffey 1984 two-wavelength melanin and erythema indices (568 and 655 nm)."""
    if not (wavelengths_nm[0] <= 568 and wavelengths_nm[-1] >= 655):
        return None, None
    red = _absorbance(wavelengths_nm, reflectance, 655)
    green = _absorbance(wavelengths_nm, reflectance, 568)
    return 100.0 * red, 100.0 * (green - red)


@dataclass
class SpectralReading:
    """One reflectance spectrum and what follows from it."""

    row: int
    l_star: float
    a_star: float
    b_star: float
    ita_deg: float
    ita_category: str
    xyz: tuple[float, float, float]
    indices: dict[str, float | None]
    illuminant: str
    observer: str
    reflectance_scale: str
    wavelengths_nm: tuple[float, ...]
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The keys of an L*a*b* reading, plus XYZ, the spectral indices and the range."""
        return {
            "row": self.row, "l_star": self.l_star, "a_star": self.a_star,
            "b_star": self.b_star, "ita_deg": self.ita_deg, "ita_category": self.ita_category,
            "melanin_index": None, "erythema_index": None,
            "illuminant": self.illuminant, "observer": self.observer, "adapted_from": None,
            "extra": dict(self.extra), "source": "spectrum",
            "X": self.xyz[0], "Y": self.xyz[1], "Z": self.xyz[2],
            "spectral_indices": dict(self.indices),
            "reflectance_scale": self.reflectance_scale,
            "wavelength_range_nm": [self.wavelengths_nm[0], self.wavelengths_nm[-1]],
            "wavelength_step_nm": (self.wavelengths_nm[1] - self.wavelengths_nm[0]),
        }

    def values(self) -> dict[str, float | None]:
        """The numeric results, as stored in an observation."""
        return {"l_star": self.l_star, "a_star": self.a_star, "b_star": self.b_star,
                "ita_deg": self.ita_deg, "X": self.xyz[0], "Y": self.xyz[1],
                "Z": self.xyz[2], **self.indices}


def _scale(declared: str | None, values: np.ndarray, line: int | None) -> tuple[float, str]:
    if declared is not None:
        key = declared.strip().lower()
        if key in ("%", "percent", "pct"):
            return 0.01, "percent"
        if key in ("fraction", "1", "0-1", "ratio"):
            return 1.0, "fraction"
        raise InputError(f"reflectance must be 'percent' or 'fraction', not {declared!r}",
                         field="reflectance", line=line)
    return (0.01, "percent (detected)") if np.nanmax(values) > MAX_REFLECTANCE else \
        (1.0, "fraction (detected)")


def parse_spectral_table(header: list[str], rows: list[tuple[int, list[str]]], *,
                         header_line: int = 1, illuminant: str = "D65", observer: str = "2",
                         declared_scale: tuple[str, int] | None = None
                         ) -> list[SpectralReading]:
    """Readings from the header cells and (line, cells) rows of a spectral CSV.

    Raises
    ------
    InputError
        Too few or unevenly spaced wavelength columns, a repeated wavelength, a row with a
        different number of cells, a non-numeric or missing reflectance, a reflectance
        below 0 or above 150 %, an unknown illuminant or observer.
    """
    illuminant = illuminant_name(illuminant)
    observer = observer_code(observer)
    columns = [(index, wavelength_of(name)) for index, name in enumerate(header)]
    spectral = [(index, nm) for index, nm in columns if nm is not None]
    if len(spectral) < MIN_WAVELENGTHS:
        raise InputError(f"found {len(spectral)} wavelength columns; a spectrum needs at least "
                         f"{MIN_WAVELENGTHS}", field="wavelengths", line=header_line)
    wavelengths = np.array([nm for _, nm in spectral])
    if len(set(wavelengths.tolist())) != len(wavelengths):
        raise InputError("a wavelength column is repeated", field="wavelengths",
                         line=header_line)
    order = np.argsort(wavelengths)
    wavelengths = wavelengths[order]
    steps = np.diff(wavelengths)
    if not np.allclose(steps, steps[0], rtol=0, atol=1e-6):
        raise InputError("the wavelength columns are not equally spaced "
                         f"({', '.join(f'{w:g}' for w in wavelengths)} nm)",
                         field="wavelengths", line=header_line)
    if steps[0] not in (1.0, 5.0, 10.0, 20.0):
        raise InputError(f"a {steps[0]:g} nm step is not one of the ASTM E308 intervals "
                         "(1, 5, 10 or 20 nm)", field="wavelengths", line=header_line)
    if not rows:
        raise InputError("the file has a header but no readings", line=header_line)
    spectral_index = {index for index, _ in spectral}
    table = np.empty((len(rows), len(spectral)))
    for r, (line, cells) in enumerate(rows):
        if len(cells) != len(header):
            raise InputError(f"row has {len(cells)} cells but the header has {len(header)} "
                             "columns", field="columns", line=line)
        for c, (index, _) in enumerate(spectral):
            if cells[index] == "":
                raise InputError("missing reflectance", field=header[index], line=line)
            table[r, c] = cell_number(cells[index], header[index], line)
    table = table[:, order]
    factor, scale_name = _scale(declared_scale[0] if declared_scale else None, table,
                                declared_scale[1] if declared_scale else header_line)
    table *= factor
    readings: list[SpectralReading] = []
    for r, (line, cells) in enumerate(rows):
        values = table[r]
        bad = np.flatnonzero((values < 0) | (values > MAX_REFLECTANCE))
        if bad.size:
            column = header[spectral[int(order[bad[0]])][0]]
            raise InputError(f"reflectance {values[bad[0]] / factor:g} is outside 0-"
                             f"{MAX_REFLECTANCE / factor:g} ({scale_name})", field=column,
                             line=line)
        xyz, lab = spectrum_to_xyz_lab(wavelengths, values, illuminant=illuminant,
                                       observer=observer)
        l_star, a_star, b_star = (float(v) for v in lab)
        ita = ita_degrees(l_star, b_star)
        mi_d, ei_d = dawson_indices(wavelengths, values)
        mi_r, ei_r = diffey_indices(wavelengths, values)
        readings.append(SpectralReading(
            row=line, l_star=l_star, a_star=a_star, b_star=b_star, ita_deg=ita,
            ita_category=ita_category(ita), xyz=(float(xyz[0]), float(xyz[1]), float(xyz[2])),
            indices={"melanin_index_dawson": mi_d, "erythema_index_dawson": ei_d,
                     "melanin_index_diffey": mi_r, "erythema_index_diffey": ei_r},
            illuminant=illuminant, observer=observer, reflectance_scale=scale_name,
            wavelengths_nm=tuple(float(w) for w in wavelengths),
            extra={header[i]: cells[i] for i in range(len(header)) if i not in spectral_index}))
    return readings
