"""``dermatrack validate imaging --quick`` and the scoring it relies on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dermatrack.imaging.validation import centreline_scores


def test_centreline_scores_tolerance():
    truth = np.stack([np.arange(0, 100, 0.25), np.full(400, 50.0)], axis=1)
    on = np.stack([np.arange(0, 100, 1.0), np.full(100, 52.0)], axis=1)  # 2 px off: hits
    off = np.stack([np.arange(0, 100, 1.0), np.full(100, 54.0)], axis=1)  # 4 px off: misses
    assert centreline_scores(on, truth)["f1"] == pytest.approx(1.0)
    assert centreline_scores(off, truth)["f1"] == 0.0
    half = centreline_scores(on[:50], truth)
    assert half["precision"] == 1.0 and half["recall"] == pytest.approx(0.5, abs=0.02)
    # Detections on an ignored (other-stratum) wrinkle are neither true nor false.
    other = np.stack([np.arange(0, 100, 0.25), np.full(400, 80.0)], axis=1)
    both = np.concatenate([on, other[::4]])
    assert centreline_scores(both, truth, ignore_xy=other)["precision"] == 1.0


def test_validate_imaging_quick_writes_report(cli, tmp_path, artifacts_dir):
    r = cli("validate", "imaging", "--quick", "--out", tmp_path, "--json")
    assert r.code == 0, r.stderr
    report = r.json()
    saved = json.loads((tmp_path / "validation.json").read_text())
    assert saved["targets"].keys() == report["targets"].keys()
    assert {"wrinkle_f1_deep", "ita_error_deg", "cv_wrinkle_length_pct"} <= set(
        report["targets"])
    # Even the quick series meets the targets.
    failed = [k for k, t in report["targets"].items() if not t["pass"]]
    assert not failed, failed
    md = (tmp_path / "report.md").read_text()
    assert "validate imaging --quick" in md and "| wrinkle_f1_deep |" in md
    assert (tmp_path / "phantom_wrinkles.png").exists()
    assert (tmp_path / "astronaut_regions.png").exists()
    assert report["real_images"]["astronaut"]["face_detected"] is True
    # The real-photo section (quick: the shipped grace_hopper and two non-face images).
    real = report["real_photos"]
    grace = real["faces"]["grace_hopper"]
    assert grace["cv"]["whole"]["wrinkle length"]["n"] >= 6  # 0.67x is too coarse: null
    # The same CVs on captures never used to choose a change, beside the validation's own.
    assert grace["held_out_cv"]["whole"]["wrinkle length"]["n"] == 8
    held = real["summary"]["held_out"]
    assert held["worst"]["cv_whole_wrinkle_length_pct"] == pytest.approx(
        grace["held_out_cv"]["whole"]["wrinkle length"]["cv_pct"])
    assert held["rms"]["cv_whole_wrinkle_length_pct"] == pytest.approx(
        grace["held_out_cv"]["whole"]["wrinkle length"]["cv_pct"])  # one face: its own
    assert set(grace["variant_mm_per_px"]) >= {"original", "resample_1.5x", "jpeg_70"}
    assert "recall" in grace["added_wrinkles"]
    # Three stops under (the skin as light as Fitzpatrick VI skin), the same skin.
    darker = grace["darker"]["luminance_1/8"]
    assert darker["l_star"] < 30 and abs(darker["change_pct"]["skin pixels"]) < 6  # +2 %
    assert real["summary"]["darker"]["luminance_1/8"]["figures"]["wrinkle length"][
        "faces"] == 1
    assert "recall" in grace["darker_added_wrinkles"]  # the drawn lines, three stops under
    assert real["summary"]["darker"]["added_wrinkles"]["faces"] == 1
    assert all(r["refused"] for r in real["non_skin"].values())
    assert real["summary"]["targets"]["non_skin_refused"]["pass"]
    assert "## Real photographs" in md
    assert "| held out | " in md and "| the validation's | " in md
    assert "under-exposed by 1, 2 and 3 stops" in md and "| 1/8 | " in md
    assert f"| grace_hopper | {grace['mm_per_px']:.3f} |" in md
    assert (tmp_path / "real_grace_hopper_detections.png").exists()
    assert (tmp_path / "real_grace_hopper_added.png").exists()
    (artifacts_dir / "imaging-validation-quick.md").write_text(md)


def test_validate_imaging_exits_1_when_a_target_is_missed(cli, tmp_path, monkeypatch):
    """Scripts and CI that run the validation must see a missed target as a failure."""
    from dermatrack.imaging import validation

    real = validation.run_validation

    def missing_one_target(**kwargs):
        result = real(**kwargs)
        result.report["targets"]["wrinkle_f1_deep"]["pass"] = False
        return result

    monkeypatch.setattr(validation, "run_validation", missing_one_target)
    r = cli("validate", "imaging", "--quick", "--no-real", "--out", tmp_path, "--json")
    assert r.code == 1
    assert "wrinkle_f1_deep" in r.stderr
    assert json.loads(r.stdout)["targets"]["wrinkle_f1_deep"]["pass"] is False


def test_validate_imaging_real_folder_option(cli, tmp_path, monkeypatch):
    """``--real DIR`` takes the faces from a folder; ``--non-skin`` names the photos that
    must be refused; a missing folder is an input error. ``--save-mdc`` saves the MDC95
    of the faces' captures as the data directory's imaging repeatability."""
    from skimage import data

    from dermatrack.config import DATA_DIR_ENV, load_settings
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.imaging.io import sample_face, write_jpeg, write_png
    from dermatrack.services.outcomes import load_mdc

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))

    folder = tmp_path / "faces"
    folder.mkdir()
    write_jpeg(folder / "hopper.jpg", sample_face("grace_hopper"), quality=95)
    write_png(folder / "cat.png", data.chelsea())
    out = tmp_path / "out"
    r = cli("validate", "imaging", "--quick", "--real", folder, "--non-skin", "cat",
            "--out", out, "--save-mdc", "--json")
    assert r.code == 0, r.stderr
    real = r.json()["real_photos"]
    assert {"hopper", "grace_hopper"} <= set(real["faces"])
    length = {(e["metric"], e["region"]): e for e in real["mdc"]}[
        ("wrinkles.length_mm", "whole")]
    assert length["n_subjects"] == 2 and length["mdc95"] > 0  # astronaut: too coarse
    saved = load_mdc(load_settings())
    assert saved.lookup("photo", "wrinkles.length_mm", "whole")[0] == \
        pytest.approx(length["mdc95"])
    source = saved.lookup("photo", "wrinkles.length_mm", "whole")[1]
    assert source is not None and "real-photo validation" in source
    assert f"photo method {PHOTO_METHOD_VERSION}" in source  # whose figures it bounds
    assert "Saved the MDC95" in r.stderr
    assert "| Wrinkle length |" in (out / "report.md").read_text()
    assert real["non_skin"]["cat"]["refused"] is True
    assert "no face found" in real["non_skin"]["cat"]["message"]
    assert (out / "real_hopper_detections.png").exists()
    missing = cli("validate", "imaging", "--quick", "--real", tmp_path / "nowhere",
                  "--out", out)
    assert missing.code == 2 and "not a folder" in missing.stderr
    no_real = cli("validate", "imaging", "--quick", "--no-real", "--save-mdc", "--out", out)
    assert no_real.code == 2 and "--save-mdc needs the real-photo section" in no_real.stderr
