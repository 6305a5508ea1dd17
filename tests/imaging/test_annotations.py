"""The wrinkle detector scored against annotation masks (``validate annotations``).

Annotated real faces do not ship with dermatrack, so the annotations here are drawn from
what is known: the lines :func:`realphoto.render_wrinkles` drew into a real face, the
detector's own lines, and the same moved away from the skin.
"""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from dermatrack.errors import InputError
from dermatrack.imaging.analysis import run_analysis
from dermatrack.imaging.annotations import (
    annotation_agreement,
    annotation_mask,
    annotation_overlay,
    summarise_agreement,
)
from dermatrack.imaging.io import read_annotation, sample_face, write_png
from dermatrack.imaging.realphoto import (
    added_wrinkle_scores,
    plan_wrinkles,
    render_wrinkles,
)

#: Deep enough that most drawn lines are found on grace_hopper (detection limit > 40 %
#: for the crow's feet: some are missed, which the recall must show).
CONTRAST = 0.4


@pytest.fixture(scope="module")
def drawn_face():
    """grace_hopper with forehead lines and crow's feet drawn in, its analysis with the
    regions of the photograph as it was, the lines and the analysis of the original."""
    grace = sample_face("grace_hopper")
    base = run_analysis(grace, calibrate=False)
    mpp = base.report["image"]["mm_per_px"]
    lines = [replace(w, contrast=CONTRAST) for w in
             plan_wrinkles(base.regions.landmarks, mpp, base.regions.open_skin)]
    drawn = render_wrinkles(grace, lines, mpp)
    after = run_analysis(drawn, calibrate=False, mm_per_px=mpp, regions=base.regions)
    return drawn, after, lines, base, mpp


def _painted(shape: tuple[int, int], lines, width: int = 3) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for line in lines:
        cv2.polylines(mask, [np.round(line.points).astype(np.int32)], False, 255, width)
    return mask


def test_recall_of_annotated_lines_agrees_with_the_real_photo_validation(drawn_face,
                                                                         artifacts_dir):
    drawn, after, lines, base, mpp = drawn_face
    marked = annotation_mask(_painted(drawn.shape[:2], lines), drawn.shape[:2], "drawn.png")
    scores = annotation_agreement(after, marked, mpp)
    own = added_wrinkle_scores(base, after, lines, mpp)
    assert 0 < scores["recall"] < 1  # some drawn crow's feet are missed at this depth
    assert scores["recall"] == pytest.approx(own["recall"], abs=0.1)
    # The drawn lines lie on open skin, and the annotated length is theirs.
    drawn_mm = sum(np.hypot(*np.diff(w.points, axis=0).T).sum() for w in lines) * mpp
    assert scores["annotated_mm"] == pytest.approx(drawn_mm, rel=0.1)
    assert scores["annotated_outside_skin_mm"] == 0
    assert scores["recall_open_skin"] == pytest.approx(scores["recall"], abs=0.05)
    # grace_hopper's own lines are not annotated, so they count against precision.
    assert scores["precision"] < 0.9
    # Forehead lines and crow's feet were drawn: the regions about the brows and eyes
    # hold them, the mouth, chin and nose none.
    regions = scores["regions"]
    upper = sum(regions[r]["annotated_mm"] for r in ("forehead", "glabella",
                                                     "periorbital_left", "periorbital_right"))
    assert upper >= 0.8 * scores["annotated_mm"]
    assert sum(r["annotated_mm"] for r in regions.values()) <= scores["annotated_mm"] + 1e-6
    for name in ("perioral", "chin", "nose"):
        assert regions[name]["annotated_mm"] == 0 and regions[name]["recall"] is None
    overlay = annotation_overlay(after, marked)
    write_png(artifacts_dir / "grace_annotation_overlay.png", overlay)
    photo = overlay[:drawn.shape[0]]  # above the legend, which shows every colour
    assert overlay.shape[0] > drawn.shape[0]
    magenta = (photo == (255, 0, 255)).all(axis=2)
    green = (photo == (0, 220, 0)).all(axis=2)
    assert magenta.any() and green.any()


