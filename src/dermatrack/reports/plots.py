"""Figures of the reports, drawn with matplotlib's Agg backend and returned as PNG bytes.

* :func:`trajectory_figure`: one small panel per metric, the value at each visit against
  months since baseline, with the band of baseline +/- MDC95 (changes inside it are
  within measurement error);
* :func:`forest_figure`: mean change from baseline with its 95 % confidence interval per
  group and metric (a forest plot), one panel per metric since units differ;
* :func:`image_png`: an sRGB array as a PNG (downscaled for the page).

Figures are created with the object-oriented API on a fresh ``Figure`` (not pyplot), so
nothing is shared between calls or threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

DPI = 110
PANEL_WIDTH_IN = 3.3
PANEL_HEIGHT_IN = 2.3


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    # The constrained layout already fits every label inside the figure; a "tight"
    # bounding box would draw the whole figure a second time to measure it.
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def trajectory_figure(series: Sequence[Any], *, columns: int = 3) -> bytes:
    """Metric trajectories of one patient.

    Parameters
    ----------
    series:
        :class:`dermatrack.services.outcomes.Series` objects (or dicts of the same shape),
        one panel each.
    columns:
        Panels per row.

    Returns
    -------
    bytes
        A PNG image.
    """
    items = [s if isinstance(s, Mapping) else s.model_dump() for s in series]
    if not items:
        raise ValueError("no series to plot")
    columns = max(1, min(columns, len(items)))
    rows = math.ceil(len(items) / columns)
    figure = _figure(PANEL_WIDTH_IN * columns, PANEL_HEIGHT_IN * rows)
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, item in enumerate(items):
        _trajectory_panel(axes[index // columns][index % columns], item)
    for index in range(len(items), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    return _png(figure)


def value_limits(values: Sequence[float], *, resolution: float,
                 band: tuple[float, float] | None = None) -> tuple[float, float]:
    """Y limits for a short series: its range padded by a tenth, at least 20 times the
    measurement's resolution and 5 % of its size wide, so that a flat series is drawn
    flat instead of its rounding noise being stretched over the panel. A band (baseline
    +/- MDC95) is included when it is at most twice that wide; a wider one is drawn to
    scale but cut by the axes (the caption says so)."""
    low, high = min(values), max(values)
    span = max(high - low, 20 * resolution, 0.05 * max(abs(low), abs(high)))
    middle = (low + high) / 2
    low, high = min(low, middle - span / 2), max(high, middle + span / 2)
    if band is not None and band[1] - band[0] <= 2 * (high - low):
        low, high = min(low, band[0]), max(high, band[1])
    pad = 0.1 * (high - low)
    return low - pad, high + pad


def _trajectory_panel(ax: Any, item: Mapping[str, Any]) -> None:
    """One metric's values at each visit, in the unit and precision people are shown."""
    from dermatrack.reports import labels

    definition = labels.metric(item.get("kind", ""), item["metric"], item.get("unit"))
    factor = definition.shown_factor
    points = [p for p in item["points"] if p["value"] is not None]
    months = [p["months"] for p in points]
    values = [p["value"] * factor for p in points]
    band = None
    if points and item.get("mdc95") is not None:
        mdc = item["mdc95"] * factor
        band = (values[0] - mdc, values[0] + mdc)
        ax.axhspan(*band, color="#d9e6f2", label="baseline ± MDC95", linewidth=0)
    ax.plot(months, values, marker="o", color="#1f4e79", linewidth=1.5)
    for point, value in zip(points[1:], values[1:], strict=True):
        if point.get("verdict") in ("improved", "worsened"):
            colour = "#2e7d32" if point["verdict"] == "improved" else "#c62828"
            ax.plot([point["months"]], [value], marker="o", markersize=9,
                    markerfacecolor="none", markeredgecolor=colour)
    if values:
        ax.set_ylim(*value_limits(values, resolution=definition.resolution() * factor,
                                  band=band))
    region = item.get("region")
    title = definition.label
    if region and region != "whole":
        title += f" · {labels.region(region)}"
    ax.set_title(title, fontsize=8)
    ax.set_xlabel("months since baseline", fontsize=7)
    ax.set_ylabel(definition.display_unit or "(no unit)", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)


#: Tallest forest figure (inches at its 7 in width): an A4 page holds about 10 in of it.
FOREST_MAX_HEIGHT_IN = 9.0


def _forest_height(panel_rows: Sequence[int]) -> float:
    return 0.6 + sum(0.24 * max(1, n) + 0.5 for n in panel_rows)


