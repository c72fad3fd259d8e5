"""The geometry of every SVG chart the pages and reports draw inline.

Pure functions from numbers to coordinates: templates only place what is computed here,
so the pages need no chart library and the downloadable report carries no script.
"""

import itertools
from collections.abc import Sequence
from typing import Protocol

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


class FilterPoint(Protocol):
    index: int
    cosine: float
    change: float


class Stage(Protocol):
    """One stage of a two-input comparison (the input, a layer, the output)."""

    name: str
    comparable: bool
    similarity: float
    filters: Sequence[FilterPoint]


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
    (x, y, title), ``plot`` (left, right, top, bottom) and ``drop`` (the stage where
    similarity falls the most, or None).
    """
    left, right, top, bottom = 64, 16, 22, 40
    inset = 34  # the first and last stage sit inside the frame, clear of the tick labels
    plot_w, plot_h = width - left - right, height - top - bottom
    step = (plot_w - 2 * inset) / max(len(stages) - 1, 1)
    # The axis starts just below the lowest stage (0, 0.5, 0.8 or 0.9…) so that small
    # differences between similar inputs stay readable; tick labels say where it starts.
    values = [s.similarity for s in stages if s.comparable]
    low = max(0.0, float(np.floor((min(values, default=0.0) - 0.05) * 10) / 10))
    span = 1.0 - low

    def y_of(value: float) -> float:
        return round(top + (1.0 - (float(np.clip(value, low, 1.0)) - low) / span) * plot_h, 1)

    grid = [{"y": y_of(v), "label": f"{v:.2f}".rstrip("0").rstrip(".")} for v in np.linspace(low, 1.0, 5)]
    points, dots = [], []
    for i, stage in enumerate(stages):
        x = round(left + inset + i * step, 1)
        value = stage.similarity if stage.comparable else None
        point = {"x": x, "name": stage.name, "value": value, "y": y_of(value) if value is not None else None}
        if point["y"] is not None:
            point["label_y"] = point["y"] - 9 if point["y"] > top + 14 else point["y"] + 17
        points.append(point)
        for f in stage.filters:
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
