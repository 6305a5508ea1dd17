"""Finding the swatch grid of a ColorChecker Classic in a photograph.

Two detectors propose where the 4 x 6 swatch grid lies; :mod:`.calibration` reads the
24 swatches at every proposal and keeps the one whose colours fit the reference chart
best, so a proposal that is not a chart (a keyboard, tiles) is rejected by its colours,
not by a shape rule.

1. **Swatch lattice** (:func:`lattice_candidates`). The chart's geometry is what is
   searched for: 24 flat, convex, four-sided swatches of one size, separated by dark
   gaps, on a lattice of two directions. At several working resolutions (so that a
   chart filling the frame and one a tenth of its width are both seen at a few tens of
   pixels per swatch), colour edges (Canny on the three CIELAB channels) cut the image
   into regions; regions that are convex quadrilaterals are swatch candidates;
   neighbours of similar area are linked, the two lattice directions are read from the
   links, and each candidate gets integer lattice coordinates by walking from
   neighbour to neighbour (so the lattice may bend under perspective). A homography
   from lattice to image is fitted to the candidates' centroids. Which of the 24
   places the found swatches occupy (the dark swatches often merge with the black
   frame, so a column or a row may be missing; the chart may lie at any of four
   quarter turns) is left open: every placement of the found block in the 6 x 4 grid
   is proposed.
2. **colour-checker-detection's segmentation** (:func:`segmentation_candidates`), the
   detector of colour-science's project (adaptive threshold, contours, swatch
   clustering) on a copy whose long side is 1440 px.

Every proposal is a homography from grid units (swatch centres at
``(column + 0.5, row + 0.5)``, columns 0-5 from dark skin to bluish green, rows 0-3)
to full-resolution pixel coordinates.

Limits
------
A swatch must span about 8 px or more at the finest working resolution (long side
4096 px): in an 8-megapixel photograph a chart about 5 % of the image width or larger.
A photograph smaller than the coarsest working side (1024 px) is searched enlarged to
each working side, since the edge detector's smoothing and the gaps' dilation are fixed
in pixels; what limits it is then its own resolution: the charts of the three real
phone photographs, shrunk, are found down to a swatch pitch of 5-8 px in the shrunk
photograph's pixels (missed at 4.3 and 6.5 px, where the gaps between swatches are
under a pixel wide). The search then costs 0.4-0.7 s more CPU (0.9-1.3 s instead of
0.5-0.7 s on the 512-600 px package and shared faces: three enlarged copies, up to
4096 px). Perspective is handled up to the point where the lattice directions change
by more than about a third of the pitch from one swatch to the next (views more than
about 60° off the chart's normal). A chart with more than a row or column hidden is
not found (at least 8 swatches, spanning at least 3 x 2, are needed).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from dermatrack.imaging.chart import SWATCH_COLUMNS, SWATCH_ROWS

__all__ = [
    "GridCandidate",
    "grid_centres",
    "lattice_candidates",
    "project_points",
    "segmentation_candidates",
]

#: Working long sides (px) at which the lattice search runs, coarsest first.
WORKING_SIDES = (1024, 2048, 4096)
#: Smallest swatch side searched for, px at the working resolution: below this the
#: gaps between swatches are lost in the edge detector's smoothing.
MIN_SWATCH_PX = 8
#: Fewest swatches, and smallest block (columns x rows), for a lattice proposal.
MIN_SWATCHES = 8
MIN_BLOCK = (3, 2)
# A swatch candidate: a region at least this convex (area over its hull) whose hull
# simplifies to a convex quadrilateral (a square in perspective) that it fills to within
# this fraction, with sides differing by at most a factor of 4 (a square seen at 75°
# from the normal).
_MIN_SOLIDITY = 0.88
_MIN_QUAD_FILL = 0.85
_MAX_ASPECT = 4.0
# Neighbours: areas within a factor of 2.5 (perspective across one pitch) and centres
# within 1.9 swatch sides (the diagonal neighbour is at 1.56 sides with the nominal
# 44 mm pitch on 40 mm swatches; prints with wider gaps reach about 1.8).
_MAX_AREA_RATIO = 2.5
_MAX_LINK = 1.9
# A step from one lattice node to the next matches a lattice vector to within this
# fraction of its length.
_STEP_TOLERANCE = 0.3


@dataclass(frozen=True)
class GridCandidate:
    """A proposed position of the swatch grid.

    Attributes
    ----------
    homography:
        ``(3, 3)`` map from grid units (swatch ``(column, row)`` centre at
        ``(column + 0.5, row + 0.5)``) to full-resolution pixel ``(x, y)``.
    detector:
        ``"lattice"`` or ``"segmentation"``.
    swatches_seen:
        How many swatches the detector itself found (the rest are read where the
        homography puts them).
    """

    homography: np.ndarray
    detector: str
    swatches_seen: int


def grid_centres() -> np.ndarray:
    """``(24, 2)`` grid-unit centres of the swatches, reading order."""
    rows, columns = np.mgrid[0:SWATCH_ROWS, 0:SWATCH_COLUMNS]
    return np.stack([columns.ravel() + 0.5, rows.ravel() + 0.5], axis=1).astype(np.float64)


# --------------------------------------------------------------------------------------
# Swatch lattice


def _swatch_regions(rgb8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroids ``(n, 2)`` and areas ``(n,)`` of convex four-sided flat regions."""
    import cv2

    lab = cv2.cvtColor(cv2.GaussianBlur(rgb8, (0, 0), 1.0), cv2.COLOR_RGB2Lab)
    # Thresholds on the 8-bit CIELAB channels: a step of about 8 L* units (or 12 in
    # a*, b*) between a swatch and the black gap is marked; sensor noise is not.
    channel_edges = [cv2.Canny(lab[..., channel], 40, 80, L2gradient=True)
                     for channel in range(3)]
    edges = cv2.dilate(np.maximum.reduce(channel_edges), np.ones((3, 3), np.uint8))
    flat = (edges == 0).astype(np.uint8)
    # Two-level hierarchy: outer boundaries of flat regions at the top, their holes
    # below; a hole's boundary (the frame around a swatch) is not a region.
    contours, hierarchy = cv2.findContours(flat, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return np.empty((0, 2)), np.empty(0)
    contours = [c for c, h in zip(contours, hierarchy[0], strict=True) if h[3] < 0]
    height, width = flat.shape
    max_area = (min(height, width) / SWATCH_ROWS) ** 2
    min_area = MIN_SWATCH_PX ** 2
    centroids, areas = [], []
    for contour in contours:
        if len(contour) < 4:
            continue
        area = cv2.contourArea(contour)
        if not min_area <= area <= max_area:
            continue
        hull = cv2.convexHull(contour)
        hull_area = cv2.contourArea(hull)
        if hull_area <= 0 or area / hull_area < _MIN_SOLIDITY:
            continue
        quad = cv2.approxPolyDP(hull, 0.06 * cv2.arcLength(hull, True), True)
        if len(quad) != 4 or not cv2.isContourConvex(quad):
            continue
        quad_area = cv2.contourArea(quad)
        if quad_area <= 0 or not _MIN_QUAD_FILL <= area / quad_area <= 1 / _MIN_QUAD_FILL:
            continue
        sides = np.linalg.norm(quad[:, 0] - np.roll(quad[:, 0], 1, axis=0), axis=1)
        if sides.min() <= 0 or sides.max() / sides.min() > _MAX_ASPECT:
            continue
        moments = cv2.moments(contour)
        centroids.append((moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]))
        areas.append(area)
    return np.asarray(centroids, dtype=np.float64).reshape(-1, 2), np.asarray(areas)


