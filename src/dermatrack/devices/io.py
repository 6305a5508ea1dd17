"""Readers for the files that skin measurement devices export (the adapter of ``devices``).

Height maps
    ISO 25178-72 X3P (``x3pio``), ISO 25178-71 SDF (``sdfio``), CSV or whitespace text grids,
    16- and 32-bit TIFF (``tifffile``), NumPy ``.npy``, and the instruments' own Digital Surf
    ``.sur``, Sensofar ``.plu`` and Zygo ``.datx`` (:mod:`dermatrack.devices.native`).
    Every reader returns a :class:`~dermatrack.devices.surface.HeightMap` with heights in
    micrometres and ``NaN`` for missing points.

Tables
    Colorimeter and suction-curve CSV files are read as text here and parsed by
    :mod:`dermatrack.devices.colorimetry` and :mod:`dermatrack.devices.elasticity`.

Units and spacing
    X3P and SDF store metres (SDF heights after its own z scale). A text grid, a TIFF and an
    ``.npy`` array carry no units of their own: the height unit comes from a ``z_unit`` header
    line (CSV/text), a ``z_unit`` line in the TIFF ImageDescription, or the caller's
    ``z_unit``, and the reader refuses a map whose unit it cannot find rather than guess
    (a map in nm read as µm would be a thousand times wrong). The spacing comes from the file
    (X3P/SDF increments, ``spacing_um``/``dx_um``/``dy_um`` header lines, TIFF resolution
    tags) or from ``spacing_um``; the caller's value wins when both are given. A 16-bit TIFF
    holds integer counts and also needs the height of one count (``z_scale`` in the
    description, or ``z_scale``) in ``z_unit``.
"""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from dermatrack.devices.surface import HeightMap
from dermatrack.devices.tables import HEADER_LINE as _HEADER_LINE
from dermatrack.errors import InputError

#: Height or length units accepted in headers and options, as micrometres per unit.
UNIT_TO_UM: dict[str, float] = {
    "m": 1e6, "mm": 1e3, "um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0,
    "nm": 1e-3,
}

#: Refuse maps larger than this many points (about 0.8 GB as float64) instead of exhausting
#: memory.
MAX_POINTS = 100_000_000

HEIGHT_MAP_SUFFIXES: dict[str, str] = {
    ".x3p": "x3p", ".sdf": "sdf", ".csv": "csv", ".txt": "text", ".asc": "text",
    ".dat": "text", ".tif": "tiff", ".tiff": "tiff", ".npy": "npy", ".sur": "sur",
    ".plu": "plu", ".datx": "datx",
}

_MISSING_CELLS = {"", "nan", "NaN", "NAN", "na", "NA", "n/a", "N/A", "-", "*", "BAD"}


def unit_scale(unit: str, *, field: str) -> float:
    """Micrometres per ``unit`` (m, mm, um/µm, nm); refuses anything else."""
    key = unit.strip()
    if key.lower() in UNIT_TO_UM:
        return UNIT_TO_UM[key.lower()]
    if key in UNIT_TO_UM:
        return UNIT_TO_UM[key]
    raise InputError(f"unknown length unit {unit!r} (use m, mm, um or nm)", field=field)


