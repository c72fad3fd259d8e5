"""Figures to download: each chart as PNG, SVG or PDF, the same bytes for the same numbers."""

import io

import numpy as np
import pytest
from PIL import Image

from core.figures import (
    FigureError,
    filter_grid_figure,
    probability_change_figure,
    robustness_figure,
    similarity_figure,
)

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "pdf": b"%PDF-"}
P_A = {str(d): p for d, p in enumerate([0.01, 0.02, 0.9, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])}
P_B = {str(d): p for d, p in enumerate([0.01, 0.02, 0.1, 0.8, 0.01, 0.01, 0.01, 0.02, 0.01, 0.01])}


def _draw(kind: str, fmt: str) -> bytes:
    if kind == "probabilities":
        return probability_change_figure(P_A, P_B, title="A against B", fmt=fmt)
    if kind == "similarity":
        return similarity_figure(["input", "conv1", "conv2", "output"], [0.98, 0.9, None, 0.4], title="t", fmt=fmt)
    if kind == "grid":
        maps = np.random.default_rng(0).random((16, 65, 32)).astype(np.float32)
        maps[3] = 0  # a silent filter is drawn and named as such
        return filter_grid_figure(maps, layer="conv1", duration_s=1.0, max_freq_hz=4000, title="t", fmt=fmt)
    values = [-2.0, -1.0, 0.0, 1.0, 2.0]
    by_label = {str(d): list(np.linspace(0.1 * d, 0.05, 5)) for d in range(10)}
    return robustness_figure(values, by_label, xlabel="pitch shift (semitones)", title="t", fmt=fmt)


@pytest.mark.parametrize("kind", ["probabilities", "similarity", "grid", "robustness"])
@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_each_figure_comes_in_each_format(kind, fmt):
    data = _draw(kind, fmt)

    assert data.startswith(MAGIC[fmt])
    assert data == _draw(kind, fmt)  # no dates or random ids: a report's figure is reproducible


def test_a_png_is_large_enough_to_print():
    width, height = Image.open(io.BytesIO(_draw("probabilities", "png"))).size

    assert width >= 1200 and height >= 500


def test_the_grid_says_which_filters_are_silent():
    svg = _draw("grid", "svg").decode()

    assert "conv1 · 3 (silent)" in svg
    assert "conv1 · 4 (silent)" not in svg


def test_it_refuses_an_unknown_format():
    with pytest.raises(FigureError, match="png, svg, pdf"):
        _draw("probabilities", "gif")
