"""The photo method's version changes whenever its figures do.

Stored figures record the version that measured them, and figures of two versions are
not compared (:data:`dermatrack.imaging.definitions.PHOTO_METHOD_VERSION`). That holds
only if every change that moves a figure also changes the version. This test measures a
real face (matplotlib's grace_hopper, every region) and a phantom close-up, and compares
every figure with those recorded for the current version in ``method_reference.json``.
When a change moves them, change ``PHOTO_METHOD_VERSION`` and record the new figures:

    PYTHONPATH=src .venv/bin/python tests/imaging/test_method_version.py --record
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

REFERENCE = Path(__file__).with_name("method_reference.json")
#: Same pixels, same code: the figures agree to float rounding (summation order), far
#: below what any change of the method moves.
REL_TOLERANCE = 1e-5


def measured_figures() -> dict[str, dict[str, float | None]]:
    """Every figure of the two reference photographs, by ``region/metric``."""
    import numpy as np

    from dermatrack.imaging.analysis import photo_result, run_analysis
    from dermatrack.imaging.io import sample_face
    from dermatrack.imaging.phantom import make_phantom, random_spec

    face = np.asarray(sample_face("grace_hopper"), np.float32)
    spec = random_spec(np.random.default_rng(3), width=480, height=360, mm_per_px=0.06)
    closeup = np.clip(make_phantom(spec, np.random.default_rng(3)).rgb, 0, 1)
    out = {}
    for name, rgb, options in (("grace_hopper", face, {}),
                               ("closeup_phantom", closeup,
                                {"mm_per_px": 0.06, "use_face": False})):
        result = photo_result(run_analysis(rgb, **options))
        out[name] = {f"{m.region}/{m.code}": m.value for m in result.metrics}
    return out


def _moved(recorded: dict[str, float | None], now: dict[str, float | None]) -> list[str]:
    moved = sorted(set(recorded) ^ set(now))
    for key in sorted(set(recorded) & set(now)):
        a, b = recorded[key], now[key]
        if (a is None) != (b is None) or (
                a is not None and b is not None
                and not math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-9)):
            moved.append(f"{key}: {a} -> {b}")
    return moved


def test_the_figures_are_those_recorded_for_this_version():
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION

    reference = json.loads(REFERENCE.read_text())
    assert reference["method_version"] == PHOTO_METHOD_VERSION, (
        f"PHOTO_METHOD_VERSION is {PHOTO_METHOD_VERSION} but the reference figures are of "
        f"{reference['method_version']}: record them (this module's docstring)")
    now = measured_figures()
    moved = {name: _moved(reference["figures"][name], figures)
             for name, figures in now.items()}
    moved = {name: keys for name, keys in moved.items() if keys}
    assert not moved, (
        "photo figures moved without a new PHOTO_METHOD_VERSION (change it, then record "
        f"the figures; this module's docstring): {json.dumps(moved, indent=1)[:3000]}")


def test_a_moved_figure_is_caught():
    """The comparison this test rests on names a figure moved by one part in 10 000,
    a figure that became null, and one that appeared."""
    recorded = {"whole/a": 100.0, "whole/b": 1.0, "whole/c": None}
    assert _moved(recorded, dict(recorded)) == []
    assert _moved(recorded, {**recorded, "whole/a": 100.01}) == ["whole/a: 100.0 -> 100.01"]
    assert _moved(recorded, {**recorded, "whole/b": None}) == ["whole/b: 1.0 -> None"]
    assert _moved(recorded, {**recorded, "whole/d": 2.0}) == ["whole/d"]


if __name__ == "__main__" and "--record" in sys.argv:
    sys.path.insert(0, str(Path(__file__).parents[2] / "src"))
    from dermatrack.imaging.definitions import PHOTO_METHOD_VERSION

    REFERENCE.write_text(json.dumps({"method_version": PHOTO_METHOD_VERSION,
                                     "figures": measured_figures()}, indent=1,
                                    sort_keys=True) + "\n")
    print(f"recorded the figures of photo method {PHOTO_METHOD_VERSION} in {REFERENCE}")
