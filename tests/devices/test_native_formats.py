"""Digital Surf .sur and Zygo .datx readers, and ``measure surface --edge``.

The files are written here from the published layouts (see ``dermatrack.devices.native``);
surfalize (GPL-3, test-time oracle only) reads the .sur files we write and writes .sur files
we read, and the CLI's filtered parameters with ``--edge reflect`` are compared with its own.
"""

from __future__ import annotations

import math
import struct
import warnings

import numpy as np
import pytest

from dermatrack.devices.io import read_height_map
from dermatrack.devices.surface import HeightMap, measure_surface
from dermatrack.errors import InputError


def write_sur(path, counts, *, dx=1.0, dy=1.0, dz=0.01, z_offset=0.0, unit=b"\xb5m",
              bits=32, special=None, magic=b"DIGITAL SURF", studiable=2, nx=None, ny=None,
              total=None, comment=b"", zrange=None):
    """A Digital Surf file laid out as the MountainsMap documentation describes it."""
    counts = np.asarray(counts)
    rows, cols = counts.shape
    nx = cols if nx is None else nx
    ny = rows if ny is None else ny
    valid = counts if special is None else counts[~special]
    zmin, zmax = zrange or (int(valid.min()), int(valid.max()))
    header = bytearray(512)
    header[0:12] = magic
    struct.pack_into("<4H", header, 12, 0, 1, 1, studiable)
    header[20:50] = b"replica".ljust(30)
    header[50:80] = b"test profilometer".ljust(30)
    struct.pack_into("<H", header, 86, 1 if special is not None else 0)
    struct.pack_into("<H", header, 98, bits)
    struct.pack_into("<5i", header, 100, zmin, zmax, nx, ny,
                     nx * ny if total is None else total)
    struct.pack_into("<3f", header, 120, dx, dy, dz)
    for i, label in enumerate([b"X", b"Y", b"Z"] + [unit] * 6):
        header[132 + 16 * i:148 + 16 * i] = label.ljust(16)
    struct.pack_into("<3f", header, 276, 1.0, 1.0, 1.0)
    struct.pack_into("<2H", header, 334, len(comment), 0)
    struct.pack_into("<3f", header, 466, 0.0, 0.0, z_offset)
    data = counts.astype("<i2" if bits == 16 else "<i4")
    if special is not None:
        data = data.copy()
        data[special] = np.iinfo(data.dtype).min
    path.write_bytes(bytes(header) + comment + data.tobytes())
    return path


def write_datx(path, heights, *, spacing_m=2e-6, unit=b"MicroMeters", no_data=None,
               metadata=True, shape=None):
    """A Zygo DATX (HDF5) file with the MetaData links and surface attributes described by
    the permissively licensed readers."""
    import h5py

    guid_m, guid_s = "{measure-1}", "{surface-1}"
    path_s = f"/Data/Surface/{guid_s}"
    converter = np.dtype([("Category", "S32"), ("BaseUnit", "S32"),
                          ("Parameters", "<f8", (4,))])
    with h5py.File(path, "w") as h5:
        if metadata:
            table = np.array([(b"Root", b"Measurement", guid_m.encode()),
                              (guid_m.encode(), b"Surface", guid_s.encode()),
                              (guid_s.encode(), b"Path", path_s.encode())],
                             dtype=[("Source", "S64"), ("Link", "S64"),
                                    ("Destination", "S64")])
            h5["MetaData"] = table
            target = path_s
        else:
            target = "/Measurement/Surface"
        if shape is not None:
            dataset = h5.create_dataset(target, shape=shape, dtype="<f8", chunks=(64, 64))
        else:
            dataset = h5.create_dataset(target, data=heights)
        dataset.attrs["Unit"] = np.array([unit])
        if no_data is not None:
            dataset.attrs["No Data"] = np.array([no_data])
        lateral = np.array([(b"LateralCat", b"Pixels", [0.0, spacing_m, 0.0, 0.0])],
                           dtype=converter)
        dataset.attrs["X Converter"] = lateral
        dataset.attrs["Y Converter"] = lateral
        dataset.attrs["Z Converter"] = np.array([(b"HeightCat", unit, [0.0, 1.0, 0.0, 0.0])],
                                                dtype=converter)
    return path


