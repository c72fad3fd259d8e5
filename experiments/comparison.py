"""Comparing two analyses: what changed, filter by filter and layer by layer. Pure numpy.

Two measures, both stated on the comparison page:

* **Change of one filter** (how filters are ranked): the relative L2 change
  ``‖A−B‖ / (‖A‖ + ‖B‖)`` of its two output maps. It is 0 for identical maps, 1 when one
  of them is silent, about 0.71 for equally strong maps with no overlap, and it is
  symmetric and bounded. Unlike cosine similarity it also sees a filter that keeps its
  pattern but fires three times as strongly (0.5), which is what "adversarial" loudness
  edits do.
* **Similarity of a layer** (the per-layer figure): the cosine similarity of the whole
  layer's flattened activations, from the network input through every convolution layer
  to the output probabilities. Post-ReLU maps are non-negative, so it runs from 0
  (nothing in common) to 1 (the same pattern); where the line drops is where in the
  network the two inputs part ways. Each filter's own cosine similarity is drawn as a dot
  around it, to show whether a whole layer moved or a few filters did.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np

# Below this norm a map counts as silent (float16 activations: anything smaller is noise).
SILENT = 1e-6


@dataclass(frozen=True)
class FilterChange:
    """How much one filter's output map changed between A and B."""

    index: int
    change: float  # relative L2 change, 0..1
    cosine: float  # cosine similarity of the two maps, 0..1 for ReLU maps
    max_a: float
    max_b: float
    mean_a: float
    mean_b: float

    @property
    def scale(self) -> float:
        """The shared top of the colour scale for this filter's A, B and A−B images."""
        return max(self.max_a, self.max_b, SILENT)

    @property
    def stronger(self) -> str:
        """Which side fires more on average: "A", "B" or "" (about equal)."""
        if abs(self.mean_a - self.mean_b) <= 0.05 * max(self.mean_a, self.mean_b, SILENT):
            return ""
        return "A" if self.mean_a > self.mean_b else "B"


@dataclass
class LayerComparison:
    """One stage (input, a convolution layer, or output) of the comparison."""

    name: str
    similarity: float  # cosine similarity of the flattened activations
    change: float  # relative L2 change of the flattened activations
    filters: list[FilterChange] = field(default_factory=list)
    comparable: bool = True  # False when A and B have different shapes (two different architectures)
    shape_a: tuple[int, ...] = ()
    shape_b: tuple[int, ...] = ()

    def ranked(self) -> list[FilterChange]:
        """Filters, most changed first (ties by index)."""
        return sorted(self.filters, key=lambda f: (-f.change, f.index))


def relative_change(a: np.ndarray, b: np.ndarray) -> float:
    """``‖a−b‖ / (‖a‖+‖b‖)`` over all elements: 0 identical, 1 one side silent; 0 when both are silent."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    total = float(np.linalg.norm(a) + np.linalg.norm(b))
    if total <= SILENT:
        return 0.0
    return float(np.linalg.norm(a - b) / total)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of the flattened arrays; 1 when both are silent, 0 when only one is."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    norm_a, norm_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if norm_a <= SILENT and norm_b <= SILENT:
        return 1.0
    if norm_a <= SILENT or norm_b <= SILENT:
        return 0.0
    return float(np.clip(np.dot(a, b) / (norm_a * norm_b), -1.0, 1.0))


def filter_changes(a: np.ndarray, b: np.ndarray) -> list[FilterChange]:
    """Per filter: relative L2 change and cosine similarity of two layers' outputs.

    Parameters
    ----------
    a, b : np.ndarray, shape (filters, height, width), the same shape
    """
    if a.shape != b.shape:
        raise ValueError(f"Shapes differ: {a.shape} and {b.shape}.")
    fa = a.reshape(a.shape[0], -1).astype(np.float64)
    fb = b.reshape(b.shape[0], -1).astype(np.float64)
    norm_a = np.linalg.norm(fa, axis=1)
    norm_b = np.linalg.norm(fb, axis=1)
    norm_diff = np.linalg.norm(fa - fb, axis=1)
    total = norm_a + norm_b
    change = np.where(total > SILENT, norm_diff / np.maximum(total, SILENT), 0.0)
    both_silent = (norm_a <= SILENT) & (norm_b <= SILENT)
    one_silent = (norm_a <= SILENT) ^ (norm_b <= SILENT)
    cosine = np.einsum("ij,ij->i", fa, fb) / np.maximum(norm_a * norm_b, SILENT * SILENT)
    cosine = np.where(both_silent, 1.0, np.where(one_silent, 0.0, np.clip(cosine, -1.0, 1.0)))
    return [
        FilterChange(
            index=k,
            change=round(float(change[k]), 4),
            cosine=round(float(cosine[k]), 4),
            max_a=float(fa[k].max(initial=0.0)),
            max_b=float(fb[k].max(initial=0.0)),
            mean_a=float(fa[k].mean()),
            mean_b=float(fb[k].mean()),
        )
        for k in range(fa.shape[0])
    ]


def compare_layer(name: str, a: np.ndarray, b: np.ndarray) -> LayerComparison:
    """Compare one convolution layer's outputs, shaped (filters, height, width)."""
    if a.shape != b.shape:
        return LayerComparison(
            name=name, similarity=float("nan"), change=float("nan"), comparable=False, shape_a=a.shape, shape_b=b.shape
        )
    return LayerComparison(
        name=name,
        similarity=round(cosine_similarity(a, b), 4),
        change=round(relative_change(a, b), 4),
        filters=filter_changes(a, b),
        shape_a=a.shape,
        shape_b=b.shape,
    )


