"""Property-based fuzzing of every parser: any input gives a result or an
:class:`~dermatrack.errors.InputError` (CLI exit 2), never another exception, and files
that declare huge sizes are refused before their data is read (memory stays bounded)."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermatrack.errors import InputError

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                max_size=400)
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | _text,
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_text, inner, max_size=4), max_leaves=20)


def _only_input_errors(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except InputError as error:
        assert str(error)  # a message naming what was wrong
        return None


@FUZZ
@given(text=_text | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_record_format(text):
    from dermatrack.knowledge.record import parse_record, parse_records

    _only_input_errors(parse_record, text)
    _only_input_errors(parse_records, text)


@FUZZ
@given(text=_text)
def test_knowledge_search(text):
    from dermatrack.knowledge.search import Document, SearchIndex

    index = SearchIndex([
        Document("record", "a", "Acne scars", "fractional_laser for acne_scars"),
        Document("topic", "b", "Laser", "resurfacing of scarring")])
    _only_input_errors(index.search, text)


@FUZZ
@given(text=_text)
def test_colour_and_elasticity_csv(text):
    from dermatrack.devices.colorimetry import parse_colour_csv
    from dermatrack.devices.elasticity import parse_elasticity_csv

    _only_input_errors(parse_colour_csv, text)
    _only_input_errors(parse_elasticity_csv, text)


@FUZZ
@given(data=_json)
def test_questionnaire_loader(data):
    from dermatrack.clinic.questionnaire import load_questionnaire

    _only_input_errors(load_questionnaire, data)


@FUZZ
@given(data=_json)
def test_patient_intake(data):
    from dermatrack.clinic.intake import parse_demographics, parse_patient
    from dermatrack.knowledge.vocabulary import load_vocabulary

    _only_input_errors(parse_patient, data, vocabulary=load_vocabulary())
    _only_input_errors(parse_demographics, data)


def _npy_header(shape, descr="<f8") -> bytes:
    from numpy.lib import format as npy_format

    stream = io.BytesIO()
    npy_format.write_array_header_1_0(stream, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return stream.getvalue()


@FUZZ
@given(body=st.binary(max_size=300),
       shape=st.lists(st.integers(0, 10**6), min_size=0, max_size=3).map(tuple),
       descr=st.sampled_from(["<f8", "<i2", "|u1", "|O", "<c16", "V8"]),
       mode=st.sampled_from(["header", "raw"]))
def test_height_map_files(tmp_path_factory, body, shape, descr, mode):
    from dermatrack.devices.io import read_height_map

    folder = tmp_path_factory.mktemp("fuzz")
    contents = {
        "map.npy": (_npy_header(shape, descr) if mode == "header" else b"") + body,
        "map.csv": body, "map.txt": body,
        "map.tif": (b"II*\x00" if mode == "header" else b"MM\x00*") + body,
        "map.sdf": (b"aBCR-0.0" if mode == "header" else b"bBCR-0.0") + body,
        "map.x3p": _zip(body) if mode == "header" else b"PK\x03\x04" + body,
    }
    for name, content in contents.items():
        path = folder / name
        path.write_bytes(content)
        _only_input_errors(read_height_map, path, spacing_um=1.0, z_unit="um", z_scale=1.0)


def _zip(body: bytes) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("main.xml", body)
    return stream.getvalue()


@FUZZ
@given(body=st.binary(max_size=300), width=st.integers(0, 2**31 - 1),
       height=st.integers(0, 2**31 - 1),
       kind=st.sampled_from(["png", "jpeg", "tiff", "heic", "raw"]))
def test_image_headers(tmp_path_factory, body, width, height, kind):
    from dermatrack.imaging.io import read_image

    if kind == "png":
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        content = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
                   + b"\x00\x00\x00\x00" + body)
    elif kind == "jpeg":
        content = (b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", height & 0xFFFF,
                                                                 width & 0xFFFF) + body)
    elif kind == "tiff":
        content = (b"II*\x00\x08\x00\x00\x00\x02\x00" + struct.pack("<HHII", 256, 4, 1, width)
                   + struct.pack("<HHII", 257, 4, 1, height) + b"\x00\x00\x00\x00" + body)
    elif kind == "heic":
        # A real HEIC with its declared sizes replaced and part of it overwritten.
        content = _heic_declaring(width, height)
        at = (width ^ height) % len(content)
        content = content[:at] + body + content[at + len(body):]
    else:
        content = body
    path = tmp_path_factory.mktemp("img") / "photo.png"
    path.write_bytes(content)
    _only_input_errors(read_image, path, reduce_to_pixels=1_000_000)


def _heic_declaring(width: int, height: int) -> bytes:
    """tests/imaging/heic/pattern.heic with every image size box (``ispe``: version and
    flags, then width and height) declaring ``width`` x ``height``."""
    from pathlib import Path

    data = bytearray((Path(__file__).parent / "imaging" / "heic" / "pattern.heic")
                     .read_bytes())
    at = data.find(b"ispe")
    while at >= 0:
        data[at + 8:at + 16] = struct.pack(">II", width, height)
        at = data.find(b"ispe", at + 4)
    return bytes(data)


def test_a_heic_declaring_a_huge_size_is_refused_before_decoding(tmp_path):
    from dermatrack.imaging.io import read_image

    path = tmp_path / "bomb.heic"
    path.write_bytes(_heic_declaring(20_000, 20_000))  # 400 MP claimed in 4 KB
    with pytest.raises(InputError, match="refused before decoding") as info:
        read_image(path)
    assert "bomb.heic" in str(info.value)


@pytest.mark.parametrize("suffix", [".npy", ".tif"])
def test_a_huge_declared_shape_is_refused_before_reading(cli, tmp_path, suffix):
    path = tmp_path / f"huge{suffix}"
    if suffix == ".npy":
        path.write_bytes(_npy_header((100_000, 100_000)))
        assert path.stat().st_size == 128
    else:
        import tifffile

        tifffile.imwrite(path, shape=(100_000, 100_000), dtype=np.float32)  # sparse, empty
    result = cli("measure", "surface", path, "--z-unit", "um", "--spacing-um", "1")
    assert result.code == 2, result.stderr
    assert "100000 x 100000" in result.stderr and "Traceback" not in result.stderr
