"""Readers for profilometers' own file formats: Digital Surf ``.sur``, Sensofar ``.plu``
and Zygo ``.datx``.

Part of the device adapter (:mod:`dermatrack.devices.io` dispatches to it). Each reader
returns ``(heights_um, dx_um, dy_um, metadata)`` with rows along y and ``NaN`` for
non-measured points, and checks the shape a file declares against :data:`MAX_POINTS` and
against the bytes actually present *before* allocating anything, so a corrupt or hostile
header cannot exhaust memory.

Digital Surf SUR (MountainsMap's exchange format)
    Written from the layout documented in the "File formats" section of the MountainsMap
    help, as transcribed field by field (with offsets) in the MIT-licensed SurfaceTopography
    reader (``SurfaceTopography/IO/SUR.py``) and in the x3pr R package
    (``read.digital.surf.header``). A 512-byte little-endian header, then a comment zone
    and a private zone of the sizes it gives, then ``nx * ny`` signed integers of 16 or
    32 bits, profile after profile (x varies fastest). Used fields (byte offset: type):

    ==========  =========  =======================================================
    0           12 chars   ``DIGITAL SURF`` (``DSCOMPRESSED``: the compressed variant)
    12          uint16     format: 0 = PC (little-endian)
    14          uint16     number of objects (the first is read)
    18          uint16     studiable type: 1 profile, 2 surface
    86          uint16     1 if the file has non-measured points
    98          uint16     bits per point: 16 or 32
    100, 104    int32      smallest and largest measured count
    108, 112    int32      points per profile (nx), number of profiles (ny)
    116         int32      total number of points (= nx * ny)
    120, 124    float32    x and y spacing, in the step units at 180 and 196
    128         float32    height of one count, in the step unit at 212
    180-227     3 x 16 ch  step units of x, y and z (e.g. ``µm``)
    334, 336    uint16     sizes of the comment and private zones
    474         float32    z offset (added to every height), in the z step unit
    ==========  =========  =======================================================

    height = count x (z step) + z offset. With the non-measured flag set, a count outside
    the header's [smallest, largest] range marks a non-measured point. The compressed
    variant (``DSCOMPRESSED``) and non-PC byte orders are refused with a message: no
    permissively licensed description of them was found.

Sensofar PLU (SensoSCAN confocal/interferometric profilers)
    Layout as described by the MIT-licensed SurfaceTopography reader (``IO/PLU.py``):
    a 500-byte little-endian header (128-byte date text, uint32 time, 256-byte comment,
    then the calibration block at 388: uint32 rows, uint32 columns, uint32, float32 y
    multiplier, float32 µm per pixel in x (at 404) and in y (at 408), offsets; the
    measurement configuration at 428, whose first uint32 is the measurement type, 3 =
    topography; the number of layers is the byte at 489), then per layer uint32 rows,
    uint32 columns and rows x columns float32 heights in µm, x fastest, followed by two
    float32 (minimum, maximum). The value 1000001 marks a non-measured point. The first
    layer is read; other measurement types (profiles, point clouds) are refused.
    The descriptions disagree on one point: surfalize (GPL, consulted as an oracle only)
    reads the heights straight after the 500-byte header, without the per-layer rows and
    columns. The reader follows the layout above when the 8 bytes at 500 repeat the
    calibration block's rows and columns, and otherwise reads the heights from byte 500
    (``metadata["layer_header"]`` says which); no real file was at hand to settle it.

Zygo DATX (Mx software; an HDF5 file)
    Layout as described by the MIT-licensed SurfaceTopography (``IO/DATX.py``) and prysm
    readers: a ``MetaData`` table of (source, link, destination) rows leads from ``Root``
    through ``Measurement`` to the ``Surface`` node, whose ``Path`` (or, failing that,
    ``/Data/Surface/<node>``) is the height dataset. Its attributes give ``Unit`` (heights'
    unit, e.g. ``MicroMeters``), ``No Data`` (the value marking missing points) and the
    ``X Converter``/``Y Converter`` compounds, whose parameter 1 is the lateral sampling
    interval in metres. Files without ``MetaData`` but with a ``/Measurement/Surface``
    dataset are read from there. Read with ``h5py`` (BSD).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import numpy as np

from dermatrack.errors import InputError

#: The largest map any reader will allocate (as :data:`dermatrack.devices.io.MAX_POINTS`).
MAX_POINTS = 100_000_000

SUR_HEADER_BYTES = 512
SUR_MAGIC = b"DIGITAL SURF"
SUR_COMPRESSED = b"DSCOMPRESSED"

#: Length units as written by instruments, as micrometres per unit.
_LENGTH_UNITS_UM: dict[str, float] = {
    "m": 1e6, "meters": 1e6, "meter": 1e6, "metres": 1e6,
    "mm": 1e3, "millimeters": 1e3, "millimeter": 1e3,
    "um": 1.0, "µm": 1.0, "μm": 1.0, "micrometers": 1.0, "micrometer": 1.0, "microns": 1.0,
    "micron": 1.0,
    "nm": 1e-3, "nanometers": 1e-3, "nanometer": 1e-3,
    "å": 1e-4, "a": 1e-4, "angstrom": 1e-4, "angstroms": 1e-4,
    "pm": 1e-6, "picometers": 1e-6,
}


def length_unit_um(text: str, *, field: str, name: str) -> float:
    """Micrometres per length unit as a file writes it (``µm``, ``MicroMeters``, ...)."""
    key = text.strip().strip("\x00").strip().lower()
    if key in _LENGTH_UNITS_UM:
        return _LENGTH_UNITS_UM[key]
    raise InputError(f"{name}: unknown length unit {text.strip()!r} in the file", field=field)


def _checked_points(nx: int, ny: int, name: str) -> int:
    if nx < 1 or ny < 1:
        raise InputError(f"{name}: the header declares a {nx} x {ny} grid", field="shape")
    points = nx * ny
    if points > MAX_POINTS:
        raise InputError(f"{name}: the header declares {nx} x {ny} = {points} points, more than "
                         f"the {MAX_POINTS} allowed", field="shape")
    return points


# ---------------------------------------------------------------------------------------------
# Digital Surf .sur
# ---------------------------------------------------------------------------------------------

def _text(raw: bytes) -> str:
    raw = raw.split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


def read_sur(file: Path, **_: Any) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    """Heights (µm), x and y spacing (µm) and metadata of a Digital Surf ``.sur`` file.

    Raises
    ------
    InputError
        Not a SUR file, the compressed variant, a big-endian file, a profile or a type other
        than a surface, a declared shape over :data:`MAX_POINTS` or larger than the file,
        16/32 bits not given, non-positive spacing or z step, or an unknown unit.
    """
    name = file.name
    size = file.stat().st_size
    with file.open("rb") as handle:
        header = handle.read(SUR_HEADER_BYTES)
        if len(header) < SUR_HEADER_BYTES:
            raise InputError(f"{name} is too short for a Digital Surf file ({len(header)} bytes, "
                             f"the header alone is {SUR_HEADER_BYTES})", field="file")
        magic = header[:12]
        if magic == SUR_COMPRESSED:
            raise InputError(f"{name} is a compressed Digital Surf file (DSCOMPRESSED), which "
                             "is not read; save it uncompressed from MountainsMap or export "
                             "X3P", field="file")
        if magic != SUR_MAGIC:
            raise InputError(f"{name} is not a Digital Surf file (it does not start with "
                             "'DIGITAL SURF')", field="file")
        byte_format, n_objects, _version, studiable = struct.unpack_from("<4H", header, 12)
        if byte_format != 0:
            raise InputError(f"{name}: byte format {byte_format} is not read (only the PC, "
                             "little-endian, format 0)", field="file")
        if studiable != 2:
            kind = "a profile" if studiable == 1 else f"studiable type {studiable}"
            raise InputError(f"{name} holds {kind}, not a surface (type 2) height map",
                             field="shape")
        (special,) = struct.unpack_from("<H", header, 86)
        (bits,) = struct.unpack_from("<H", header, 98)
        zmin, zmax, nx, ny, total = struct.unpack_from("<5i", header, 100)
        dx, dy, dz = struct.unpack_from("<3f", header, 120)
        units = [_text(header[132 + 16 * i:148 + 16 * i]) for i in range(9)]
        comment_size, private_size = struct.unpack_from("<2H", header, 334)
        _x_off, _y_off, z_offset = struct.unpack_from("<3f", header, 466)
        if bits not in (16, 32):
            raise InputError(f"{name}: {bits} bits per point (16 or 32 are defined)",
                             field="file")
        points = _checked_points(nx, ny, name)
        if total != points:
            raise InputError(f"{name}: the header gives {total} points for a {nx} x {ny} grid",
                             field="shape")
        start = SUR_HEADER_BYTES + comment_size + private_size
        needed = start + points * bits // 8
        if size < needed:
            raise InputError(f"{name}: the header declares {nx} x {ny} points of {bits} bits "
                             f"({needed} bytes with the header) but the file has {size} bytes",
                             field="shape")
        for label, value in (("x spacing", dx), ("y spacing", dy), ("z step", dz)):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"{name}: the {label} must be positive, not {value:g}",
                                 field="spacing_um" if "spacing" in label else "z_unit")
        if not math.isfinite(z_offset):
            raise InputError(f"{name}: the z offset is not a number", field="file")
        x_um = length_unit_um(units[3], field="x_unit", name=name)
        y_um = length_unit_um(units[4], field="y_unit", name=name)
        z_um = length_unit_um(units[5], field="z_unit", name=name)
        comment = _text(handle.read(comment_size)) if comment_size else ""
        handle.seek(start)
        counts = np.frombuffer(handle.read(points * bits // 8),
                               dtype="<i2" if bits == 16 else "<i4").reshape(ny, nx)
    heights = counts.astype(np.float64) * float(dz) + float(z_offset)
    if special:
        heights[(counts < zmin) | (counts > zmax)] = np.nan
    metadata: dict[str, Any] = {"z_unit_in_file": units[5], "objects": n_objects,
                                "instrument": _text(header[50:80]) or None,
                                "non_measured_flag": bool(special)}
    if comment:
        metadata["comment"] = comment[:500]
    return heights * z_um, float(dx) * x_um, float(dy) * y_um, metadata


# ---------------------------------------------------------------------------------------------
# Sensofar .plu
# ---------------------------------------------------------------------------------------------

PLU_HEADER_BYTES = 500
PLU_UNDEFINED = 1000001.0
PLU_TOPOGRAPHY = 3


def read_plu(file: Path, **_: Any) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    """Heights (µm), x and y spacing (µm) and metadata of a Sensofar ``.plu`` file.

    Raises
    ------
    InputError
        Too short, not a topography, no layer, a declared shape over :data:`MAX_POINTS`
        or larger than the file, or a non-positive pixel size.
    """
    name = file.name
    size = file.stat().st_size
    with file.open("rb") as handle:
        header = handle.read(PLU_HEADER_BYTES + 8)
        if len(header) < PLU_HEADER_BYTES + 8:
            raise InputError(f"{name} is too short for a Sensofar PLU file ({len(header)} "
                             f"bytes; the header alone is {PLU_HEADER_BYTES})", field="file")
        dx, dy = struct.unpack_from("<2f", header, 404)
        (measurement_type,) = struct.unpack_from("<I", header, 428)
        layers = header[489]
        if measurement_type != PLU_TOPOGRAPHY:
            raise InputError(f"{name} holds measurement type {measurement_type}, not a "
                             f"topography (type {PLU_TOPOGRAPHY}); it may not be a PLU file",
                             field="file")
        if layers < 1:
            raise InputError(f"{name} declares no data layer", field="file")
        ny, nx = struct.unpack_from("<2I", header, 388)
        points = _checked_points(nx, ny, name)
        layer_header = struct.unpack_from("<2I", header, PLU_HEADER_BYTES) == (ny, nx)
        start = PLU_HEADER_BYTES + (8 if layer_header else 0)
        needed = start + 4 * points
        if size < needed:
            raise InputError(f"{name}: the header declares {nx} x {ny} points ({needed} bytes "
                             f"with the header) but the file has {size} bytes",
                             field="shape")
        for label, value in (("x", dx), ("y", dy)):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"{name}: the {label} pixel size must be positive, not "
                                 f"{value:g} µm", field="spacing_um")
        comment = _text(header[132:388])
        handle.seek(start)
        heights = np.frombuffer(handle.read(4 * points), dtype="<f4").reshape(ny, nx)
    z = heights.astype(np.float64)
    z[(heights == np.float32(PLU_UNDEFINED)) | ~np.isfinite(z)] = np.nan
    metadata: dict[str, Any] = {"z_unit_in_file": "µm", "layers": int(layers),
                                "date": _text(header[:128]) or None,
                                "layer_header": layer_header}
    if comment:
        metadata["comment"] = comment[:500]
    return z, float(dx), float(dy), metadata


# ---------------------------------------------------------------------------------------------
# Zygo .datx
# ---------------------------------------------------------------------------------------------

def _attribute(attrs: Any, key: str) -> Any:
    value = attrs.get(key)
    if isinstance(value, np.ndarray) and value.shape and value.size == 1:
        value = value.reshape(-1)[0]
    return value


def _decoded(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _surface_path(h5: Any, name: str) -> str:
    if "MetaData" not in h5:
        if "Measurement" in h5 and "Surface" in h5["Measurement"]:
            return "/Measurement/Surface"
        raise InputError(f"{name} is an HDF5 file but not a Zygo DATX one (no MetaData table "
                         "and no /Measurement/Surface)", field="file")
    links: dict[tuple[str, str], str] = {}
    for row in h5["MetaData"][()]:
        if len(row) < 3:
            continue
        source, link, destination = (_decoded(cell) for cell in tuple(row)[:3])
        links[(source, link)] = destination
    measurement = links.get(("Root", "Measurement"))
    surface = links.get((measurement, "Surface")) if measurement else None
    if surface is None:
        raise InputError(f"{name}: the DATX MetaData has no Root > Measurement > Surface entry",
                         field="file")
    path = links.get((surface, "Path"), f"/Data/Surface/{surface}")
    if path not in h5:
        raise InputError(f"{name}: the surface dataset {path!r} named in MetaData is missing",
                         field="file")
    return path


def _lateral_spacing_um(attrs: Any, key: str, name: str) -> float:
    converter = _attribute(attrs, key)
    try:
        parameters = np.asarray(converter[2], dtype=np.float64).reshape(-1)
        spacing_m = float(parameters[1])
    except (TypeError, IndexError, ValueError, KeyError):
        raise InputError(f"{name}: the {key} attribute does not give the lateral resolution",
                         field="spacing_um") from None
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise InputError(f"{name}: the {key} lateral resolution must be positive, not "
                         f"{spacing_m:g} m", field="spacing_um")
    return spacing_m * 1e6


def read_datx(file: Path, **_: Any) -> tuple[np.ndarray, float, float, dict[str, Any]]:
    """Heights (µm), x and y spacing (µm) and metadata of a Zygo ``.datx`` file.

    Raises
    ------
    InputError
        Not HDF5, not DATX, no surface dataset, not 2-D, over :data:`MAX_POINTS`, no
        unit or lateral resolution, or an unknown unit.
    """
    import h5py

    name = file.name
    try:
        h5 = h5py.File(file, "r")
    except OSError as exc:
        raise InputError(f"{name} is not a readable Zygo DATX (HDF5) file: {exc}",
                         field="file") from exc
    with h5:
        path = _surface_path(h5, name)
        dataset = h5[path]
        if not isinstance(dataset, h5py.Dataset) or dataset.ndim != 2:
            shape = getattr(dataset, "shape", None)
            raise InputError(f"{name}: the surface at {path} is not a 2-D grid (shape "
                             f"{shape})", field="shape")
        ny, nx = (int(n) for n in dataset.shape)
        _checked_points(nx, ny, name)
        if dataset.dtype.kind not in "iuf":
            raise InputError(f"{name}: the surface holds {dataset.dtype}, not numbers",
                             field="z")
        attrs = dataset.attrs
        unit = _attribute(attrs, "Unit")
        if unit is None:
            z_converter = _attribute(attrs, "Z Converter")
            unit = z_converter[1] if z_converter is not None else None
        if unit is None:
            raise InputError(f"{name}: the surface has no 'Unit' attribute", field="z_unit")
        unit_text = _decoded(unit)
        scale = length_unit_um(unit_text, field="z_unit", name=name)
        dx = _lateral_spacing_um(attrs, "X Converter", name)
        dy = (_lateral_spacing_um(attrs, "Y Converter", name) if "Y Converter" in attrs
              else dx)
        no_data = _attribute(attrs, "No Data")
        raw = dataset[()]
    heights = np.asarray(raw, dtype=np.float64)
    if no_data is not None:
        heights[heights == float(no_data)] = np.nan
    heights[~np.isfinite(heights)] = np.nan
    return heights * scale, dx, dy, {"z_unit_in_file": unit_text, "dataset": path}