def _link_groups(centroids: np.ndarray, areas: np.ndarray) -> list[np.ndarray]:
    """Groups of candidates linked as neighbours (similar area, close), at least
    ``MIN_SWATCHES`` strong."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    count = len(centroids)
    if count < MIN_SWATCHES:
        return []
    sides = np.sqrt(areas)
    tree = cKDTree(centroids)
    pairs = tree.query_pairs(_MAX_LINK * float(sides.max()), output_type="ndarray")
    if len(pairs) == 0:
        return []
    first, second = pairs[:, 0], pairs[:, 1]
    distance = np.linalg.norm(centroids[first] - centroids[second], axis=1)
    ratio = areas[first] / areas[second]
    keep = ((np.maximum(ratio, 1 / ratio) <= _MAX_AREA_RATIO)
            & (distance <= _MAX_LINK * np.minimum(sides[first], sides[second]))
            & (distance >= 0.8 * np.minimum(sides[first], sides[second])))
    graph = coo_matrix((np.ones(int(keep.sum())), (first[keep], second[keep])),
                       shape=(count, count))
    labels_count, labels = connected_components(graph, directed=False)
    groups = [np.flatnonzero(labels == label) for label in range(labels_count)]
    return [group for group in groups if len(group) >= MIN_SWATCHES]


def _lattice_vectors(points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The two lattice directions of a group: from each point to its nearest neighbours,
    the two most common directions (modulo 180°) with their median lengths."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    distances, indices = tree.query(points, k=min(5, len(points)))
    nearest = np.median(distances[:, 1])
    vectors = []
    for row, (dist_row, index_row) in enumerate(zip(distances, indices, strict=True)):
        for dist, index in zip(dist_row[1:], index_row[1:], strict=True):
            if dist <= 1.3 * nearest:
                vectors.append(points[index] - points[row])
    if len(vectors) < 4:
        return None
    vecs = np.asarray(vectors)
    angles = np.degrees(np.arctan2(vecs[:, 1], vecs[:, 0])) % 180
    histogram, edges = np.histogram(angles, bins=36, range=(0, 180))
    # Circular smoothing over neighbouring 5° bins.
    smooth = histogram + np.roll(histogram, 1) + np.roll(histogram, -1)
    first_bin = int(np.argmax(smooth))
    first = (edges[first_bin] + 2.5) % 180

    def spread(angle: np.ndarray, centre: float) -> np.ndarray:
        return np.abs((angle - centre + 90) % 180 - 90)

    far = spread((edges[:-1] + 2.5) % 180, first) >= 35
    if not far.any():
        return None
    second_bin = int(np.flatnonzero(far)[np.argmax(smooth[far])])
    second = (edges[second_bin] + 2.5) % 180
    basis = []
    for centre in (first, second):
        members = vecs[spread(angles, centre) <= 12]
        if len(members) == 0:
            return None
        # Point every member the same way before taking the median.
        reference = np.array([np.cos(np.radians(centre)), np.sin(np.radians(centre))])
        members = members * np.sign(members @ reference)[:, None]
        basis.append(np.median(members, axis=0))
    u, v = basis
    # Right-handed in image coordinates (x right, y down): the cross product is positive.
    if u[0] * v[1] - u[1] * v[0] < 0:
        v = -v
    return u, v


def _walk_lattice(points: np.ndarray, u: np.ndarray, v: np.ndarray) -> dict[int, tuple[int, int]]:
    """Integer lattice coordinates by breadth-first walking between neighbours.

    Each step's vector is taken from the step that reached the current point where
    possible, so the directions may change slowly across the chart (perspective).
    """
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    centre = points.mean(axis=0)
    seed = int(np.argmin(np.linalg.norm(points - centre, axis=1)))
    coords: dict[int, tuple[int, int]] = {seed: (0, 0)}
    local: dict[int, tuple[np.ndarray, np.ndarray]] = {seed: (u, v)}
    queue = deque([seed])
    taken: dict[tuple[int, int], int] = {(0, 0): seed}
    while queue:
        current = queue.popleft()
        cu, cv = local[current]
        i, j = coords[current]
        for step, (di, dj) in ((cu, (1, 0)), (-cu, (-1, 0)), (cv, (0, 1)), (-cv, (0, -1))):
            target = points[current] + step
            distance, index = tree.query(target)
            if distance > _STEP_TOLERANCE * np.linalg.norm(step):
                continue
            index = int(index)
            node = (i + di, j + dj)
            if index in coords or node in taken:
                continue
            coords[index] = node
            taken[node] = index
            actual = points[index] - points[current]
            if di:
                local[index] = (actual * di, cv)
            else:
                local[index] = (cu, actual * dj)
            queue.append(index)
    return coords


def _placements(coords: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every way the walked block fits the 6 x 4 grid: four quarter turns and each
    offset. Returns ``(grid_centres_of_the_points, keep_mask)`` pairs."""
    out = []
    for turn in range(4):
        i, j = coords[:, 0].astype(np.int64), coords[:, 1].astype(np.int64)
        for _ in range(turn):  # a quarter turn of the lattice: (i, j) -> (-j, i)
            i, j = -j, i
        i = i - i.min()
        j = j - j.min()
        span_i, span_j = int(i.max()) + 1, int(j.max()) + 1
        if span_i < MIN_BLOCK[0] and span_j < MIN_BLOCK[0]:
            continue
        if min(span_i, span_j) < MIN_BLOCK[1]:
            continue
        # A larger block (a grid of similar squares around the chart) is cut into
        # every 6 x 4 window; a smaller one is placed at every offset.
        for offset_i in range(min(0, SWATCH_COLUMNS - span_i), max(0, SWATCH_COLUMNS - span_i) + 1):
            for offset_j in range(min(0, SWATCH_ROWS - span_j), max(0, SWATCH_ROWS - span_j) + 1):
                columns, rows = i + offset_i, j + offset_j
                keep = ((columns >= 0) & (columns < SWATCH_COLUMNS)
                        & (rows >= 0) & (rows < SWATCH_ROWS))
                if keep.sum() < MIN_SWATCHES:
                    continue
                grid = np.stack([columns + 0.5, rows + 0.5], axis=1).astype(np.float64)
                out.append((grid, keep))
    return out


