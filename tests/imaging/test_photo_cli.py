"""``dermatrack photo analyze|compare`` and ``dermatrack phantom`` through the CLI."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from dermatrack.imaging.io import write_jpeg, write_png
from dermatrack.imaging.phantom import make_phantom, random_spec

WHOLE_KEYS = {"area_mm2", "wrinkles", "pigment", "redness", "texture", "pores"}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("photos")
    paths = []
    for seed in (31, 32):
        rng = np.random.default_rng(seed)
        ph = make_phantom(random_spec(rng, width=360, height=270), rng)
        path = out / f"skin_{seed}.png"
        write_png(path, ph.rgb)
        paths.append(path)
    return paths


def _chunks(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kinds.append(data[pos + 4:pos + 8])
        pos += 12 + length
    return kinds


def test_analyze_one_image_prints_one_object(cli, images, tmp_path):
    r = cli("photo", "analyze", images[0], "--mm-per-px", "0.06", "--no-face", "--json",
            "--masks", tmp_path)
    assert r.code == 0, r.stderr
    report = r.json()
    assert isinstance(report, dict)
    assert set(report) == {"image", "calibration", "face", "regions", "timing_s", "quality",
                           "measurability", "method_version"}
    assert set(report["regions"]["whole"]) == WHOLE_KEYS
    assert report["image"]["width"] == 360 and report["image"]["mm_per_px"] == 0.06
    from PIL import Image

    for name in ("wrinkles", "spots", "redness", "pores", "regions"):
        path = tmp_path / "skin_31" / f"{name}.png"
        with Image.open(path) as im:
            assert im.size == (360, 270)
            assert not im.info.get("exif") and "icc_profile" not in im.info
        # Pixels only: no text, time, EXIF or colour-profile chunks.
        assert set(_chunks(path)) <= {b"IHDR", b"IDAT", b"IEND"}, name
    # The features in colour on the photograph, with a legend band below it.
    with Image.open(tmp_path / "skin_31" / "features.png") as im:
        assert im.size[0] == 360 and im.size[1] > 270
        legend = np.asarray(im.convert("RGB"))[280:]
    from dermatrack.imaging.overlays import FEATURE_COLOURS

    for colour in FEATURE_COLOURS.values():  # each swatch drawn in the band
        target = np.round(np.asarray(colour) * 255)
        assert (np.abs(legend.astype(float) - target).max(axis=2) < 3).sum() > 20


def test_analyze_several_images_keeps_order(cli, images):
    r = cli("photo", "analyze", images[1], images[0], "--mm-per-px", "0.06", "--no-face",
            "--json")
    assert r.code == 0, r.stderr
    reports = r.json()
    assert isinstance(reports, list) and len(reports) == 2
    import hashlib

    from dermatrack.imaging.io import read_image

    assert [rep["image"]["sha256"] for rep in reports] == [read_image(p).sha256
                                                           for p in (images[1], images[0])]
    assert hashlib  # sha256 comes from the decoder


def test_human_output_is_a_table(cli, images):
    r = cli("photo", "analyze", images[0], "--no-face")
    assert r.code == 0, r.stderr
    assert "whole" in r.stdout and "unknown scale" in r.stdout


def _bomb_png(path: Path) -> None:
    """A tiny PNG whose header claims 60000 x 60000 pixels (3.6 gigapixels)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("kind", ["text", "truncated", "bomb", "missing"])
