"""Figures people keep: matplotlib drawings of the charts, as PNG, SVG or PDF, for lab reports.

The pages draw their charts as inline SVG (:mod:`core.charts`); these functions draw the
same numbers as stand-alone figures with titles, axes and legends, to download. Each takes
plain numbers and returns the encoded file. matplotlib is imported inside the functions
(with the non-interactive Agg backend), so pages that never offer a download do not pay
for it.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from django.http import Http404

from core.charts import DIGIT_COLOURS
from core.media import Media

#: Download formats and their content types.
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


class FigureError(ValueError):
    """A figure that cannot be drawn (an unknown format); the message is for the user."""


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    # SVG element ids are random unless salted: the same figure must give the same file.
    matplotlib.rcParams["svg.hashsalt"] = "d-DeVIS"
    import matplotlib.pyplot as plt

    return plt


def _encode(fig: Any, fmt: str) -> bytes:
    """The figure encoded as `fmt` and closed; metadata without dates, so the same numbers give the same bytes."""
    import io

    if fmt not in FORMATS:
        raise FigureError(f"A figure downloads as {', '.join(FORMATS)}, not “{fmt}”.")
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    try:
        fig.savefig(buffer, format=fmt, dpi=200, bbox_inches="tight", metadata=metadata)
    finally:
        _pyplot().close(fig)
    return buffer.getvalue()


def probability_change_figure(
    probabilities_a: dict[str, float], probabilities_b: dict[str, float], *, title: str, fmt: str, names=("A", "B")
) -> bytes:
    """Each digit's probability for A and B as grouped bars, with the change B − A written above.

    Parameters
    ----------
    probabilities_a, probabilities_b : dict of label -> probability in [0, 1]
    title : str
    fmt : {"png", "svg", "pdf"}
    names : (str, str)
        What A and B are called in the legend.
    """
    plt = _pyplot()
    labels = list(probabilities_a)
    a = np.array([probabilities_a[k] for k in labels]) * 100
    b = np.array([probabilities_b.get(k, 0.0) for k in labels]) * 100
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.bar(x - 0.2, a, 0.4, label=names[0], color="#4c4ddc")
    ax.bar(x + 0.2, b, 0.4, label=names[1], color="#f28e2b")
    for i, (pa, pb) in enumerate(zip(a, b, strict=True)):
        delta = pb - pa
        if abs(delta) >= 0.5:
            ax.annotate(f"{delta:+.1f}", (i, max(pa, pb) + 2), ha="center", fontsize=8, color="#333")
    ax.set_xticks(x, labels)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability (%)")
    ax.set_ylim(0, 110)
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    return _encode(fig, fmt)


def similarity_figure(names: Sequence[str], similarities: Sequence[float | None], *, title: str, fmt: str) -> bytes:
    """How alike A and B are at each stage (input, each layer, output): cosine similarity from 0 to 1.

    Parameters
    ----------
    names : sequence of str, shape (n_stages,)
    similarities : sequence of float or None, shape (n_stages,)
        None where the two sides cannot be compared (different architectures).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    x = np.arange(len(names))
    values = np.array([np.nan if s is None else s for s in similarities], dtype=float)
    ax.plot(x, values, marker="o", color="#4c4ddc")
    for i, value in enumerate(values):
        if np.isfinite(value):
            ax.annotate(f"{value:.3f}", (i, value), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    ax.set_xticks(x, list(names))
    ax.set_ylim(min(0.0, float(np.nanmin(values)) - 0.05) if np.isfinite(values).any() else 0.0, 1.05)
    ax.set_ylabel("cosine similarity of A and B")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return _encode(fig, fmt)


def filter_grid_figure(
    maps: np.ndarray, *, layer: str, duration_s: float, max_freq_hz: float, title: str, fmt: str, columns: int = 8
) -> bytes:
    """Every filter map of one layer in a grid, each on its own colour scale, lowest frequency at the bottom.

    Parameters
    ----------
    maps : np.ndarray, shape (n_filters, n_freq, n_frames)
        A layer's activations.
    layer : str
    duration_s, max_freq_hz : float
        What the map's axes span (time and frequency of the network's input).
    """
    plt = _pyplot()
    maps = np.asarray(maps, dtype=np.float32)
    n = maps.shape[0]
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.45 * rows + 0.6), squeeze=False)
    extent = (0.0, duration_s, 0.0, max_freq_hz / 1000)
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.axis("off")
            continue
        top = float(maps[k].max())
        ax.imshow(maps[k], origin="lower", aspect="auto", cmap="magma", vmin=0.0, vmax=top or 1.0, extent=extent)
        ax.set_title(f"{layer} · {k}" + ("" if top > 0 else " (silent)"), fontsize=7)
    axes[-1][0].set_xlabel(f"0–{duration_s:g} s", fontsize=7)
    axes[-1][0].set_ylabel(f"0–{max_freq_hz / 1000:g} kHz", fontsize=7)
    fig.suptitle(title)
    return _encode(fig, fmt)


def robustness_figure(
    values: Sequence[float],
    probabilities_by_label: dict[str, Sequence[float]],
    *,
    xlabel: str,
    title: str,
    fmt: str,
) -> bytes:
    """Each digit's probability along a sweep of one edit (one line per digit).

    Parameters
    ----------
    values : sequence of float, shape (n_points,)
        The swept parameter.
    probabilities_by_label : dict of label -> sequence of float, each shape (n_points,)
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for index, (label, probabilities) in enumerate(probabilities_by_label.items()):
        ax.plot(
            values,
            np.asarray(probabilities) * 100,
            marker="o",
            markersize=3,
            label=label,
            color=DIGIT_COLOURS[index % len(DIGIT_COLOURS)],
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(title="digit", ncols=2, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _encode(fig, fmt)


def figure_download(*, etag: str, fmt: str, filename: str, draw) -> Media:
    """A figure as an attachment, cached like every immutable image (the ETag names what it was drawn from)."""
    if fmt not in FORMATS:
        raise Http404(f"Figures download as {', '.join(FORMATS)}.")
    return Media(
        etag=f"{etag}-{fmt}",
        content_type=FORMATS[fmt],
        render=draw,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
