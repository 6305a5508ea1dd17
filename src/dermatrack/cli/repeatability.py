"""``dermatrack repeatability FILE.csv``: ICC, SEM, MDC95 and CV from repeated captures.

The CSV is long format, one measurement per row, with the columns ``subject``,
``metric`` and ``value`` and optionally ``region``, ``session`` and ``replicate``. The
occasion of a measurement is its (session, replicate) pair when those columns exist,
otherwise its order among the subject's rows for that metric. An empty value, ``NA`` or
``nan`` is a missing measurement.

With ``--save`` the results become the clinic's own MDC95, stored as
``DATA_DIR/repeatability.json`` (``DERMATRACK_DATA_DIR``). Patient timelines and reports
then judge a change against it instead of the imaging validation's default, for every
metric and region it covers (:mod:`dermatrack.services.outcomes`). Metric names must be
dermatrack's (``wrinkles.length_mm``, ``Sa``, ``a_star``, ...); a row without a region
applies to every region.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from dermatrack.cli._input import read_text
from dermatrack.cli.output import console, emit_json, json_option, to_json
from dermatrack.errors import InputError

REQUIRED = ("subject", "metric", "value")
OPTIONAL = ("region", "session", "replicate")
MISSING_MARKERS = {"", "na", "nan", "n/a"}


def _parse_value(text: str, line: int) -> float:
    import math

    if text.strip().lower() in MISSING_MARKERS:
        return math.nan
    try:
        number = float(text)
    except ValueError:
        raise InputError(f"value {text!r} is not a number", field="value", line=line) from None
    if math.isinf(number):
        raise InputError(f"value {text!r} is not finite", field="value", line=line)
    return number


def read_long_csv(text: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Group the rows of a long CSV by (metric, region).

    Returns, per group, the lists ``subjects``, ``values``, ``occasions`` (``None`` when
    the file has neither ``session`` nor ``replicate``) and ``lines`` (1-based, header is
    line 1).
    """
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise InputError("the file is empty; expected a header with subject, metric, value",
                         line=1)
    names = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InputError(f"missing column '{missing[0]}' (need {', '.join(REQUIRED)})",
                         field=missing[0], line=1)
    index = {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}
    occasion_columns = [name for name in ("session", "replicate") if name in index]
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in reader:
        line = reader.line_num  # physical line, right even after quoted line breaks
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            raise InputError(f"expected {len(names)} columns, found {len(row)}", line=line)
        subject = row[index["subject"]].strip()
        metric = row[index["metric"]].strip()
        for field, cell in (("subject", subject), ("metric", metric)):
            if not cell:
                raise InputError(f"{field} is empty", field=field, line=line)
        region = (row[index["region"]].strip() or None) if "region" in index else None
        group = groups.setdefault((metric, region), {"subjects": [], "values": [],
                                                     "occasions": [], "lines": []})
        group["subjects"].append(subject)
        group["values"].append(_parse_value(row[index["value"]], line))
        group["occasions"].append(tuple(row[index[name]].strip() for name in occasion_columns))
        group["lines"].append(line)
    if not groups:
        raise InputError("the file has a header but no measurements", line=2)
    if not occasion_columns:
        for group in groups.values():
            group["occasions"] = None
    return groups


def _analyse(groups: dict, confidence: float) -> list[dict]:
    from dermatrack.outcomes.repeatability import repeatability, replicate_matrix

    results = []
    for (metric, region), group in sorted(groups.items(), key=lambda item: (item[0][0],
                                                                          item[0][1] or "")):
        where = f"metric '{metric}'" + (f", region '{region}'" if region else "")
        matrix = replicate_matrix(group["subjects"], group["values"], group["occasions"],
                                  line_numbers=group["lines"])
        try:
            summary = repeatability(matrix.values, confidence)
        except InputError as exc:
            raise InputError(f"{where}: {exc.message}", field=exc.field, line=exc.line) from exc
        results.append({"metric": metric, "region": region, **summary.to_dict()})
    return results


