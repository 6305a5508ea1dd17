"""The individual typology angle (ITA°) of a CIELAB colour and its skin colour class.

Used by colorimeter readings (:mod:`dermatrack.devices.colorimetry`) and by reflectance
spectra (:mod:`dermatrack.devices.spectra`) alike, so it lives apart from both.

References
----------
Chardon A, Cretois I, Hourseau C. Skin colour typology and suntanning pathways.
Int J Cosmet Sci 1991;13:191-208.
Del Bino S et al. Relationship between skin response to ultraviolet exposure and skin
color type. Pigment Cell Res 2006;19:606-614.
"""

from __future__ import annotations

import math

ITA_CATEGORIES: tuple[tuple[float, str], ...] = (
    (55.0, "very light"),
    (41.0, "light"),
    (28.0, "intermediate"),
    (10.0, "tanned"),
    (-30.0, "brown"),
)


def ita_degrees(l_star: float, b_star: float) -> float:
    """Individual typology angle in degrees: atan2(L* - 50, b*) x 180 / pi (Chardon 1991)."""
    return math.degrees(math.atan2(l_star - 50.0, b_star))


def ita_category(ita_deg: float) -> str:
    """Skin colour class of an ITA° value (Chardon 1991; Del Bino 2006)."""
    for lower_bound, name in ITA_CATEGORIES:
        if ita_deg > lower_bound or (name == "brown" and ita_deg >= lower_bound):
            return name
    return "dark"
