"""Height map files of every supported format, written here and read back."""

from __future__ import annotations

import numpy as np
import pytest
import sdfio
import tifffile
import x3pio

from dermatrack.devices.io import height_map_from_array, read_height_map
from dermatrack.errors import InputError


@pytest.fixture
def heights_um() -> np.ndarray:
    rng = np.random.default_rng(11)
    z = rng.normal(0.0, 5.0, (12, 17)).round(3)
    z[3, 4] = np.nan
    return z


def _same(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9, atol: float = 0.0) -> bool:
    return bool(np.array_equal(np.isnan(a), np.isnan(b))
                and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=rtol, atol=atol))


def test_x3p_in_metres_is_read_in_micrometres(tmp_path, heights_um):
    path = tmp_path / "replica.x3p"
    x3pio.write(path, heights_um * 1e-6, x_scale=2e-6, y_scale=3e-6)
    heightmap = read_height_map(path)
    assert heightmap.source_format == "x3p"
    assert heightmap.dx_um == pytest.approx(2.0) and heightmap.dy_um == pytest.approx(3.0)
    assert _same(heightmap.z_um, heights_um)


def test_sdf_binary_and_ascii_with_integer_z_scale(tmp_path, heights_um):
    binary = tmp_path / "map.sdf"
    sdfio.write(binary, heights_um * 1e-6, x_scale=1.5e-6, y_scale=1.5e-6)
    heightmap = read_height_map(binary)
    assert heightmap.dx_um == pytest.approx(1.5)
    assert _same(heightmap.z_um, heights_um)
    # Integer storage with the file's own z scale: heights come back to within one step.
    ascii_file = tmp_path / "map_ascii.sdf"
    metadata = sdfio.Metadata(data_type=sdfio.DataType.INT16)
    sdfio.write(ascii_file, heights_um * 1e-6, x_scale=1e-6, y_scale=1e-6,
                format=sdfio.FileFormat.ASCII, metadata=metadata)
    step_um = sdfio.read(ascii_file).header.z_scale * 1e6
    assert step_um < 0.01
    assert _same(read_height_map(ascii_file).z_um, heights_um, rtol=0, atol=step_um)


def test_csv_grid_with_header_and_missing_cells(tmp_path):
    path = tmp_path / "grid.csv"
    path.write_text("# instrument: PRIMOS\n# spacing_um: 2.5\n# z_unit: nm\n"
                    "1000,2000,3000\n4000,,6000\n7000,8000,NaN\n")
    heightmap = read_height_map(path)
    assert heightmap.dx_um == heightmap.dy_um == 2.5
    expected = np.array([[1, 2, 3], [4, np.nan, 6], [7, 8, np.nan]], dtype=float)
    assert _same(heightmap.z_um, expected)
    assert heightmap.metadata["instrument"] == "PRIMOS"


def test_whitespace_text_grid_with_separate_spacings(tmp_path):
    path = tmp_path / "grid.txt"
    path.write_text("# dx_um = 1.0\n# dy_um = 4.0\n# z_unit = um\n0.5  1.5 2.5\n3.5 4.5 5.5\n")
    heightmap = read_height_map(path)
    assert (heightmap.dx_um, heightmap.dy_um) == (1.0, 4.0)
    assert heightmap.z_um[1, 2] == 5.5


def test_float32_tiff_with_resolution_tags(tmp_path, heights_um):
    path = tmp_path / "map32.tif"
    # 5000 pixels per centimetre is 2 µm per pixel.
    tifffile.imwrite(path, heights_um.astype(np.float32), resolution=(5000, 5000),
                     resolutionunit="CENTIMETER", description="z_unit: um")
    heightmap = read_height_map(path)
    assert heightmap.dx_um == pytest.approx(2.0)
    assert _same(heightmap.z_um, heights_um.astype(np.float32).astype(float))