def split_forest(rows: Sequence[Mapping[str, Any]], *,
                 max_height_in: float = FOREST_MAX_HEIGHT_IN
                 ) -> list[list[Mapping[str, Any]]]:
    """Split forest rows into figures of whole panels no taller than ``max_height_in``.

    A figure is one image, and an image cannot break across pages: one tall forest plot
    would be cut off in a PDF. A single panel taller than the limit gets a figure of its
    own.
    """
    panels: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    for row in rows:
        panels.setdefault((row["metric"], row.get("region")), []).append(row)
    figures: list[list[Mapping[str, Any]]] = []
    sizes: list[int] = []
    for panel in panels.values():
        if figures and _forest_height([*sizes, len(panel)]) <= max_height_in:
            figures[-1].extend(panel)
            sizes.append(len(panel))
        else:
            figures.append(list(panel))
            sizes = [len(panel)]
    return figures


def forest_figure(rows: Sequence[Mapping[str, Any]], *, units: Mapping[str, str] | None = None,
                  mdc: Any = None) -> bytes:
    """Forest plot of mean change from baseline with 95 % CI, one panel per metric.

    Parameters
    ----------
    rows:
        :class:`dermatrack.outcomes.cohort.ForestRow` dicts (``label``, ``group``,
        ``metric``, ``estimate``, ``ci_low``, ``ci_high``, ``n``). Rows without an
        estimate are drawn as "no data".
    units:
        Metric to unit, for the axis labels.
    mdc:
        Optional ``mdc(metric, region) -> float | None``: each panel with an MDC95 shades
        the band of +/- MDC95 around zero, the changes one measurement cannot resolve.

    Returns
    -------
    bytes
        A PNG image.
    """
    if not rows:
        raise ValueError("no rows to plot")
    units = units or {}
    # One panel per metric and region: device metrics are measured at several regions,
    # and pooling their rows under one title would show the same group twice unlabelled.
    panels = list(dict.fromkeys((row["metric"], row.get("region")) for row in rows))
    heights = [max(1, sum((row["metric"], row.get("region")) == p for row in rows))
               for p in panels]
    figure = _figure(7.0, _forest_height(heights))
    axes = figure.subplots(len(panels), 1, squeeze=False,
                           gridspec_kw={"height_ratios": heights})
    from dermatrack.reports import labels

    for ax, (metric, region) in zip(axes[:, 0], panels, strict=True):
        mine = [row for row in rows if (row["metric"], row.get("region")) == (metric, region)]
        definition = labels.metric("", metric, units.get(metric))
        factor = definition.shown_factor
        group_labels = [" · ".join(labels.modality(str(v)) if k == "modality" else str(v)
                                   for k, v in row["group"].items()) or "all" for row in mine]
        y = np.arange(len(mine))[::-1]
        for yi, row in zip(y, mine, strict=True):
            if row["estimate"] is None:
                ax.text(0.0, yi, "no data", va="center", fontsize=7, color="grey")
                continue
            if row["ci_low"] is not None:
                ax.plot([row["ci_low"] * factor, row["ci_high"] * factor], [yi, yi],
                        color="#1f4e79")
            ax.plot([row["estimate"] * factor], [yi], marker="s", color="#1f4e79",
                    markersize=3 + min(row["n"], 40) / 6)
        ax.axvline(0.0, color="black", linewidth=0.8)
        band = mdc(metric, region) if mdc is not None else None
        if band:
            ax.axvspan(-band * factor, band * factor, color="#c6d6e8", alpha=0.5, linewidth=0)
        ax.set_yticks(y, [f"{label} (n={row['n']})" for label, row in
                          zip(group_labels, mine, strict=True)], fontsize=7)
        ax.set_ylim(-0.7, len(mine) - 0.3)
        unit = definition.display_unit
        title = definition.label + (f" ({unit})" if unit else "") + (
            f" · {labels.region(region)}" if region and region != "whole" else "")
        ax.set_title(title, fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel("mean change from baseline (95 % CI)"
                           + ("; shaded: ± MDC95" if mdc is not None else ""), fontsize=7)
    return _png(figure)


def image_png(rgb: np.ndarray, *, max_side: int = 640) -> bytes:
    """An sRGB image (float in [0, 1] or uint8) as PNG bytes, long side at most ``max_side``."""
    import cv2

    pixels = np.asarray(rgb)
    if pixels.dtype != np.uint8:
        pixels = (np.clip(pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    factor = min(1.0, max_side / max(pixels.shape[:2]))
    if factor < 1.0:
        size = (max(1, round(pixels.shape[1] * factor)), max(1, round(pixels.shape[0] * factor)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError("could not encode the image")
    return buffer.tobytes()
