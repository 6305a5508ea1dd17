"""A neutral face diagram (front and both profiles) as SVG, with treatment marks.

Marks are stored as coordinates relative to a view of the diagram: ``x`` from 0 (left
edge) to 1 (right edge) and ``y`` from 0 (top) to 1 (bottom), so they do not depend on the
size the diagram is drawn at. The drawing is schematic (an outline, eyes, brows, nose,
mouth and ears), not an anatomical atlas; the right profile is the left one mirrored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

VIEWS = ("front", "left", "right")
VIEW_LABELS = {"front": "Front", "left": "Left profile", "right": "Right profile"}
KINDS = ("zone", "pass", "injection", "test_spot")
KIND_LABELS = {"zone": "treated zone", "pass": "pass", "injection": "injection point",
               "test_spot": "test spot"}
POINTS_NEEDED = {"zone": (3, 64), "pass": (2, 64), "injection": (1, 1), "test_spot": (1, 1)}
"""(minimum, maximum) points per mark kind: a polygon, a polyline, a single point."""

WIDTH, HEIGHT = 200.0, 260.0
"""Size of a view in SVG user units (the aspect ratio marks are relative to)."""

_COLOURS = {"zone": "#2f7d6d", "pass": "#3465a4", "injection": "#b3261e",
            "test_spot": "#8a5a00"}

_FRONT = """
<ellipse cx="100" cy="128" rx="68" ry="92" class="skin"/>
<ellipse cx="30" cy="130" rx="8" ry="18" class="skin"/>
<ellipse cx="170" cy="130" rx="8" ry="18" class="skin"/>
<path d="M36 92 Q100 20 164 92" class="line"/>
<path d="M58 100 Q72 92 88 99" class="line"/>
<path d="M112 99 Q128 92 142 100" class="line"/>
<path d="M60 114 Q73 106 86 114 Q73 121 60 114 Z" class="line"/>
<path d="M114 114 Q127 106 140 114 Q127 121 114 114 Z" class="line"/>
<path d="M100 112 L94 150 Q100 156 106 150" class="line"/>
<path d="M80 180 Q100 172 120 180 Q100 192 80 180 Z" class="line"/>
<path d="M74 205 Q100 222 126 205" class="line faint"/>
"""

_LEFT = """
<path d="M118 32 Q176 36 178 112 Q180 176 150 214 L146 246 L96 246 L98 222
         Q80 214 78 202 Q70 198 72 188 Q64 184 68 176 Q60 170 66 162 Q64 156 72 150
         Q56 146 52 138 Q52 130 62 118 Q70 104 70 96 Q66 62 118 32 Z" class="skin"/>
<ellipse cx="134" cy="128" rx="10" ry="19" class="line"/>
<path d="M76 100 Q86 96 96 100" class="line"/>
<path d="M80 113 Q86 109 92 113 Q86 116 80 113 Z" class="line"/>
<path d="M68 164 Q74 166 80 164" class="line faint"/>
<path d="M78 30 Q120 14 160 44" class="line faint"/>
"""


def _view_body(view: str) -> str:
    if view == "front":
        return _FRONT
    if view == "left":
        return _LEFT
    if view == "right":
        return f'<g transform="translate({WIDTH:g} 0) scale(-1 1)">{_LEFT}</g>'
    raise ValueError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")


def check_points(kind: str, points: Sequence[Sequence[float]]) -> list[list[float]]:
    """The points of a mark as ``[[x, y], ...]``, checked against its kind.

    Raises
    ------
    ValueError
        Unknown kind, the wrong number of points, or a coordinate outside [0, 1].
    """
    if kind not in POINTS_NEEDED:
        raise ValueError(f"unknown mark kind {kind!r}; expected one of {', '.join(KINDS)}")
    low, high = POINTS_NEEDED[kind]
    if not low <= len(points) <= high:
        need = f"{low}" if low == high else f"{low} to {high}"
        raise ValueError(f"a {KIND_LABELS[kind]} needs {need} points, got {len(points)}")
    checked = []
    for i, point in enumerate(points):
        if len(point) != 2:
            raise ValueError(f"point {i} is not an [x, y] pair")
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"point {i} ({x:g}, {y:g}) lies outside the diagram "
                             "(coordinates run from 0 to 1)")
        checked.append([round(x, 4), round(y, 4)])
    return checked


def _mark_svg(mark: Mapping[str, Any], number: int) -> str:
    kind = mark["kind"]
    colour = _COLOURS.get(kind, "#333")
    xy = [(p[0] * WIDTH, p[1] * HEIGHT) for p in mark["points"]]
    title = f"<title>{escape(str(mark.get('label') or KIND_LABELS.get(kind, kind)))}</title>"
    attrs = f'class="mark mark-{kind}" data-kind="{kind}"'
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    if kind == "zone":
        shape = (f'<polygon {attrs} points="{coords}" fill="{colour}" fill-opacity="0.25" '
                 f'stroke="{colour}" stroke-width="1.5"/>')
    elif kind == "pass":
        shape = (f'<polyline {attrs} points="{coords}" fill="none" stroke="{colour}" '
                 f'stroke-width="2.5" stroke-dasharray="6 3" stroke-linecap="round"/>')
    elif kind == "injection":
        x, y = xy[0]
        shape = f'<circle {attrs} cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    else:
        x, y = xy[0]
        shape = (f'<rect {attrs} x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
                 f'fill="none" stroke="{colour}" stroke-width="2"/>')
    lx, ly = xy[0]
    label = (f'<text x="{lx + 6:.1f}" y="{ly - 5:.1f}" class="marknum" '
             f'fill="{colour}">{number}</text>')
    return f"<g>{title}{shape}{label}</g>"


def face_diagram_svg(view: str, marks: Iterable[Mapping[str, Any]] = (), *,
                     width: float | None = None, element_id: str | None = None) -> str:
    """One view of the diagram as an inline ``<svg>`` element, with ``marks`` drawn on it.

    Parameters
    ----------
    view:
        ``front``, ``left`` or ``right``.
    marks:
        Mappings with ``kind``, ``points`` (relative ``[x, y]`` pairs) and an optional
        ``label`` (shown as the mark's tooltip); numbered from 1 in the order given.
    width:
        Display width in CSS pixels (default: scales to its container).
    element_id:
        ``id`` of the ``<svg>`` element (pages that draw on it find it by id).
    """
    body = _view_body(view)
    size = f' width="{width:g}" height="{width * HEIGHT / WIDTH:g}"' if width else ""
    ident = f' id="{escape(element_id)}"' if element_id else ""
    drawn = "".join(_mark_svg(m, i) for i, m in enumerate(marks, start=1))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}"'
            f'{size}{ident} class="face-diagram" data-view="{view}" role="img" '
            f'aria-label="{VIEW_LABELS[view]} face diagram">'
            '<style>.skin{fill:#f6efe9;stroke:#6b5b53;stroke-width:1.5}'
            '.line{fill:none;stroke:#6b5b53;stroke-width:1.3}.faint{stroke-opacity:.5}'
            '.marknum{font:bold 9px sans-serif}</style>'
            f'<rect x="0" y="0" width="{WIDTH:g}" height="{HEIGHT:g}" fill="#fff"/>'
            f'{body}<g class="marks">{drawn}</g></svg>')
