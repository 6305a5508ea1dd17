"""``dermatrack validate annotations``: the wrinkle detector against wrinkles a person drew.

A thin adapter: it pairs each annotation mask with its photograph by file name, reads
both, analyses the photograph and scores it with :mod:`dermatrack.imaging.annotations`,
then writes ``annotations.json``, ``report.md`` and overlays.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import typer

from dermatrack.cli._input import check_scale
from dermatrack.cli.output import (
    JSON_OPTION_HELP,
    console,
    emit_json,
    err_console,
    progress_bar,
)
from dermatrack.errors import InputError

#: Overlays saved by default: enough to look at, few enough for a set of a thousand.
DEFAULT_OVERLAYS = 12
#: Each pair's outcome, one JSON line as it finishes, under a first line naming the
#: run's settings: a stopped run is resumed by running it again.
PROGRESS_FILE = "annotations.jsonl"


def _files(folder: Path, suffixes: tuple[str, ...], option: str, *, nested: bool = False
           ) -> tuple[dict[str, Path], dict[str, list[str]]]:
    """Stem -> file of the given suffixes in ``folder`` (and its subfolders with
    ``nested``: FFHQ keeps its photographs in folders of a thousand), sorted by path, and
    the stems that name more than one file (which of them is meant cannot be told)."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder", field=option)
    named: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*") if nested else folder.iterdir()):
        if path.suffix.lower() in suffixes and path.is_file():
            named.setdefault(path.stem, []).append(path)
    return ({stem: paths[0] for stem, paths in named.items()},
            {stem: [str(p.relative_to(folder)) for p in paths]
             for stem, paths in named.items() if len(paths) > 1})


def _score_one(image_path: Path, mask_path: Path, mm_per_px: float | None,
               tolerance_mm: float, overlay: bool, use_face: bool = True
               ) -> tuple[dict[str, Any], Any]:
    """The agreement of one photograph with its annotation (and its overlay when asked).

    Raises
    ------
    InputError
        Naming why the pair cannot be scored.
    """
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.imaging.annotations import (
        annotation_agreement,
        annotation_mask,
        annotation_overlay,
    )
    from dermatrack.imaging.io import read_annotation, read_image

    rgb = read_image(image_path).rgb
    try:
        marked = annotation_mask(read_annotation(mask_path), rgb.shape[:2], mask_path.name)
    except ValueError as exc:
        raise InputError(str(exc), field="annotation") from None
    analysis = run_analysis(rgb, calibrate=False, mm_per_px=mm_per_px, use_face=use_face)
    mpp = analysis.report["image"]["mm_per_px"]
    if mpp is None:
        raise InputError("no scale: " + ("the iris was not found; " if use_face else "")
                         + "give --mm-per-px", field="scale")
    reason = analysis.report["measurability"]["not_measurable"].get("wrinkles.length_mm")
    if reason:
        raise InputError(f"wrinkles {reason}", field="scale")
    scores = {"mm_per_px": mpp, "scale_source": analysis.report["image"]["scale_source"],
              **annotation_agreement(analysis, marked, mpp, tolerance_mm)}
    return scores, annotation_overlay(analysis, marked, tolerance_mm) if overlay else None


def _outcome(stem: str, image_path: Path, mask_path: Path, mm_per_px: float | None,
             tolerance_mm: float, overlay: bool, use_face: bool
             ) -> tuple[str, dict[str, Any], Any]:
    """One pair's line of :data:`PROGRESS_FILE` (its scores, or why it is not scored) and
    its overlay; run in a worker process with ``--workers``."""
    try:
        scores, picture = _score_one(image_path, mask_path, mm_per_px, tolerance_mm, overlay,
                                     use_face)
    except InputError as exc:
        return stem, {"not_scored": exc.message}, None
    return stem, {"scores": scores}, picture