def test_the_detectors_own_lines_agree_and_lines_moved_off_them_do_not(drawn_face):
    drawn, after, _, _, mpp = drawn_face
    shape = drawn.shape[:2]
    points = after.wrinkles.centreline_points()
    own = np.zeros(shape, np.uint8)
    for x, y in np.round(points).astype(int):
        cv2.circle(own, (int(x), int(y)), 1, 255, -1)
    scores = annotation_agreement(after, annotation_mask(own, shape, "own.png"), mpp)
    assert scores["recall"] == pytest.approx(1.0, abs=0.02)
    assert scores["precision"] == pytest.approx(1.0, abs=0.02)
    # Moved four tolerances (8 mm) to the side, a line matches only where it lands on
    # another line found.
    moved = np.roll(own, int(round(8.0 / mpp)), axis=1)
    far = annotation_agreement(after, annotation_mask(moved, shape, "moved.png"), mpp)
    assert far["recall"] < 0.5 and far["precision"] < 0.5


def test_a_wider_tolerance_matches_more(drawn_face):
    drawn, after, lines, _, mpp = drawn_face
    marked = annotation_mask(_painted(drawn.shape[:2], lines), drawn.shape[:2], "drawn.png")
    strict = annotation_agreement(after, marked, mpp, tolerance_mm=0.5)
    loose = annotation_agreement(after, marked, mpp, tolerance_mm=4.0)
    assert strict["recall"] <= loose["recall"] and strict["precision"] <= loose["precision"]
    assert strict["recall"] < loose["recall"] or strict["precision"] < loose["precision"]


def test_annotation_masks_are_read_as_labels_or_drawings():
    shape = (40, 60)
    labels = np.zeros(shape, np.uint8)
    labels[20, 10:50] = 1
    assert annotation_mask(labels, shape, "labels.png").sum() == 40
    drawing = (labels * 255).astype(np.uint8)
    drawing[0, 0] = 3  # compression noise is not a mark
    assert annotation_mask(drawing, shape, "drawing.png").sum() == 40
    colour = np.stack([drawing * 0, drawing, drawing * 0], axis=2)
    assert annotation_mask(colour, shape, "colour.png").sum() == 40
    # A copy at half the size covers the photograph: it is brought to its size.
    half = cv2.resize(drawing, (30, 20), interpolation=cv2.INTER_NEAREST)
    assert annotation_mask(half, shape, "half.png").shape == shape
    with pytest.raises(ValueError, match="crop.png: the annotation is 30x30 px and the "
                                         "photograph 60x40 px"):
        annotation_mask(np.zeros((30, 30), np.uint8), shape, "crop.png")
    with pytest.raises(ValueError, match="turned.png: the annotation is 40x60 px and the "
                                         "photograph 60x40 px; the annotation is turned a "
                                         "quarter against the photograph"):
        annotation_mask(drawing.T, shape, "turned.png")
    with pytest.raises(ValueError, match="inverted.png: 100% of the annotation is marked"):
        annotation_mask(255 - drawing * 0, shape, "inverted.png")


def test_annotation_files_of_the_usual_formats_are_read(tmp_path):
    drawing = np.zeros((20, 30), np.uint8)
    drawing[10, 5:25] = 255
    Image.fromarray(drawing).save(tmp_path / "grey.bmp")
    palette = Image.fromarray((drawing > 0).astype(np.uint8), mode="L").convert("P")
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    palette.save(tmp_path / "labels.png")
    layer = np.zeros((20, 30, 4), np.uint8)
    layer[10, 5:25, 3] = 255  # black strokes on a transparent layer
    Image.fromarray(layer, mode="RGBA").save(tmp_path / "layer.png")
    for name in ("grey.bmp", "labels.png", "layer.png"):
        marked = annotation_mask(read_annotation(tmp_path / name), (20, 30), name)
        assert marked.sum() == 20, name
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match="junk.png: not a readable annotation image"):
        read_annotation(tmp_path / "junk.png")
    with pytest.raises(InputError, match="no such file"):
        read_annotation(tmp_path / "absent.png")


