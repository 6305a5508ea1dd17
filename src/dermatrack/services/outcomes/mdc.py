"""The MDC95 table: which change of a metric is beyond measurement error.

Where the MDC95 comes from
--------------------------
An MDC95 is only as good as the repeatability data behind it. Two JSON files under the
data directory (``DERMATRACK_DATA_DIR``) are read, in this order of preference:

``repeatability.json``
    The clinic's own repeatability, from repeated captures of the same patients:
    ``dermatrack repeatability CAPTURES.csv --save`` writes it (``--json`` output
    redirected here works too). The demo clinic stores its device metrics' MDC95 here,
    from repeated synthetic captures.
``repeatability-imaging.json``
    The imaging validation's repeatability: on real faces, each photograph re-rendered
    eight ways (resampled, rotated, exposure, JPEG), one entry per metric and region,
    written by ``dermatrack validate imaging --save-mdc``; or, for the demo clinic, on
    phantoms under ordinary capture changes (exposure, white balance, blur, noise, JPEG,
    small rotation and shift), written by ``dermatrack demo`` (:func:`save_mdc`). Both
    are lower bounds: two visits' photographs also differ in pose, expression and light.

Both have the shape ``{"source": ..., "metrics": [{"metric", "region", "mdc95", ...}]}``
(the ``repeatability --json`` output); an entry may add ``"kind"`` (``photo``,
``surface``, ...) and a null ``region`` applies to every region. An entry of the clinic's
file replaces the imaging one for the same metric and region. Without either file no
change is called real or not (verdict ``None``).

A file may name the photo method version its photo figures were measured with
(``"method_version"``, :data:`~dermatrack.imaging.definitions.PHOTO_METHOD_VERSION`).
A version's repeatability is its own: when a file's differs from this one (or it names
none), the source of each of its photo entries says so, and so does every verdict judged
by them, until the repeatability is measured again.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dermatrack.config import Settings
from dermatrack.errors import InputError
from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION, method_versions_differ
from dermatrack.outcomes.change import Change

CLINIC_MDC_FILE = "repeatability.json"
IMAGING_MDC_FILE = "repeatability-imaging.json"


@dataclass
class MdcTable:
    """MDC95 per (kind, metric, region), with where each came from."""

    entries: dict[tuple[str | None, str, str | None], tuple[float, str]] = field(
        default_factory=dict)

    def lookup(self, kind: str, metric: str, region: str | None) -> tuple[float, str] | None:
        """(MDC95, source) for a measurement, most specific entry first; None if unknown."""
        for key in ((kind, metric, region), (None, metric, region), (kind, metric, None),
                    (None, metric, None)):
            if key in self.entries:
                return self.entries[key]
        return None

    def update(self, data: Mapping[str, Any], default_source: str) -> None:
        """Add the entries of a repeatability JSON document (replacing equal keys)."""
        source = str(data.get("source") or default_source)
        photo_source = source + (_other_version_caution(data.get("method_version")) or "")
        metrics = data.get("metrics")
        if not isinstance(metrics, list):
            raise InputError("a repeatability file needs a 'metrics' list", field="metrics")
        for i, item in enumerate(metrics):
            if not isinstance(item, Mapping) or not isinstance(item.get("metric"), str):
                raise InputError("each entry needs a metric name", field=f"metrics[{i}].metric")
            value = item.get("mdc95")
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value < 0:
                raise InputError(f"mdc95 must be a number >= 0, got {value!r}",
                                 field=f"metrics[{i}].mdc95")
            key = (item.get("kind"), item["metric"], item.get("region"))
            self.entries[key] = (float(value), photo_source if _is_photo(item) else source)

    def to_list(self) -> list[dict[str, Any]]:
        return [{"kind": kind, "metric": metric, "region": region, "mdc95": value,
                 "source": source}
                for (kind, metric, region), (value, source) in sorted(
                    self.entries.items(), key=lambda item: tuple(str(p) for p in item[0]))]


def _is_photo(item: Mapping[str, Any]) -> bool:
    """Whether an MDC entry bounds a photo figure (its kind, or a photo metric's name)."""
    from dermatrack.metrics import metric_definition

    kind = item.get("kind")
    return kind == "photo" or (kind is None
                               and metric_definition("photo", item["metric"]) is not None)


def _recorded_version(version: Any) -> str | None:
    """A repeatability file's ``method_version`` as recorded (None: not recorded)."""
    return version if isinstance(version, str) and version else None


def other_version_words(version: Any) -> str | None:
    """How photo MDC95s measured with another photo method version than this one (or
    an unrecorded one) were measured, in words; None when it is this one. Read by every
    verdict's source and by ``dermatrack serve``."""
    recorded = _recorded_version(version)
    if not method_versions_differ(recorded, PHOTO_METHOD_VERSION):
        return None
    return (f"measured with photo method {recorded}, not {PHOTO_METHOD_VERSION}, which "
            "measures the figures judged" if recorded else
            "the photo method version it was measured with is not recorded (this is "
            f"{PHOTO_METHOD_VERSION})")


def _other_version_caution(version: Any) -> str | None:
    """The words added to the source of photo MDC95s of another version, or None."""
    words = other_version_words(version)
    return None if words is None else f" [caution: {words}; measure this repeatability again]"


def _read_mdc_file(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name}: not a readable JSON file ({exc})",
                         field=path.name) from None
    if not isinstance(data, Mapping):
        raise InputError(f"{path.name}: expected a JSON object", field=path.name)
    return dict(data)


