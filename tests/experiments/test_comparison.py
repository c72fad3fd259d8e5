"""The comparison's numbers and figures (pure numpy): change per filter, similarity per layer, histograms."""

import numpy as np
import pytest

from core.charts import histogram_overlay_figure, similarity_chart
from experiments.comparison import (
    compare,
    cosine_similarity,
    filter_changes,
    overlay_histograms,
    probability_changes,
    rebin_histogram,
    relative_change,
)


def _maps(seed: int = 0, shape=(4, 6, 5)) -> np.ndarray:
    return np.maximum(np.random.default_rng(seed).normal(size=shape), 0).astype(np.float16)


def test_relative_change_is_zero_for_identical_maps_and_one_when_a_side_is_silent():
    a = _maps()[0]
    assert relative_change(a, a) == 0.0
    assert relative_change(a, np.zeros_like(a)) == pytest.approx(1.0)
    assert relative_change(np.zeros_like(a), np.zeros_like(a)) == 0.0
    # Same pattern, three times as strong: cosine cannot see it, the change does.
    assert relative_change(a, 3 * a) == pytest.approx(0.5, abs=1e-3)
    assert cosine_similarity(a, 3 * a) == pytest.approx(1.0, abs=1e-6)


def test_relative_change_is_symmetric():
    a, b = _maps(1)[0], _maps(2)[0]
    assert relative_change(a, b) == pytest.approx(relative_change(b, a))


def test_filter_changes_rank_the_filter_that_changed():
    a = _maps()
    b = a.copy()
    b[2] = 0  # filter 2 falls silent
    b[1] = 2 * a[1]  # filter 1 fires twice as strongly
    changes = {f.index: f for f in filter_changes(a, b)}
    assert changes[0].change == 0 and changes[3].change == 0
    assert changes[2].change == pytest.approx(1.0) and changes[2].cosine == 0.0
    assert changes[1].change == pytest.approx(1 / 3, abs=1e-3) and changes[1].cosine == pytest.approx(1.0)
    assert changes[2].stronger == "A" and changes[1].stronger == "B" and changes[0].stronger == ""


def test_silent_filters_on_both_sides_are_unchanged_and_their_similarity_is_undefined():
    a = np.zeros((2, 3, 3), dtype=np.float16)
    f0, _ = filter_changes(a, a)
    assert (f0.change, f0.cosine) == (0.0, None)
    assert f0.silent_a and f0.silent_b
    assert cosine_similarity(a, a) is None
    assert cosine_similarity(a, np.ones_like(a)) == 0.0  # one silent side: nothing in common


def test_a_layer_silent_for_both_inputs_has_an_undefined_similarity_and_no_dots():
    silent = np.zeros((3, 4, 4), dtype=np.float16)
    half = _maps(1, (3, 4, 4))
    half[1] = 0
    stages = compare(
        features_a=np.ones((2, 2)),
        features_b=np.ones((2, 2)),
        activations_a={"conv1": half, "conv2": silent},
        activations_b={"conv1": half, "conv2": silent},
        probabilities_a={"0": 1.0},
        probabilities_b={"0": 1.0},
    )
    assert stages[2].similarity is None and stages[1].similarity == pytest.approx(1.0)
    chart = similarity_chart(stages)
    assert chart["silent_both"] == 4  # conv1's filter 1 and all three of conv2
    assert len(chart["dots"]) == 2
    conv2 = next(p for p in chart["points"] if p["name"] == "conv2")
    assert conv2["y"] is None and conv2["undefined"]
    assert chart["path"].count("L") == 2  # input, conv1 and output are drawn


def test_compare_goes_from_input_through_every_layer_to_output():
    acts_a = {"conv1": _maps(1), "conv2": _maps(2, (8, 3, 2))}
    acts_b = {"conv1": _maps(1), "conv2": _maps(3, (8, 3, 2))}
    features = np.random.default_rng(0).normal(size=(6, 5))
    stages = compare(
        features_a=features,
        features_b=features,
        activations_a=acts_a,
        activations_b=acts_b,
        probabilities_a={"0": 0.9, "1": 0.1},
        probabilities_b={"0": 0.2, "1": 0.8},
    )
    assert [s.name for s in stages] == ["input", "conv1", "conv2", "output"]
    assert stages[0].similarity == pytest.approx(1.0) and stages[1].similarity == pytest.approx(1.0)
    assert stages[2].similarity < 1 and len(stages[2].filters) == 8
    assert stages[2].ranked()[0].change >= stages[2].ranked()[-1].change


def test_layers_of_different_shapes_are_marked_not_comparable():
    stages = compare(
        features_a=np.ones((2, 2)),
        features_b=np.ones((2, 2)),
        activations_a={"conv1": _maps(1, (4, 3, 3))},
        activations_b={"c1": _maps(1, (8, 3, 3))},
        probabilities_a={"0": 1.0},
        probabilities_b={"0": 1.0},
    )
    assert stages[1].name == "conv1 / c1" and not stages[1].comparable and stages[1].filters == []


def test_probability_changes_are_in_points_with_bars_scaled_to_the_largest():
    rows = probability_changes({"0": 0.7, "1": 0.3}, {"0": 0.2, "1": 0.8})
    assert rows[0] == {
        "label": "0",
        "a": 70.0,
        "b": 20.0,
        "delta": -50.0,
        "delta_abs": 50.0,
        "delta_bar": 50.0,
        "top_a": True,
        "top_b": False,
    }
    assert rows[1]["delta"] == 50.0 and rows[1]["top_b"]


def test_rebinned_histograms_keep_their_mass_on_a_shared_axis():
    a = {"counts": [1, 2, 3, 4], "edges": [0.0, 1.0, 2.0, 3.0, 4.0]}
    b = {"counts": [5, 5], "edges": [-2.0, 0.0, 2.0]}
    overlay = overlay_histograms(a, b, bins=12)
    assert overlay["low"] == -2.0 and overlay["high"] == 4.0
    assert overlay["a"].sum() == pytest.approx(1.0) and overlay["b"].sum() == pytest.approx(1.0)
    assert overlay["a"][:4].sum() == 0  # nothing of A below 0
    # Uniform inside a bin: half of the first bin lands in each half.
    assert rebin_histogram([2], [0.0, 1.0], np.array([0.0, 0.5, 1.0])).tolist() == [0.5, 0.5]
    figure = histogram_overlay_figure(overlay_histograms(a, b))
    assert figure["path_a"].startswith("M") and figure["zero_x"] is not None


def test_similarity_chart_marks_where_the_inputs_part_ways():
    acts_a = {"conv1": _maps(1), "conv2": _maps(2)}
    acts_b = {"conv1": _maps(1), "conv2": _maps(5)}
    stages = compare(
        features_a=np.ones((2, 2)),
        features_b=np.ones((2, 2)),
        activations_a=acts_a,
        activations_b=acts_b,
        probabilities_a={"0": 0.5, "1": 0.5},
        probabilities_b={"0": 0.5, "1": 0.5},
    )
    chart = similarity_chart(stages)
    assert chart["drop"] == "conv2"
    assert len(chart["points"]) == 4 and len(chart["dots"]) == 8
    assert chart["path"].count("L") == 3
    # The axis starts below the lowest stage; every point lies inside the plot.
    assert chart["low"] <= min(s.similarity for s in stages)
    for point in chart["points"]:
        assert chart["plot"]["top"] <= point["y"] <= chart["plot"]["bottom"]