def _icc_text(icc: dict, *, with_interval: bool) -> str:
    if icc["value"] is None:
        return "-"
    text = f"{icc['value']:.2f}"
    if with_interval and icc["ci_low"] is not None:
        text += f" [{icc['ci_low']:.2f}, {icc['ci_high']:.2f}]"
    return text


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _print_table(path: Path, results: list[dict], confidence: float) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Repeatability of {path.name}", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False)
    show_region = any(item["region"] for item in results)
    # The region goes under its metric rather than in a column of its own, which leaves
    # the long metric names room at 80 characters; they fold only when longer still.
    table.add_column("metric" + (" / region" if show_region else ""), overflow="fold")
    for heading in ("n", "obs", "ICC(1,1)", f"ICC(2,1), {confidence:.0%} CI", "SEM", "MDC95",
                    "CV%"):
        # Numbers never wrap.
        table.add_column(heading, justify="right", no_wrap=True, min_width=len(heading))
    for item in results:
        name = Text(item["metric"])
        if item["region"]:
            name.append(f"\n{item['region']}", style="dim")
        table.add_row(name, str(item["n_subjects"]), str(item["n_observations"]),
                      _icc_text(item["icc_1_1"], with_interval=False),
                      _icc_text(item["icc_2_1"], with_interval=True), _number(item["sem"]),
                      _number(item["mdc95"]), _number(item["cv_within_percent"], 2))
    console.print(table)
    console.print("n: subjects with 2+ measurements; SEM = sqrt(MS within subjects); "
                  "MDC95 = 1.96 x sqrt(2) x SEM, in the metric's units. A change smaller "
                  "than MDC95 is within measurement error.")


def repeatability_command(
    file: Path = typer.Argument(..., metavar="FILE.csv",
                                help="Long-format CSV: subject, metric, value "
                                "[, region, session, replicate]."),
    confidence: float = typer.Option(0.95, "--confidence", min=0.5, max=0.999,
                                     help="Confidence level of the ICC intervals."),
    save: bool = typer.Option(
        False, "--save",
        help="Store the MDC95s as the clinic's own (DATA_DIR/repeatability.json): reports "
             "then judge changes against them instead of the imaging default."),
    photo_method_version: str | None = typer.Option(
        None, "--photo-method-version",
        help="With --save: the version of dermatrack's photo method that measured the "
             "file's photo figures (photo analyze --json gives it; default: this "
             "installation's). A change judged by an MDC95 of another version says so."),
    json_output: bool = json_option(),
) -> None:
    """ICC, SEM, MDC95 and within-subject CV per metric from repeated captures.

    Metric names should be dermatrack's (wrinkles.length_mm, Sa, a_star, ...) so that
    a saved MDC95 applies to the clinic's measurements; a row without a region applies
    to every region.
    """
    if photo_method_version is not None and not save:
        raise InputError("only with --save", field="--photo-method-version")
    results = _analyse(read_long_csv(read_text(file)), confidence)
    saved = _save(file, results, photo_method_version) if save else None
    if json_output:
        emit_json({"file": str(file), "confidence": confidence, "metrics": results,
                   **({"saved": str(saved)} if saved else {})})
        return
    _print_table(file, results, confidence)
    if saved:
        console.print(f"Saved as the clinic's MDC95: {saved} (it replaces the imaging "
                      "default for these metrics).")


def _save(file: Path, results: list[dict], photo_method_version: str | None) -> Path:
    import datetime as dt

    from dermatrack.config import load_settings
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION
    from dermatrack.services.outcomes import save_mdc

    usable = [item for item in results if item.get("mdc95") is not None]
    if not usable:
        raise InputError("no metric has an MDC95 to save (each needs two or more subjects "
                         "measured at least twice)", field="save")
    source = f"clinic repeatability: {file.name}, {dt.date.today().isoformat()}"
    # As --json prints them: a statistic that is not finite (an F of a study without
    # residual error) is null, not a file JSON cannot read back.
    usable = json.loads(to_json(usable))
    try:
        return save_mdc(load_settings(), usable, source=source, clinic=True,
                        method_version=photo_method_version or PHOTO_METHOD_VERSION)
    except OSError as exc:
        raise InputError(f"cannot write the clinic's MDC file: {exc.strerror or exc}",
                         field="save") from exc


def register(app: typer.Typer) -> None:
    app.command("repeatability")(repeatability_command)
