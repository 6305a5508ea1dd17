"""``dermatrack photo analyze|compare|import|reanalyse``, ``dermatrack phantom`` and
``dermatrack validate imaging`` (and ``validate annotations``, from
:mod:`dermatrack.cli.annotations`): objective skin metrics from photographs.

Thin adapters: they read and write files (through ``imaging.io``), call the imaging core
and print. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dermatrack.cli._input import check_scale
from dermatrack.cli.output import (
    JSON_OPTION_HELP,
    console,
    emit_json,
    err_console,
    progress_bar,
)
from dermatrack.errors import DermatrackError, InputError

if TYPE_CHECKING:
    from rich.progress import Progress

photo_app = typer.Typer(name="photo", help="Skin metrics from clinical photographs.",
                        no_args_is_help=True)
validate_app = typer.Typer(name="validate", help="Validate measurements against ground truth.",
                           no_args_is_help=True)

_MASK_NAMES = ("wrinkles", "spots", "redness", "pores", "regions")


def _write_masks(directory: Path, stem: str, masks: dict[str, Any], rgb: Any = None) -> None:
    """The masks, and ``features.png``: the photograph with every feature in its colour
    and a legend (what a patient sheet shows)."""
    import numpy as np

    from dermatrack.imaging.io import write_png
    from dermatrack.imaging.overlays import colour_overlay, feature_legend_entries, with_legend

    out = directory / stem
    out.mkdir(parents=True, exist_ok=True)
    for name in _MASK_NAMES:
        write_png(out / f"{name}.png", masks[name])
    if rgb is not None:
        painted = with_legend(colour_overlay(rgb, masks), feature_legend_entries())
        write_png(out / "features.png", (np.clip(painted, 0, 1) * 255 + 0.5).astype(np.uint8))


def _analyze_one(path: str, mm_per_px: float | None, use_face: bool,
                 masks_dir: str | None) -> tuple[str, Any]:
    """Worker: read, analyse and optionally write masks. Returns ("ok", report),
    ("error", message) for bad input or an unwritable output, or ("failed", message)
    when the analysis itself broke, so that the file is named instead of a traceback."""
    from dermatrack.imaging.analysis import run_analysis
    from dermatrack.imaging.io import read_image

    try:
        loaded = read_image(path)
        result = run_analysis(loaded, mm_per_px=mm_per_px, use_face=use_face)
        if masks_dir is not None:
            _write_masks(Path(masks_dir), Path(path).stem, result.masks(), result.rgb)
    except InputError as exc:
        return "error", str(exc)
    except OSError as exc:
        return "error", f"{path}: cannot write masks: {exc.strerror or exc}"
    except Exception as exc:  # reported per file; DERMATRACK_DEBUG re-raises
        if os.environ.get("DERMATRACK_DEBUG"):
            raise
        return "failed", f"{path}: analysis failed ({type(exc).__name__}: {exc})"
    return "ok", result.report


def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=err_console, transient=True)


def _print_report(name: str, report: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    img = report["image"]
    scale = "unknown scale" if img["mm_per_px"] is None else \
        f"{img['mm_per_px']:.4f} mm/px ({img['scale_source']})"
    cal = report["calibration"]
    cal_text = (f"calibrated, mean dE2000 {cal['delta_e2000_mean']:.2f}" if cal["applied"]
                else "colour uncalibrated")
    table = Table(box=box.SIMPLE, pad_edge=False, collapse_padding=True,
                  title=f"{name}: {img['width']}x{img['height']}, {scale}, {cal_text}, "
                        f"face {'found' if report['face']['detected'] else 'not found'}")
    # Short headers so the table fits 80 columns: wrinkle count, length (mm), severity
    # index, ITA (deg), spot count, red area (%), roughness (L*), pore count.
    for col in ("region", "wrinkles", "mm", "sev", "ITA", "spots", "red%", "rough", "pores"):
        table.add_column(col, justify="left" if col == "region" else "right", no_wrap=True)

    def f(v: Any, fmt: str = "{:.1f}") -> str:
        return "-" if v is None else fmt.format(v)

    def pct(v: Any) -> str:
        return "-" if v is None else f"{100 * v:.1f}"

    for region, m in report["regions"].items():
        table.add_row(region, f(m["wrinkles"]["count"], "{}"), f(m["wrinkles"]["length_mm"]),
                      f(m["wrinkles"]["severity_index"]), f(m["pigment"]["ita_deg"]),
                      f(m["pigment"]["spot_count"], "{}"),
                      pct(m["redness"]["red_area_fraction"]),
                      f(m["texture"]["roughness"], "{:.2f}"), f(m["pores"]["count"], "{}"))
    console.print(table)
    quality = report.get("quality") or {}
    if quality:
        reasons = "; ".join(quality.get("reasons") or [])
        console.print(f"capture quality: {quality['verdict']}" + (f" ({reasons})" if reasons
                                                                   else ""))
    for code, reason in sorted((report.get("measurability") or {})
                               .get("not_measurable", {}).items()):
        if code.endswith((".count", ".roughness", ".length_mm", ".spot_area_fraction",
                          ".red_area_fraction")):
            console.print(f"  {code}: {reason}")
    console.print(f"analysed in {report['timing_s']:.2f} s")


@photo_app.command("analyze")
def analyze_cmd(
    images: list[Path] = typer.Argument(..., help="JPEG, PNG, TIFF or HEIC photographs."),
    mm_per_px: float | None = typer.Option(None, "--mm-per-px",
                                           help="Pixel size in mm (overrides chart/iris)."),
    no_face: bool = typer.Option(False, "--no-face", help="Analyse as one region (close-up)."),
    masks: Path | None = typer.Option(None, "--masks",
                                      help="Write DIR/<stem>/wrinkles|spots|redness|pores|"
                                           "regions.png and features.png (in colour, "
                                           "with a legend)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Measure wrinkles, pigment, redness, texture and pores per facial region."""
    check_scale(mm_per_px)
    for path in images:
        if not path.is_file():
            raise InputError(f"{path}: no such file", field="IMAGE")
    if masks is not None:
        # DIR/<stem>/ per image: two images with one stem would overwrite each other.
        seen: dict[str, Path] = {}
        for path in images:
            if path.stem in seen and seen[path.stem].resolve() != path.resolve():
                raise InputError(f"{seen[path.stem]} and {path} would write their masks to "
                                 f"the same folder {masks / path.stem}; analyse them in "
                                 f"separate runs or rename one", field="--masks")
            seen[path.stem] = path
    args = [(str(p), mm_per_px, not no_face, None if masks is None else str(masks))
            for p in images]
    reports: list[Any] = [None] * len(images)
    with _progress() as progress:
        task = progress.add_task("analysing", total=len(images))
        if len(images) == 1:
            results = {0: _analyze_one(*args[0])}
            progress.advance(task)
        else:
            results = _run_parallel(args, progress, task)
    for i, path in enumerate(images):
        status, payload = results[i]
        if status == "error":
            raise InputError(payload if str(path.name) in payload else f"{path}: {payload}",
                             field="IMAGE")
        if status == "failed":
            raise DermatrackError(payload)
        reports[i] = payload
    if as_json:
        emit_json(reports[0] if len(reports) == 1 else reports)
        return
    for path, report in zip(images, reports, strict=True):
        _print_report(path.name, report)


