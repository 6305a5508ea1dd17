"""Definitions of the photo metrics (observation kind ``photo``).

One :class:`~dermatrack.metrics.MetricDefinition` per figure of the ``photo analyze`` JSON;
the full method of each family is in the docstring of the module that computes it
(:mod:`~dermatrack.imaging.wrinkles`, :mod:`~dermatrack.imaging.pigment`,
:mod:`~dermatrack.imaging.redness`, :mod:`~dermatrack.imaging.texture`,
:mod:`~dermatrack.imaging.pores`). Units are those with a known physical scale; without
one, lengths are in pixels (:func:`unscaled_unit`).

Each definition carries ``max_mm_per_px``, the coarsest pixel size at which the metric
can be measured (None: resolution does not limit it, as for colour medians). A photograph
coarser than that gets ``null`` for the metric with a reason (:func:`not_measurable`),
never a number. The limits follow from the sizes each detector looks for:

- wrinkles: ``wrinkles.PORTRAIT_MAX_MM_PER_PX`` (0.8 mm): the finest portrait filter
  scale is one pixel there (close-ups at <= 0.15 mm/px use the fine-line tier);
- spots: 0.5 mm, so that the smallest spot (1 mm across) spans 2 pixels;
- red area and tone evenness: 0.8 mm, the portrait grid's limit (the red-area smoothing
  and the L* spread are computed on the same grid as wrinkles);
- pores and texture: 0.10 mm, so that a 0.2 mm pore spans 2 pixels and the 0.1-1 mm
  texture band keeps most of its range (the finest pores, 0.1 mm, need 0.05 mm/px).
"""

from __future__ import annotations

from dermatrack.metric_definition import MetricDefinition

__all__ = ["FINE_DETAIL_FAMILIES", "NEEDS_COLOUR", "PHOTO_KIND", "PHOTO_METHOD_VERSION",
           "PHOTO_METRICS", "method_difference", "method_versions_differ", "needs_fine_detail",
           "not_measurable", "photo_metric", "unscaled_unit"]

#: Coarsest pixel size (mm) per metric group (see the module docstring).
MAX_MM_PER_PX_WRINKLES = 0.8
MAX_MM_PER_PX_SPOTS = 0.5
MAX_MM_PER_PX_MAPS = 0.8
MAX_MM_PER_PX_FINE = 0.10

PHOTO_KIND = "photo"

#: Version of the photo measurement method: the code (and the libraries it runs on) that
#: turns pixels into these figures. Every stored photo figure records the version that
#: measured it (its observation's ``settings["method_version"]``, and the ``photo
#: analyze`` JSON's ``method_version``). A change that moves any figure changes the
#: method, so the version changes with it: ``tests/imaging/test_method_version.py``
#: fails when the reference figures move and this does not. Two figures of different
#: versions are not compared (:func:`method_versions_differ`); ``dermatrack photo
#: reanalyse`` measures stored photographs again with this version.
PHOTO_METHOD_VERSION = "2026.12.05.2"


#: Metric families measured on the skin's finest detail: blur or a skin-smoothing (beauty)
#: mode in one photograph of a pair takes their lines, texture and pores away (see
#: ``quality.capture_differences``, "sharpness" and "skin detail"), so their change in
#: such a pair is not judged. Colour medians, spots and red areas hold.
FINE_DETAIL_FAMILIES = ("wrinkles", "texture", "pores")


def needs_fine_detail(code: str) -> bool:
    """Whether a photo metric (``family.metric``) is one blur or skin smoothing moves."""
    return code.split(".")[0] in FINE_DETAIL_FAMILIES


def method_versions_differ(before: str | None, after: str | None) -> bool:
    """Whether two photo figures were measured by different versions of the method
    (None: stored before versions were recorded). Two unrecorded versions are not
    known to differ; an unrecorded one differs from any recorded one, which it
    predates."""
    return before != after


def method_difference(before: str | None, after: str | None) -> str | None:
    """The sentence naming two photographs measured by different method versions (see
    :func:`method_versions_differ`), or None when they were not."""
    if not method_versions_differ(before, after):
        return None

    def named(version: str | None) -> str:
        return version if version is not None else "one from before versions were recorded"

    return (f"method: the two photographs were measured by different versions of the "
            f"photo method ({named(before)} before, {named(after)} after), so their "
            f"figures differ by the method as well as by the skin; dermatrack photo "
            f"reanalyse measures both again with this version ({PHOTO_METHOD_VERSION})")

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
    family = code.split(".")[0]
    limit = {"wrinkles": MAX_MM_PER_PX_WRINKLES, "texture": MAX_MM_PER_PX_FINE,
             "pores": MAX_MM_PER_PX_FINE}.get(family)
    if code in ("pigment.spot_count", "pigment.spot_area_fraction"):
        limit = MAX_MM_PER_PX_SPOTS
    elif code in ("pigment.evenness", "redness.red_area_fraction"):
        limit = MAX_MM_PER_PX_MAPS
    shown_unit, factor = None, 1.0
    if code.endswith("_fraction"):
        shown_unit, factor = "%", 100.0
    elif code in ("texture.roughness", "pigment.evenness"):
        shown_unit = "ΔL*"
    return MetricDefinition(kind=PHOTO_KIND, code=code, label=label, unit=unit,
                            direction=direction,  # type: ignore[arg-type]
                            decimals=decimals, description=description, source=source,
                            concerns=concerns, max_mm_per_px=limit, shown_unit=shown_unit,
                            shown_factor=factor)


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


#: Photo metrics read from the photograph's colour (its chroma), not from its lightness:
#: skin tone (b*, ITA, melanin index from the red reflectance) and redness. A photograph
#: without colour (black and white) gives b* = a* = 0, so ITA 90° "very light" and no
#: red area whatever the skin; these are null on it instead.
NEEDS_COLOUR = frozenset({"pigment.b_star", "pigment.ita_deg", "pigment.melanin_index",
                          "redness.a_star", "redness.erythema_index",
                          "redness.red_area_fraction"})


def not_measurable(mm_per_px: float | None, *, colourless: bool = False) -> dict[str, str]:
    """Metric code -> reason, for every photo metric a photograph of pixel size
    ``mm_per_px`` (mm) is too coarse for, e.g. ``{"pores.count": "not measurable at
    0.45 mm/px; needs <= 0.10"}``, and, when the photograph has no colour
    (``colourless``, see ``quality.MIN_SKIN_CHROMA``), for every metric of
    :data:`NEEDS_COLOUR`. Resolution is not judged when the scale is unknown (the
    metrics are then in pixels)."""
    missing = {}
    if mm_per_px is not None:
        missing = {d.code: f"not measurable at {mm_per_px:.2f} mm/px; needs <= "
                           f"{d.max_mm_per_px:.2f}"
                   for d in PHOTO_METRICS
                   if d.max_mm_per_px is not None and mm_per_px > d.max_mm_per_px}
    if colourless:
        missing.update({code: "not measurable on a photograph without colour (black and "
                              "white); needs a colour photograph"
                        for code in sorted(NEEDS_COLOUR)})
    return missing


def unscaled_unit(unit: str) -> str:
    """The pixel unit that replaces ``unit`` when the physical scale is unknown."""
    return _UNSCALED.get(unit, unit)
