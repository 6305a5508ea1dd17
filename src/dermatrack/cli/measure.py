"""``dermatrack measure``: parameters from the files skin measurement devices export.

* ``measure surface FILE``: profilometry height maps (X3P, SDF, CSV/text, TIFF, NPY) to ISO
  25178-2 areal, ISO 21920-2 profile and furrow parameters;
* ``measure colour FILE``: colorimeter CSV to CIELAB (D65/2°), ITA° and its category, with
  Mexameter-style indices carried through;
* ``measure elasticity FILE``: suction-curve CSV (or a device's R-parameter table) to
  Cutometer-style U-, R- and Q-parameters;
* ``measure elastography FILE``: shear-wave elastography maps (DICOM, CSV, TIFF) to the
  median and spread of shear-wave speed and Young's modulus per region of interest.

With ``--patient ID --region NAME`` (and usually ``--visit ID``) the results are also stored
as observations (kinds ``surface``, ``colour``, ``spectral``, ``elasticity``,
``elastography``) through the observation
service, alongside the photo metrics.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from dermatrack.cli._input import actor_name, read_bytes, read_text
from dermatrack.cli.output import console, emit_json, err_console, json_option
from dermatrack.errors import InputError

measure_app = typer.Typer(
    name="measure",
    help="Compute standard parameters from profilometer, colorimeter, spectrophotometer, "
    "suction-device and elastography files.",
    no_args_is_help=True,
)

# The storage options every measure command takes.
PATIENT_OPTION = typer.Option(
    None, "--patient", help="Store the results as observations of this patient (needs --region).")
VISIT_OPTION = typer.Option(None, "--visit",
                            help="The patient's visit the measurement belongs to.")
REGION_OPTION = typer.Option(None, "--region",
                             help="Facial region measured (vocabulary region code).")
DEVICE_OPTION = typer.Option(None, "--device",
                             help="Instrument, e.g. 'Cutometer MPA 580, 2 mm probe'.")
ACTOR_OPTION = typer.Option(None, "--actor", help="Who stores the results (default: "
                            "$DERMATRACK_ACTOR, else $USER, else 'cli').")


def register(app: typer.Typer) -> None:
    app.add_typer(measure_app, name="measure")


# ---------------------------------------------------------------------------------------------
# Storing
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Storage:
    """Where ``--patient``, ``--visit`` and ``--region`` say a command's results go."""

    patient: str
    visit: str | None
    region: str
    device: str | None
    actor: str

    def store(self, kind: str, file: Path, measurements: list[dict[str, Any]],
              *, device: str | None = None) -> list[list[str]]:
        """Record each measurement (values, units, method, settings); return the ids stored.

        Each measurement is one call of the service (one transaction); the patient, visit
        and region are checked on the first, so a wrong one stores nothing.
        """
        from dermatrack.services.common import open_store
        from dermatrack.services.observations import record_observations

        digest = hashlib.sha256(read_bytes(file)).hexdigest()
        stored: list[list[str]] = []
        with open_store() as store:
            for item in measurements:
                rows = record_observations(
                    store, patient_id=self.patient, visit_id=self.visit, region=self.region,
                    kind=kind, values=item["values"], units=item["units"],
                    device=self.device or device, method=item["method"],
                    source_sha256=digest, settings=item["settings"], actor=self.actor)
                stored.append([row.id for row in rows])
        return stored


def _storage(patient: str | None, visit: str | None, region: str | None,
             device: str | None, actor: str | None) -> _Storage | None:
    """Check the storage options; None when the results are only printed.

    The region must be a vocabulary region or one of its imaging aliases (``cheek_left``);
    it is stored as given, like the photo metrics, so the side is not lost.
    """
    if patient is None:
        if visit is not None or region is not None:
            raise InputError("--visit and --region store results and need --patient",
                             field="patient")
        return None
    if region is None:
        raise InputError("storing a measurement needs --region", field="region")
    from dermatrack.knowledge.vocabulary import load_vocabulary

    load_vocabulary().require("regions", region, field="region")
    return _Storage(patient, visit, region, device, actor_name(actor))


def _numeric(values: dict[str, Any]) -> dict[str, float | None]:
    return {k: (None if v is None else float(v)) for k, v in values.items()
            if v is None or isinstance(v, (int, float)) and not isinstance(v, bool)}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# ---------------------------------------------------------------------------------------------