def _resumed(path: Path, settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pairs an earlier run with the same settings finished (name -> its line), the
    file rewritten without a line a stopped run left unfinished.

    Raises
    ------
    InputError
        The file was made with other settings (another photo method version, tolerance,
        scale or folders): its scores cannot be mixed with this run's.
    """
    if not path.is_file():
        path.write_text(json.dumps(settings) + "\n", encoding="utf-8")
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if header != settings:
        raise InputError(f"{path} holds the scores of a run with other settings ({header}; "
                         f"this run: {settings}): choose another --out, or remove the file "
                         "to start again", field="--out")
    done: dict[str, dict[str, Any]] = {}
    for line in lines[1:]:
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            break  # the line a stopped run was writing
        done[item.pop("name")] = item
    path.write_text("".join(json.dumps(x) + "\n" for x in
                            [settings, *({"name": k, **v} for k, v in done.items())]),
                    encoding="utf-8")
    return done


def validate_annotations_cmd(
    images: Path = typer.Option(..., "--images", help="Folder of the photographs (JPEG, "
                                "PNG, TIFF or HEIC), searched with its subfolders."),
    masks: Path = typer.Option(..., "--masks", help="Folder of the annotation masks: one "
                               "per photograph, with its file name (any suffix: PNG, BMP, "
                               "TIFF, JPEG), wrinkles marked non-zero on zero, at the "
                               "photograph's size or a scaled copy of it."),
    out: Path = typer.Option(Path("annotations"), "--out", help="Output directory."),
    mm_per_px: float | None = typer.Option(None, "--mm-per-px", help="Pixel size (mm) of "
                                           "every photograph; by default each one's own, "
                                           "from the iris."),
    tolerance_mm: float = typer.Option(2.0, "--tolerance-mm", help="How far (mm) a "
                                       "detected centreline may lie from an annotated one "
                                       "and still match."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Score only the first N "
                                     "masks (by file name)."),
    overlays: int = typer.Option(DEFAULT_OVERLAYS, "--overlays", min=0, help="Save the "
                                 "overlays of the photographs of the first N masks this "
                                 "run scores."),
    no_face: bool = typer.Option(False, "--no-face", help="Close-ups of skin, not faces "
                                 "(as photo analyze --no-face; give --mm-per-px)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes that analyse "
                                "photographs (each holds one photograph's analysis)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Score the wrinkle detector against wrinkles a person annotated on real photographs
    (for example the manual masks of FFHQ-Wrinkle, which dermatrack does not ship):
    recall, precision, what the exclusion bands hide, and how well the reported wrinkle
    length ranks the photographs as the annotated length does. Writes report.md,
    annotations.json and overlays (annotated lines green where found, magenta where
    missed; lines found red) to --out.

    A pair that cannot be scored (no photograph of that name, an unreadable or inverted
    mask, a photograph refused or too coarse for wrinkles) is listed with the reason;
    the command fails only when none can be scored. Each pair's outcome is kept in
    annotations.jsonl as it finishes: a stopped run goes on where it stopped when run
    again with the same settings.
    """
    from dermatrack.imaging.annotations import annotation_markdown, summarise_agreement
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.imaging.io import (
        ANNOTATION_SUFFIXES,
        IMAGE_SUFFIXES,
        write_png,
    )

    check_scale(mm_per_px)
    if not 0 < tolerance_mm <= 20:
        raise InputError("must be a distance in mm above 0 and at most 20",
                         field="--tolerance-mm")
    mask_files, twin_masks = _files(masks, ANNOTATION_SUFFIXES, "--masks")
    if not mask_files:
        raise InputError(f"{masks}: no annotation masks ({', '.join(ANNOTATION_SUFFIXES)})",
                         field="--masks")
    photos, twin_photos = _files(images, IMAGE_SUFFIXES, "--images", nested=True)
    pairs = list(mask_files.items())[:limit]
    out.mkdir(parents=True, exist_ok=True)
    settings = {"method_version": PHOTO_METHOD_VERSION, "tolerance_mm": tolerance_mm,
                "mm_per_px": mm_per_px, "face": not no_face, "images": str(images.resolve()),
                "masks": str(masks.resolve())}
    journal = out / PROGRESS_FILE
    done = _resumed(journal, settings)
    if done:
        err_console.print(f"resuming: {sum(stem in done for stem, _ in pairs)} of "
                          f"{len(pairs)} pairs were scored by an earlier run ({journal})")
    pending = [(stem, mask) for stem, mask in pairs if stem not in done]

    def unpaired(stem: str) -> str | None:
        """Why the mask of ``stem`` has no one photograph to score against, or None."""
        if stem in twin_masks:
            return f"two masks are named {stem} ({', '.join(twin_masks[stem])})"
        if stem in twin_photos:
            return f"two photographs are named {stem} ({', '.join(twin_photos[stem])})"
        if stem not in photos:
            return f"no photograph named {stem} in {images} or its subfolders"
        return None

    unscored = [(stem, {"not_scored": why}, None) for stem, _ in pending
                if (why := unpaired(stem)) is not None]
    jobs = [(stem, photos[stem], mask, mm_per_px, tolerance_mm, i < overlays, not no_face)
            for i, (stem, mask) in enumerate(p for p in pending if unpaired(p[0]) is None)]
    with progress_bar("photos") as progress, journal.open("a", encoding="utf-8") as lines:
        task = progress.add_task("scoring against annotations", total=len(pending))
        for stem, item, overlay in itertools.chain(unscored, _run(jobs, workers)):
            done[stem] = item
            lines.write(json.dumps({"name": stem, **item}) + "\n")
            lines.flush()
            if overlay is not None:
                write_png(out / f"annotated_{stem}.png", overlay)
            progress.advance(task)
    scored = {stem: done[stem]["scores"] for stem, _ in pairs if "scores" in done[stem]}
    not_scored = {stem: done[stem]["not_scored"] for stem, _ in pairs
                  if "not_scored" in done[stem]}
    if not scored:
        first = "; ".join(f"{k}: {v}" for k, v in list(not_scored.items())[:3])
        raise InputError(f"no photograph could be scored ({first})", field="--masks")
    report: dict[str, Any] = {
        "method_version": PHOTO_METHOD_VERSION, "tolerance_mm": tolerance_mm,
        "photographs": scored, "not_scored": not_scored,
        "summary": summarise_agreement(scored)}
    (out / "annotations.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    command = "dermatrack " + " ".join(sys.argv[1:]) if sys.argv[1:] else \
        "dermatrack validate annotations"
    (out / "report.md").write_text(annotation_markdown(report, command), encoding="utf-8")
    if as_json:
        emit_json(report)
        return
    summary: dict[str, Any] = report["summary"]

    def figure(key: str) -> str:
        row = summary[key]
        return "n/a" if row["median"] is None else \
            f"{row['median']:.2f} (worst {row['worst']:.2f})"

    rho = summary["length_rank_correlation"]["rho"]
    console.print(f"{len(scored)} photograph(s) scored, {len(not_scored)} not; median "
                  f"recall {figure('recall')}, on open skin {figure('recall_open_skin')}, "
                  f"precision {figure('precision')}; rank correlation of length "
                  f"{'n/a' if rho is None else f'{rho:.2f}'}. Report: {out / 'report.md'}")
    for stem, why in not_scored.items():
        err_console.print(f"not scored: {stem}: {why}")


def _run(jobs: list[tuple[Any, ...]], workers: int) -> Any:
    """:func:`_outcome` of each job, in this process or on spawned workers, as each
    finishes."""
    if workers == 1 or len(jobs) < 2:
        for job in jobs:
            yield _outcome(*job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in as_completed([pool.submit(_outcome, *job) for job in jobs]):
            yield future.result()
