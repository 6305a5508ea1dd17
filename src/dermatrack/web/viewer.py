"""The before/after viewer's images: the baseline, the follow-up aligned onto it, and a
colour-change overlay.

The follow-up is registered onto the baseline by
:func:`dermatrack.imaging.align.align_to_baseline` (landmarks when a face is found, then
ECC) once, when it is stored, and read back here
(:func:`dermatrack.services.derived.aligned_displays`). The features the analysis found
(wrinkles, spots, red areas, pores) come as transparent colour layers, before and after,
for the viewer's toggles (:mod:`dermatrack.imaging.overlays`). The change overlay marks
where the colour changed: the CIE 1976 colour difference
ΔE*ab = ‖Lab_followup − Lab_baseline‖ per pixel (CIE 15:2004), shown transparent below
:data:`VISIBLE_DELTA_E` (about one just-noticeable difference, 2.3 for ΔE*ab; Sharma &
Trussell 1997, "Digital color imaging", IEEE Trans. Image Process. 6(7):901-932) and
from yellow to red up to :data:`SATURATED_DELTA_E`. Pixels the follow-up does not cover
stay transparent. Images are downscaled to :data:`DISPLAY_SIZE` for the screen; the
metrics are computed on the full photographs elsewhere.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fastapi import FastAPI

    from dermatrack.services.common import Store
    from dermatrack.services.derived import AlignedDisplays

LAYERS = ("baseline", "aligned", "change") + tuple(
    f"{feature}_{side}" for side in ("before", "after")
    for feature in ("wrinkles", "spots", "redness", "pores"))
DISPLAY_SIZE = 1024
"""Long side, in pixels, of the images the viewer shows."""
VISIBLE_DELTA_E = 2.3
SATURATED_DELTA_E = 15.0
OVERLAY_ALPHA = 0.75
"""Opacity of a saturated change pixel."""
_CACHE_SIZE = 8


@dataclass(frozen=True)
class AlignedPair:
    """Encoded PNG layers of one baseline/follow-up pair and how they were aligned."""

    layers: dict[str, bytes]
    method: str
    correlation: float | None
    changed_fraction: float
    analysed: bool = True

    def png(self, layer: str) -> bytes:
        return self.layers[layer]


def _png(rgb_or_rgba: np.ndarray) -> bytes:
    import cv2

    pixels = (np.clip(rgb_or_rgba, 0, 1) * 255 + 0.5).astype(np.uint8)
    code = cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(pixels, code))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buffer.tobytes()


def change_overlay(baseline: np.ndarray, aligned: np.ndarray,
                   valid: np.ndarray) -> tuple[np.ndarray, float]:
    """RGBA overlay of the colour difference and the fraction of compared pixels changed.

    Parameters
    ----------
    baseline, aligned:
        ``(H, W, 3)`` float sRGB in [0, 1] on the same grid.
    valid:
        Bool ``(H, W)``: pixels compared: the skin both photographs show
        (``AlignedDisplays.compared``), or all the aligned follow-up covers.
    """
    from dermatrack.imaging.colour import srgb_to_lab

    delta_e = np.linalg.norm(srgb_to_lab(aligned) - srgb_to_lab(baseline), axis=2)
    strength = np.clip((delta_e - VISIBLE_DELTA_E) / (SATURATED_DELTA_E - VISIBLE_DELTA_E),
                       0, 1)
    strength[~valid] = 0
    overlay = np.zeros((*delta_e.shape, 4), dtype=np.float32)
    overlay[..., 0] = 1.0
    overlay[..., 1] = 1.0 - strength  # yellow (small change) to red (large change)
    overlay[..., 3] = np.where(strength > 0, 0.25 + (OVERLAY_ALPHA - 0.25) * strength, 0)
    covered = int(valid.sum())
    changed = float((strength[valid] > 0).sum() / covered) if covered else 0.0
    return overlay, changed


def render_pair(pair: AlignedDisplays) -> AlignedPair:
    """Render the layers of a stored pair (:class:`dermatrack.services.derived.AlignedDisplays`):
    the two photographs, the colour change, and each detected feature before and after
    as a transparent layer the viewer can toggle (no I/O, no alignment)."""
    from dermatrack.imaging.overlays import FEATURES, layer_rgba

    overlay, changed = change_overlay(pair.baseline, pair.aligned, pair.compared)
    layers = {"baseline": _png(pair.baseline), "aligned": _png(pair.aligned),
              "change": _png(overlay)}
    for side, masks in (("before", pair.baseline_masks), ("after", pair.aligned_masks)):
        for feature in FEATURES:
            mask = (masks or {}).get(feature)
            if mask is None:
                mask = np.zeros(pair.baseline.shape[:2], bool)
            layers[f"{feature}_{side}"] = _png(layer_rgba(mask, feature))
    alignment = pair.alignment
    return AlignedPair(layers=layers, method=alignment["method"],
                       correlation=alignment.get("ecc_correlation"),
                       changed_fraction=changed,
                       analysed=pair.baseline_masks is not None
                       and pair.aligned_masks is not None)


_lock = threading.Lock()


def aligned_pair(app: FastAPI, store: Store, baseline_id: str, followup_id: str) -> AlignedPair:
    """The rendered pair, kept in a small per-app cache (the viewer asks for three layers
    of the same pair at once)."""
    from dermatrack.services.derived import aligned_displays

    with _lock:
        cache = getattr(app.state, "viewer_cache", None)
        if cache is None:
            cache = app.state.viewer_cache = OrderedDict()
        key = (baseline_id, followup_id)
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    pair = render_pair(aligned_displays(store, baseline_id, followup_id))
    with _lock:
        cache[key] = pair
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return pair