# surface
# ---------------------------------------------------------------------------------------------

@measure_app.command("surface")
def surface(
    file: Path = typer.Argument(..., help="Height map: .x3p, .sdf, .sur, .plu, .datx, "
                                ".csv/.txt, .tif, .npy."),
    spacing_um: float | None = typer.Option(None, "--spacing-um",
                                            help="Sampling interval in µm (overrides the file)."),
    z_unit: str | None = typer.Option(None, "--z-unit",
                                      help="Unit of heights in CSV/TIFF/NPY: m, mm, um, nm."),
    z_scale: float | None = typer.Option(None, "--z-scale",
                                         help="Height of one count of a 16-bit TIFF (z-unit)."),
    form: str = typer.Option("plane", "--form", help="Form removal: none, plane or poly2."),
    ls: float | None = typer.Option(None, "--ls", help="S-filter nesting index in µm (off)."),
    lc: float | None = typer.Option(None, "--lc", help="L-filter nesting index in µm (off)."),
    edge: str = typer.Option("renormalise", "--edge",
                             help="Filter end effects (ISO 16610-28): renormalise (default: "
                             "weighting function cut at the border and renormalised), reflect "
                             "(mirror the map), nan (drop points within the filter's "
                             "half-width of the border), crop (cut that strip away)."),
    patient: str | None = PATIENT_OPTION,
    visit: str | None = VISIT_OPTION,
    region: str | None = REGION_OPTION,
    device: str | None = DEVICE_OPTION,
    actor: str | None = ACTOR_OPTION,
    as_json: bool = json_option(),
) -> None:
    """Areal (ISO 25178-2), profile (ISO 21920-2) and furrow parameters of a height map."""
    from dermatrack.devices.io import read_height_map
    from dermatrack.devices.surface import EDGE_MODES, FORMS, measure_surface

    if form not in FORMS:
        raise InputError(f"--form must be one of {', '.join(FORMS)}, not {form!r}", field="form")
    if edge not in EDGE_MODES:
        raise InputError(f"--edge must be one of {', '.join(EDGE_MODES)}, not {edge!r}",
                         field="edge")
    storage = _storage(patient, visit, region, device, actor)
    with err_console.status(f"Measuring {file.name} ..."):  # a 2000 x 2000 map takes seconds
        heightmap = read_height_map(file, spacing_um=spacing_um, z_unit=z_unit,
                                    z_scale=z_scale)
        result = measure_surface(heightmap, form=form, ls_um=ls,  # type: ignore[arg-type]
                                 lc_um=lc, edge=edge)  # type: ignore[arg-type]
    data = result.to_json()
    if storage is not None:
        values = _numeric(result.values())
        method = (f"dermatrack ISO 25178-2 / ISO 21920-2; form {form}; "
                  f"S-filter {ls or 'off'} µm; L-filter {lc or 'off'} µm; edge {edge}")
        [data["observation_ids"]] = storage.store("surface", file, [{
            "values": values, "units": {k: result.units[k] for k in values},
            "method": method, "settings": result.settings}])
    if as_json:
        emit_json(data)
        return
    _print_surface(data, file)


def _nesting(value: float | None) -> str:
    return "off" if value is None else f"{value:g} µm"