def test_summary_ranks_lengths_and_says_what_the_bands_hide():
    def scores(annotated: float, detected: float, recall: float) -> dict:
        return {"recall": recall, "recall_open_skin": recall, "precision": 0.5, "f1": 0.5,
                "annotated_mm": annotated, "annotated_open_mm": annotated * 0.8,
                "annotated_outside_skin_mm": annotated * 0.1,
                "annotated_in_bands_mm": annotated * 0.1, "detected_mm": detected,
                "found_mm": detected, "regions": {}}

    summary = summarise_agreement({"a": scores(10, 30, 0.5), "b": scores(20, 50, 0.7),
                                   "c": scores(30, 40, 0.9), "d": scores(40, 80, 0.8)})
    assert summary["recall"] == {"median": pytest.approx(0.75), "worst": 0.5, "n": 4}
    assert summary["length_rank_correlation"]["rho"] == pytest.approx(0.8)
    assert summary["annotated_in_bands_share"] == pytest.approx(0.1)
    two = summarise_agreement({"a": scores(10, 30, 0.5), "b": scores(20, 50, 0.7)})
    assert two["length_rank_correlation"]["rho"] is None  # too few to rank


def test_validate_annotations_scores_a_folder_and_lists_what_it_could_not(
        drawn_face, tmp_path, cli):
    drawn, _, lines, _, _ = drawn_face
    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks.mkdir()
    face = (np.clip(drawn, 0, 1) * 255 + 0.5).astype(np.uint8)
    (images / "00000").mkdir()
    write_png(images / "00000" / "grace.png", face)  # found in a subfolder
    write_png(images / "inverted.png", face)
    write_png(images / "astronaut.png", (sample_face("astronaut") * 255).astype(np.uint8))
    painted = _painted(drawn.shape[:2], lines)
    # A label tool's mask at half the photograph's size.
    Image.fromarray(cv2.resize(painted, None, fx=0.5, fy=0.5,
                               interpolation=cv2.INTER_NEAREST)).save(masks / "grace.bmp")
    Image.fromarray(255 - painted).save(masks / "inverted.png")
    Image.fromarray(np.zeros((512, 512), np.uint8)).save(masks / "astronaut.png")
    Image.fromarray(painted).save(masks / "nobody.png")
    write_png(images / "twins.png", face)
    (images / "01000").mkdir()  # as FFHQ keeps its photographs, a thousand a folder
    write_png(images / "01000" / "twins.png", face)
    Image.fromarray(painted).save(masks / "twins.png")
    args = ("validate", "annotations", "--images", images, "--masks", masks, "--out", out)
    # Stopped after two pairs (astronaut, grace); run again, it goes on where it stopped.
    first = cli(*args, "--limit", "2", "--json")
    assert first.code == 0, first.stderr
    recall = first.json()["photographs"]["grace"]["recall"]
    assert 0 < recall < 1
    journal = out / "annotations.jsonl"
    lines = journal.read_text().splitlines()
    assert len(lines) == 3  # the settings, then one line per pair
    # A marked figure tells a line read back from one computed again; a line a killed
    # run left half-written is dropped.
    journal.write_text("\n".join([lines[0], lines[1], lines[2].replace(
        f'"recall": {recall}', '"recall": 0.123'), '{"name": "inv']) + "\n")
    result = cli(*args, "--json", "--workers", "2")
    assert result.code == 0, result.stderr
    assert "resuming: 2 of 5 pairs were scored by an earlier run" in result.stderr
    report = result.json()
    assert list(report["photographs"]) == ["grace"]
    assert report["photographs"]["grace"]["recall"] == 0.123
    assert len(journal.read_text().splitlines()) == 6
    other = cli(*args, "--tolerance-mm", "3")
    assert other.code == 2 and "holds the scores of a run with other settings" in \
        other.stderr
    why = report["not_scored"]
    assert why["nobody"] == f"no photograph named nobody in {images} or its subfolders"
    assert why["twins"] == "two photographs are named twins (01000/twins.png, twins.png)"
    assert "inverted.png" in why["inverted"] and "is marked" in why["inverted"]
    assert "wrinkles not measurable at 1." in why["astronaut"]
    assert report["summary"]["photographs"] == 1
    assert json.loads((out / "annotations.json").read_text()) == report
    # Scored afresh on two workers, as in one process.
    fresh = cli("validate", "annotations", "--images", images, "--masks", masks, "--out",
                tmp_path / "fresh", "--workers", "2", "--json")
    assert fresh.json()["photographs"]["grace"]["recall"] == pytest.approx(recall)
    assert fresh.json()["not_scored"] == report["not_scored"]
    text = (out / "report.md").read_text()
    assert "| grace |" in text and "| nobody | no photograph named nobody" in text
    assert (out / "annotated_grace.png").is_file()
    # Nothing to score: a clear error, not an empty report.
    empty = cli("validate", "annotations", "--images", images, "--masks", masks,
                "--out", tmp_path / "none", "--limit", "1")
    assert empty.code != 0
    assert "no photograph could be scored (astronaut: wrinkles not measurable" in \
        empty.stderr


