"""What the lab's pages show, computed from stored results: a zoomed filter's statistics, tiles, probabilities."""

from types import SimpleNamespace

import numpy as np
import pytest

from dsp.params import FeatureParams
from experiments.presenters import filter_statistics, filter_tiles, layer_overview, probability_rows

PARAMS = FeatureParams()  # one second at 8 kHz: the map spans 0-1 s and 0-4 kHz
LAYER = {"name": "conv1", "filters": 4, "mean": [0.1, 0.4, 0.0, 0.2], "max": [1.0, 2.0, 0.0, 0.5]}


def test_a_filter_that_fires_in_one_block_says_when_and_where():
    values = np.zeros((40, 50), dtype=np.float32)  # 100 Hz per row, 20 ms per column
    values[10:20, 25:30] = 2.0  # 1000-2000 Hz, 0.50-0.60 s
    values[0, 0] = 0.5  # active, but below half the peak

    stats = filter_statistics(values, layer=LAYER, index=1, params=PARAMS)

    assert stats["max"] == 2.0
    assert stats["mean"] == pytest.approx((50 * 2.0 + 0.5) / 2000)
    assert stats["active_fraction"] == pytest.approx(51 / 2000)
    assert stats["time_span"] == pytest.approx((0.50, 0.60))
    assert stats["freq_span"] == pytest.approx((1000.0, 2000.0))
    assert stats["rank"] == 1  # the layer's strongest filter by mean activation


def test_a_filter_that_never_fires_has_no_span():
    stats = filter_statistics(np.zeros((8, 8), dtype=np.float32), layer=LAYER, index=2, params=PARAMS)

    assert stats["time_span"] is None and stats["freq_span"] is None
    assert stats["max"] == stats["mean"] == stats["active_fraction"] == 0.0
    assert stats["rank"] == 4


def test_tiles_come_by_index_or_strongest_first():
    assert [t["index"] for t in filter_tiles(LAYER)] == [0, 1, 2, 3]
    assert [t["index"] for t in filter_tiles(LAYER, sort="strength")] == [1, 3, 0, 2]


def test_the_overview_marks_the_three_strongest_and_scales_the_bars():
    analysis = SimpleNamespace(layers=[LAYER])

    (row,) = layer_overview(analysis)

    assert [f["strong"] for f in row["filters"]] == [True, True, False, True]
    assert [f["max_pct"] for f in row["filters"]] == [50.0, 100.0, 0.0, 25.0]


def test_probabilities_are_percent_with_the_prediction_marked():
    analysis = SimpleNamespace(probabilities={"0": 0.25, "1": 0.7512}, predicted_label="1")

    assert probability_rows(analysis) == [
        {"label": "0", "p": 0.25, "percent": 25.0, "is_top": False},
        {"label": "1", "p": 0.7512, "percent": 75.1, "is_top": True},
    ]
