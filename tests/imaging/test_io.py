"""Image input and output: formats, orientation, ICC profiles, metadata stripping, bad files."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from dermatrack.errors import InputError
from dermatrack.imaging.io import read_image, write_jpeg, write_png


def _pattern(height: int = 24, width: int = 36) -> np.ndarray:
    """An asymmetric uint8 RGB pattern: smooth gradients plus one bright corner block."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // (width - 1), y * 255 // (height - 1),
                    (x + y) * 255 // (width + height - 2)], axis=-1).astype(np.uint8)
    rgb[:6, :9] = (255, 40, 40)
    return rgb


# ---------------------------------------------------------------------------------------
# A matrix/TRC ICC v2 display profile with Adobe RGB (1998) primaries, written by hand:
# Pillow's ImageCms can only create sRGB, Lab and XYZ profiles itself.

def _s15(value: float) -> bytes:
    return struct.pack(">i", int(round(value * 65536)))


def _xyz_tag(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _adobe_like_profile() -> bytes:
    # Adobe RGB (1998) primaries adapted to the D50 PCS (Bradford), gamma 563/256.
    columns = {"rXYZ": (0.6097559, 0.3111242, 0.0194811),
               "gXYZ": (0.2052401, 0.6256560, 0.0608902),
               "bXYZ": (0.1492240, 0.0632197, 0.7448387)}
    text = b"Adobe-like test RGB\0"
    tags = {
        "desc": (b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text
                 + b"\0" * 8 + b"\0\0" + b"\0" + b"\0" * 67),
        "cprt": b"text" + b"\0" * 4 + b"public domain\0",
        "wtpt": _xyz_tag(0.9642, 1.0, 0.8249),
        **{name: _xyz_tag(*xyz) for name, xyz in columns.items()},
        **{name: b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 563) + b"\0\0"
           for name in ("rTRC", "gTRC", "bTRC")},
    }
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, body = struct.pack(">I", len(tags)), b""
    for name, data in tags.items():
        data += b"\0" * (-len(data) % 4)
        table += name.encode() + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = 128 + table_size + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000)
              + b"mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 24
              + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + table + body


def _adobe_to_srgb(encoded: np.ndarray) -> np.ndarray:
    """Reference conversion of Adobe RGB (gamma 563/256) values to sRGB, via colour-science."""
    import colour

    linear = np.asarray(encoded, dtype=np.float64) ** (563 / 256)
    xyz = colour.RGB_to_XYZ(linear, colour.RGB_COLOURSPACES["Adobe RGB (1998)"],
                            apply_cctf_decoding=False)
    return colour.XYZ_to_sRGB(xyz)


def test_hand_built_profile_is_a_valid_icc_profile():
    profile = ImageCms.ImageCmsProfile(io.BytesIO(_adobe_like_profile()))
    assert "Adobe-like" in ImageCms.getProfileDescription(profile)


# ---------------------------------------------------------------------------------------
# Formats


@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_lossless_8_bit_round_trip(tmp_path, suffix):
    rgb = _pattern()
    path = tmp_path / f"image.{suffix}"
    if suffix == "tif":
        import tifffile

        tifffile.imwrite(path, rgb, photometric="rgb")
    else:
        Image.fromarray(rgb).save(path)
    loaded = read_image(path)
    assert loaded.rgb.dtype == np.float32 and loaded.rgb.shape == (24, 36, 3)
    assert (loaded.width, loaded.height, loaded.bits_per_sample) == (36, 24, 8)
    np.testing.assert_allclose(loaded.rgb, rgb / 255, atol=1e-6)
    assert not loaded.icc_converted and not loaded.orientation_applied
    assert loaded.source_name == path.name
    import hashlib

    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_jpeg_8_bit(tmp_path):
    rgb = _pattern()
    path = tmp_path / "image.jpg"
    Image.fromarray(rgb).save(path, quality=95)
    loaded = read_image(path)
    assert loaded.bits_per_sample == 8
    assert np.abs(loaded.rgb - rgb / 255).mean() < 0.02


@pytest.mark.parametrize("writer", ["png_opencv", "tiff"])
def test_16_bit_keeps_full_precision(tmp_path, writer):
    rng = np.random.default_rng(1)
    rgb16 = rng.integers(0, 65536, size=(20, 30, 3), dtype=np.uint16)
    if writer == "tiff":
        import tifffile

        path = tmp_path / "image.tiff"
        tifffile.imwrite(path, rgb16, photometric="rgb")
    else:
        import cv2

        path = tmp_path / "image.png"
        assert cv2.imwrite(str(path), rgb16[..., ::-1])  # OpenCV writes BGR
    loaded = read_image(path)
    assert loaded.bits_per_sample == 16
    # Exact to 16 bits: an 8-bit path would be off by up to 1/510.
    np.testing.assert_allclose(loaded.rgb, rgb16 / 65535, atol=1e-6)


