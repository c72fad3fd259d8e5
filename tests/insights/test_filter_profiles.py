"""What a filter likes, from synthetic responses: its strongest clips, dead or not, its mean per digit."""

import numpy as np
import pytest

from insights.filter_profiles import TOP_EXAMPLES, connection_strengths, layer_profiles, specialisation


def test_examples_are_the_strongest_clips_first_and_never_clips_it_ignores():
    peaks = np.array([[0.0, 1.0], [3.0, 0.0], [2.0, 0.5], [0.0, 0.0]])
    means = peaks / 4

    profiles = layer_profiles(peaks, means, ["1", "2", "1", "2"])

    assert [e["clip"] for e in profiles[0]["examples"]] == [1, 2]
    assert [e["clip"] for e in profiles[1]["examples"]] == [0, 2]
    assert profiles[0]["examples"][0]["score"] == 3.0
    assert profiles[0]["peak"] == 3.0 and not profiles[0]["dead"]


def test_a_filter_that_never_fires_on_any_clip_is_dead():
    peaks = np.array([[0.0, 2.0], [0.0, 0.0], [1e-9, 0.0]])

    profiles = layer_profiles(peaks, peaks, ["0", "1", "2"])

    assert profiles[0]["dead"] and profiles[0]["examples"] == []
    assert not profiles[1]["dead"]


def test_at_most_nine_examples_ties_in_clip_order():
    peaks = np.ones((20, 1))

    examples = layer_profiles(peaks, peaks, [str(i % 10) for i in range(20)])[0]["examples"]

    assert len(examples) == TOP_EXAMPLES == 9
    assert [e["clip"] for e in examples] == list(range(9))


def test_the_mean_per_digit_averages_each_digits_clips():
    means = np.array([[1.0], [3.0], [10.0]])

    profile = layer_profiles(means, means, ["7", "7", "2"])[0]

    assert profile["mean_by_label"] == {"7": 2.0, "2": 10.0}


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="n_clips, n_filters"):
        layer_profiles(np.ones((3, 2)), np.ones((3, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="top"):
        layer_profiles(np.ones((1, 1)), np.ones((1, 1)), ["a"], top=0)


def test_a_specialist_answers_one_digit():
    assert specialisation({"0": 1.0, "1": 0.0, "2": 0.0}) == ("0", 1.0)
    _label, share = specialisation({"0": 1.0, "1": 1.0})
    assert share == 0.0
    assert specialisation({"0": 0.0, "1": 0.0}) == (None, 0.0)
    assert specialisation({"0": 1.0}) == (None, 0.0)


def test_connection_strengths_sum_the_kernel_over_space():
    kernel = np.zeros((3, 3, 2, 4))
    kernel[:, :, 1, 2] = 1.0
    kernel[0, 0, 0, 3] = -2.0

    strengths = connection_strengths(kernel)

    assert strengths.shape == (2, 4)
    assert strengths[1, 2] == 9.0 and strengths[0, 3] == -2.0 and strengths[0, 0] == 0.0
    with pytest.raises(ValueError):
        connection_strengths(np.ones((3, 3, 2)))