def compare(
    *,
    features_a: np.ndarray,
    features_b: np.ndarray,
    activations_a: dict[str, np.ndarray],
    activations_b: dict[str, np.ndarray],
    probabilities_a: dict[str, float],
    probabilities_b: dict[str, float],
) -> list[LayerComparison]:
    """Every stage from the network input to its output, in order: input, each layer, output.

    Layers are matched by position (the n-th convolution layer of A with the n-th of B), so
    two versions of the same architecture line up even if their layers are named differently.
    """
    stages = [
        LayerComparison(
            name="input",
            similarity=round(cosine_similarity(features_a, features_b), 4)
            if features_a.shape == features_b.shape
            else float("nan"),
            change=round(relative_change(features_a, features_b), 4)
            if features_a.shape == features_b.shape
            else float("nan"),
            comparable=features_a.shape == features_b.shape,
        )
    ]
    for name_a, name_b in zip(activations_a, activations_b, strict=False):
        layer = compare_layer(name_a, activations_a[name_a], activations_b[name_b])
        if name_a != name_b:
            layer.name = f"{name_a} / {name_b}"
        stages.append(layer)
    labels = list(probabilities_a)
    pa = np.array([probabilities_a.get(k, 0.0) for k in labels])
    pb = np.array([probabilities_b.get(k, 0.0) for k in labels])
    stages.append(
        LayerComparison(
            name="output", similarity=round(cosine_similarity(pa, pb), 4), change=round(relative_change(pa, pb), 4)
        )
    )
    return stages


def probability_changes(probabilities_a: dict[str, float], probabilities_b: dict[str, float]) -> list[dict]:
    """Per label: A and B in percent and the change B−A in percentage points."""
    rows = []
    labels = list(probabilities_a)
    # Change bars are scaled to the largest change (at least 10 points), so small changes stay visible.
    largest = max([abs(probabilities_b.get(k, 0.0) - probabilities_a[k]) * 100 for k in labels] + [10.0])
    top_a = max(probabilities_a, key=probabilities_a.get) if probabilities_a else None
    top_b = max(probabilities_b, key=probabilities_b.get) if probabilities_b else None
    for label in probabilities_a:
        a = round(100 * probabilities_a.get(label, 0.0), 1)
        b = round(100 * probabilities_b.get(label, 0.0), 1)
        rows.append(
            {
                "label": label,
                "a": a,
                "b": b,
                "delta": round(b - a, 1),
                "delta_abs": round(abs(b - a), 1),
                "delta_bar": round(50 * abs(b - a) / largest, 1),  # percent of the track (half is one side)
                "top_a": label == top_a,
                "top_b": label == top_b,
            }
        )
    return rows


def difference_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a − b`` as float32 (red where A fires more, blue where B does, on RdBu_r)."""
    return a.astype(np.float32) - b.astype(np.float32)


def rebin_histogram(counts: list[int], edges: list[float], shared_edges: np.ndarray) -> np.ndarray:
    """Spread a histogram onto other bin edges, assuming values are uniform inside each bin.

    Two model versions' histograms have different bins; putting both on one set of edges
    lets them be drawn on a shared axis. Returns the fraction of all values in each new bin.
    """
    counts_arr = np.asarray(counts, dtype=np.float64)
    edges_arr = np.asarray(edges, dtype=np.float64)
    # Cumulative count at every old edge, then linear in between: the uniform assumption.
    cumulative = np.concatenate([[0.0], np.cumsum(counts_arr)])
    at_shared = np.interp(shared_edges, edges_arr, cumulative, left=0.0, right=cumulative[-1])
    total = cumulative[-1] or 1.0
    return np.diff(at_shared) / total


def overlay_histograms(entry_a: dict, entry_b: dict, *, bins: int = 48) -> dict:
    """Two stored weight histograms (``counts``, ``edges``) on one shared axis.

    Returns
    -------
    dict with ``edges`` (bins + 1), ``a`` and ``b`` (fraction of weights per bin), and the
    axis limits ``low`` and ``high``.
    """
    low = min(entry_a["edges"][0], entry_b["edges"][0])
    high = max(entry_a["edges"][-1], entry_b["edges"][-1])
    if high <= low:
        high = low + 1e-6
    shared = np.linspace(low, high, bins + 1)
    return {
        "edges": shared,
        "a": rebin_histogram(entry_a["counts"], entry_a["edges"], shared),
        "b": rebin_histogram(entry_b["counts"], entry_b["edges"], shared),
        "low": float(low),
        "high": float(high),
    }


# ----------------------------------------------------------------------------- figures (geometry only)
# The page and the report draw these as inline SVG; computing the geometry here keeps the
# templates simple and the report free of scripts.


def _jitter(index: int) -> float:
    """A deterministic horizontal offset (px) so a layer's filter dots do not sit on one line."""
    return ((index * 37) % 17 - 8) * 1.5


def similarity_chart(stages: list[LayerComparison], *, width: int = 640, height: int = 270) -> dict:
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


def histogram_overlay_figure(entry_a: dict, entry_b: dict, *, width: int = 320, height: int = 90) -> dict:
    """Two weight histograms as outlines on a shared axis: ``path_a``, ``path_b``, ``low``, ``high``."""
    overlay = overlay_histograms(entry_a, entry_b)
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