def test_greyscale_becomes_three_equal_channels(tmp_path):
    grey = _pattern()[..., 0]
    path = tmp_path / "grey.png"
    Image.fromarray(grey, "L").save(path)
    loaded = read_image(path)
    assert loaded.rgb.shape == (24, 36, 3)
    np.testing.assert_allclose(loaded.rgb[..., 1], grey / 255, atol=1e-6)
    np.testing.assert_array_equal(loaded.rgb[..., 0], loaded.rgb[..., 2])


# ---------------------------------------------------------------------------------------
# Orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(tmp_path, orientation):
    rgb = _pattern()
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(rgb).save(path, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    loaded = read_image(path)
    np.testing.assert_allclose(loaded.rgb, expected / 255, atol=1e-6)
    assert loaded.orientation_applied == (orientation != 1)


@pytest.mark.parametrize(("orientation", "turns"), [(6, -1), (8, 1)])
def test_jpeg_orientation_6_and_8_turn_the_picture(tmp_path, orientation, turns):
    rgb = _pattern(32, 48)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "turned.jpg"
    Image.fromarray(rgb).save(path, exif=exif, quality=95)
    loaded = read_image(path)
    # 6: the camera was turned clockwise, so the stored picture is turned back clockwise.
    expected = np.rot90(rgb, k=turns) / 255
    assert loaded.rgb.shape == expected.shape == (48, 32, 3)
    assert np.abs(loaded.rgb - expected).mean() < 0.02
    assert loaded.orientation_applied


def test_tiff_orientation_tag(tmp_path):
    import tifffile

    rgb = _pattern()
    path = tmp_path / "turned.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    loaded = read_image(path)
    np.testing.assert_allclose(loaded.rgb, np.rot90(rgb, k=-1) / 255, atol=1e-6)


# ---------------------------------------------------------------------------------------
# ICC profiles


def _saturated_patches() -> np.ndarray:
    # Colours that stay inside the sRGB gamut after conversion, plus neutrals.
    values = [(0.4, 0.55, 0.35), (0.7, 0.3, 0.25), (0.35, 0.45, 0.7), (0.5, 0.5, 0.5),
              (0.8, 0.65, 0.55), (0.1, 0.1, 0.1)]
    return np.repeat(np.repeat(np.array(values)[None], 8, axis=0), 8, axis=1)


def test_embedded_adobe_like_profile_is_converted_to_srgb_8_bit(tmp_path):
    encoded = _saturated_patches()
    pixels = np.round(encoded * 255).astype(np.uint8)
    path = tmp_path / "adobe.png"
    Image.fromarray(pixels).save(path, icc_profile=_adobe_like_profile())
    loaded = read_image(path)
    assert loaded.icc_converted
    expected = _adobe_to_srgb(pixels / 255)
    assert expected.min() > 0 and expected.max() < 1
    # LittleCMS 8-bit transforms are exact to about one code value.
    assert np.abs(loaded.rgb - expected).max() < 2.5 / 255
    # And the conversion really did something: the green's red channel drops by ~0.09.
    assert np.abs(loaded.rgb - pixels / 255).max() > 0.05


def test_embedded_profile_in_16_bit_tiff(tmp_path):
    import tifffile

    encoded = _saturated_patches()
    pixels = np.round(encoded * 65535).astype(np.uint16)
    path = tmp_path / "adobe16.tif"
    tifffile.imwrite(path, pixels, photometric="rgb",
                     extratags=[(34675, "B", len(_adobe_like_profile()),
                                 _adobe_like_profile(), True)])
    loaded = read_image(path)
    assert loaded.icc_converted and loaded.bits_per_sample == 16
    assert np.abs(loaded.rgb - _adobe_to_srgb(pixels / 65535)).max() < 0.01


def test_srgb_profile_is_left_alone(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "srgb.png"
    Image.fromarray(_pattern()).save(path, icc_profile=srgb)
    loaded = read_image(path)
    assert not loaded.icc_converted
    np.testing.assert_allclose(loaded.rgb, _pattern() / 255, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Metadata stripping


def _jpeg_with_gps(path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0132] = "2026:01:02 03:04:05"
    gps = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    exif[0x8825] = gps
    Image.fromarray(_pattern()).save(path, exif=exif, quality=95,
                                     icc_profile=_adobe_like_profile())


def test_gps_in_input_is_absent_from_everything_written(tmp_path):
    source = tmp_path / "patient.jpg"
    _jpeg_with_gps(source)
    with Image.open(source) as original:  # the test input really carries GPS
        assert original.getexif().get_ifd(0x8825)

    loaded = read_image(source)
    outputs = {"out.png": write_png, "out.jpg": write_jpeg}
    mask = loaded.rgb[..., 0] > 0.5
    for name, writer in outputs.items():
        writer(tmp_path / name, loaded.rgb)
    write_png(tmp_path / "mask.png", mask)

    for name in ("out.png", "out.jpg", "mask.png"):
        data = (tmp_path / name).read_bytes()
        for marker in (b"Exif", b"GPS", b"CameraMaker", b"2026:01:02", b"eXIf", b"tEXt",
                       b"iTXt", b"zTXt", b"iCCP", b"ICC_PROFILE", b"Adobe-like"):
            assert marker not in data, (name, marker)
        with Image.open(tmp_path / name) as written:
            assert not written.getexif()
            assert "icc_profile" not in written.info and "exif" not in written.info
    # JPEG: no APP1 (EXIF/XMP) or APP2 (ICC) segment among the markers before the scan.
    data = (tmp_path / "out.jpg").read_bytes()
    position, markers = 2, []
    while data[position] == 0xFF and data[position + 1] != 0xDA:
        markers.append(data[position + 1])
        position += 2 + struct.unpack(">H", data[position + 2:position + 4])[0]
    assert 0xE1 not in markers and 0xE2 not in markers and 0xC4 in markers


def test_write_png_mask_and_float(tmp_path):
    mask = np.zeros((5, 7), dtype=bool)
    mask[1:3, 2:5] = True
    write_png(tmp_path / "mask.png", mask)
    written = np.asarray(Image.open(tmp_path / "mask.png"))
    assert written.dtype == np.uint8 and set(np.unique(written)) == {0, 255}
    np.testing.assert_array_equal(written == 255, mask)

    rgb = np.full((4, 4, 3), 0.5, dtype=np.float32)
    rgb[0, 0] = (1.5, -0.2, 0.25)
    write_png(tmp_path / "rgb.png", rgb)
    back = np.asarray(Image.open(tmp_path / "rgb.png"))
    assert tuple(back[0, 0]) == (255, 0, 64) and tuple(back[1, 1]) == (128, 128, 128)


# ---------------------------------------------------------------------------------------
# Bad files


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(20000, 20000))  # 400 MP claimed in 100 bytes
    start = time.perf_counter()
    with pytest.raises(InputError, match="decompression bomb") as info:
        read_image(path)
    assert time.perf_counter() - start < 1.0
    assert "bomb.png" in str(info.value) and "limit of 100,000,000" in str(info.value)


@pytest.mark.parametrize("suffix", ["png", "jpg", "tif"])
def test_pixel_limit_applies_to_every_format(tmp_path, suffix):
    path = tmp_path / f"big.{suffix}"
    rgb = _pattern(40, 50)
    if suffix == "tif":
        import tifffile

        tifffile.imwrite(path, rgb, photometric="rgb")
    else:
        Image.fromarray(rgb).save(path)
    with pytest.raises(InputError, match="exceeds the limit of 1,000"):
        read_image(path, max_pixels=1000)
    assert read_image(path, max_pixels=2000).width == 50


def test_truncated_jpeg(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
                    ).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InputError, match="truncated"):
        read_image(path)


def test_truncated_tiff(tmp_path):
    import tifffile

    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, _pattern(64, 64), photometric="rgb")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(InputError, match="cut.tif"):
        read_image(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"Patient notes: not a photograph at all.\n", "not a JPEG, PNG, TIFF or HEIC"),
    (b"", "empty"),
])
def test_not_an_image(tmp_path, content, message):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_image(path)
    assert info.value.field == "image"


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_image(tmp_path / "absent.png")