def test_bad_files_exit_2_naming_the_file(cli, tmp_path, kind):
    path = tmp_path / ("notes.jpg" if kind == "text" else f"{kind}.png")
    if kind == "text":
        path.write_text("this is not a photograph\n")
    elif kind == "truncated":
        good = tmp_path / "good.jpg"
        write_jpeg(good, np.full((64, 64, 3), 0.5, np.float32))
        path = tmp_path / "truncated.jpg"
        path.write_bytes(good.read_bytes()[:200])
    elif kind == "bomb":
        _bomb_png(path)
    r = cli("photo", "analyze", path, "--json")
    assert r.code == 2
    assert path.name in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_bad_file_among_several_exits_2(cli, images, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_text("nope")
    r = cli("photo", "analyze", images[0], bad, "--json", "--no-face")
    assert r.code == 2 and "broken.jpg" in r.stderr


def test_bad_scale_is_refused(cli, images):
    r = cli("photo", "analyze", images[0], "--mm-per-px", "-1")
    assert r.code == 2 and "--mm-per-px" in r.stderr


def test_phantom_command_writes_images_truth_and_masks(cli, tmp_path):
    r = cli("phantom", "--out", tmp_path, "--count", "2", "--size", "200x150", "--ita", "20",
            "--wrinkle-depth", "6", "--perturb", "jpeg", "--seed", "3", "--json")
    assert r.code == 0, r.stderr
    files = r.json()
    assert len(files) == 2
    import json

    truth = json.loads(Path(files[0]["truth"]).read_text())
    assert truth["ita_deg"] == 20.0 and truth["perturbation"]["jpeg_quality"] == 80
    assert all(w["depth_l"] == 6.0 for w in truth["wrinkles"])
    assert (Path(files[0]["masks"]) / "wrinkle_centrelines.png").exists()
    assert Path(files[1]["image"]).exists()
    bad = cli("phantom", "--out", tmp_path, "--perturb", "earthquake")
    assert bad.code == 2 and "--perturb" in bad.stderr
    assert cli("phantom", "--out", tmp_path, "--size", "big").code == 2


def test_phantom_wrinkle_geometry_and_feature_counts_are_chosen(cli, tmp_path):
    import json

    r = cli("phantom", "--out", tmp_path, "--size", "400x300", "--wrinkles", "2",
            "--wrinkle-depth", "8", "--wrinkle-width", "0.7", "--wrinkle-length", "9",
            "--wrinkle-angle", "30", "--spots", "1", "--erythema", "0", "--pores", "5",
            "--json")
    assert r.code == 0, r.stderr
    truth = json.loads(Path(r.json()[0]["truth"]).read_text())
    assert len(truth["wrinkles"]) == 2
    for w in truth["wrinkles"]:
        assert (w["depth_l"], w["width_mm"], w["angle_deg"]) == (8.0, 0.7, 30.0)
        assert w["length_mm"] == pytest.approx(9.0, rel=0.02)
    assert truth["spot_count"] == 1 and truth["pore_count"] == 5
    assert truth["spec"]["erythema"] == [] and truth["red_area_fraction"] == 0.0
    for option, value in (("--wrinkle-width", "0"), ("--wrinkle-length", "-3")):
        bad = cli("phantom", "--out", tmp_path, option, value)
        assert bad.code == 2 and option in bad.stderr


def test_compare_aligns_and_reports_change(cli, tmp_path, monkeypatch):
    """The follow-up is aligned, every metric's change reported, and each change judged
    against the MDC95 of the data directory's repeatability (none where it has none)."""
    from dataclasses import replace

    from dermatrack.config import DATA_DIR_ENV, load_settings
    from dermatrack.services.outcomes import save_mdc

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    save_mdc(load_settings(), [
        {"kind": "photo", "metric": "wrinkles.severity_index", "region": "whole",
         "mdc95": 1.0},
        {"kind": "photo", "metric": "wrinkles.length_mm", "region": "whole", "mdc95": 500.0}],
        source="test repeatability")

    import cv2

    from dermatrack.imaging.phantom import Perturbation

    rng = np.random.default_rng(40)
    spec = random_spec(rng, width=400, height=300)
    before = make_phantom(spec, np.random.default_rng(1))
    # The follow-up visit: the same skin with deeper wrinkles, photographed rotated and
    # shifted (the phantom moves image and truth together), with its own sensor noise.
    deeper = tuple(replace(w, depth_l=w.depth_l + 4) for w in spec.wrinkles)
    moved = Perturbation("rotation+shift", rotation_deg=3.0, shift_px=(9.0, -6.0))
    after = make_phantom(replace(spec, wrinkles=deeper, perturbation=moved),
                         np.random.default_rng(1), np.random.default_rng(2))
    write_png(tmp_path / "before.png", before.rgb)
    write_png(tmp_path / "after.png", after.rgb)
    r = cli("photo", "compare", tmp_path / "before.png", tmp_path / "after.png", "--no-face",
            "--mm-per-px", "0.06", "--out", tmp_path / "cmp", "--json")
    assert r.code == 0, r.stderr
    rep = r.json()
    assert rep["alignment"]["method"] == "ecc" and rep["alignment"]["ecc_correlation"] > 0.8
    assert rep["alignment"]["reliable"] is True
    # The reported follow-up -> baseline matrix undoes the capture's rotation and shift.
    truth = np.eye(3)
    truth[:2] = cv2.getRotationMatrix2D((200.0, 150.0), 3.0, 1.0)
    truth[:2, 2] += (9.0, -6.0)
    corners = np.array([[20, 20], [380, 20], [20, 280], [380, 280]], float)
    found = np.asarray(rep["alignment"]["matrix"])
    expected = np.linalg.inv(truth)
    error = (corners @ found[:2, :2].T + found[:2, 2]) - (corners @ expected[:2, :2].T
                                                          + expected[:2, 2])
    assert np.abs(error).max() < 1.0
    sev = rep["regions"]["whole"]["wrinkles"]["severity_index"]
    assert sev["after"] > sev["before"] and sev["percent"] > 10
    length = rep["regions"]["whole"]["wrinkles"]["length_mm"]
    assert abs(length["percent"]) < 10  # same wrinkles, deeper: length unchanged
    # Deeper wrinkles: severity (lower is better) rose by more than its MDC95.
    assert (sev["mdc95"], sev["verdict"], sev["mdc_source"]) == (
        1.0, "worsened", "test repeatability")
    assert length["verdict"] == "no real change"
    redness = rep["regions"]["whole"]["redness"]["a_star"]
    assert redness["mdc95"] is None and redness["verdict"] is None
    assert rep["mdc_sources"] == ["test repeatability"]
    assert (tmp_path / "cmp" / "side_by_side.png").exists()
    assert (tmp_path / "cmp" / "change_overlay.png").exists()


def test_gps_and_exif_never_reach_anything_written(cli, tmp_path):
    # The user-facing path end to end: a patient photograph carrying GPS, camera and
    # date EXIF through `photo analyze --masks` and `photo compare --out`.
    from PIL import Image

    rng = np.random.default_rng(33)
    ph = make_phantom(random_spec(rng, width=240, height=180), rng)
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0132] = "2026:01:02 03:04:05"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    source = tmp_path / "patient.jpg"
    Image.fromarray((ph.rgb * 255).round().astype(np.uint8)).save(source, exif=exif,
                                                                  quality=95)
    with Image.open(source) as original:
        assert original.getexif().get_ifd(0x8825)  # the input really carries GPS
    out = tmp_path / "out"
    r = cli("photo", "analyze", source, "--mm-per-px", "0.06", "--no-face", "--json",
            "--masks", out / "masks")
    assert r.code == 0, r.stderr
    c = cli("photo", "compare", source, source, "--mm-per-px", "0.06", "--no-face",
            "--out", out / "compare", "--json")
    assert c.code == 0, c.stderr
    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(written) == 8  # five masks, features in colour, side by side, change overlay
    markers = (b"Exif", b"GPS", b"CameraMaker", b"2026:01:02", b"eXIf", b"tEXt", b"iTXt",
               b"zTXt")
    for blob, name in [(r.stdout.encode(), "analyze JSON"), (c.stdout.encode(), "compare JSON"),
                       *((p.read_bytes(), p.name) for p in written)]:
        for marker in markers:
            assert marker not in blob, (name, marker)


