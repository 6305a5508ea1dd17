"""Readers for shear-wave elastography maps (the adapter of :mod:`.elastography`).

DICOM (``pydicom``, MIT)
    Only a *quantitative* map is read: one sample per pixel (a colour-coded screen capture
    holds colours, not speeds, and is refused). The values and their unit come from the
    vendor-neutral attributes, in this order:

    1. the Real World Value Mapping Sequence (0040,9096), top level or in the shared
       functional groups: ``RealWorldValueSlope``/``Intercept`` and the UCUM code of
       ``MeasurementUnitsCodeSequence`` (``m/s``, ``kPa``, ``Pa``);
    2. Rescale Slope/Intercept (0028,1053/1052) with the unit given by Rescale Type
       (0028,1054) when it names one, else by ``unit``.

    The pixel size comes from Pixel Spacing (0028,0030, mm, row then column), else from
    the first region of the Sequence of Ultrasound Regions (0018,6011) whose physical units
    are cm (``PhysicalDeltaX``/``Y``), else from ``spacing_mm``. Multi-frame objects: the
    first frame is read. Rows x Columns x frames is checked against :data:`MAX_POINTS`
    before any pixel is decoded.

CSV or text grid, TIFF
    A grid of numbers (empty cells, ``NaN``, ``NA`` are unmeasured pixels) with
    ``# unit: m/s``, ``# spacing_mm: 0.1`` (or ``dx_mm``/``dy_mm``) and optionally
    ``# quantity: young`` comment lines; a single-channel float TIFF with the same
    ``key: value`` lines in its ImageDescription. The caller's ``unit``, ``quantity`` and
    ``spacing_mm`` override the file's.

Quantity
    A speed unit means a shear-wave speed map. A modulus unit (kPa) means Young's modulus
    (what SWE systems display) unless ``quantity`` says ``shear``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from dermatrack.devices.elastography import QUANTITIES, ElastographyMap, unit_factor
from dermatrack.devices.io import MAX_POINTS, read_text
from dermatrack.devices.tables import HEADER_LINE
from dermatrack.errors import InputError

SUFFIXES = {".dcm": "dicom", ".dicom": "dicom", ".csv": "csv", ".txt": "csv", ".tsv": "csv",
            ".tif": "tiff", ".tiff": "tiff"}

_MISSING = {"", "nan", "na", "n/a", "-", "*"}


def read_elastography_map(path: str | Path, *, unit: str | None = None,
                          quantity: str | None = None,
                          spacing_mm: float | None = None) -> ElastographyMap:
    """Read an elastography map (DICOM, CSV/text or TIFF; see the module docstring).

    Raises
    ------
    InputError
        Unreadable or unknown file, no unit or pixel size, a colour image, a declared size
        over :data:`MAX_POINTS`, a quantity that does not fit the unit.
    """
    file = Path(path)
    if file.is_dir():
        raise InputError(f"{file} is a directory, expected a file", field="file")
    if not file.is_file():
        raise InputError(f"no such file: {file}", field="file")
    if file.stat().st_size == 0:
        raise InputError(f"{file.name} is empty", field="file")
    if quantity is not None and quantity not in QUANTITIES:
        raise InputError(f"--quantity must be one of {', '.join(QUANTITIES)}, not "
                         f"{quantity!r}", field="quantity")
    if spacing_mm is not None and not (math.isfinite(spacing_mm) and spacing_mm > 0):
        raise InputError("--spacing-mm must be a positive number of mm", field="spacing_mm")
    kind = SUFFIXES.get(file.suffix.lower())
    if kind is None and _is_dicom(file):
        kind = "dicom"
    if kind is None:
        raise InputError(f"unknown elastography map format '{file.suffix}' (use DICOM, .csv, "
                         ".txt or .tif)", field="file")
    readers = {"dicom": _read_dicom, "csv": _read_grid, "tiff": _read_tiff}
    values, file_unit, file_quantity, dx, dy, metadata = readers[kind](file)
    chosen_unit = unit or file_unit
    if chosen_unit is None:
        raise InputError(f"{file.name} does not say in which unit its values are: pass --unit "
                         "(m/s or kPa) or add a '# unit: m/s' line", field="unit")
    family, factor = unit_factor(chosen_unit)
    chosen_quantity = quantity or file_quantity
    if family == "speed":
        if chosen_quantity not in (None, "speed"):
            raise InputError(f"a map in {chosen_unit} is a speed, not a {chosen_quantity} "
                             "modulus", field="quantity")
        chosen_quantity = "speed"
    else:
        if chosen_quantity == "speed":
            raise InputError(f"a map in {chosen_unit} is a modulus, not a speed",
                             field="quantity")
        chosen_quantity = chosen_quantity or "young"
    if spacing_mm is not None:
        dx = dy = spacing_mm
        metadata["spacing_source"] = "option"
    if dx is None or dy is None:
        raise InputError(f"{file.name} does not give the pixel size; pass --spacing-mm",
                         field="spacing_mm")
    metadata["unit_in_file"] = chosen_unit
    return ElastographyMap(values=np.asarray(values, dtype=np.float64) * factor,
                           quantity=chosen_quantity,  # type: ignore[arg-type]
                           dx_mm=float(dx), dy_mm=float(dy), source_format=kind,
                           metadata=metadata)


def _is_dicom(file: Path) -> bool:
    with file.open("rb") as handle:
        head = handle.read(132)
    return len(head) == 132 and head[128:132] == b"DICM"


def _code_unit(item: Any) -> str | None:
    sequence = getattr(item, "MeasurementUnitsCodeSequence", None)
    if sequence:
        code = sequence[0]
        return str(getattr(code, "CodeValue", "") or getattr(code, "CodeMeaning", "")) or None
    return None


def _real_world_mapping(ds: Any) -> Any | None:
    sequence = getattr(ds, "RealWorldValueMappingSequence", None)
    if sequence:
        return sequence[0]
    shared = getattr(ds, "SharedFunctionalGroupsSequence", None)
    if shared:
        inner = getattr(shared[0], "RealWorldValueMappingSequence", None)
        if inner:
            return inner[0]
    return None


def _read_dicom(file: Path) -> tuple[Any, str | None, str | None, float | None, float | None,
                                     dict[str, Any]]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    name = file.name
    try:
        ds = pydicom.dcmread(file, defer_size="1 KB")
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise InputError(f"{name} is not a readable DICOM file: {exc}", field="file") from exc
    rows, columns = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if rows < 1 or columns < 1 or "PixelData" not in ds:
        raise InputError(f"{name} holds no image (no Rows/Columns or pixel data)",
                         field="file")
    if rows * columns * frames > MAX_POINTS:
        raise InputError(f"{name}: {frames} frame(s) of {rows} x {columns} pixels is more than "
                         f"the {MAX_POINTS} allowed", field="shape")
    samples = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    if samples != 1:
        raise InputError(f"{name} is a colour image ({samples} samples per pixel), e.g. a "
                         "screen capture with a colour scale; export the quantitative map "
                         "(one value per pixel) or a table", field="file")
    try:
        pixels = np.asarray(ds.pixel_array, dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - pydicom raises many types for bad pixel data
        raise InputError(f"{name}: the pixel data cannot be decoded: {exc}",
                         field="file") from exc
    if frames > 1:
        pixels = pixels[0]
    if pixels.shape != (rows, columns):
        raise InputError(f"{name}: the pixel data has shape {pixels.shape}, not "
                         f"{rows} x {columns}", field="shape")
    metadata: dict[str, Any] = {"frames": frames,
                                "modality": str(getattr(ds, "Modality", "") or "")}
    unit: str | None = None
    mapping = _real_world_mapping(ds)
    if mapping is not None:
        slope = float(getattr(mapping, "RealWorldValueSlope", 1.0) or 1.0)
        intercept = float(getattr(mapping, "RealWorldValueIntercept", 0.0) or 0.0)
        unit = _code_unit(mapping)
        metadata["value_mapping"] = "Real World Value Mapping"
    else:
        slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
        intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
        rescale_type = str(getattr(ds, "RescaleType", "") or "")
        if rescale_type:
            try:
                unit_factor(rescale_type)
                unit = rescale_type
            except InputError:
                metadata["rescale_type"] = rescale_type
        metadata["value_mapping"] = "Rescale Slope/Intercept"
    values = pixels * slope + intercept
    dx = dy = None
    spacing = getattr(ds, "PixelSpacing", None)
    if spacing is not None and len(spacing) == 2:
        dy, dx = float(spacing[0]), float(spacing[1])
        metadata["spacing_source"] = "Pixel Spacing"
    else:
        for region in getattr(ds, "SequenceOfUltrasoundRegions", None) or []:
            if (int(getattr(region, "PhysicalUnitsXDirection", 0) or 0) == 3
                    and int(getattr(region, "PhysicalUnitsYDirection", 0) or 0) == 3):
                dx = float(region.PhysicalDeltaX) * 10.0  # cm to mm
                dy = float(region.PhysicalDeltaY) * 10.0
                metadata["spacing_source"] = "Sequence of Ultrasound Regions"
                break
    for value in (dx, dy):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"{name}: the pixel spacing must be positive", field="spacing_mm")
    return values, unit, None, dx, dy, metadata


def _header_fields(lines: list[tuple[str, int]]) -> dict[str, tuple[str, int]]:
    fields: dict[str, tuple[str, int]] = {}
    for raw, number in lines:
        match = HEADER_LINE.match(raw)
        if match:
            fields[match.group(1).strip().lower().replace(" ", "_")] = (match.group(2), number)
    return fields


def _spacing(fields: dict[str, tuple[str, int]]) -> tuple[float | None, float | None]:
    def number(key: str) -> float | None:
        if key not in fields:
            return None
        text, line = fields[key]
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"header '{key}' must be a number, not {text!r}", field=key,
                             line=line) from None
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"header '{key}' must be positive", field=key, line=line)
        return value

    common = number("spacing_mm")
    dx = number("dx_mm") or common
    dy = number("dy_mm") or common or dx
    return dx, dy


def _quantity(fields: dict[str, tuple[str, int]]) -> str | None:
    if "quantity" not in fields:
        return None
    text, line = fields["quantity"]
    value = text.strip().lower()
    if value not in QUANTITIES:
        raise InputError(f"quantity must be one of {', '.join(QUANTITIES)}, not {text!r}",
                         field="quantity", line=line)
    return value


def _read_grid(file: Path) -> tuple[Any, str | None, str | None, float | None, float | None,
                                    dict[str, Any]]:
    text = read_text(file)
    comments: list[tuple[str, int]] = []
    rows: list[list[float]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append((stripped, number))
            continue
        separator = next((s for s in ",;\t" if s in stripped), None)
        cells = [c.strip() for c in (stripped.split(separator) if separator
                                     else stripped.split())]
        values = []
        for column, cell in enumerate(cells, start=1):
            if cell.lower() in _MISSING:
                values.append(math.nan)
                continue
            try:
                values.append(float(cell))
            except ValueError:
                raise InputError(f"column {column}: {cell!r} is not a number (leave the cell "
                                 "empty for an unmeasured pixel)", field=f"column {column}",
                                 line=number) from None
        if rows and len(values) != len(rows[0]):
            raise InputError(f"row has {len(values)} values but the first row has "
                             f"{len(rows[0])} (the map must be rectangular)", field="shape",
                             line=number)
        rows.append(values)
        if len(rows) * len(values) > MAX_POINTS:
            raise InputError(f"{file.name} has more than {MAX_POINTS} values", field="shape")
    if not rows:
        raise InputError(f"{file.name} holds no values", field="file")
    fields = _header_fields(comments)
    unit = fields["unit"][0] if "unit" in fields else None
    if unit is not None:
        unit_factor(unit, field="unit")
    dx, dy = _spacing(fields)
    return np.array(rows, dtype=np.float64), unit, _quantity(fields), dx, dy, {}


def _read_tiff(file: Path) -> tuple[Any, str | None, str | None, float | None, float | None,
                                    dict[str, Any]]:
    import tifffile

    try:
        with tifffile.TiffFile(file) as tif:
            page = tif.pages.first
            if int(np.prod(page.shape)) > MAX_POINTS:
                raise InputError(f"{file.name}: {page.shape} is more than {MAX_POINTS} values",
                                 field="shape")
            array = page.asarray()
            description = page.tags.get("ImageDescription")
            text = str(description.value) if description is not None else ""
    except (tifffile.TiffFileError, ValueError, OSError, IndexError) as exc:
        raise InputError(f"{file.name} is not a readable TIFF file: {exc}",
                         field="file") from exc
    if array.ndim != 2:
        raise InputError(f"{file.name} is not a single-channel map (shape {array.shape})",
                         field="shape")
    fields = _header_fields([("#" + line, n) for n, line in
                             enumerate(text.splitlines(), start=1) if line.strip()])
    unit = fields["unit"][0] if "unit" in fields else None
    dx, dy = _spacing(fields)
    return (np.asarray(array, dtype=np.float64), unit, _quantity(fields), dx, dy,
            {"dtype": str(array.dtype)})
