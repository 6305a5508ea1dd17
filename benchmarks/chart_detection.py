"""Detection rate of the ColorChecker on generated and real photographs.

Generated cases: a rendered ColorChecker Classic (reference sRGB colours,
``chart.render_colorchecker``) is drawn in perspective (``chart.warp_chart``) into one of
scikit-image's real photographs (astronaut, coffee, chelsea, rocket; and the brick,
gravel and grass textures as a floor), enlarged to a 2400 px long side, at a random

* size: the swatch grid spans 8 % to 60 % of the image's short side;
* angle: any rotation in the image plane (0-360°);
* perspective: each corner moved by up to 15 % of the chart's size (a view up to about
  40° off the chart's normal);
* lighting: a camera colour cast (per-channel gains 0.75-1.25 and a 3x3 crosstalk of up
  to 0.08), an exposure gain of 0.5-1.2, a tone exponent of 0.8-1.3, a linear
  illumination gradient across the frame (0.7-1.0), sensor noise (σ = 0.01) and JPEG
  quality 85.

A case counts as found when the calibration is applied and the dark-skin corner and
the other three corners of the found grid lie within a third of a swatch pitch of where
the chart was drawn.

Real cases: the photographs in ``--real`` (default ``shared/realdata/colorchecker``
beside the working directory or a parent of it),
whose screen chart (``--screen``) must be refused and whose other charts found.

Each detector is run alone (``--detectors``): ``segmentation`` (colour-checker-detection
only, what dermatrack used before the lattice search), ``lattice``, and ``both`` (what
``calibrate_with_colorchecker`` does).

Run: ``.venv/bin/python benchmarks/chart_detection.py --cases 60``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from dermatrack.imaging import calibration as calib
from dermatrack.imaging import chart_detection
from dermatrack.imaging.chart import render_colorchecker, warp_chart
from dermatrack.imaging.colour import linear_to_srgb, srgb_to_linear

BACKGROUNDS = ("astronaut", "coffee", "chelsea", "rocket", "brick", "gravel", "grass")


def _background(name: str, long_side: int = 2400) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    image = image[..., :3].astype(np.float32) / 255
    factor = long_side / max(image.shape[:2])
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def generated_case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An image with a chart drawn in it, the ``(4, 2)`` image corners of the swatch
    grid (dark-skin corner first, as ``ChartCalibration.chart_quad``) and the pitch, px."""
    rng = np.random.default_rng(seed)
    background = _background(BACKGROUNDS[seed % len(BACKGROUNDS)])
    height, width = background.shape[:2]
    chart, geometry = render_colorchecker(60)
    grid_w = geometry.grid_quad[1, 0] - geometry.grid_quad[0, 0]
    span = rng.uniform(0.08, 0.6) * min(height, width) * geometry.width_px / grid_w
    aspect = geometry.height_px / geometry.width_px
    angle = rng.uniform(0, 2 * np.pi)
    half = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]]) * span / 2
    half += rng.uniform(-0.15, 0.15, (4, 2)) * span
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    extent = np.abs(half @ rotation.T).max(axis=0)
    centre = np.array([rng.uniform(extent[0], max(extent[0] + 1, width - extent[0])),
                       rng.uniform(extent[1], max(extent[1] + 1, height - extent[1]))])
    corners = half @ rotation.T + centre
    image, homography = warp_chart(background, chart, corners)
    grid = chart_detection.project_points(homography, geometry.grid_quad)
    pitch = float(np.linalg.norm(grid[1] - grid[0])) / 6

    cast = np.diag(rng.uniform(0.75, 1.25, 3)) + rng.uniform(0, 0.08, (3, 3))
    linear = srgb_to_linear(image) @ (cast * rng.uniform(0.5, 1.2)).T.astype(np.float32)
    ramp_angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xs * np.cos(ramp_angle) + ys * np.sin(ramp_angle))
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    linear *= (1.0 - rng.uniform(0, 0.3) * ramp)[..., None]
    encoded = linear_to_srgb(linear) ** np.float32(rng.uniform(0.8, 1.3))
    encoded += rng.normal(0, 0.01, encoded.shape).astype(np.float32)
    rgb8 = (np.clip(encoded, 0, 1) * 255 + 0.5).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", rgb8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    return decoded, grid, pitch


def _shared_charts() -> Path:
    """``shared/realdata/colorchecker`` beside the working directory or a parent."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "shared" / "realdata" / "colorchecker").is_dir():
            return folder / "shared" / "realdata" / "colorchecker"
    return here / "shared" / "realdata" / "colorchecker"


def _calibrate(rgb: np.ndarray, detectors: str) -> calib.ChartCalibration:
    """``calibrate_with_colorchecker`` with only some of the proposal sources."""
    original = (calib.lattice_candidates, calib.segmentation_candidates)
    try:
        if detectors == "segmentation":
            calib.lattice_candidates = lambda rgb: []  # type: ignore[assignment]
        elif detectors == "lattice":
            calib.segmentation_candidates = lambda rgb: []  # type: ignore[assignment]
        return calib.calibrate_with_colorchecker(rgb)
    finally:
        calib.lattice_candidates, calib.segmentation_candidates = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--detectors", nargs="+", default=["segmentation", "lattice", "both"])
    parser.add_argument("--real", type=Path, default=_shared_charts())
    parser.add_argument("--screen", nargs="*", default=["IMG_20140613_203500"])
    args = parser.parse_args()

    cases = [generated_case(seed) for seed in range(args.cases)]
    real = {}
    if args.real.is_dir():
        for path in sorted(args.real.glob("*.jpg")):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            real[path.stem] = bgr[..., ::-1].astype(np.float32) / 255
    for detectors in args.detectors:
        found, errors_max, seconds = 0, [], []
        for image, grid, pitch in cases:
            start = time.process_time()
            result = _calibrate(image, detectors)
            seconds.append(time.process_time() - start)
            if result.applied and result.chart_quad is not None:
                offsets = np.linalg.norm(result.chart_quad - grid, axis=1)
                if offsets.max() < pitch / 3:
                    found += 1
                    errors_max.append(result.delta_e2000_max)
        line = (f"{detectors:>12}: generated {found}/{len(cases)} found "
                f"({100 * found / max(1, len(cases)):.0f} %), median CPU "
                f"{np.median(seconds):.2f} s")
        if errors_max:
            line += f", ΔE2000 max of found: median {np.median(errors_max):.1f}"
        if real:
            printed = [n for n in real if n not in args.screen]
            results = {n: _calibrate(rgb, detectors) for n, rgb in real.items()}
            line += (f"; real printed {sum(results[n].applied for n in printed)}/"
                     f"{len(printed)} found, screen refused "
                     f"{sum(not results[n].applied for n in args.screen if n in results)}/"
                     f"{sum(n in results for n in args.screen)}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