def test_masks_of_two_images_with_one_stem_are_refused(cli, images, tmp_path):
    # visit1/face.png and visit2/face.png would both write DIR/face/*.png.
    other = tmp_path / "visit2" / images[0].name
    other.parent.mkdir()
    other.write_bytes(images[1].read_bytes())
    r = cli("photo", "analyze", images[0], other, "--no-face", "--masks", tmp_path / "m")
    assert r.code == 2 and "--masks" in r.stderr and "visit2" in r.stderr
    assert not (tmp_path / "m").exists()


def test_a_broken_analysis_names_the_file_without_a_traceback(cli, images, monkeypatch):
    from dermatrack.imaging import analysis

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure inside the analysis")

    monkeypatch.setattr(analysis, "run_analysis", broken)
    r = cli("photo", "analyze", images[0], "--no-face", "--json")
    assert r.code == 1
    assert r.stdout == ""
    line, = r.stderr.strip().splitlines()
    assert str(images[0]) in line and "simulated failure" in line


def test_unwritable_masks_directory_exits_2(cli, images, tmp_path):
    blocker = tmp_path / "masks"
    blocker.write_text("a file where the masks folder should be")
    r = cli("photo", "analyze", images[0], "--no-face", "--masks", blocker, "--json")
    assert r.code == 2
    assert "cannot write masks" in r.stderr and "Traceback" not in r.stderr


def test_compare_without_an_mdc_says_how_to_get_one(cli, tmp_path, monkeypatch):
    from dermatrack.config import DATA_DIR_ENV

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))  # no repeatability files
    rng = np.random.default_rng(5)
    photo = tmp_path / "skin.png"
    write_png(photo, make_phantom(random_spec(rng, width=240, height=180), rng).rgb)
    r = cli("photo", "compare", photo, photo, "--mm-per-px", "0.06", "--no-face")
    assert r.code == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "No MDC95 in the data directory" in text
    assert "dermatrack repeatability CAPTURES.csv --save" in text
    assert "validate imaging --save-mdc" in text