def test_annotated_phantom_close_ups_score_as_the_phantom_validation_does(tmp_path, cli):
    """Phantom close-ups whose true centrelines are the annotation: the command's recall
    and precision (length-weighted, within the phantom validation's 3 px) agree with the
    phantom validation's own scoring of the same detections against the exact truth."""
    from dermatrack.imaging.phantom import make_phantom, random_spec
    from dermatrack.imaging.validation import (
        TOLERANCE_PX,
        _truth_points,
        centreline_scores,
    )

    mpp = 0.06
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    expected = {}
    for seed in (11, 12, 13):
        phantom = make_phantom(random_spec(np.random.default_rng(seed), width=480, height=360,
                                           mm_per_px=mpp), np.random.default_rng(seed + 1))
        pixels = (np.clip(phantom.rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
        write_png(images / f"p{seed}.png", pixels)
        Image.fromarray(phantom.masks["wrinkle_centrelines"].astype(np.uint8) * 255).save(
            masks / f"p{seed}.png")
        analysis = run_analysis(pixels.astype(np.float32) / 255, mm_per_px=mpp,
                                use_face=False, calibrate=False)
        expected[f"p{seed}"] = centreline_scores(analysis.wrinkles.centreline_points(),
                                                 _truth_points(phantom))
    result = cli("validate", "annotations", "--images", images, "--masks", masks, "--out",
                 tmp_path / "out", "--no-face", "--mm-per-px", str(mpp), "--tolerance-mm",
                 str(TOLERANCE_PX * mpp), "--json")
    assert result.code == 0, result.stderr
    scored = result.json()["photographs"]
    assert set(scored) == set(expected)
    for name, truth in expected.items():
        assert truth["recall"] > 0.8 and truth["precision"] > 0.8  # a fair test case
        assert scored[name]["recall"] == pytest.approx(truth["recall"], abs=0.05), name
        assert scored[name]["precision"] == pytest.approx(truth["precision"], abs=0.05), name
        assert scored[name]["annotated_outside_skin_mm"] == 0
    # Without --no-face a close-up is not a face photograph: each pair says so.
    faces = cli("validate", "annotations", "--images", images, "--masks", masks, "--out",
                tmp_path / "faces", "--mm-per-px", str(mpp))
    assert faces.code == 2 and "no face found" in faces.stderr