def _counts(shape=(40, 60), seed=0):
    return np.random.default_rng(seed).integers(-20000, 20000, size=shape)


# ---------------------------------------------------------------------------------------------
# .sur
# ---------------------------------------------------------------------------------------------

def test_sur_heights_spacing_and_missing_points(tmp_path):
    counts = _counts()
    missing = np.zeros(counts.shape, bool)
    missing[3, 5] = missing[10, 0] = True
    path = write_sur(tmp_path / "a.sur", counts, dx=2.5, dy=3.0, dz=0.004, z_offset=1.5,
                     special=missing, comment=b"cheek replica")
    heightmap = read_height_map(path)
    expected = counts * np.float32(0.004) + np.float32(1.5)
    assert heightmap.z_um.shape == (40, 60)
    assert (heightmap.dx_um, heightmap.dy_um) == pytest.approx((2.5, 3.0))
    np.testing.assert_allclose(heightmap.z_um[~missing], expected[~missing], rtol=1e-12)
    assert np.isnan(heightmap.z_um[missing]).all()
    assert heightmap.metadata["comment"] == "cheek replica"
    assert heightmap.source_format == "sur"


@pytest.mark.parametrize("unit,factor", [(b"nm", 1e-3), (b"mm", 1e3), ("µm".encode(), 1.0)])
def test_sur_units_and_16_bit(tmp_path, unit, factor):
    counts = _counts((8, 9)) // 4
    path = write_sur(tmp_path / "b.sur", counts, dz=0.5, unit=unit, bits=16, dx=0.25, dy=0.25)
    heightmap = read_height_map(path)
    np.testing.assert_allclose(heightmap.z_um, counts * 0.5 * factor, rtol=1e-12)
    assert heightmap.dx_um == pytest.approx(0.25 * factor)


