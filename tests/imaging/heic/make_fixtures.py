"""Make the HEIC files the reading tests use (run once; the files are committed).

    python tests/imaging/heic/make_fixtures.py

Needs Debian's ``heif-enc`` (package libheif-examples, with the x265 encoder): dermatrack
ships no HEVC encoder, so its tests read files made here. The pictures are small
patterns, no photograph: an asymmetric one encoded losslessly in 4:4:4, so that the decoded
pixels can be held to the PNG they came from, and one in skin colours encoded as a phone
would (quality 90, 4:2:0), for the upload and batch paths. ``heif-enc`` 1.15 writes
neither a rotation nor an nclx colour description, so those files are made by editing the
boxes of its output (ISO/IEC 23008-12): an ``irot`` property added to the image, and the
``colr`` box's ICC profile replaced, in place, by an nclx description (ITU-T H.273 codes).
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from test_io import _adobe_like_profile  # noqa: E402


def pattern(height: int = 48, width: int = 64) -> np.ndarray:
    """Smooth gradients in each channel, a saturated block in one corner and a grey ramp
    along the bottom: no symmetry, so a wrong turn or mirror shows."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([40 + x * 180 // (width - 1), 30 + y * 190 // (height - 1),
                    200 - (x + y) * 150 // (width + height - 2)], axis=-1).astype(np.uint8)
    rgb[4:16, 4:20] = (210, 60, 50)
    rgb[-8:, :] = (x[-8:, :, None] * 255 // (width - 1)).astype(np.uint8)
    return rgb


def skin(height: int = 96, width: int = 128) -> np.ndarray:
    """A smooth pattern plus noise in skin colours: passes as a close-up of skin."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = 0.5 + 0.25 * np.sin(x / 7.0) * np.cos(y / 9.0)
    rgb = np.stack([base, base * 0.8, base * 0.7], axis=2) + rng.normal(0, 0.02,
                                                                        (height, width, 3))
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def _encode(png: Path, out: Path, *options: str) -> bytes:
    subprocess.run(["heif-enc", *(options or ("-L", "-p", "chroma=444")), str(png), "-o",
                    str(out)], check=True, capture_output=True)
    return out.read_bytes()


def _box(data: bytes | bytearray, start: int, end: int, kind: bytes) -> tuple[int, int]:
    """Offset and size of the first child box of type ``kind`` in data[start:end]."""
    at = start
    while at < end:
        size = int.from_bytes(data[at:at + 4], "big")
        if data[at + 4:at + 8] == kind:
            return at, size
        at += size
    raise ValueError(f"no {kind!r} box")


def with_rotation(data: bytes, angle: int) -> bytes:
    """The file with an ``irot`` property (``angle`` x 90° anticlockwise) on its primary
    image, as an iPhone writes one for a photograph taken upright. Supports the layouts
    heif-enc writes: ipma version 0 with 1-byte associations, iloc version 0 or 1 with
    4-byte offsets, coded data after the meta box."""
    buf = bytearray(data)
    meta, meta_size = _box(buf, 0, len(buf), b"meta")
    pitm, _ = _box(buf, meta + 12, meta + meta_size, b"pitm")
    primary = int.from_bytes(buf[pitm + 12:pitm + 14], "big")
    iprp, iprp_size = _box(buf, meta + 12, meta + meta_size, b"iprp")
    ipco, ipco_size = _box(buf, iprp + 8, iprp + iprp_size, b"ipco")
    ipma, ipma_size = _box(buf, iprp + 8, iprp + iprp_size, b"ipma")
    iloc, _ = _box(buf, meta + 12, meta + meta_size, b"iloc")
    assert buf[ipma + 8:ipma + 12] == b"\0\0\0\0", "ipma version 0, flags 0 expected"
    properties, at = 0, ipco + 8
    while at < ipco + ipco_size:
        properties, at = properties + 1, at + int.from_bytes(buf[at:at + 4], "big")
    irot = struct.pack(">I", 9) + b"irot" + bytes([angle & 3])
    grow = len(irot) + 1

    # iloc (before iprp, so its offsets in the file do not move): each item stored in
    # the file (construction method 0) gets its base offset moved by ``grow``.
    version = buf[iloc + 8]
    assert buf[iloc + 12] == 0x44 and buf[iloc + 13] == 0x40 and version in (0, 1)
    items, at = int.from_bytes(buf[iloc + 14:iloc + 16], "big"), iloc + 16
    for _ in range(items):
        at += 2  # item id
        method = 0
        if version == 1:
            method, at = int.from_bytes(buf[at:at + 2], "big") & 0xF, at + 2
        at += 2  # data reference index
        if method == 0:
            base = int.from_bytes(buf[at:at + 4], "big")
            buf[at:at + 4] = struct.pack(">I", base + grow)
        extents = int.from_bytes(buf[at + 4:at + 6], "big")
        at += 6 + 8 * extents

    # ipma: entries of item id (2 bytes), association count (1), 1-byte associations.
    entries, at = int.from_bytes(buf[ipma + 12:ipma + 16], "big"), ipma + 16
    for _ in range(entries):
        item, count = int.from_bytes(buf[at:at + 2], "big"), buf[at + 2]
        if item == primary:
            buf[at + 2] = count + 1
            buf[at + 3 + count:at + 3 + count] = bytes([0x80 | (properties + 1)])
            break
        at += 3 + count
    else:
        raise ValueError("the primary image has no properties")
    buf[ipco + ipco_size:ipco + ipco_size] = irot  # ipco precedes ipma
    for offset, size, added in ((ipco, ipco_size, len(irot)), (iprp, iprp_size, grow),
                                (meta, meta_size, grow)):
        buf[offset:offset + 4] = struct.pack(">I", size + added)
    ipma += len(irot)
    buf[ipma:ipma + 4] = struct.pack(">I", ipma_size + 1)
    return bytes(buf)


def with_nclx(data: bytes, primaries: int, transfer: int, matrix: int = 6) -> bytes:
    """The file with its ``colr`` ICC profile replaced by an nclx description of the same
    box size (the rest of the box is padding), so no offset moves."""
    buf = bytearray(data)
    at = buf.find(b"colrprof") - 4
    assert at >= 0, "no ICC colour box"
    size = int.from_bytes(buf[at:at + 4], "big")
    payload = b"nclx" + struct.pack(">HHHB", primaries, transfer, matrix, 0x80)
    buf[at + 8:at + size] = payload + b"\0" * (size - 8 - len(payload))
    return bytes(buf)


def main() -> None:
    rgb = pattern()
    Image.fromarray(rgb).save(HERE / "pattern.png")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plain = _encode(HERE / "pattern.png", work / "plain.heic")
        Image.fromarray(rgb).save(work / "adobe.png", icc_profile=_adobe_like_profile())
        adobe = _encode(work / "adobe.png", work / "adobe.heic")
        Image.fromarray(skin()).save(work / "skin.png")
        (HERE / "skin.heic").write_bytes(_encode(work / "skin.png", work / "skin.heic",
                                                 "-q", "90"))
        subprocess.run(["heif-enc", "-A", str(HERE / "pattern.png"), "-o",
                        str(HERE / "pattern.avif")], check=True, capture_output=True)
    (HERE / "pattern.heic").write_bytes(plain)
    (HERE / "pattern_adobe.heic").write_bytes(adobe)
    (HERE / "pattern_turned.heic").write_bytes(with_rotation(plain, 1))
    (HERE / "pattern_p3.heic").write_bytes(with_nclx(adobe, primaries=12, transfer=13))
    (HERE / "pattern_pq.heic").write_bytes(with_nclx(adobe, primaries=9, transfer=16))


if __name__ == "__main__":
    main()