def lattice_candidates(rgb: np.ndarray,
                       working_sides: tuple[int, ...] = WORKING_SIDES) -> list[GridCandidate]:
    """Propose swatch-grid positions from lattices of flat quadrilaterals.

    Parameters
    ----------
    rgb:
        ``(H, W, 3)`` float32 sRGB image in [0, 1].
    working_sides:
        Long sides (px) of the working copies searched, coarsest first. A larger image
        is shrunk to each (area averaging) and searched once at its own size for the
        sides above it; an image smaller than the first side is enlarged to each
        (bilinear).

    Returns
    -------
    list of GridCandidate
        One per placement of each lattice found (see the module docstring); possibly
        empty.
    """
    import cv2

    rgb = np.asarray(rgb, dtype=np.float32)
    height, width = rgb.shape[:2]
    long_side = max(height, width)
    rgb8 = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    candidates: list[GridCandidate] = []
    done: set[float] = set()
    # A photograph smaller than the coarsest working side (a thumbnail, a web image) is
    # searched enlarged to every working side: the edge detector's smoothing and the
    # gaps' dilation are fixed in pixels, so its chart's thin gaps were lost to them. A
    # larger photograph is searched at the sides below its own size and at that size.
    enlarge = long_side < working_sides[0]
    for side in working_sides:
        factor = side / long_side if enlarge else min(1.0, side / long_side)
        if factor in done:
            continue
        done.add(factor)
        working = rgb8 if factor == 1.0 else cv2.resize(
            rgb8, (max(1, round(width * factor)), max(1, round(height * factor))),
            interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
        # Working pixel centre x' maps to (x' + 0.5) / factor - 0.5 in the image.
        to_image = np.array([[1 / factor, 0, 0.5 / factor - 0.5],
                             [0, 1 / factor, 0.5 / factor - 0.5], [0, 0, 1]])
        centroids, areas = _swatch_regions(working)
        for group in _link_groups(centroids, areas):
            points = centroids[group]
            basis = _lattice_vectors(points)
            if basis is None:
                continue
            walked = _walk_lattice(points, *basis)
            if len(walked) < MIN_SWATCHES:
                continue
            indices = np.array(list(walked.keys()))
            coords = np.array([walked[k] for k in indices])
            image_points = points[indices]
            for grid, keep in _placements(coords):
                homography, _ = cv2.findHomography(grid[keep], image_points[keep], 0)
                if homography is None:
                    continue
                candidates.append(GridCandidate(homography=to_image @ homography,
                                                detector="lattice",
                                                swatches_seen=int(keep.sum())))
    return candidates


# --------------------------------------------------------------------------------------
# colour-checker-detection's segmentation detector


def _order_corners(quad: np.ndarray) -> np.ndarray:
    """Order corners so that 0->1 runs along a long side and the polygon is clockwise
    in image coordinates (y down)."""
    quad = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]  # clockwise on screen
    if np.linalg.norm(quad[1] - quad[0]) < np.linalg.norm(quad[2] - quad[1]):
        quad = np.roll(quad, -1, axis=0)
    return quad