def test_sur_we_write_is_read_alike_by_surfalize(tmp_path):
    surfalize = pytest.importorskip("surfalize")
    counts = _counts((30, 50), seed=3)
    path = write_sur(tmp_path / "c.sur", counts, dx=1.5, dy=1.5, dz=0.002, z_offset=-4.0)
    ours = read_height_map(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = surfalize.Surface.load(path)
    np.testing.assert_allclose(ours.z_um, theirs.data, rtol=1e-6, atol=1e-9)
    assert ours.dx_um == pytest.approx(theirs.step_x)


def test_sur_written_by_surfalize_is_read(tmp_path):
    surfalize = pytest.importorskip("surfalize")
    z = np.random.default_rng(5).normal(0, 3, size=(25, 35))
    z[4, 7] = np.nan
    path = tmp_path / "d.sur"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        surfalize.Surface(z.copy(), 0.8, 0.8).save(path)
        theirs = surfalize.Surface.load(path)
    ours = read_height_map(path)
    assert np.isnan(ours.z_um[4, 7]) and np.isfinite(ours.z_um).sum() == z.size - 1
    valid = np.isfinite(z)
    np.testing.assert_allclose(ours.z_um[valid], theirs.data[valid], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.z_um[valid], z[valid], atol=1e-6)  # 32-bit quantisation
    # The compressed variant is refused by name.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        surfalize.Surface(z.copy(), 0.8, 0.8).save(tmp_path / "e.sur", compressed=True)
    with pytest.raises(InputError, match="compressed"):
        read_height_map(tmp_path / "e.sur")


@pytest.mark.parametrize("kwargs,words", [
    ({"nx": 100_000, "ny": 100_000, "total": 0}, "more than"),
    ({"nx": 5000, "ny": 5000}, "but the file has"),
    ({"total": 7}, "gives 7 points"),
    ({"bits": 8}, "bits per point"),
    ({"magic": b"NOT A SURF!!"}, "not a Digital Surf"),
    ({"studiable": 1}, "profile"),
    ({"dx": 0.0}, "x spacing"),
    ({"dz": -1.0}, "z step"),
    ({"unit": b"furlong"}, "unknown length unit"),
])
def test_sur_bad_headers_are_refused_before_allocating(tmp_path, kwargs, words):
    path = write_sur(tmp_path / "bad.sur", _counts((6, 7)), **kwargs)
    with pytest.raises(InputError, match=words):
        read_height_map(path)


def test_truncated_sur_exits_2_on_the_cli(cli, tmp_path):
    path = write_sur(tmp_path / "big.sur", _counts((6, 7)), nx=40_000, ny=40_000, total=0)
    result = cli("measure", "surface", path, "--json")
    assert result.code == 2 and "more than" in result.stderr and result.stdout == ""
    short = tmp_path / "short.sur"
    short.write_bytes(b"DIGITAL SURF" + bytes(100))
    result = cli("measure", "surface", short, "--json")
    assert result.code == 2 and "too short" in result.stderr


# ---------------------------------------------------------------------------------------------
# .datx
# ---------------------------------------------------------------------------------------------

def test_datx_heights_units_spacing_and_no_data(tmp_path):
    heights = np.random.default_rng(1).normal(0, 500, size=(32, 48))
    heights[2, 3] = 1.0e38
    path = write_datx(tmp_path / "a.datx", heights, unit=b"NanoMeters", spacing_m=3.2e-6,
                      no_data=1.0e38)
    heightmap = read_height_map(path)
    expected = heights / 1000.0
    assert np.isnan(heightmap.z_um[2, 3])
    mask = np.isfinite(heightmap.z_um)
    np.testing.assert_allclose(heightmap.z_um[mask], expected[mask], rtol=1e-12)
    assert heightmap.dx_um == pytest.approx(3.2) and heightmap.dy_um == pytest.approx(3.2)
    assert heightmap.source_format == "datx"


def test_datx_without_metadata_table_and_nan_missing(tmp_path):
    heights = np.arange(20.0).reshape(4, 5)
    heights[1, 1] = np.nan
    path = write_datx(tmp_path / "b.datx", heights, metadata=False)
    heightmap = read_height_map(path)
    assert np.isnan(heightmap.z_um[1, 1])
    assert heightmap.z_um[3, 4] == 19.0 and heightmap.dx_um == pytest.approx(2.0)


def test_datx_refusals(tmp_path):
    huge = write_datx(tmp_path / "huge.datx", None, shape=(20_000, 20_000))
    assert huge.stat().st_size < 1_000_000  # declared, never written
    with pytest.raises(InputError, match="more than"):
        read_height_map(huge)
    with pytest.raises(InputError, match="unknown length unit"):
        read_height_map(write_datx(tmp_path / "u.datx", np.ones((4, 4)), unit=b"Parsecs"))
    with pytest.raises(InputError, match="lateral resolution"):
        read_height_map(write_datx(tmp_path / "s.datx", np.ones((4, 4)), spacing_m=0.0))
    not_hdf = tmp_path / "c.datx"
    not_hdf.write_bytes(b"plain text, not HDF5\n")
    with pytest.raises(InputError, match="not a readable Zygo DATX"):
        read_height_map(not_hdf)
    import h5py

    with h5py.File(tmp_path / "other.datx", "w") as h5:
        h5["something"] = np.ones(3)
    with pytest.raises(InputError, match="not a Zygo DATX"):
        read_height_map(tmp_path / "other.datx")


def test_sur_and_datx_of_one_surface_measure_alike(cli, tmp_path):
    counts = _counts((50, 70), seed=9)
    sur = write_sur(tmp_path / "s.sur", counts, dx=2.0, dy=2.0, dz=0.001)
    datx = write_datx(tmp_path / "s.datx", counts * np.float32(0.001) * 1.0, spacing_m=2e-6)
    a = cli("measure", "surface", sur, "--json").json()
    b = cli("measure", "surface", datx, "--json").json()
    for name in ("Sa", "Sq", "Sdr"):
        assert a["areal"][name] == pytest.approx(b["areal"][name], rel=1e-6)


# ---------------------------------------------------------------------------------------------
# --edge
# ---------------------------------------------------------------------------------------------

def _rough(shape=(90, 120), seed=2):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    return ndimage.gaussian_filter(rng.normal(size=shape), 2.0) * 6 + 0.04 * x + \
        4 * np.sin(2 * np.pi * x / 70)


def test_cli_edge_reflect_agrees_with_surfalize(cli, tmp_path):
    surfalize = pytest.importorskip("surfalize")
    from surfalize.filter import GaussianFilter

    z = _rough()
    path = tmp_path / "r.sur"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        surfalize.Surface(z.copy(), 1.0, 1.0).save(path)
        theirs = surfalize.Surface.load(path).level()
        theirs = GaussianFilter(2.0, "lowpass")(theirs)
        theirs = GaussianFilter(30.0, "highpass")(theirs)
        expected = {name: float(getattr(theirs, name)()) for name in ("Sa", "Sq", "Sz")}
    reflect = cli("measure", "surface", path, "--ls", "2", "--lc", "30", "--edge", "reflect",
                  "--json").json()
    default = cli("measure", "surface", path, "--ls", "2", "--lc", "30", "--json").json()
    for name, value in expected.items():
        assert reflect["areal"][name] == pytest.approx(value, rel=1e-6), name
    assert reflect["settings"]["edge"] == "reflect"
    assert default["areal"]["Sa"] != pytest.approx(expected["Sa"], rel=1e-6)


def test_edge_nan_and_crop_evaluate_only_fully_supported_points():
    z = _rough()
    heightmap = HeightMap(z, 1.0, 1.0)
    lc = 30.0
    nan = measure_surface(heightmap, form="plane", lc_um=lc, edge="nan")
    crop = measure_surface(heightmap, form="plane", lc_um=lc, edge="crop")
    radius = nan.settings["edge_margin_samples"]
    # 4 sigma of the Gaussian: sigma = lc sqrt(ln 2 / 2) / pi samples at 1 µm spacing.
    sigma = lc * math.sqrt(math.log(2) / 2) / math.pi
    assert radius == [int(4 * sigma + 0.5)] * 2
    ny, nx = z.shape
    assert crop.settings["evaluated_shape"] == [ny - 2 * radius[0], nx - 2 * radius[1]]
    inner = (ny - 2 * radius[0]) * (nx - 2 * radius[1])
    assert nan.settings["valid_percent"] == pytest.approx(100 * inner / z.size)
    # Height parameters see the same points in both.
    for name in ("Sa", "Sq", "Sp", "Sv"):
        assert nan.areal[name] == pytest.approx(crop.areal[name], rel=1e-12)
    # Inside the margin the three filters agree, so nan/crop equal reflect and renormalise
    # on the inner points.
    from dermatrack.devices.surface import remove_form, scale_limit

    levelled = remove_form(z, 1.0, 1.0, "plane")
    a = scale_limit(levelled, 1.0, 1.0, lc_um=lc, edge="reflect")
    b = scale_limit(levelled, 1.0, 1.0, lc_um=lc, edge="renormalise")
    r0, r1 = radius
    np.testing.assert_allclose(a[r0:ny - r0, r1:nx - r1], b[r0:ny - r0, r1:nx - r1],
                               atol=1e-9)
    whole = measure_surface(heightmap, form="plane", lc_um=lc)
    assert whole.settings["edge_margin_samples"] == [0, 0]
    assert abs(whole.areal["Sq"] - crop.areal["Sq"]) > 1e-6


def test_edge_crop_too_wide_and_unknown_mode(cli, tmp_path):
    with pytest.raises(InputError, match="half-width"):
        measure_surface(HeightMap(_rough((20, 20)), 1.0, 1.0), lc_um=40.0, edge="crop")
    path = tmp_path / "map.npy"
    np.save(path, _rough((20, 20)))
    result = cli("measure", "surface", path, "--spacing-um", "1", "--z-unit", "um",
                 "--edge", "wrap")
    assert result.code == 2 and "--edge" in result.stderr


# ---------------------------------------------------------------------------------------------
# .plu
# ---------------------------------------------------------------------------------------------

def write_plu(path, heights_um, *, dx=0.5, dy=0.5, measurement_type=3, layers=1, ny=None,
              nx=None, layer_header=True):
    """A Sensofar PLU file laid out as the permissively licensed description gives it."""
    heights = np.asarray(heights_um, dtype="<f4")
    rows, cols = heights.shape
    header = bytearray(500)
    header[0:128] = b"03/12/2026 08:00".ljust(128, b"\x00")
    header[132:388] = b"forearm replica".ljust(256, b"\x00")
    struct.pack_into("<3I7f", header, 388, ny or rows, nx or cols, 0, 1.0, dx, dy, 0.0, 0.0,
                     0.0, 0.0)
    struct.pack_into("<5I", header, 428, measurement_type, 0, 0, 0, 0)
    struct.pack_into("<4I", header, 448, cols, rows, cols, rows)
    header[489] = layers
    dims = struct.pack("<2I", ny or rows, nx or cols) if layer_header else b""
    body = dims + heights.tobytes() + \
        struct.pack("<2f", float(np.nanmin(heights)), float(np.nanmax(heights)))
    path.write_bytes(bytes(header) + body)
    return path


@pytest.mark.parametrize("layer_header", [True, False])
def test_plu_heights_spacing_missing(tmp_path, layer_header):
    heights = np.random.default_rng(4).normal(0, 2.0, (30, 45)).astype(np.float32)
    heights[5, 6] = 1000001.0
    path = write_plu(tmp_path / "a.plu", heights, dx=0.645, dy=0.8, layer_header=layer_header)
    heightmap = read_height_map(path)
    assert heightmap.metadata["layer_header"] is layer_header
    assert np.isnan(heightmap.z_um[5, 6])
    assert (heightmap.dx_um, heightmap.dy_um) == pytest.approx((0.645, 0.8))
    valid = np.isfinite(heightmap.z_um)
    np.testing.assert_array_equal(heightmap.z_um[valid], heights[valid].astype(np.float64))
    assert heightmap.metadata["comment"] == "forearm replica"


def test_plu_agrees_with_surfalize_on_its_layout(tmp_path):
    """surfalize reads heights straight after the 500-byte header (no per-layer rows and
    columns); on such a file both readers give the same map."""
    heights = np.random.default_rng(4).normal(0, 2.0, (30, 45)).astype(np.float32)
    heights[5, 6] = 1000001.0
    path = write_plu(tmp_path / "a.plu", heights, dx=0.645, dy=0.645, layer_header=False)
    ours = read_height_map(path)
    assert np.isnan(ours.z_um[5, 6]) and ours.dx_um == pytest.approx(0.645)
    valid = np.isfinite(ours.z_um)
    np.testing.assert_array_equal(ours.z_um[valid], heights[valid].astype(np.float64))
    surfalize = pytest.importorskip("surfalize")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = surfalize.Surface.load(path)
    np.testing.assert_allclose(ours.z_um[valid], np.asarray(theirs.data)[valid], rtol=1e-6)
    assert ours.dx_um == pytest.approx(theirs.step_x)


@pytest.mark.parametrize("kwargs,words", [
    ({"measurement_type": 1}, "not a topography"),
    ({"layers": 0}, "no data layer"),
    ({"ny": 50_000, "nx": 50_000}, "more than"),
    ({"ny": 300, "nx": 300}, "but the file has"),
    ({"ny": 300, "nx": 300, "layer_header": False}, "but the file has"),
    ({"dx": 0.0}, "pixel size"),
])
def test_plu_refusals(tmp_path, kwargs, words):
    path = write_plu(tmp_path / "bad.plu", np.zeros((6, 7)), **kwargs)
    with pytest.raises(InputError, match=words):
        read_height_map(path)