def _parameter_table(title: str, values: dict[str, Any], units: dict[str, str]) -> Any:
    """Parameters as name, value and unit, read down then across.

    Short names (Sa, R9) go in two side-by-side column groups so that a long list stays
    on one screen; long names (``evaluation_length_um``) get one group.
    """
    from rich import box
    from rich.table import Table

    items = list(values.items())
    groups = 2 if len(items) > 6 and all(len(name) <= 12 for name, _ in items) else 1
    per_group = -(-len(items) // groups)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for _ in range(groups):
        table.add_column("Parameter", style="bold")
        table.add_column("Value", justify="right")
        table.add_column("Unit", style="dim")
    for row in range(per_group):
        cells: list[str] = []
        for group in range(groups):
            index = group * per_group + row
            if index < len(items):
                name, value = items[index]
                cells += [name, _fmt(value), units.get(name, "")]
            else:
                cells += ["", "", ""]
        table.add_row(*cells)
    return table


def _print_surface(data: dict[str, Any], file: Path) -> None:
    units = data["units"]
    settings = data["settings"]
    console.print(f"[bold]{file.name}[/bold]: {settings['shape'][0]} x {settings['shape'][1]} "
                  f"points, {settings['dx_um']:g} x {settings['dy_um']:g} µm, "
                  f"{settings['valid_percent']:.1f} % measured; form {settings['form']}, "
                  f"S-filter {_nesting(settings['ls_um'])}, "
                  f"L-filter {_nesting(settings['lc_um'])}, edge {settings['edge']}")
    for title in ("areal", "profile", "furrows"):
        console.print(_parameter_table(title.capitalize(), data[title], units))
    if "observation_ids" in data:
        console.print(f"Stored {len(data['observation_ids'])} observations.")


# ---------------------------------------------------------------------------------------------
# colour
# ---------------------------------------------------------------------------------------------

@measure_app.command("colour")
def colour(
    file: Path = typer.Argument(..., help="CSV with L, a, b columns (and optional illuminant, "
                                "observer, melanin_index, erythema_index), or a reflectance "
                                "spectrum export (one column per wavelength, headers in nm)."),
    illuminant: str | None = typer.Option(None, "--illuminant",
                                          help="CIE illuminant for spectra (default D65): "
                                          "A, C, D50, D55, D65, D75, F2, F11, ..."),
    observer: str | None = typer.Option(None, "--observer",
                                        help="CIE standard observer for spectra: 2 (1931, "
                                        "default) or 10 (1964)."),
    patient: str | None = PATIENT_OPTION,
    visit: str | None = VISIT_OPTION,
    region: str | None = REGION_OPTION,
    device: str | None = DEVICE_OPTION,
    actor: str | None = ACTOR_OPTION,
    as_json: bool = json_option(),
) -> None:
    """CIELAB, ITA° and its category for each reading; spectral indices for spectra."""
    from dermatrack.devices.colorimetry import parse_colour_csv

    storage = _storage(patient, visit, region, device, actor)
    readings = parse_colour_csv(read_text(file), illuminant=illuminant, observer=observer)
    data = [reading.to_json() for reading in readings]
    if storage is not None:
        # Spectra are their own kind: a spectrophotometer's L* is not a colorimeter's
        # (geometry, aperture, illuminant), so the two never share a series or an MDC.
        kind = "spectral" if data and data[0].get("source") == "spectrum" else "colour"
        stored = storage.store(kind, file, [colour_measurement(r) for r in readings])
        for item, ids in zip(data, stored, strict=True):
            item["observation_ids"] = ids
    if as_json:
        emit_json(data)
        return
    if data and data[0].get("source") == "spectrum":
        _print_spectra(data, file)
        return
    from rich.table import Table

    table = Table(title=f"{file.name}: CIELAB D65/2°", title_justify="left")
    for name in ("Row", "L*", "a*", "b*", "ITA (°)", "Category", "MI (a.u.)", "EI (a.u.)"):
        table.add_column(name, justify="left" if name == "Category" else "right",
                         no_wrap=True)
    for item in data:
        table.add_row(str(item["row"]), _fmt(item["l_star"]), _fmt(item["a_star"]),
                      _fmt(item["b_star"]), _fmt(item["ita_deg"]), item["ita_category"],
                      _fmt(item["melanin_index"]), _fmt(item["erythema_index"]))
    console.print(table)
    console.print("MI, EI: melanin and erythema indices as the device gave them.")
    adapted = sorted({i["adapted_from"] for i in data if i["adapted_from"]})
    if adapted:
        console.print(f"Adapted to D65 (Bradford) from: {', '.join(adapted)}")


def colour_measurement(reading: Any) -> dict[str, Any]:
    """What one colour reading (L*a*b* triple or spectrum) stores: values, units, method."""
    from dermatrack.devices import colorimetry, spectra

    if isinstance(reading, spectra.SpectralReading):
        values = {k: v for k, v in reading.values().items()
                  if v is not None or k in ("l_star", "a_star", "b_star", "ita_deg")}
        return {"values": values, "units": {k: spectra.UNITS[k] for k in values},
                "method": f"reflectance spectrum: CIELAB {reading.illuminant}/"
                          f"{reading.observer}° (ASTM E308, colour-science); ITA (Chardon "
                          "1991); melanin/erythema indices (Dawson 1980; Diffey 1984)",
                "settings": {"row": reading.row, "illuminant": reading.illuminant,
                             "observer": reading.observer,
                             "reflectance_scale": reading.reflectance_scale,
                             "wavelength_range_nm": [reading.wavelengths_nm[0],
                                                     reading.wavelengths_nm[-1]],
                             "ita_category": reading.ita_category}}
    values = {k: v for k, v in reading.values().items()
              if v is not None or k in ("l_star", "a_star", "b_star", "ita_deg")}
    return {"values": values, "units": {k: colorimetry.UNITS[k] for k in values},
            "method": "CIELAB D65/2°; ITA = atan2(L*-50, b*) (Chardon 1991)",
            "settings": {"row": reading.row, "adapted_from": reading.adapted_from,
                         "ita_category": reading.ita_category}}


def _print_spectra(data: list[dict[str, Any]], file: Path) -> None:
    from rich.table import Table

    first = data[0]
    low, high = first["wavelength_range_nm"]
    table = Table(title=f"{file.name}: reflectance spectra {low:g}-{high:g} nm, CIELAB "
                  f"{first['illuminant']}/{first['observer']}°", title_justify="left")
    for name in ("Row", "L*", "a*", "b*", "ITA°", "Class", "MI-Da", "EI-Da", "MI-Di",
                 "EI-Di"):
        table.add_column(name, justify="left" if name == "Class" else "right", no_wrap=True)
    for item in data:
        idx = item["spectral_indices"]
        table.add_row(str(item["row"]), _fmt(item["l_star"]), _fmt(item["a_star"]),
                      _fmt(item["b_star"]), _fmt(item["ita_deg"]), item["ita_category"],
                      _fmt(idx["melanin_index_dawson"]), _fmt(idx["erythema_index_dawson"]),
                      _fmt(idx["melanin_index_diffey"]), _fmt(idx["erythema_index_diffey"]))
    console.print(table)
    console.print(f"Reflectance read as {first['reflectance_scale']}. Indices from "
                  "log10(1/R): -Da Dawson 1980 (MI 650/700 nm slope, EI 510-610 nm), -Di "
                  "Diffey 1984 (568/655 nm); a.u., not the Mexameter 0-999 scale.")


# ---------------------------------------------------------------------------------------------
# elasticity
# ---------------------------------------------------------------------------------------------

@measure_app.command("elasticity")
def elasticity(
    file: Path = typer.Argument(..., help="Suction curve CSV (time_s, deformation_mm, suction) "
                                "or a device's R-parameter table."),
    drop_first_cycle: bool = typer.Option(False, "--drop-first-cycle",
                                          help="Leave the first suction cycle out."),
    aperture_mm: float | None = typer.Option(None, "--aperture-mm",
                                             help="Probe aperture in mm (overrides the file)."),
    pressure_mbar: float | None = typer.Option(None, "--pressure-mbar",
                                               help="Suction pressure in mbar (overrides the "
                                               "file)."),
    patient: str | None = PATIENT_OPTION,
    visit: str | None = VISIT_OPTION,
    region: str | None = REGION_OPTION,
    device: str | None = DEVICE_OPTION,
    actor: str | None = ACTOR_OPTION,
    as_json: bool = json_option(),
) -> None:
    """Cutometer-style U-, R- and Q-parameters (one object per curve or table row)."""
    from dermatrack.devices.elasticity import UNITS, parse_elasticity_csv

    storage = _storage(patient, visit, region, device, actor)
    results = parse_elasticity_csv(read_text(file), drop_first_cycle=drop_first_cycle,
                                   aperture_mm=aperture_mm, pressure_mbar=pressure_mbar)
    data = [result.to_json() for result in results]
    if storage is not None:
        items = []
        for result in results:
            values = _numeric(result.parameters)
            method = ("suction curve: Ue/Ur at 0.1 s, R0-R9, Q0-Q3 (dermatrack)"
                      if result.source == "curve" else "device R-parameter table, carried "
                      "through")
            items.append({"values": values, "units": {k: UNITS[k] for k in values},
                          "method": method, "settings": result.settings})
        stored = storage.store("elasticity", file, items,
                               device=results[0].settings.get("device"))
        for item, ids in zip(data, stored, strict=True):
            item["observation_ids"] = ids
    if as_json:
        emit_json(data)
        return
    from rich.text import Text

    for number, item in enumerate(data, start=1):
        # The protocol line wraps at the terminal's width, not at the table's.
        protocol = ", ".join(f"{k} {_fmt(v)}" for k, v in item["settings"].items())
        console.print(Text.assemble((f"{file.name} ({item['source']} {number})", "bold"),
                                    f": {protocol}"))
        console.print(_parameter_table("Parameters", item["parameters"], item["units"]))


# ---------------------------------------------------------------------------------------------
# elastography
# ---------------------------------------------------------------------------------------------

@measure_app.command("elastography")
def elastography(
    file: Path = typer.Argument(..., help="Shear-wave elastography map: DICOM (one value per "
                                "pixel), CSV/text grid or single-channel TIFF."),
    unit: str | None = typer.Option(None, "--unit", help="Unit of the map's values when the "
                                    "file does not say: m/s, cm/s, kPa, Pa."),
    quantity: str | None = typer.Option(None, "--quantity", help="What a modulus map holds: "
                                        "young (default for kPa) or shear; speed for m/s."),
    spacing_mm: float | None = typer.Option(None, "--spacing-mm",
                                            help="Pixel size in mm (overrides the file)."),
    roi: list[str] | None = typer.Option(None, "--roi", help="Region of interest, mm from the "
                                         "top-left: NAME=x,y,width,height or "
                                         "NAME=circle:x,y,radius (repeatable; default: the "
                                         "whole map)."),
    density: float = typer.Option(1000.0, "--density",
                                  help="Tissue density in kg/m³ for E = 3 rho c²."),
    patient: str | None = PATIENT_OPTION,
    visit: str | None = VISIT_OPTION,
    region: str | None = REGION_OPTION,
    device: str | None = DEVICE_OPTION,
    actor: str | None = ACTOR_OPTION,
    as_json: bool = json_option(),
) -> None:
    """Median and spread of shear-wave speed (m/s) and Young's modulus (kPa) per ROI."""
    from dermatrack.devices.elastography import measure_elastography, parse_roi
    from dermatrack.devices.elastography_io import read_elastography_map

    storage = _storage(patient, visit, region, device, actor)
    rois = [parse_roi(text) for text in roi or []]
    emap = read_elastography_map(file, unit=unit, quantity=quantity, spacing_mm=spacing_mm)
    results = measure_elastography(emap, rois, density_kg_m3=density)
    data = [result.to_json() for result in results]
    if storage is not None:
        items = [elastography_measurement(result) for result in results]
        for item, ids in zip(data, storage.store("elastography", file, items), strict=True):
            item["observation_ids"] = ids
    if as_json:
        emit_json(data)
        return
    from rich.table import Table

    ny, nx = emap.values.shape
    console.print(f"[bold]{file.name}[/bold]: {nx} x {ny} pixels of {emap.dx_mm:g} x "
                  f"{emap.dy_mm:g} mm, {emap.quantity} map, density {density:g} kg/m³")
    table = Table(title="Shear-wave elastography per ROI", title_justify="left")
    for name in ("ROI", "c median (m/s)", "c IQR (m/s)", "IQR/med (%)", "E median (kPa)",
                 "E IQR (kPa)", "valid (%)"):
        table.add_column(name, justify="left" if name == "ROI" else "right")
    for item in data:
        p = item["parameters"]
        table.add_row(item["roi"], _fmt(p["speed_median_m_s"]), _fmt(p["speed_iqr_m_s"]),
                      _fmt(p["speed_iqr_over_median_pct"]),
                      _fmt(p["youngs_modulus_median_kpa"]), _fmt(p["youngs_modulus_iqr_kpa"]),
                      _fmt(p["valid_percent"]))
    console.print(table)
    console.print("E = 3 rho c² assumes linear elastic, isotropic, incompressible tissue and a "
                  "bulk shear wave; see docs/devices.md for the limits in skin.")


def elastography_measurement(result: Any) -> dict[str, Any]:
    """What one ROI of an elastography map stores: values, units, method, settings."""
    from dermatrack.devices.elastography import UNITS as ELASTOGRAPHY_UNITS

    values = _numeric(result.parameters)
    return {"values": values, "units": {k: ELASTOGRAPHY_UNITS[k] for k in values},
            "method": "shear-wave elastography map: per-ROI median and IQR; E = 3 rho c^2 "
                      f"(rho {result.settings['density_kg_m3']:g} kg/m3)",
            "settings": {"roi_name": result.roi, **result.settings}}