def project_points(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``(3, 3)`` homography to ``(n, 2)`` points."""
    import cv2

    return cv2.perspectiveTransform(np.asarray(points, dtype=np.float64).reshape(-1, 1, 2),
                                    homography).reshape(-1, 2)


def _refine_with_swatches(homography: np.ndarray, swatch_centroids: np.ndarray) -> np.ndarray:
    """Re-fit the grid homography to the detected swatch centroids.

    The detector's rectangle is built from swatch contours inflated by a fixed factor,
    so its corners sit outside the swatch grid; the swatch centroids do not have that
    bias, which matters for the physical scale.
    """
    import cv2

    centres = grid_centres()
    predicted = project_points(homography, centres)
    pitch = np.linalg.norm(predicted[1] - predicted[0])
    grid_points, image_points = [], []
    for centre, guess in zip(centres, predicted, strict=True):
        if len(swatch_centroids) == 0:
            break
        distances = np.linalg.norm(swatch_centroids - guess, axis=1)
        nearest = int(np.argmin(distances))
        if distances[nearest] < 0.35 * pitch:
            grid_points.append(centre)
            image_points.append(swatch_centroids[nearest])
    if len(grid_points) < 8:
        return homography
    refined, _ = cv2.findHomography(np.array(grid_points), np.array(image_points), 0)
    return homography if refined is None else refined


def segmentation_candidates(rgb: np.ndarray) -> list[GridCandidate]:
    """Propose swatch-grid positions with colour-checker-detection's segmenter.

    The detector turns a portrait image to landscape and brings its long side to its
    working width (1440 px); both are done here so that its coordinates can be mapped
    back. Each rectangle it finds gives two proposals: as found and turned by 180° (the
    detector does not know which way up the chart is).
    """
    import cv2
    from colour_checker_detection.detection.segmentation import (
        SETTINGS_SEGMENTATION_COLORCHECKER_CLASSIC,
        segmenter_default,
    )

    from dermatrack.imaging.colour import linear_to_srgb

    settings = dict(SETTINGS_SEGMENTATION_COLORCHECKER_CLASSIC)
    working_width = int(settings["working_width"])
    rgb = np.asarray(rgb, dtype=np.float32)
    height, width = rgb.shape[:2]
    factor = working_width / max(height, width)
    working = cv2.resize(rgb, (max(1, round(width * factor)), max(1, round(height * factor))),
                         interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
    portrait = height > width
    if portrait:
        working = cv2.rotate(working, cv2.ROTATE_90_CLOCKWISE)
    # The detector sRGB-encodes its input first (colour-science's float64 curve, a fifth
    # of its time); the float32 look-up table does the same to within 3e-4, and gave
    # the same rectangles and swatches on rendered charts of every size.
    segmentation = segmenter_default(linear_to_srgb(working), apply_cctf_encoding=False,
                                     additional_data=True, **settings)
    rows_before_turn = working.shape[1]

    def to_image(points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if portrait:  # undo the clockwise quarter turn: (x', y') -> (y', rows - 1 - x')
            points = np.stack([points[:, 1], rows_before_turn - 1 - points[:, 0]], axis=1)
        return points / factor

    swatches = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in segmentation.swatches]
    centroids = (np.array([s.mean(axis=0) for s in swatches]) if swatches
                 else np.empty((0, 2)))
    grid = np.array([[0, 0], [SWATCH_COLUMNS, 0], [SWATCH_COLUMNS, SWATCH_ROWS],
                     [0, SWATCH_ROWS]], dtype=np.float32)
    turn = np.array([[-1, 0, SWATCH_COLUMNS], [0, -1, SWATCH_ROWS], [0, 0, 1]], float)
    found = []
    for rectangle in segmentation.rectangles:
        quad = np.asarray(rectangle, dtype=np.float64).reshape(4, 2)
        inside = np.array([c for c in centroids
                           if cv2.pointPolygonTest(quad.astype(np.float32),
                                                   (float(c[0]), float(c[1])), False) >= 0])
        corners = _order_corners(to_image(quad))
        homography = cv2.getPerspectiveTransform(grid, corners.astype(np.float32))
        homography = _refine_with_swatches(homography, to_image(inside) if len(inside)
                                           else np.empty((0, 2)))
        for matrix in (homography, homography @ turn):
            found.append(GridCandidate(homography=matrix, detector="segmentation",
                                       swatches_seen=len(inside)))
    return found