def test_unsupported_sample_format(tmp_path):
    import tifffile

    path = tmp_path / "float.tif"
    tifffile.imwrite(path, np.zeros((8, 8, 3), dtype=np.float32), photometric="rgb")
    with pytest.raises(InputError, match="unsupported TIFF sample format"):
        read_image(path)


def test_damaged_icc_profile_is_reported(tmp_path):
    path = tmp_path / "badicc.png"
    Image.fromarray(_pattern()).save(path, icc_profile=b"not a profile" * 20)
    with pytest.raises(InputError, match="ICC profile") as info:
        read_image(path)
    assert info.value.field == "icc_profile"


# ---------------------------------------------------------------------------------------
# HEIC (made by heic/make_fixtures.py with heif-enc: dermatrack ships no HEVC encoder)

HEIC = Path(__file__).resolve().parent / "heic"


def test_heic_decodes_to_the_pixels_it_was_made_from():
    source = read_image(HEIC / "pattern.png").rgb
    loaded = read_image(HEIC / "pattern.heic")
    assert loaded.rgb.dtype == np.float32 and loaded.rgb.shape == source.shape == (48, 64, 3)
    # Lossless HEVC in 4:4:4; the YCbCr round trip costs at most one code value.
    np.testing.assert_allclose(loaded.rgb, source, atol=1.01 / 255)
    assert loaded.bits_per_sample == 8 and not loaded.icc_converted
    import hashlib

    assert loaded.sha256 == hashlib.sha256((HEIC / "pattern.heic").read_bytes()).hexdigest()