def test_uint16_tiff_needs_and_uses_a_z_scale(tmp_path):
    counts = np.arange(12, dtype=np.uint16).reshape(3, 4) * 100
    counts[0, 0] = 65535  # the largest count marks a missing point
    path = tmp_path / "map16.tif"
    tifffile.imwrite(path, counts, description="z_unit: nm\nz_scale: 2\nspacing_um: 0.5")
    heightmap = read_height_map(path)
    assert heightmap.dx_um == 0.5
    assert np.isnan(heightmap.z_um[0, 0])
    assert heightmap.z_um[2, 3] == pytest.approx(1100 * 2 * 1e-3)
    bare = tmp_path / "bare16.tif"
    tifffile.imwrite(bare, counts)
    with pytest.raises(InputError, match="z_scale"):
        read_height_map(bare, spacing_um=1.0, z_unit="um")
    assert read_height_map(bare, spacing_um=1.0, z_unit="um", z_scale=0.1).z_um[1, 0] == \
        pytest.approx(40.0)


def test_npy_needs_spacing_and_unit_from_the_caller(tmp_path, heights_um):
    path = tmp_path / "map.npy"
    np.save(path, heights_um / 1000.0)
    with pytest.raises(InputError, match="--spacing-um"):
        read_height_map(path, z_unit="mm")
    with pytest.raises(InputError, match="unit"):
        read_height_map(path, spacing_um=1.0)
    heightmap = read_height_map(path, spacing_um=1.0, z_unit="mm")
    assert _same(heightmap.z_um, heights_um)


@pytest.mark.parametrize("content,message", [
    ("# spacing_um: 1\n# z_unit: um\n1,2,3\n4,5\n", "rectangular"),
    ("# spacing_um: 1\n# z_unit: um\n1,2\n3,abc\n", "not a number"),
    ("# spacing_um: 1\n# z_unit: um\nnan,nan\nnan,nan\n", "all NaN"),
    ("# spacing_um: 1\n# z_unit: um\n1,2,3\n", "2 rows"),
    ("# spacing_um: 1\n# z_unit: um\n", "no heights"),
    ("# z_unit: um\n1,2\n3,4\n", "sampling interval"),
    ("# spacing_um: 1\n1,2\n3,4\n", "unit"),
    ("# spacing_um: 1\n# z_unit: furlong\n1,2\n3,4\n", "unknown length unit"),
    ("# spacing_um: -2\n# z_unit: um\n1,2\n3,4\n", "positive"),
])
def test_bad_grids_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_height_map(path)


def test_bad_files_are_refused(tmp_path):
    empty = tmp_path / "empty.x3p"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_height_map(empty)
    fake = tmp_path / "fake.x3p"
    fake.write_text("not a zip")
    with pytest.raises(InputError, match="X3P"):
        read_height_map(fake)
    fake_sdf = tmp_path / "fake.sdf"
    fake_sdf.write_text("hello")
    with pytest.raises(InputError, match="SDF"):
        read_height_map(fake_sdf)
    profile = tmp_path / "profile.npy"
    np.save(profile, np.arange(10.0))
    with pytest.raises(InputError, match="2-D"):
        read_height_map(profile, spacing_um=1.0, z_unit="um")
    bitmap = tmp_path / "map.bmp"
    bitmap.write_bytes(b"BM" + bytes(60))
    with pytest.raises(InputError, match="format"):
        read_height_map(bitmap)
    # a missing path is reported as missing, whatever its suffix
    for missing in ("missing.npy", "missing.bmp"):
        with pytest.raises(InputError, match="no such file"):
            read_height_map(tmp_path / missing)
    with pytest.raises(InputError, match="directory"):
        read_height_map(tmp_path)


def test_x3p_profile_is_not_a_surface(tmp_path):
    path = tmp_path / "profile.x3p"
    x3pio.write(path, np.linspace(0, 1e-6, 20), x_scale=1e-6)
    with pytest.raises(InputError, match="areal surface"):
        read_height_map(path)


def test_array_helper_validates():
    heightmap = height_map_from_array(np.ones((3, 3), dtype=np.int32), dx_um=2.0)
    assert heightmap.z_um.dtype == np.float64 and heightmap.dy_um == 2.0
    with pytest.raises(InputError, match="2-D"):
        height_map_from_array(np.ones((2, 2, 2)), dx_um=1.0)