def read_text(path: str | Path) -> str:
    """Read a text file as UTF-8 (a BOM is dropped), refusing binary or unreadable files."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}", field="file") from exc
    if b"\x00" in data[:4096]:
        raise InputError(f"{file.name} is not a text file", field="file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{file.name} is not UTF-8 text (byte {exc.start})",
                         field="file") from exc


# ---------------------------------------------------------------------------------------------
# Height maps
# ---------------------------------------------------------------------------------------------

def read_height_map(path: str | Path, *, spacing_um: float | None = None,
                    z_unit: str | None = None, z_scale: float | None = None,
                    file_format: str | None = None) -> HeightMap:
    """Read a height map in any supported format (chosen by suffix unless ``file_format``).

    Parameters
    ----------
    path:
        The file.
    spacing_um:
        Sampling interval in µm for both axes; overrides the file's own.
    z_unit:
        Unit of the stored heights for formats that carry none (CSV, text, TIFF, npy); a unit
        in the file's own header wins over it only when this is ``None``.
    z_scale:
        Height of one count of a 16-bit TIFF, in ``z_unit``.
    file_format:
        ``x3p``, ``sdf``, ``csv``, ``text``, ``tiff``, ``npy``, ``sur``, ``plu`` or ``datx``.

    Returns
    -------
    HeightMap

    Raises
    ------
    InputError
        Unreadable file, wrong shape, no measured point, or no spacing or unit.
    """
    file = Path(path)
    # Existence first: a mistyped path should not be reported as an unknown format.
    if file.is_dir():
        raise InputError(f"{file} is a directory, expected a file", field="file")
    if not file.is_file():
        raise InputError(f"no such file: {file}", field="file")
    kind = file_format or HEIGHT_MAP_SUFFIXES.get(file.suffix.lower())
    if kind is None:
        raise InputError(f"unknown height map format '{file.suffix}' (use "
                         f"{', '.join(sorted(set(HEIGHT_MAP_SUFFIXES)))})", field="file")
    if file.stat().st_size == 0:
        raise InputError(f"{file.name} is empty", field="file")
    if spacing_um is not None and not (math.isfinite(spacing_um) and spacing_um > 0):
        raise InputError("--spacing-um must be a positive number of µm", field="spacing_um")
    from dermatrack.devices import native

    readers = {"x3p": _read_x3p, "sdf": _read_sdf, "csv": _read_grid, "text": _read_grid,
               "tiff": _read_tiff, "npy": _read_npy, "sur": native.read_sur,
               "plu": native.read_plu, "datx": native.read_datx}
    if kind not in readers:
        raise InputError(f"unknown height map format {kind!r}", field="format")
    z, dx, dy, metadata = readers[kind](file, z_unit=z_unit, z_scale=z_scale)
    if spacing_um is not None:
        dx = dy = float(spacing_um)
        metadata["spacing_source"] = "option"
    if dx is None or dy is None:
        raise InputError(f"{file.name} does not give the sampling interval; pass "
                         "--spacing-um (or add a '# spacing_um: ...' header line)",
                         field="spacing_um")
    return _checked(z, float(dx), float(dy), kind, metadata, file.name)


def height_map_from_array(z: Any, *, dx_um: float, dy_um: float | None = None,
                          source_format: str = "array",
                          metadata: dict[str, Any] | None = None) -> HeightMap:
    """Validate an array (µm) and spacing into a :class:`HeightMap`."""
    return _checked(np.asarray(z), float(dx_um), float(dy_um if dy_um is not None else dx_um),
                    source_format, dict(metadata or {}), "array")


def _checked(z: Any, dx: float, dy: float, kind: str, metadata: dict[str, Any],
             name: str) -> HeightMap:
    array = np.asarray(z)
    if array.dtype.kind not in "biuf":
        raise InputError(f"{name}: heights must be numbers, not {array.dtype}", field="z")
    if array.ndim != 2:
        raise InputError(f"{name}: a height map must be a 2-D grid, got {array.ndim}-D "
                         f"shape {tuple(array.shape)}", field="shape")
    if array.size == 0:
        raise InputError(f"{name} holds no heights", field="z")
    if min(array.shape) < 2:
        raise InputError(f"{name}: a height map needs at least 2 rows and 2 columns, got "
                         f"{array.shape[0]} x {array.shape[1]}", field="shape")
    if array.size > MAX_POINTS:
        raise InputError(f"{name}: {array.size} points is more than the {MAX_POINTS} allowed",
                         field="shape")
    heights = array.astype(np.float64)
    heights[~np.isfinite(heights)] = np.nan
    if not np.isfinite(heights).any():
        raise InputError(f"{name}: every point is missing (all NaN)", field="z")
    for label, value in (("x", dx), ("y", dy)):
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{name}: the {label} sampling interval must be positive, got "
                             f"{value}", field="spacing_um")
    return HeightMap(z_um=heights, dx_um=dx, dy_um=dy, source_format=kind, metadata=metadata)


MAX_X3P_UNPACKED_BYTES = MAX_POINTS * 8 + 64 * 1024 * 1024
"""Largest total unpacked size of an X3P container (its points as float64, plus room for
the XML and checksums)."""


def _check_x3p_container(file: Path) -> None:
    """An X3P file is a ZIP archive: refuse one that would unpack to more than
    :data:`MAX_X3P_UNPACKED_BYTES` (a small file may unpack to gigabytes) before reading."""
    import zipfile

    try:
        with zipfile.ZipFile(file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"{file.name} is not a readable X3P file (not a ZIP container: "
                         f"{exc})", field="file") from exc
    if unpacked > MAX_X3P_UNPACKED_BYTES:
        raise InputError(f"{file.name} would unpack to {unpacked:,} bytes, more than the "
                         f"{MAX_X3P_UNPACKED_BYTES:,} allowed (refused before reading)",
                         field="file")


def _read_x3p(file: Path, **_: Any) -> tuple[Any, float, float, dict[str, Any]]:
    import x3pio

    _check_x3p_container(file)
    try:
        document = x3pio.read(file)
    except (x3pio.X3pError, ValueError, OSError, KeyError) as exc:
        raise InputError(f"{file.name} is not a readable X3P file: {exc}", field="file") from exc
    if not isinstance(document, x3pio.Surface):
        raise InputError(f"{file.name} holds a {type(document).__name__}, not an areal "
                         "surface (a 2-D grid is needed)", field="shape")
    if not document.is_regular_grid:
        raise InputError(f"{file.name}: the x and y axes are not incremental (not a regular "
                         "grid)", field="shape")
    layer = document.layers[0]
    # x3pio gives coordinates in metres.
    z_um = np.asarray(layer.z, dtype=np.float64) * 1e6
    metadata: dict[str, Any] = {"z_unit_in_file": "m", "layers": len(document.layers)}
    instrument = getattr(document.metadata, "instrument", None) if document.metadata else None
    if instrument is not None:
        metadata["instrument"] = " ".join(
            part for part in (instrument.manufacturer, instrument.model) if part)
    return (z_um, document.header.x.increment * 1e6, document.header.y.increment * 1e6,
            metadata)


def _read_sdf(file: Path, **_: Any) -> tuple[Any, float, float, dict[str, Any]]:
    import sdfio

    try:
        document = sdfio.read(file)
    except (sdfio.SdfError, ValueError, OSError) as exc:
        raise InputError(f"{file.name} is not a readable SDF file: {exc}", field="file") from exc
    header = document.header
    # sdfio applies the file's z scale: ``data`` is in metres, like the x and y scales.
    z_um = np.asarray(document.data, dtype=np.float64) * 1e6
    metadata = {"z_unit_in_file": "m", "manufacturer": header.manufacturer_id,
                "z_scale_m": header.z_scale}
    return z_um, header.x_scale * 1e6, header.y_scale * 1e6, metadata




def _header_number(key: str, value: str, line: int) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"header '{key}' must be a number, not {value!r}", field=key,
                         line=line) from None
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"header '{key}' must be positive", field=key, line=line)
    return number


def parse_header_fields(fields: dict[str, tuple[str, int]]) -> dict[str, Any]:
    """Interpret ``spacing_um``, ``dx_um``, ``dy_um``, ``z_unit`` and ``z_scale`` header fields.

    ``fields`` maps lower-case keys to (value, line). Unknown keys are kept as metadata.
    """
    out: dict[str, Any] = {"metadata": {}}
    for key, (value, line) in fields.items():
        if key in ("spacing_um", "dx_um", "dy_um", "z_scale"):
            out[key] = _header_number(key, value, line)
        elif key in ("z_unit", "unit", "units", "height_unit"):
            unit_scale(value, field=key)  # refuse an unknown unit where it was written
            out["z_unit"] = value
        else:
            out["metadata"][key] = value
    return out


def _spacing_from_header(header: dict[str, Any]) -> tuple[float | None, float | None]:
    dx = header.get("dx_um", header.get("spacing_um"))
    dy = header.get("dy_um", header.get("spacing_um", dx))
    return dx, dy


def _height_scale(file: Path, header_unit: str | None, option_unit: str | None, *,
                  where: str = "a '# z_unit: um' header line") -> tuple[float, str]:
    unit = option_unit or header_unit
    if unit is None:
        raise InputError(f"{file.name} does not say in which unit its heights are: add "
                         f"{where} or pass --z-unit (m, mm, um or nm)", field="z_unit")
    return unit_scale(unit, field="z_unit"), unit


def _read_grid(file: Path, *, z_unit: str | None = None,
               **_: Any) -> tuple[Any, float | None, float | None, dict[str, Any]]:
    text = read_text(file)
    fields: dict[str, tuple[str, int]] = {}
    rows: list[list[float]] = []
    row_lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            match = _HEADER_LINE.match(stripped)
            if match:
                fields[match.group(1).strip().lower().replace(" ", "_")] = (match.group(2),
                                                                          number)
            continue
        if "," in stripped or ";" in stripped or "\t" in stripped:
            cells = [c.strip() for c in re.split(r"[,;\t]", stripped)]
        else:
            cells = stripped.split()
        values: list[float] = []
        for column, cell in enumerate(cells, start=1):
            if cell in _MISSING_CELLS:
                values.append(math.nan)
                continue
            try:
                values.append(float(cell))
            except ValueError:
                raise InputError(f"column {column}: {cell!r} is not a number (leave the cell "
                                 "empty or write NaN for a missing point)", line=number,
                                 field=f"column {column}") from None
        if rows and len(values) != len(rows[0]):
            raise InputError(f"row has {len(values)} values but the first row has "
                             f"{len(rows[0])} (the grid must be rectangular)", line=number,
                             field="shape")
        rows.append(values)
        row_lines.append(number)
    if not rows:
        raise InputError(f"{file.name} holds no heights", field="file")
    header = parse_header_fields(fields)
    scale, unit = _height_scale(file, header.get("z_unit"), z_unit)
    z = np.array(rows, dtype=np.float64) * scale
    dx, dy = _spacing_from_header(header)
    metadata = {"z_unit_in_file": unit, **header["metadata"]}
    return z, dx, dy, metadata


_RESOLUTION_UNIT_UM = {2: 25_400.0, 3: 10_000.0}  # TIFF ResolutionUnit: inch, centimetre


def _read_tiff(file: Path, *, z_unit: str | None = None, z_scale: float | None = None,
               **_: Any) -> tuple[Any, float | None, float | None, dict[str, Any]]:
    import tifffile

    try:
        with tifffile.TiffFile(file) as tif:
            page = tif.pages.first
            declared = tuple(int(n) for n in page.shape)
            if len(declared) == 3 and declared[-1] in (3, 4):
                raise InputError(f"{file.name} is a colour image, not a height map (one "
                                 "channel is needed)", field="shape")
            _check_declared_shape(file.name, declared)
            array = page.asarray()
            description = page.tags.get("ImageDescription")
            description_text = str(description.value) if description is not None else ""
            tags = page.tags
            x_res = tags.get("XResolution")
            y_res = tags.get("YResolution")
            res_unit = tags.get("ResolutionUnit")
            resolution = (x_res.value if x_res else None, y_res.value if y_res else None,
                          int(res_unit.value) if res_unit else None)
    except InputError:
        raise
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError, TypeError,
            struct.error, RuntimeError, NotImplementedError) as exc:  # damaged files
        raise InputError(f"{file.name} is not a readable TIFF file: {exc}", field="file") from exc
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        raise InputError(f"{file.name} is a colour image, not a height map (one channel is "
                         "needed)", field="shape")
    fields: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(description_text.splitlines(), start=1):
        match = _HEADER_LINE.match("#" + raw) if raw.strip() else None
        if match:
            fields[match.group(1).strip().lower().replace(" ", "_")] = (match.group(2), number)
    header = parse_header_fields(fields)
    scale, unit = _height_scale(file, header.get("z_unit"), z_unit,
                                where="a 'z_unit: um' line to the ImageDescription")
    metadata: dict[str, Any] = {"z_unit_in_file": unit, "dtype": str(array.dtype),
                                **header["metadata"]}
    if array.dtype.kind in "iu":
        count = z_scale if z_scale is not None else header.get("z_scale")
        if count is None:
            raise InputError(f"{file.name} stores integer heights ({array.dtype}): give the "
                             "height of one count with 'z_scale' in the ImageDescription or "
                             "--z-scale", field="z_scale")
        if array.dtype.kind == "u" and array.dtype.itemsize <= 2:
            # The largest count marks a missing point in 16-bit height maps.
            array = np.where(array == np.iinfo(array.dtype).max, np.nan, array)
        metadata["z_scale"] = count
        z = np.asarray(array, dtype=np.float64) * float(count) * scale
    else:
        z = np.asarray(array, dtype=np.float64) * scale
    dx, dy = _spacing_from_header(header)
    if dx is None:
        dx, dy = _spacing_from_resolution(*resolution)
        if dx is not None:
            metadata["spacing_source"] = "tiff resolution tags"
    return z, dx, dy, metadata


def _spacing_from_resolution(x_res: Any, y_res: Any,
                             unit: int | None) -> tuple[float | None, float | None]:
    """Pixel spacing in µm from TIFF XResolution/YResolution (pixels per inch or cm)."""
    if unit not in _RESOLUTION_UNIT_UM or x_res is None:
        return None, None

    def per_unit(value: Any) -> float:
        if isinstance(value, tuple):
            return value[0] / value[1] if value[1] else 0.0
        return float(value)

    px, py = per_unit(x_res), per_unit(y_res if y_res is not None else x_res)
    if px <= 0 or py <= 0:
        return None, None
    length = _RESOLUTION_UNIT_UM[unit]
    return length / px, length / py


def _check_declared_shape(name: str, shape: tuple[int, ...]) -> None:
    """Refuse a declared shape before any data is read: not 2-D, or more than
    :data:`MAX_POINTS` points (a small file may declare a huge array)."""
    if len(shape) != 2:
        raise InputError(f"{name}: a height map must be a 2-D grid, the file declares "
                         f"{len(shape)}-D shape {tuple(shape)}", field="shape")
    points = int(shape[0]) * int(shape[1])
    if points > MAX_POINTS:
        raise InputError(f"{name}: the file declares {shape[0]} x {shape[1]} = {points:,} "
                         f"points, more than the {MAX_POINTS:,} allowed (refused before "
                         "reading)", field="shape")


def _check_npy_header(file: Path) -> None:
    """Read a ``.npy`` header (NEP 1 format, versions 1-3) and check the declared dtype
    and shape, and that the file holds that much data, before loading anything."""
    from numpy.lib import format as npy_format

    try:
        with file.open("rb") as stream:
            major, _minor = npy_format.read_magic(stream)
            if major == 1:
                shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
            elif major in (2, 3):
                shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy version {major}")
            offset = stream.tell()
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise InputError(f"{file.name} is not a readable .npy array: {exc}",
                         field="file") from exc
    if dtype.hasobject or dtype.kind not in "biuf":
        raise InputError(f"{file.name}: heights must be a numeric array, the file declares "
                         f"{dtype}", field="z")
    _check_declared_shape(file.name, tuple(shape))
    needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if file.stat().st_size - offset < needed:
        raise InputError(f"{file.name}: the header declares {shape[0]} x {shape[1]} "
                         f"{dtype} values ({needed:,} bytes) but the file holds "
                         f"{file.stat().st_size - offset:,}: it is truncated", field="file")


def _read_npy(file: Path, *, z_unit: str | None = None,
              **_: Any) -> tuple[Any, None, None, dict[str, Any]]:
    _check_npy_header(file)
    try:
        array = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{file.name} is not a readable .npy array: {exc}",
                         field="file") from exc
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise InputError(f"{file.name}: heights must be a numeric array", field="z")
    if z_unit is None:
        raise InputError(f"{file.name}: a .npy array carries no unit; pass --z-unit "
                         "(m, mm, um or nm)", field="z_unit")
    scale, unit = _height_scale(file, None, z_unit)
    return array * scale, None, None, {"z_unit_in_file": unit}