#: What to do when no MDC95 is known, for clinicians (the CLI and the web app's
#: before/after viewer).
NO_MDC_ADVICE = ("No MDC95 in the data directory, so no change is called real or not: "
                 "measure the clinic's own (dermatrack repeatability CAPTURES.csv --save), "
                 "or save a lower bound from real photographs (dermatrack validate imaging "
                 "--save-mdc).")


def load_mdc(settings: Settings) -> MdcTable:
    """The MDC95 table of a data directory (module docstring: imaging, then the clinic's)."""
    table = MdcTable()
    for name, label in ((IMAGING_MDC_FILE, "imaging validation"),
                        (CLINIC_MDC_FILE, "clinic repeatability")):
        data = _read_mdc_file(settings.data_dir / name)
        if data is not None:
            table.update(data, label)
    return table


def mdc_files_of_other_versions(settings: Settings) -> dict[str, str]:
    """The repeatability files of a data directory whose photo MDC95s another version of
    the photo method measured (or one not recorded): file name -> how, in words
    (:func:`other_version_words`)."""
    out: dict[str, str] = {}
    for name in (IMAGING_MDC_FILE, CLINIC_MDC_FILE):
        data = _read_mdc_file(settings.data_dir / name)
        metrics = (data or {}).get("metrics")
        if data is None or not isinstance(metrics, list):
            continue
        words = other_version_words(data.get("method_version"))
        if words is not None and any(isinstance(item, Mapping)
                                     and isinstance(item.get("metric"), str)
                                     and _is_photo(item) for item in metrics):
            out[name] = words
    return out


def save_mdc(settings: Settings, metrics: Iterable[Mapping[str, Any]], *, source: str,
             clinic: bool = False, method_version: str | None = PHOTO_METHOD_VERSION
             ) -> Path:
    """Write a repeatability JSON (the imaging one, or the clinic's with ``clinic``),
    naming the photo method version its photo figures were measured with: this one
    unless told otherwise (None: not known)."""
    path = settings.data_dir / (CLINIC_MDC_FILE if clinic else IMAGING_MDC_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {"source": source,
                                "created": dt.datetime.now(dt.UTC).isoformat()}
    if method_version is not None:
        document["method_version"] = method_version
    document["metrics"] = [dict(item) for item in metrics]
    MdcTable().update(document, source)  # refuse to write what could not be read back
    path.write_text(json.dumps(document, indent=2, allow_nan=False), encoding="utf-8")
    return path


def judge_change(table: MdcTable, metric: str, region: str | None, before: float,
                 after: float, kind: str = "photo") -> tuple[Change, str | None]:
    """The change of a metric from ``before`` to ``after`` judged against its MDC95 in
    ``table`` (:func:`dermatrack.outcomes.change.change_from_baseline`, with the metric's
    better direction, ``METRIC_DIRECTIONS``, as the timelines), and the MDC's source
    (None: no MDC95 known, no verdict)."""
    from dermatrack.outcomes.change import change_from_baseline
    from dermatrack.services.outcomes.definitions import METRIC_DIRECTIONS

    found = table.lookup(kind, metric, region)
    mdc95, source = found if found is not None else (None, None)
    return change_from_baseline(before, after, mdc95, METRIC_DIRECTIONS.get(metric)), source


def judge_photo_changes(report: dict[str, Any], table: MdcTable) -> list[str]:
    """Add to every metric change of a ``photo compare`` report (``regions`` -> group ->
    metric -> ``{before, after, change, percent}``) its ``mdc95``, the MDC's
    ``mdc_source`` and ``verdict`` (:func:`judge_change`; None where no MDC95 is known for
    the metric and region); return the sources used. When one photograph is blurred or
    its skin smoothed (:func:`dermatrack.imaging.quality.fine_detail_differs`), the
    figures that need fine detail get ``"not comparable"`` instead.
    """
    from dermatrack.imaging.definitions import needs_fine_detail
    from dermatrack.imaging.quality import CaptureQuality, fine_detail_differs
    from dermatrack.outcomes.change import NOT_COMPARABLE

    capture = report.get("capture") or {}
    blurred = bool(capture.get("before") and capture.get("after")) and fine_detail_differs(
        CaptureQuality.from_dict(capture["before"]), CaptureQuality.from_dict(capture["after"]))
    sources: set[str] = set()
    for region, groups in report["regions"].items():
        for group, metrics in groups.items():
            if not isinstance(metrics, dict) or "before" in metrics:  # area_mm2
                continue
            for key, change in metrics.items():
                before, after = change.get("before"), change.get("after")
                if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           and math.isfinite(v) for v in (before, after)):
                    continue  # not measured, or a category (pigment.ita_category)
                code = f"{group}.{key}"
                judged, source = judge_change(table, code, region, before, after)
                if blurred and needs_fine_detail(code):
                    # One photograph blurred or smoothed: its lines, texture and pores
                    # fell with the capture.
                    change.update(mdc95=judged.mdc95, mdc_source=None, verdict=NOT_COMPARABLE)
                    continue
                change.update(mdc95=judged.mdc95, mdc_source=source, verdict=judged.verdict)
                if source is not None:
                    sources.add(source)
    return sorted(sources)
