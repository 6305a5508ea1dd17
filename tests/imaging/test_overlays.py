"""Feature overlays: masks survive reduction and packing, colours land where detected."""

from __future__ import annotations

import numpy as np


def test_thin_features_survive_reduction_and_packing():
    from dermatrack.imaging.overlays import display_shape, pack_masks, unpack_masks

    shape = (3000, 4000)
    masks = {name: np.zeros(shape, bool) for name in ("wrinkles", "spots", "redness", "pores")}
    masks["wrinkles"][1500, 100:3900] = True  # one pixel wide
    masks["spots"][200:260, 300:360] = True
    masks["pores"][2500, 2500] = True  # a single pixel
    small = display_shape(shape)
    assert max(small) == 1024
    unpacked = unpack_masks(pack_masks(masks, small))
    assert unpacked["wrinkles"].sum() >= 0.9 * 3800 * small[1] / shape[1]
    assert unpacked["pores"].sum() >= 1 and not unpacked["redness"].any()
    rows, cols = np.nonzero(unpacked["spots"])
    assert abs(rows.mean() - 230 * small[0] / shape[0]) < 2
    assert abs(cols.mean() - 330 * small[1] / shape[1]) < 2


def test_colour_overlay_paints_each_feature_in_its_colour_only_there():
    from dermatrack.imaging.overlays import FEATURE_COLOURS, colour_overlay, layer_rgba

    rgb = np.full((40, 40, 3), 0.6, np.float32)
    masks = {name: np.zeros((40, 40), bool) for name in FEATURE_COLOURS}
    masks["wrinkles"][5, :] = True
    masks["spots"][20:24, 20:24] = True
    masks["redness"][30:38, 2:10] = True
    out = colour_overlay(rgb, masks)
    untouched = ~(masks["wrinkles"] | masks["spots"] | masks["redness"])
    assert np.allclose(out[untouched], 0.6)
    for name in ("wrinkles", "spots", "redness"):
        painted = out[masks[name]].mean(axis=0)
        colour = np.asarray(FEATURE_COLOURS[name])
        # closer to the feature's colour than the skin was
        assert np.linalg.norm(painted - colour) < np.linalg.norm(0.6 - colour)
    only = colour_overlay(rgb, masks, features=("spots",))
    assert np.allclose(only[masks["wrinkles"]], 0.6)
    layer = layer_rgba(masks["pores"] | masks["spots"], "pores")
    assert layer.shape == (40, 40, 4) and layer[0, 0, 3] == 0 and layer[21, 21, 3] > 0.5


def test_legend_labels_never_run_off_the_image():
    from dermatrack.imaging.overlays import with_legend

    image = np.zeros((300, 1200, 3), np.float32)
    entries = [("Wrinkles only before", (0.0, 0.6, 1.0)), ("Wrinkles only after", (1, 0.2, 0.6)),
               ("Wrinkles in both", (1.0, 1.0, 1.0)),
               ("Skin hidden after (hatched): not compared", (0.6, 0.6, 0.6))]
    out = with_legend(image, entries)
    band = out[300:]
    # Nothing is drawn in the last pixels of each row: every label ends inside the image.
    assert band[:, -3:].min() == 1.0
    assert band.shape[0] > 2 * 37  # two rows of entries (37 px each) at this width