def _run_parallel(args: list[tuple], progress: Any, task: Any) -> dict[int, tuple[str, Any]]:
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    workers = max(1, min(os.cpu_count() or 1, len(args)))
    # "spawn": a fresh interpreter per worker; forking a process that holds OpenCV and
    # TFLite threads can deadlock.
    ctx = multiprocessing.get_context("spawn")
    results: dict[int, tuple[str, Any]] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {pool.submit(_analyze_one, *a): i for i, a in enumerate(args)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            progress.advance(task)
    return results


@photo_app.command("compare")
def compare_cmd(
    before: Path = typer.Argument(..., help="Baseline photograph."),
    after: Path = typer.Argument(..., help="Follow-up photograph."),
    out: Path | None = typer.Option(None, "--out", help="Write side_by_side.png and "
                                                        "change_overlay.png here."),
    mm_per_px: float | None = typer.Option(None, "--mm-per-px", help="Baseline pixel size."),
    no_face: bool = typer.Option(False, "--no-face", help="Compare as one region."),
    strict: bool = typer.Option(False, "--strict",
                                help="Refuse (exit 2) when the two captures differ in pose, "
                                     "scale, lighting, expression or sharpness beyond what "
                                     "the metrics tolerate, or hide a region's skin in one "
                                     "of them."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Align the follow-up to the baseline and report the change of every metric.

    The two captures are checked for head pose, scale, lighting, expression and
    sharpness, and each region is measured on the skin both show (a fringe or glasses in
    one are left out); differences beyond the metrics' tolerances, and regions largely
    hidden in one photograph, are warned about, or with --strict refused. Each change is
    judged against the metric's MDC95 from the data directory's repeatability files
    (improved, worsened, changed, or no real change); without one no verdict is given.
    """
    from dermatrack.imaging.compare import compare
    from dermatrack.imaging.io import read_image, write_png

    check_scale(mm_per_px)
    first, second = read_image(before), read_image(after)
    with err_console.status("aligning and analysing"):
        result = compare(first, second, mm_per_px=mm_per_px, use_face=not no_face)
    from dermatrack.config import load_settings
    from dermatrack.services.outcomes import NO_MDC_ADVICE, judge_photo_changes, load_mdc

    mdc_sources = judge_photo_changes(result.report, load_mdc(load_settings()))
    result.report["mdc_sources"] = mdc_sources
    differences = result.report["capture"]["differences"]
    if differences and strict:
        err_console.print("error: the two captures do not match (--strict): "
                          + "; ".join(differences))
        raise typer.Exit(2)
    for line in differences:
        err_console.print(f"[bold yellow]warning:[/] captures differ: {line}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_png(out / "side_by_side.png", result.side_by_side)
        from dermatrack.imaging.compare import (
            AFTER_COLOUR,
            BEFORE_COLOUR,
            BOTH_COLOUR,
            UNCOMPARED_COLOUR,
        )
        from dermatrack.imaging.overlays import with_legend

        legend = [(label, (colour[0] / 255, colour[1] / 255, colour[2] / 255))
                  for label, colour in (
            ("Wrinkles only before", BEFORE_COLOUR), ("Wrinkles only after", AFTER_COLOUR),
            ("Wrinkles in both", BOTH_COLOUR),
            ("Skin hidden after (hatched): not compared", UNCOMPARED_COLOUR))]
        write_png(out / "change_overlay.png", (with_legend(result.overlay, legend) * 255
                                               + 0.5).clip(0, 255).astype("uint8"))
        result.report["files"] = [str(out / "side_by_side.png"),
                                  str(out / "change_overlay.png")]
    if as_json:
        emit_json(result.report)
        return
    from rich.table import Table

    al = result.report["alignment"]
    table = Table(title=f"{before.name} -> {after.name}: aligned by {al['method']}, "
                        f"correlation {al['ecc_correlation'] or 0:.3f}")
    for col in ("region", "metric", "before", "after", "change", "%", "MDC95", "verdict"):
        table.add_column(col, justify="left" if col in ("region", "metric", "verdict")
                         else "right")
    for region, groups in result.report["regions"].items():
        for group, metrics in groups.items():
            if group == "area_mm2":
                continue
            for key, c in metrics.items():
                if c["change"] is None:
                    continue
                pct = "-" if c["percent"] is None else f"{c['percent']:+.1f}"
                mdc = "-" if c.get("mdc95") is None else f"{c['mdc95']:.3g}"
                table.add_row(region, f"{group}.{key}", f"{c['before']:.3g}",
                              f"{c['after']:.3g}", f"{c['change']:+.3g}", pct, mdc,
                              c.get("verdict") or "-")
    console.print(table)
    if mdc_sources:
        console.print("MDC95 from: " + "; ".join(mdc_sources), soft_wrap=True)
    else:
        console.print(NO_MDC_ADVICE, soft_wrap=True)
    if not al["reliable"]:
        err_console.print("[bold red]warning:[/] no reliable alignment was found; the "
                          "follow-up was compared unaligned, so per-region changes may "
                          "reflect framing rather than the skin.")


def _parse_size(size: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise InputError("expected WIDTHxHEIGHT in pixels, e.g. 800x600",
                         field="--size") from None
    if not (64 <= w <= 8000 and 64 <= h <= 8000):
        raise InputError("each side must be between 64 and 8000 px", field="--size")
    return w, h


def phantom_cmd(
    out: Path = typer.Option(Path("phantoms"), "--out", help="Output directory."),
    count: int = typer.Option(1, "--count", min=1, max=1000, help="Number of phantoms."),
    ita: float | None = typer.Option(None, "--ita", help="Skin tone ITA (deg); random if "
                                                         "omitted."),
    wrinkle_depth: float | None = typer.Option(None, "--wrinkle-depth",
                                               help="Depth of every wrinkle (L*); random "
                                                    "3-14 if omitted."),
    wrinkle_width: float | None = typer.Option(None, "--wrinkle-width",
                                               help="Full width at half depth of every "
                                                    "wrinkle (mm); random 0.3-1.2 if "
                                                    "omitted."),
    wrinkle_length: float | None = typer.Option(None, "--wrinkle-length",
                                                help="Length of every wrinkle (mm), at most "
                                                     "80 % of the shorter side; random 6-25 "
                                                     "if omitted."),
    wrinkle_angle: float | None = typer.Option(None, "--wrinkle-angle",
                                               help="Orientation of every wrinkle (deg from "
                                                    "horizontal, clockwise); random if "
                                                    "omitted."),
    wrinkles: int | None = typer.Option(None, "--wrinkles", min=0, help="Wrinkles per image."),
    spots: int | None = typer.Option(None, "--spots", min=0, help="Pigmented spots per image."),
    erythema: int | None = typer.Option(None, "--erythema", min=0,
                                        help="Red (erythema) patches per image."),
    pores: int | None = typer.Option(None, "--pores", min=0, help="Pores per image."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    perturb: str = typer.Option("none", "--perturb",
                                help="Capture perturbation: none, exposure_up, exposure_down, "
                                     "white_balance, blur, noise, jpeg, rotation, shift."),
    colorchecker: bool = typer.Option(False, "--colorchecker",
                                      help="Render a ColorChecker in the corner."),
    size: str = typer.Option("800x600", "--size", help="WIDTHxHEIGHT in pixels."),
    mm_per_px: float = typer.Option(0.06, "--mm-per-px", help="Pixel size in mm."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Generate synthetic skin photographs with exact ground truth (PNG, truth JSON, masks)."""
    import numpy as np

    from dermatrack.imaging.io import write_png
    from dermatrack.imaging.phantom import PERTURBATIONS, make_phantom, random_spec

    if perturb not in PERTURBATIONS:
        raise InputError(f"unknown perturbation {perturb!r}; choose from "
                         f"{', '.join(PERTURBATIONS)}", field="--perturb")
    if ita is not None and not -90 < ita < 90:
        raise InputError("ITA must lie between -90 and 90 degrees", field="--ita")
    if wrinkle_depth is not None and not 0 < wrinkle_depth <= 40:
        raise InputError("depth must be in (0, 40] L* units", field="--wrinkle-depth")
    if wrinkle_width is not None and not 0 < wrinkle_width <= 5:
        raise InputError("width must be in (0, 5] mm", field="--wrinkle-width")
    if wrinkle_length is not None and not 0 < wrinkle_length <= 200:
        raise InputError("length must be in (0, 200] mm", field="--wrinkle-length")
    check_scale(mm_per_px)
    width, height = _parse_size(size)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with _progress() as progress:
        task = progress.add_task("phantoms", total=count)
        for i in range(count):
            rng = np.random.default_rng([seed, i])
            spec = random_spec(rng, width=width, height=height, mm_per_px=mm_per_px,
                               ita_deg=ita, wrinkle_depth_l=wrinkle_depth,
                               wrinkle_width_mm=wrinkle_width,
                               wrinkle_length_mm=wrinkle_length,
                               wrinkle_angle_deg=wrinkle_angle, n_wrinkles=wrinkles,
                               n_spots=spots, n_erythema=erythema, n_pores=pores,
                               colorchecker=colorchecker,
                               perturbation=PERTURBATIONS[perturb])
            ph = make_phantom(spec, rng)
            stem = f"phantom_{seed}_{i:03d}"
            write_png(out / f"{stem}.png", ph.rgb)
            (out / f"{stem}.truth.json").write_text(json.dumps(ph.truth, indent=1))
            mask_dir = out / stem
            mask_dir.mkdir(exist_ok=True)
            for name, mask in ph.masks.items():
                write_png(mask_dir / f"{name}.png", mask)
            written.append({"image": str(out / f"{stem}.png"),
                            "truth": str(out / f"{stem}.truth.json"),
                            "masks": str(mask_dir)})
            progress.advance(task)
    if as_json:
        emit_json(written)
    else:
        console.print(f"wrote {count} phantom(s) to {out}")


@validate_app.command("imaging")
def validate_imaging_cmd(
    out: Path = typer.Option(Path("validation"), "--out", help="Output directory."),
    quick: bool = typer.Option(False, "--quick", help="A few small phantoms (seconds)."),
    seed: int = typer.Option(2026, "--seed", help="Root random seed."),
    filters: bool = typer.Option(False, "--filters",
                                 help="Also compare valley filters (Hessian variants, "
                                      "Frangi, Gabor bank) on phantoms."),
    real_dir: Path | None = typer.Option(
        None, "--real", help="Folder of real face photographs for the real-photo section "
                             "(default: the package-shipped faces, plus "
                             "../shared/realdata/faces where present)."),
    charts_dir: Path | None = typer.Option(
        None, "--charts", help="Folder of real ColorChecker photographs (default: "
                               "../shared/realdata/colorchecker where present)."),
    non_skin: list[str] = typer.Option(
        [], "--non-skin", help="File name (stem) in the --real folder that is not a face "
                               "and must be refused; repeatable (default for the shared "
                               "folder: Thor)."),
    screen_chart: list[str] = typer.Option(
        [], "--screen-chart", help="File name (stem) in the --charts folder whose chart is "
                                   "shown on a screen and must be refused; repeatable "
                                   "(default for the shared folder: IMG_20140613_203500)."),
    no_real: bool = typer.Option(False, "--no-real", help="Skip the real-photo section."),
    save_mdc: bool = typer.Option(
        False, "--save-mdc", help="Save the real-photo MDC95 of every metric and region as "
                                  "the imaging repeatability of the data directory, which "
                                  "photo compare and the reports judge changes by (a "
                                  "clinic's own repeatability.json comes first)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Score the metrics on phantom series against exact truth, and their invariance and
    detection on real photographs; save a report (report.md, validation.json, overlays).

    The exit code follows the phantom targets; the real-photo targets are reported
    beside them (report.md, "Real photographs").
    """
    import sys

    if save_mdc and no_real:
        raise InputError("--save-mdc needs the real-photo section: drop --no-real",
                         field="save-mdc")

    from dermatrack.imaging.io import write_png
    from dermatrack.imaging.validation import report_markdown, run_validation

    real = _real_faces()
    with _progress() as progress:
        task = progress.add_task("validation", total=None)
        result = run_validation(quick=quick, seed=seed, real_images=real,
                                progress=lambda label: progress.update(task,
                                                                       description=label))
        if filters:
            from dermatrack.imaging.validation import compare_valley_filters

            progress.update(task, description="valley filters")
            result.report["filters"] = compare_valley_filters(
                n_phantoms=2 if quick else 8)
        if not no_real:
            from dermatrack.imaging.realphoto import run_real_validation

            faces, refuse, charts = _real_photo_sets(real, real_dir, charts_dir, non_skin,
                                                     quick)
            screens = set(screen_chart)
            if not screens and charts_dir is None and charts:
                screens = {"IMG_20140613_203500"}  # the shared folder's laptop-screen chart
            real_report, real_overlays = run_real_validation(
                faces, non_skin=refuse, charts=charts, screen_charts=screens,
                progress=lambda label: progress.update(task, description=label))
            result.report["real_photos"] = real_report
            result.overlays.update(real_overlays)
    out.mkdir(parents=True, exist_ok=True)
    (out / "validation.json").write_text(json.dumps(result.report, indent=1, default=float))
    markdown = report_markdown(result.report)
    if "real_photos" in result.report:
        from dermatrack.imaging.realphoto import real_markdown

        command = "dermatrack " + " ".join(sys.argv[1:]) if sys.argv[1:] else \
            "dermatrack validate imaging"
        markdown += real_markdown(result.report["real_photos"], command)
    (out / "report.md").write_text(markdown)
    for name, image in result.overlays.items():
        write_png(out / f"{name}.png", image)
    if save_mdc:
        _save_real_photo_mdc(result.report["real_photos"])
    failed = [key for key, t in result.report["targets"].items() if not t["pass"]]
    if as_json:
        emit_json(result.report)
    else:
        _print_validation(result.report, out, quick)
    if failed:
        # A validation that misses a target must fail scripts and CI that run it.
        err_console.print(f"error: targets missed: {', '.join(failed)}")
        raise typer.Exit(1)


def _save_real_photo_mdc(real: dict[str, Any]) -> None:
    """Write the real-photo MDC95 as the data directory's imaging repeatability."""
    import datetime as dt

    from dermatrack.config import load_settings
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.services.outcomes import save_mdc

    entries = real.get("mdc") or []
    faces = {name for name, e in real["faces"].items() if "cv" in e}
    if not entries:
        raise InputError(f"--save-mdc needs at least two faces measured (got {len(faces)}); "
                         "no MDC95 saved", field="save-mdc")
    source = (f"real-photo validation {dt.date.today().isoformat()} (photo method "
              f"{PHOTO_METHOD_VERSION}): {len(faces)} faces x "
              "8 captures re-rendered from one photograph (resampled, rotated, exposure, "
              "JPEG); lower bounds of a clinic's own (dermatrack validate imaging)")
    path = save_mdc(load_settings(), entries, source=source,
                    method_version=PHOTO_METHOD_VERSION)
    err_console.print(f"Saved the MDC95 of {len(entries)} metric-regions to {path}",
                      soft_wrap=True)


def _print_validation(report: dict[str, Any], out: Path, quick: bool) -> None:
    from rich.table import Table

    table = Table(title=f"imaging validation ({'quick' if quick else 'full'}); report in {out}")
    for col in ("figure", "value", "target", "result"):
        table.add_column(col)
    for key, t in report["targets"].items():
        value = "n/a" if t["value"] is None else f"{t['value']:.3f}"
        table.add_row(key, value, t["target"], "pass" if t["pass"] else "[red]FAIL[/red]")
    console.print(table)


def _shared_realdata(kind: str) -> Path | None:
    """``shared/realdata/<kind>`` found beside the working directory or one of its
    parents (``../shared/realdata`` from a checkout), or None."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "shared" / "realdata" / kind
        if candidate.is_dir():
            return candidate
    return None


def _read_folder(folder: Path) -> dict[str, Any]:
    from dermatrack.imaging.io import IMAGE_FORMATS, IMAGE_SUFFIXES, read_image

    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder", field="real")
    images = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            images[path.stem] = read_image(path).rgb
    if not images:
        raise InputError(f"{folder}: no {IMAGE_FORMATS} images", field="real")
    return images


def _real_photo_sets(shipped: dict[str, Any], real_dir: Path | None,
                     charts_dir: Path | None, non_skin: list[str], quick: bool
                     ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Faces, non-skin photographs and chart photographs for the real-photo section."""
    from skimage import data

    faces = dict(shipped)
    # FaceMesh finds a "face" in the colour wheel (regions.MIN_FACE_SKIN).
    refuse: dict[str, Any] = {"skimage_chelsea_cat": data.chelsea() / 255.0,
                              "skimage_coffee_cup": data.coffee() / 255.0,
                              "skimage_colour_wheel": data.colorwheel() / 255.0}
    folder = real_dir
    if folder is None and not quick:
        folder = _shared_realdata("faces")
        if folder is not None and not non_skin:
            non_skin = ["Thor"]
    if folder is not None:
        for name, rgb in _read_folder(folder).items():
            (refuse if name in non_skin else faces)[name] = rgb
    charts: dict[str, Any] = {}
    chart_folder = charts_dir if charts_dir is not None else (
        None if quick else _shared_realdata("colorchecker"))
    if chart_folder is not None:
        charts = _read_folder(chart_folder)
    if quick and real_dir is None:
        faces = {k: v for k, v in faces.items() if k == "grace_hopper"}
    return faces, refuse, charts


def _real_faces() -> dict[str, Any]:
    """scikit-image's astronaut and matplotlib's grace_hopper, as float sRGB arrays."""
    from dermatrack.imaging.io import sample_face

    faces: dict[str, Any] = {"astronaut": sample_face("astronaut")}
    try:
        faces["grace_hopper"] = sample_face("grace_hopper")
    except (OSError, InputError):
        err_console.print("grace_hopper sample not found; skipped")
    return faces


@photo_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="JPEG, PNG, TIFF, HEIC or DICOM (VL Photographic "
                                          "Image) file."),
    patient: str = typer.Option(..., "--patient", help="The patient (P-XXXXXX)."),
    visit: str | None = typer.Option(None, "--visit", help="The visit it was taken at "
                                     "(a DICOM file written by dermatrack names its own)."),
    region: str | None = typer.Option(None, "--region", help="Anatomic region shown "
                                      "(region vocabulary; DICOM: from the file)."),
    view: str | None = typer.Option(None, "--view", help="front, left_45, right_45, left_90, "
                                    "right_90 or closeup."),
    mm_per_px: float | None = typer.Option(None, "--mm-per-px", help="Pixel size in mm "
                                           "(DICOM: Pixel Spacing when present)."),
    no_analyze: bool = typer.Option(False, "--no-analyze", help="Store the photograph "
                                    "without measuring it."),
    no_face: bool = typer.Option(False, "--no-face", help="Analyse as one region (close-up)."),
    actor: str | None = typer.Option(None, "--actor", help="Who imports it, for the audit "
                                     "trail (default: $DERMATRACK_ACTOR, else $USER)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Store a photograph of a patient with its metrics (pixels only, no metadata kept).

    A DICOM file must be a VL Photographic Image; its patient id, visit, region, view,
    pixel spacing and capture time are used. Anything else is refused with its SOP class.
    """
    from dermatrack.cli._input import actor_name
    from dermatrack.services.common import open_store
    from dermatrack.services.photos import import_photo

    check_scale(mm_per_px)
    with open_store() as store:
        photo = import_photo(store, patient_id=patient, visit_id=visit, path=file,
                             actor=actor_name(actor), analyze=not no_analyze,
                             mm_per_px=mm_per_px, use_face=not no_face, region=region,
                             view=view)
    if as_json:
        emit_json(photo.model_dump(mode="json"))
        return
    console.print(f"Stored {file.name} as {photo.id} for {photo.patient_id}"
                  + (f" at visit {photo.visit_id}" if photo.visit_id else "")
                  + f": {photo.width} x {photo.height} px, {photo.observations} metrics.")


@photo_app.command("reanalyse")
def reanalyse_cmd(
    patient: str | None = typer.Option(None, "--patient", help="Only this patient's "
                                       "photographs (P-XXXXXX)."),
    every: bool = typer.Option(False, "--all", help="Every patient's photographs."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the photographs another "
                                 "version measured, and change nothing."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes measuring "
                                "photographs at once (each stores its own)."),
    actor: str | None = typer.Option(None, "--actor", help="Who runs it, for the audit "
                                     "trail (default: $DERMATRACK_ACTOR, else $USER)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Measure stored photographs again with this version of the photo method.

    Figures measured by two versions of the method are not compared (the viewer, the
    reports and the patient sheet say "not comparable"), since a new version can move a
    figure with no change in the skin. This re-measures every analysed photograph whose
    figures another version (or one from before versions were recorded) measured, from
    its stored pixels, as it was imported (face or close-up, the scale given, the
    chart). The old figures are soft-deleted with the reason, not erased; a photograph
    this version refuses keeps its figures, and the summary says why. Each photograph is
    stored as it finishes: a run stopped part-way is resumed by running it again.
    """
    from dermatrack.cli._input import actor_name
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.services.common import open_store
    from dermatrack.services.photos import photos_to_reanalyse, reanalyse_many

    if (patient is None) == (not every):
        raise InputError("give --patient P-XXXXXX or --all (not both)", field="patient")
    with open_store() as store:
        stale = photos_to_reanalyse(store, patient_id=patient)
        if dry_run:
            if as_json:
                emit_json({"method_version": PHOTO_METHOD_VERSION, "photos": stale})
                return
            console.print(f"{len(stale)} photograph(s) measured by another version than "
                          f"{PHOTO_METHOD_VERSION}" + (": " + ", ".join(stale) if stale else "."))
            return
        with progress_bar("photos") as bar:
            task = bar.add_task(f"re-measuring with {PHOTO_METHOD_VERSION}", total=len(stale))
            done = reanalyse_many(store, stale, actor=actor_name(actor), workers=workers,
                                  done=lambda _result: bar.advance(task))
    if as_json:
        emit_json({"method_version": PHOTO_METHOD_VERSION,
                   "photos": [d.model_dump(mode="json") for d in done]})
        return
    remeasured = [d for d in done if d.outcome == "remeasured"]
    console.print(f"Re-measured {len(remeasured)} of {len(stale)} photograph(s) with photo "
                  f"method {PHOTO_METHOD_VERSION} "
                  f"({sum(d.observations for d in remeasured)} metrics).")
    for kept in (d for d in done if d.outcome == "kept"):
        err_console.print(f"{kept.photo_id} ({kept.patient_id}) kept its figures "
                          f"({kept.previous_version or 'unrecorded version'}): {kept.reason}")


def register(app: typer.Typer) -> None:
    """Add ``photo``, ``phantom`` and ``validate`` to the root app."""
    from dermatrack.cli.annotations import validate_annotations_cmd

    validate_app.command("annotations")(validate_annotations_cmd)
    app.add_typer(photo_app, name="photo")
    app.command("phantom")(phantom_cmd)
    app.add_typer(validate_app, name="validate")
