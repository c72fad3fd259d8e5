"""The geometry of every SVG chart the pages and reports draw inline.

Pure functions from numbers to coordinates: templates only place what is computed here,
so the pages need no chart library and the downloadable report carries no script.
"""

import itertools
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

# One colour per digit, the same on every chart (Tableau 10).
DIGIT_COLOURS = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#222222",
]


# Read-only members: the charts only read them, so frozen dataclasses and lists of them qualify.
class FilterPoint(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def cosine(self) -> float | None: ...  # None: both maps silent, the similarity is undefined
    @property
    def change(self) -> float: ...


class Stage(Protocol):
    """One stage of a two-input comparison (the input, a layer, the output)."""

    @property
    def name(self) -> str: ...
    @property
    def comparable(self) -> bool: ...
    @property
    def similarity(self) -> float | None: ...
    @property
    def filters(self) -> Sequence[FilterPoint]: ...


def histogram_bars(entry: dict, *, width: float = 320, height: float = 90) -> list[dict]:
    """SVG rectangles (x, y, w, h) for one stored weight histogram."""
    counts = np.asarray(entry["counts"], dtype=float)
    top = counts.max() or 1.0
    bar = width / len(counts)
    return [
        {
            "x": round(i * bar, 2),
            "w": round(bar * 0.92, 2),
            "h": round(c / top * height, 2),
            "y": round(height - c / top * height, 2),
            "count": int(c),
            "low": entry["edges"][i],
            "high": entry["edges"][i + 1],
        }
        for i, c in enumerate(counts)
    ]


def probability_lines(result: dict, *, width: int = 760, height: int = 320) -> dict:
    """SVG coordinates of each label's probability line across a sweep's values.

    `result` holds ``values``, ``labels`` and ``probabilities_by_label`` (one list per label).
    """
    left, right, top, bottom = 48, 16, 14, 38
    values = result["values"]
    low, high = min(values), max(values)
    span = (high - low) or 1.0

    def x(v: float) -> float:
        return round(left + (v - low) / span * (width - left - right), 1)

    def y(p: float) -> float:
        return round(top + (1 - p) * (height - top - bottom), 1)

    lines = []
    for index, label in enumerate(result["labels"]):
        probabilities = result["probabilities_by_label"][label]
        points = [
            {"x": x(v), "y": y(p), "p": round(p * 100, 1), "value": v, "index": i}
            for i, (v, p) in enumerate(zip(values, probabilities, strict=True))
        ]
        lines.append(
            {
                "label": label,
                "colour": DIGIT_COLOURS[index % len(DIGIT_COLOURS)],
                "path": " ".join(f"{pt['x']},{pt['y']}" for pt in points),
                "points": points,
                "peak": max(probabilities),
            }
        )
    x_ticks = (
        [{"x": x(v), "label": f"{v:g}"} for v in values]
        if len(values) <= 15
        else [{"x": x(v), "label": f"{v:g}"} for v in values[:: max(1, len(values) // 10)]]
    )
    y_ticks = [{"y": y(p), "label": f"{int(p * 100)}%"} for p in (0, 0.25, 0.5, 0.75, 1.0)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "lines": lines,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "columns": [{"x": x(v), "index": i, "value": v} for i, v in enumerate(values)],
    }


def _jitter(index: int) -> float:
    """A deterministic horizontal offset (px) so a layer's filter dots do not sit on one line."""
    return ((index * 37) % 17 - 8) * 1.5


def similarity_chart(stages: Sequence[Stage], *, width: int = 640, height: int = 270) -> dict:
    """Geometry of the per-layer similarity figure: one point per stage, a dot per filter.

    Returns
    -------
    dict with ``width``, ``height``, ``grid`` (y and label of each gridline), ``points``
    (x, y, name, value, label_y), ``path`` (the SVG path through the points), ``dots``
    (x, y, title), ``plot`` (left, right, top, bottom), ``drop`` (the stage where
    similarity falls the most, or None) and ``silent_both`` (filters silent for both
    inputs: their similarity is undefined, so they have no dot).
    """
    left, right, top, bottom = 64, 16, 22, 40
    inset = 34  # the first and last stage sit inside the frame, clear of the tick labels
    plot_w, plot_h = width - left - right, height - top - bottom
    step = (plot_w - 2 * inset) / max(len(stages) - 1, 1)
    # The axis starts just below the lowest stage (0, 0.5, 0.8 or 0.9…) so that small
    # differences between similar inputs stay readable; tick labels say where it starts.
    values = [s.similarity for s in stages if s.comparable and s.similarity is not None]
    low = max(0.0, float(np.floor((min(values, default=0.0) - 0.05) * 10) / 10))
    span = 1.0 - low

    def y_of(value: float) -> float:
        return round(top + (1.0 - (float(np.clip(value, low, 1.0)) - low) / span) * plot_h, 1)

    grid = [{"y": y_of(v), "label": f"{v:.2f}".rstrip("0").rstrip(".")} for v in np.linspace(low, 1.0, 5)]
    points, dots = [], []
    silent_both = 0
    for i, stage in enumerate(stages):
        x = round(left + inset + i * step, 1)
        value = stage.similarity if stage.comparable else None  # None: not comparable, or both silent
        point: dict[str, Any] = {
            "x": x,
            "name": stage.name,
            "value": value,
            "y": y_of(value) if value is not None else None,
        }
        # Comparable but silent on both sides: labelled "undefined" on the axis rather than left blank.
        point["undefined"] = stage.comparable and value is None
        if point["y"] is not None:
            point["label_y"] = point["y"] - 9 if point["y"] > top + 14 else point["y"] + 17
        points.append(point)
        for f in stage.filters:
            if f.cosine is None:
                silent_both += 1
                continue  # silent on both sides: no similarity to draw
            dots.append(
                {
                    "x": round(x + _jitter(f.index), 1),
                    "y": y_of(f.cosine),
                    "below": f.cosine < low,  # drawn on the axis, hollow: its value is lower still
                    "title": f"{stage.name} filter {f.index}: cosine {f.cosine:.3f}, change {f.change:.3f}",
                }
            )
    drawn = [p for p in points if p["y"] is not None]
    path = " ".join(f"{'M' if i == 0 else 'L'}{p['x']},{p['y']}" for i, p in enumerate(drawn))
    drop = None
    biggest = 0.02  # smaller falls are noise, not a parting of ways
    for previous, current in itertools.pairwise(drawn):
        fall = previous["value"] - current["value"]
        if fall > biggest:
            biggest, drop = fall, current["name"]
    return {
        "width": width,
        "height": height,
        "grid": grid,
        "points": points,
        "path": path,
        "dots": dots,
        "plot": {"left": left, "right": width - right, "top": top, "bottom": top + plot_h, "middle": top + plot_h // 2},
        "drop": drop,
        "low": low,
        "silent_both": silent_both,
    }


def histogram_overlay_figure(overlay: dict, *, width: int = 320, height: int = 90) -> dict:
    """Two histograms on shared bins (``edges``, fractions ``a`` and ``b``) as outlines: ``path_a``, ``path_b``."""
    top = max(float(overlay["a"].max(initial=0.0)), float(overlay["b"].max(initial=0.0))) or 1.0
    span = overlay["high"] - overlay["low"]

    def x_of(value: float) -> float:
        return round((value - overlay["low"]) / span * width, 2)

    def step_path(fractions: np.ndarray) -> str:
        parts = [f"M{x_of(overlay['edges'][0])},{height}"]
        for i, fraction in enumerate(fractions):
            y = round(height - fraction / top * (height - 4), 2)
            parts.append(f"L{x_of(overlay['edges'][i])},{y} L{x_of(overlay['edges'][i + 1])},{y}")
        parts.append(f"L{x_of(overlay['edges'][-1])},{height}")
        return " ".join(parts)

    zero = x_of(0.0) if overlay["low"] < 0 < overlay["high"] else None
    return {
        "path_a": step_path(overlay["a"]),
        "path_b": step_path(overlay["b"]),
        "low": overlay["low"],
        "high": overlay["high"],
        "zero_x": zero,
        "zero_pct": round(100 * zero / width, 2) if zero is not None else None,
        "width": width,
        "height": height,
    }


def curve_chart(
    fractions: Sequence[float],
    curves: Sequence[dict],
    *,
    width: int = 360,
    height: int = 200,
    x_ticks: Sequence[float] = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0),
) -> dict:
    """Geometry of probability curves over a fraction (deletion and insertion), on a square-root x axis.

    The first per cents of the cells decide most curves; a square-root axis gives them
    room and still reaches 100 %.

    Parameters
    ----------
    fractions : sequence of float in [0, 1]
    curves : sequence of dict
        Each with ``name``, ``values`` (probabilities, one per fraction) and optional
        ``colour`` and ``dashed``.

    Returns
    -------
    dict with ``width``, ``height``, ``plot`` (left, right, top, bottom), ``lines`` (name,
    colour, dashed, path, points), ``x_ticks`` and ``y_ticks`` (position and label).
    """
    left, right, top, bottom = 40, 18, 10, 30

    def x_of(f: float) -> float:
        return round(left + float(np.sqrt(np.clip(f, 0.0, 1.0))) * (width - left - right), 1)

    def y_of(p: float) -> float:
        return round(top + (1.0 - float(np.clip(p, 0.0, 1.0))) * (height - top - bottom), 1)

    lines = []
    for index, curve in enumerate(curves):
        points = [{"x": x_of(f), "y": y_of(p)} for f, p in zip(fractions, curve["values"], strict=True)]
        lines.append(
            {
                "name": curve["name"],
                "colour": curve.get("colour") or DIGIT_COLOURS[index % len(DIGIT_COLOURS)],
                "dashed": bool(curve.get("dashed")),
                "path": " ".join(f"{'M' if i == 0 else 'L'}{pt['x']},{pt['y']}" for i, pt in enumerate(points)),
                "points": points,
            }
        )
    return {
        "width": width,
        "height": height,
        "plot": {"left": left, "right": width - right, "top": top, "bottom": height - bottom},
        "lines": lines,
        "x_ticks": [{"x": x_of(f), "label": f"{f * 100:g}%"} for f in x_ticks],
        "y_ticks": [{"y": y_of(p), "label": f"{int(p * 100)}%"} for p in (0.0, 0.5, 1.0)],
    }


# The network overview's building blocks, in pixels: a filter's thumbnail, the input, a digit.
_THUMB = (44, 33)
_INPUT = (96, 72)
_DIGIT = (96, 22)
_BLOCK = 26  # thickness of a layer drawn as a bar (pooling, flatten, dense)


def network_flow(
    stages: Sequence[dict],
    edges: Sequence[dict],
    *,
    orientation: str = "horizontal",
    per_line: int | None = None,
    lane_gap: int = 64,
) -> dict:
    """Where every layer, filter thumbnail and line of the network overview goes.

    Stages are laid along the flow (left to right, or top to bottom), each centred
    across it; a convolution layer's filters fill lines of `per_line` thumbnails.

    Parameters
    ----------
    stages : sequence of dict
        ``kind`` (``"input"``, ``"conv"``, ``"block"`` or ``"output"``), ``name`` and,
        for conv and output stages, ``items`` (how many filters or labels).
    edges : sequence of dict
        ``source`` and ``target`` as ``(stage, item)`` pairs (item 0 for input and
        block stages) and ``weight`` in [0, 1].
    orientation : str
        ``"horizontal"`` (wide screens) or ``"vertical"`` (phones).
    per_line : int, optional
        Thumbnails per line of a convolution stage; 16 horizontally, 7 vertically.

    Returns
    -------
    dict with ``width``, ``height``, ``orientation``, ``stages`` (kind, name, x, y, w,
    h, label_x, label_y and ``items``: index, x, y, w, h) and ``edges`` (path, width,
    opacity, source, target).
    """
    if orientation not in ("horizontal", "vertical"):
        raise ValueError(f"orientation must be horizontal or vertical, got {orientation!r}.")
    horizontal = orientation == "horizontal"
    per_line = per_line or (16 if horizontal else 7)
    gap = 6

    def along_across(size: tuple[int, int]) -> tuple[int, int]:
        """A (width, height) box as (extent along the flow, extent across it)."""
        return size if horizontal else (size[1], size[0])

    # Each stage's items as (along, across) offsets and sizes, then the stage's own extent.
    laid = []
    for stage in stages:
        kind = stage["kind"]
        if kind == "conv":
            du, dv = along_across(_THUMB)
            n = max(int(stage["items"]), 1)
            lines_needed = -(-n // per_line)
            across_count = min(n, per_line)
            items = [((k // per_line) * (du + gap), (k % per_line) * (dv + gap), du, dv) for k in range(n)]
            extent = (lines_needed * (du + gap) - gap, across_count * (dv + gap) - gap)
        elif kind == "output":
            du, dv = along_across(_DIGIT) if horizontal else (_DIGIT[1] + 14, 30)
            n = int(stage["items"])
            items = [(0, k * (dv + gap), du, dv) for k in range(n)]
            extent = (du, n * (dv + gap) - gap)
        elif kind == "input":
            du, dv = along_across(_INPUT)
            items = [(0, 0, du, dv)]
            extent = (du, dv)
        else:
            items = [(0, 0, _BLOCK, 0)]
            extent = (_BLOCK, 0)  # spans the whole height across the flow, set below
        laid.append((stage, items, extent))

    label_room = 22
    across_total = max(extent[1] for _, _, extent in laid) + 2 * label_room
    along = 12 if horizontal else label_room + 4  # room for the first stage's label above it
    placed_stages = []
    for stage, items, (extent_u, extent_v) in laid:
        is_block = stage["kind"] == "block"
        extent_v = across_total - 2 * label_room if is_block else extent_v
        v0 = label_room + (across_total - 2 * label_room - extent_v) / 2
        boxes = []
        for index, (u, v, du, dv) in enumerate(items):
            dv = extent_v if is_block else dv
            x, y, w, h = (along + u, v0 + v, du, dv) if horizontal else (v0 + v, along + u, dv, du)
            boxes.append({"index": index, "x": round(x, 1), "y": round(y, 1), "w": w, "h": h})
        sx, sy, sw, sh = (along, v0, extent_u, extent_v) if horizontal else (v0, along, extent_v, extent_u)
        placed_stages.append(
            {
                "kind": stage["kind"],
                "name": stage["name"],
                "x": round(sx, 1),
                "y": round(sy, 1),
                "w": sw,
                "h": sh,
                "label_x": round(sx + sw / 2, 1),
                "label_y": round(sy + sh / 2 + 4, 1) if is_block and not horizontal else round(sy - 8, 1),
                "items": boxes,
            }
        )
        along += extent_u + lane_gap
    along_total = along - lane_gap + 12
    width, height = (along_total, across_total) if horizontal else (across_total, along_total)

    drawn = []
    for edge in edges:
        (s_stage, s_item), (t_stage, t_item) = edge["source"], edge["target"]
        a = placed_stages[s_stage]["items"][s_item]
        b = placed_stages[t_stage]["items"][t_item]
        if horizontal:
            x1, y1, x2, y2 = a["x"] + a["w"], a["y"] + a["h"] / 2, b["x"], b["y"] + b["h"] / 2
            bend = max((x2 - x1) / 2, 12)
            path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
        else:
            x1, y1, x2, y2 = a["x"] + a["w"] / 2, a["y"] + a["h"], b["x"] + b["w"] / 2, b["y"]
            bend = max((y2 - y1) / 2, 12)
            path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
        weight = float(np.clip(edge["weight"], 0.0, 1.0))
        drawn.append(
            {
                "path": path,
                "width": round(1.0 + 3.0 * weight, 2),
                "opacity": round(0.25 + 0.65 * weight, 2),
                "source": edge["source"],
                "target": edge["target"],
                "title": edge.get("title", ""),
            }
        )
    return {
        "width": round(width),
        "height": round(height),
        "orientation": orientation,
        "stages": placed_stages,
        "edges": drawn,
    }
