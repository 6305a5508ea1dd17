"""The type of a metric definition: what one stored measurement means.

:class:`MetricDefinition` and :data:`Direction` are what the imaging and device cores use
to declare their metrics (:mod:`dermatrack.imaging.definitions`,
:mod:`dermatrack.devices.definitions`); :mod:`dermatrack.metrics` gathers those
declarations into one registry. Kept apart from the registry so that the cores import the
type without importing the module that imports them (no import cycle). No I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["lower", "higher"]

#: UCUM code (https://ucum.org) of each unit string dermatrack stores. Colour
#: coordinates (L*, a*, b*) are dimensionless; arbitrary-unit indices are ``[arb'U]``.
_UCUM: dict[str, str] = {
    "1": "1", "mm": "mm", "mm²": "mm2", "mm/cm²": "mm/cm2", "1/cm²": "/cm2", "°": "deg",
    "a.u.": "[arb'U]", "L*": "1", "a*": "1", "b*": "1", "%": "%", "µm": "um",
    "µm³/µm²": "um3/um2", "µm³/mm²": "um3/mm2", "mm³": "mm3", "mm·s": "mm.s",
    "px": "{pixel}", "px²": "{pixel}2", "px/px²": "/{pixel}", "1/px²": "/{pixel}2",
    "m/s": "m/s", "kPa": "kPa", "nm": "nm",
}


@dataclass(frozen=True)
class MetricDefinition:
    """The definition of one metric.

    Attributes
    ----------
    kind : observation kind that holds it (``photo``, ``surface``, ``colour``,
        ``elasticity``, ...)
    code : metric code as stored (``wrinkles.length_mm``, ``Sa``, ``R2``)
    label : human name for tables and plots ("Wrinkle length")
    unit : unit as stored in observations (``"1"`` for dimensionless)
    direction : ``"lower"`` or ``"higher"`` when one way is an improvement after
        rejuvenation treatment; ``None`` when neither is (skin tone, ITA): such changes are
        reported as real or not, never as better or worse
    decimals : decimals worth showing (the measurement's resolution)
    description : the definition, in one or two sentences
    source : the method's reference
    concerns : concern codes (knowledge vocabulary) this metric shows best, region
        ``whole``: the metric a responder is judged on when no rating exists
    max_mm_per_px : coarsest pixel size (mm) at which a photo metric can be measured;
        ``None`` when resolution does not limit it (colour statistics) or for devices
    shown_unit : unit printed for people when it differs from the stored one (a fraction
        shown in ``%``, a spread of L* shown as ``ΔL*``); ``None``: :attr:`unit`
    shown_factor : factor from the stored value to the shown one (100 for a fraction in
        ``%``)
    """

    kind: str
    code: str
    label: str
    unit: str
    direction: Direction | None = None
    decimals: int = 2
    description: str = ""
    source: str = ""
    concerns: tuple[str, ...] = ()
    max_mm_per_px: float | None = None
    shown_unit: str | None = None
    shown_factor: float = 1.0

    @property
    def ucum(self) -> str:
        """The unit as a UCUM code (for FHIR and other exchange formats)."""
        return ucum_unit(self.unit)

    @property
    def display_unit(self) -> str:
        """The unit as printed beside a shown value (:meth:`shown`): empty for
        dimensionless figures."""
        unit = self.shown_unit if self.shown_unit is not None else self.unit
        return "" if unit == "1" else unit

    @property
    def display_decimals(self) -> int:
        """Decimals worth showing of a shown value (the resolution in shown units)."""
        return max(0, self.decimals - round(math.log10(self.shown_factor)))

    def shown(self, value: float | None) -> float | None:
        """A stored value in the unit shown to people."""
        return None if value is None else value * self.shown_factor

    def resolution(self) -> float:
        """The smallest difference the figure resolves, in stored units: half a unit of
        its last meaningful decimal. A change smaller than this is no change."""
        return 0.5 * 10.0 ** (-self.decimals)

    def format(self, value: float | None, *, unit: bool = True, signed: bool = False) -> str:
        """A stored value rounded to its resolution, in shown units ("12.3 mm", "1.25 %");
        an en dash for a missing value. With ``signed``, a change: "+1.2 mm", and
        "no change" below the resolution."""
        if value is None or not math.isfinite(value):
            return "–"
        if signed and abs(value) < self.resolution():
            return "no change"
        number = self.shown(value)
        assert number is not None
        text = f"{number:{'+' if signed else ''},.{self.display_decimals}f}"
        if text.lstrip("+-").strip("0.,") == "":  # rounds to zero: no sign, no "-0"
            text = text.lstrip("+-")
        suffix = self.display_unit
        if unit and suffix:
            text += suffix if suffix == "°" else f" {suffix}"
        return text


def ucum_unit(unit: str) -> str:
    """UCUM code of a stored unit string; unknown units become a UCUM annotation."""
    return _UCUM.get(unit, "{" + unit.replace("}", "") + "}")
