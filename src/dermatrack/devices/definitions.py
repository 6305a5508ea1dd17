"""Definitions of the device metrics (observation kinds ``surface``, ``colour``,
``elasticity``).

The units are those the computing modules declare (``surface.UNITS``,
``colorimetry.UNITS``, ``elasticity.UNITS``); this module adds the label, the direction of
improvement after rejuvenation treatment and the source, so that every adapter reads one
definition (:func:`dermatrack.metrics.metric_definition`).
"""

from __future__ import annotations

from dermatrack.devices import colorimetry, elasticity, elastography, spectra, surface
from dermatrack.metric_definition import Direction, MetricDefinition

__all__ = ["DEVICE_METRICS"]

_SPECTRA = ("CIE 15:2018 via ASTM E308 (colour-science); Dawson 1980; Diffey 1984; "
            "see dermatrack.devices.spectra")
_ELASTOGRAPHY = ("Shear-wave elastography, E = 3 rho c^2 (Sarvazyan 1998); "
                 "see dermatrack.devices.elastography")
_ISO = "ISO 25178-2:2021 (areal), ISO 21920-2:2021 (profile); see dermatrack.devices.surface"
_COLOUR = "CIE 15:2018 (CIELAB); Chardon 1991 (ITA); see dermatrack.devices.colorimetry"
_CUTOMETER = ("Courage + Khazaka Cutometer parameters; Ryu 2008; "
              "see dermatrack.devices.elasticity")

#: (label, direction, decimals) per code; codes missing here get their code as label.
_SURFACE: dict[str, tuple[str, Direction | None, int]] = {
    "Sa": ("Arithmetic mean height Sa", "lower", 2),
    "Sq": ("Root mean square height Sq", "lower", 2),
    "Sp": ("Maximum peak height Sp", None, 2), "Sv": ("Maximum pit depth Sv", None, 2),
    "Sz": ("Maximum height Sz", "lower", 2), "Ssk": ("Skewness Ssk", None, 3),
    "Sku": ("Kurtosis Sku", None, 3), "Sdq": ("Root mean square gradient Sdq", None, 4),
    "Sdr": ("Developed interfacial area ratio Sdr", None, 3),
    "Ra": ("Profile arithmetic mean deviation Ra", "lower", 2),
    "Rq": ("Profile root mean square deviation Rq", None, 2),
    "Rz": ("Profile maximum height Rz", "lower", 2),
    "furrow_depth_um": ("Furrow depth", "lower", 1),
    "furrow_volume_um3_per_mm2": ("Furrow volume per area", "lower", 0),
}
_COLOUR_LABELS: dict[str, tuple[str, Direction | None, int]] = {
    "l_star": ("Lightness L*", None, 1), "a_star": ("Redness a*", "lower", 1),
    "b_star": ("Yellowness b*", None, 1), "ita_deg": ("Skin tone ITA", None, 1),
    "melanin_index": ("Melanin index", None, 0),
    "erythema_index": ("Erythema index", "lower", 0),
}
# Reflectance spectra: less haemoglobin absorbance is less redness (Dawson 1980, Diffey
# 1984); the melanin indices and tristimulus values have no better direction.
_SPECTRAL: dict[str, tuple[str, Direction | None, int]] = {
    "l_star": ("Lightness L*", None, 1), "a_star": ("Redness a*", "lower", 1),
    "b_star": ("Yellowness b*", None, 1), "ita_deg": ("Skin tone ITA", None, 1),
    "melanin_index_dawson": ("Melanin index (Dawson)", None, 1),
    "erythema_index_dawson": ("Erythema index (Dawson)", "lower", 1),
    "melanin_index_diffey": ("Melanin index (Diffey)", None, 1),
    "erythema_index_diffey": ("Erythema index (Diffey)", "lower", 1),
}
# Elastography has no better direction: stiffer is firmer, or fibrotic.
_ELASTOGRAPHY_LABELS: dict[str, tuple[str, Direction | None, int]] = {
    "speed_median_m_s": ("Shear-wave speed (median)", None, 2),
    "youngs_modulus_median_kpa": ("Young's modulus (median)", None, 1),
    "shear_modulus_median_kpa": ("Shear modulus (median)", None, 1),
}
_ELASTICITY: dict[str, tuple[str, Direction | None, int]] = {
    "R0": ("Firmness R0 (Uf)", None, 3), "R1": ("Residual deformation R1", None, 3),
    "R2": ("Gross elasticity R2", "higher", 3), "R5": ("Net elasticity R5", "higher", 3),
    "R6": ("Viscoelastic portion R6", None, 3),
    "R7": ("Biological elasticity R7", "higher", 3),
    "R8": ("Total recovery R8 (Ua)", None, 3), "R9": ("Fatigue R9", None, 3),
}


def _definitions(kind: str, units: dict[str, str],
                 known: dict[str, tuple[str, Direction | None, int]], source: str
                 ) -> tuple[MetricDefinition, ...]:
    out = []
    for code, unit in units.items():
        label, direction, decimals = known.get(code, (code, None, 3))
        out.append(MetricDefinition(kind=kind, code=code, label=label, unit=unit,
                                    direction=direction, decimals=decimals, source=source))
    return tuple(out)


DEVICE_METRICS: tuple[MetricDefinition, ...] = (
    *_definitions("surface", surface.UNITS, _SURFACE, _ISO),
    *_definitions("colour", colorimetry.UNITS, _COLOUR_LABELS, _COLOUR),
    *_definitions("elasticity", elasticity.UNITS, _ELASTICITY, _CUTOMETER),
    *_definitions("spectral", spectra.UNITS, _SPECTRAL, _SPECTRA),
    *_definitions("elastography", elastography.UNITS, _ELASTOGRAPHY_LABELS, _ELASTOGRAPHY),
)
