"""Definitions of the photo metrics (observation kind ``photo``).

One :class:`~dermatrack.metrics.MetricDefinition` per figure of the ``photo analyze`` JSON;
the full method of each family is in the docstring of the module that computes it
(:mod:`~dermatrack.imaging.wrinkles`, :mod:`~dermatrack.imaging.pigment`,
:mod:`~dermatrack.imaging.redness`, :mod:`~dermatrack.imaging.texture`,
:mod:`~dermatrack.imaging.pores`). Units are those with a known physical scale; without
one, lengths are in pixels (:func:`unscaled_unit`).
"""

from __future__ import annotations

from dermatrack.metrics import MetricDefinition

__all__ = ["PHOTO_KIND", "PHOTO_METRICS", "photo_metric", "unscaled_unit"]

PHOTO_KIND = "photo"

_WRINKLES = ("Ng et al. 2014 (hybrid Hessian filter); Lindeberg 1998; "
             "see dermatrack.imaging.wrinkles")
_PIGMENT = "Chardon 1991; Del Bino 2006; Dawson 1980; see dermatrack.imaging.pigment"
_REDNESS = "Diffey 1984; Wagner 2002; Yamamoto 2008; see dermatrack.imaging.redness"
_TEXTURE = "Tchvialeva 2010; see dermatrack.imaging.texture"
_PORES = "Lindeberg 1998; Lowe 2004; see dermatrack.imaging.pores"
_LINES = ("fine_lines", "wrinkles", "laxity", "volume_loss")
_TONE = ("dyspigmentation", "melasma", "post_inflammatory_hyperpigmentation")


# Shown to people: fractions as percent; a spread or RMS of L* as a lightness
# difference, ΔL* (not a lightness L*).
def _photo(code: str, label: str, unit: str, direction: str | None, decimals: int,
           description: str, source: str, concerns: tuple[str, ...] = ()
           ) -> MetricDefinition:
    shown_unit, factor = None, 1.0
    if code.endswith("_fraction"):
        shown_unit, factor = "%", 100.0
    elif code in ("texture.roughness", "pigment.evenness"):
        shown_unit = "ΔL*"
    return MetricDefinition(kind=PHOTO_KIND, code=code, label=label, unit=unit,
                            direction=direction,  # type: ignore[arg-type]
                            decimals=decimals, description=description, source=source,
                            concerns=concerns, shown_unit=shown_unit, shown_factor=factor)


PHOTO_METRICS: tuple[MetricDefinition, ...] = (
    _photo("area_mm2", "Region area", "mm²", None, 0,
           "Area of skin analysed in the region.", "dermatrack.imaging.regions"),
    _photo("wrinkles.count", "Wrinkles", "1", "lower", 0,
           "Wrinkles (centreline components) touching the region.", _WRINKLES),
    _photo("wrinkles.length_mm", "Wrinkle length", "mm", "lower", 0,
           "Total wrinkle centreline length inside the region.", _WRINKLES, _LINES),
    _photo("wrinkles.density_mm_per_cm2", "Wrinkle density", "mm/cm²", "lower", 1,
           "Wrinkle length per cm² of region.", _WRINKLES),
    _photo("wrinkles.mean_width_mm", "Wrinkle width", "mm", "lower", 2,
           "Length-weighted mean full width at half depth of the wrinkles.", _WRINKLES),
    _photo("wrinkles.area_fraction", "Wrinkle area", "1", "lower", 3,
           "Fraction of the region covered by wrinkles.", _WRINKLES),
    _photo("wrinkles.severity_index", "Wrinkle severity", "1", "lower", 0,
           "Sum over the centreline of depth (Weber contrast, %) x length (mm), per cm² of "
           "region.", _WRINKLES),
    _photo("pigment.l_star", "Lightness L*", "L*", None, 1,
           "Median CIELAB L* (D65) over the region.", _PIGMENT),
    _photo("pigment.b_star", "Yellowness b*", "b*", None, 1,
           "Median CIELAB b* (D65) over the region.", _PIGMENT),
    _photo("pigment.ita_deg", "Skin tone ITA", "°", None, 1,
           "Individual Typology Angle, atan2(L* - 50, b*) in degrees.", _PIGMENT),
    _photo("pigment.melanin_index", "Melanin index", "a.u.", None, 1,
           "100 log10(1/R) with R the mean linear red reflectance (camera-dependent "
           "unless calibrated).", _PIGMENT),
    _photo("pigment.spot_count", "Spots", "1", "lower", 0,
           "Pigmented spots darker than the surrounding skin.", _PIGMENT),
    _photo("pigment.spot_area_fraction", "Spot area", "1", "lower", 4,
           "Fraction of the region covered by pigmented spots.", _PIGMENT, _TONE),
    _photo("pigment.evenness", "Tone unevenness", "L*", "lower", 2,
           "Robust spread of L* over the region (1.4826 x MAD); higher is less even.",
           _PIGMENT),
    _photo("redness.a_star", "Redness a*", "a*", "lower", 1,
           "Mean CIELAB a* over the region.", _REDNESS),
    _photo("redness.erythema_index", "Erythema index", "a.u.", "lower", 1,
           "100 log10(R/G) with R and G the mean linear red and green reflectances.",
           _REDNESS),
    _photo("redness.red_area_fraction", "Red area", "1", "lower", 4,
           "Fraction of the region where a* exceeds the skin's median by the red "
           "threshold.", _REDNESS, ("erythema",)),
    _photo("texture.roughness", "Texture roughness", "L*", "lower", 2,
           "RMS of band-passed (0.1-1 mm) luminance over the region, in L* units; a "
           "photometric figure, not a height.", _TEXTURE,
           ("texture", "acne_scars", "stretch_marks")),
    _photo("pores.count", "Pores", "1", "lower", 0,
           "Pore openings (dark round blobs 0.1-0.6 mm across).", _PORES,
           ("enlarged_pores",)),
    _photo("pores.density_per_cm2", "Pore density", "1/cm²", "lower", 1,
           "Pores per cm² of region.", _PORES),
    _photo("pores.mean_diameter_mm", "Pore diameter", "mm", "lower", 2,
           "Mean pore diameter (full width at half depth).", _PORES),
)

#: Units of lengths and areas when the physical scale is unknown (pixels).
_UNSCALED = {"mm": "px", "mm²": "px²", "mm/cm²": "px/px²", "1/cm²": "1/px²"}

_BY_CODE = {d.code: d for d in PHOTO_METRICS}


def photo_metric(code: str) -> MetricDefinition | None:
    """The definition of photo metric ``code``, or ``None``."""
    return _BY_CODE.get(code)


def unscaled_unit(unit: str) -> str:
    """The pixel unit that replaces ``unit`` when the physical scale is unknown."""
    return _UNSCALED.get(unit, unit)