def test_heic_is_found_by_its_content_whatever_its_name(tmp_path):
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes((HEIC / "pattern.heic").read_bytes())
    assert read_image(path).rgb.shape == (48, 64, 3)


def test_heic_rotation_property_turns_the_picture_upright():
    # An iPhone stores a photograph taken upright as the sensor saw it, with an irot
    # property saying how to turn it; this file says a quarter turn anticlockwise.
    source = read_image(HEIC / "pattern.png").rgb
    turned = read_image(HEIC / "pattern_turned.heic")
    assert turned.rgb.shape == (64, 48, 3) and (turned.width, turned.height) == (48, 64)
    np.testing.assert_allclose(turned.rgb, np.rot90(source, 1), atol=1.01 / 255)


def _within_one_code(got: np.ndarray, expected: np.ndarray, source_space: str) -> bool:
    """Whether ``got`` matches ``expected`` (sRGB) to what one code value of the file, as
    the lossless HEVC round trip may change it, can move a colour converted from
    ``source_space``: compared in linear light, where that is at most the decoding's
    steepest slope (2.4 / 255) times the conversion's largest absolute row sum, plus one
    code value for LittleCMS's 8-bit rounding. (In encoded values one code of the file
    moves a colour near the gamut's edge by several: the sRGB curve is steep near 0.)
    Only colours whose conversion lies inside the sRGB gamut are compared."""
    import colour

    matrix = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES[source_space],
                                      colour.RGB_COLOURSPACES["sRGB"])
    limit = np.abs(matrix).sum(axis=1).max() * 2.4 / 255 + 1 / 255
    inside = np.all((expected >= 0) & (expected <= 1), axis=-1)
    assert inside.mean() > 0.5
    difference = np.abs(colour.cctf_decoding(got.astype(np.float64), function="sRGB")
                        - colour.cctf_decoding(expected, function="sRGB"))
    return bool(difference[inside].max() < limit)


def test_heic_icc_profile_is_converted_to_srgb():
    loaded = read_image(HEIC / "pattern_adobe.heic")
    assert loaded.icc_converted
    source = read_image(HEIC / "pattern.png").rgb
    assert _within_one_code(loaded.rgb, _adobe_to_srgb(source), "Adobe RGB (1998)")
    assert np.abs(loaded.rgb - source).max() > 0.05  # the conversion did something


def test_heic_display_p3_primaries_are_converted_to_srgb():
    # An nclx colour description (ITU-T H.273): Display P3 primaries, sRGB transfer.
    import colour

    loaded = read_image(HEIC / "pattern_p3.heic")
    assert loaded.icc_converted
    encoded = read_image(HEIC / "pattern.png").rgb.astype(np.float64)
    expected = colour.RGB_to_RGB(encoded, colour.RGB_COLOURSPACES["Display P3"],
                                 colour.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=True,
                                 apply_cctf_encoding=True)
    assert _within_one_code(loaded.rgb, expected, "Display P3")
    # Greys keep their value (same white, same transfer); the saturated red block, more
    # saturated in P3 than the same numbers in sRGB, gains red and loses green.
    np.testing.assert_allclose(loaded.rgb[-1], encoded[-1], atol=1.5 / 255)
    red = loaded.rgb[8, 8]
    assert red[0] > encoded[8, 8, 0] + 0.03 and red[1] < encoded[8, 8, 1] - 0.03


@pytest.mark.parametrize(("name", "message"), [
    ("pattern_pq.heic", r"high dynamic range \(HDR, PQ\)"),
    ("pattern.avif", "AVIF .* not supported"),
])
def test_heif_that_cannot_be_measured_is_refused_with_the_reason(name, message):
    with pytest.raises(InputError, match=message) as info:
        read_image(HEIC / name)
    assert name in str(info.value) and info.value.field == "image"


def test_truncated_and_oversized_heic_are_refused(tmp_path):
    data = (HEIC / "pattern.heic").read_bytes()
    cut = tmp_path / "cut.heic"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.heic: the image data cannot be decoded"):
        read_image(cut)
    with pytest.raises(InputError, match="decompression bomb|exceeds the limit"):
        read_image(HEIC / "pattern.heic", max_pixels=1000)
    assert read_image(HEIC / "pattern.heic", max_pixels=3072).width == 64


def test_heic_is_reduced_like_any_photograph():
    reduced = read_image(HEIC / "skin.heic", reduce_to_pixels=3072)
    assert reduced.reduced_from == (128, 96) and reduced.rgb.shape == (48, 64, 3)
