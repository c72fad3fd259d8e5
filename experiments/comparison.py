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

Two silent maps (a filter that does not fire for either input) have no direction to
compare: their cosine similarity is undefined (None), not 1. Saying "1.000" would claim the
two inputs excite the filter alike when neither excites it at all.
"""

from dataclasses import dataclass, field

import numpy as np

# Below this norm a map counts as silent (float16 activations: anything smaller is noise).
SILENT = 1e-6


@dataclass(frozen=True)
class FilterChange:
    """How much one filter's output map changed between A and B."""

    index: int
    change: float  # relative L2 change, 0..1
    cosine: float | None  # cosine similarity of the two maps, 0..1 for ReLU maps; None when both are silent
    max_a: float
    max_b: float
    mean_a: float
    mean_b: float

    @property
    def scale(self) -> float:
        """The shared top of the colour scale for this filter's A, B and A−B images."""
        return max(self.max_a, self.max_b, SILENT)

    @property
    def silent_a(self) -> bool:
        """A's map is all zeros: nothing to see or hear."""
        return self.max_a <= SILENT

    @property
    def silent_b(self) -> bool:
        return self.max_b <= SILENT

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
    similarity: float | None  # cosine similarity of the flattened activations; None when both are silent
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


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cosine similarity of the flattened arrays; undefined (None) when both are silent, 0 when only one is."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    norm_a, norm_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if norm_a <= SILENT and norm_b <= SILENT:
        return None
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
    cosine = np.where(one_silent, 0.0, np.clip(cosine, -1.0, 1.0))
    return [
        FilterChange(
            index=k,
            change=round(float(change[k]), 4),
            cosine=None if both_silent[k] else round(float(cosine[k]), 4),
            max_a=float(fa[k].max(initial=0.0)),
            max_b=float(fb[k].max(initial=0.0)),
            mean_a=float(fa[k].mean()),
            mean_b=float(fb[k].mean()),
        )
        for k in range(fa.shape[0])
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def compare_layer(name: str, a: np.ndarray, b: np.ndarray) -> LayerComparison:
    """Compare one convolution layer's outputs, shaped (filters, height, width)."""
    if a.shape != b.shape:
        return LayerComparison(
            name=name, similarity=float("nan"), change=float("nan"), comparable=False, shape_a=a.shape, shape_b=b.shape
        )
    return LayerComparison(
        name=name,
        similarity=_rounded(cosine_similarity(a, b)),
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
            similarity=_rounded(cosine_similarity(features_a, features_b))
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
            name="output", similarity=_rounded(cosine_similarity(pa, pb)), change=round(relative_change(pa, pb), 4)
        )
    )
    return stages


def probability_changes(probabilities_a: dict[str, float], probabilities_b: dict[str, float]) -> list[dict]:
    """Per label: A and B in percent and the change B−A in percentage points."""
    rows = []
    labels = list(probabilities_a)
    # Change bars are scaled to the largest change (at least 10 points), so small changes stay visible.
    largest = max([abs(probabilities_b.get(k, 0.0) - probabilities_a[k]) * 100 for k in labels] + [10.0])
    top_a = max(probabilities_a, key=lambda k: probabilities_a[k]) if probabilities_a else None
    top_b = max(probabilities_b, key=lambda k: probabilities_b[k]) if probabilities_b else None
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
