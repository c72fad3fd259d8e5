"""Muting filters: which ones an edit silences, the edited layer's sound, and the rest of the real network run on."""

import numpy as np
import pytest

from insights.ablation import edit_key, layer_mask, muted_filters


@pytest.mark.parametrize(
    ("mode", "filters", "muted"),
    [("mute", [3, 1], [1, 3]), ("solo", [2], [0, 1, 3]), ("mute", [0, 1, 2, 3], [0, 1, 2, 3])],
)
def test_the_edit_says_which_filters_go_silent(mode, filters, muted):
    assert muted_filters(mode=mode, filters=filters, n_filters=4) == muted


@pytest.mark.parametrize(
    ("mode", "filters", "message"),
    [
        ("mute", [], "at least one"),
        ("mute", [1, 1], "only once"),
        ("mute", [4], "filters 0 to 3"),
        ("mute", [-1], "filters 0 to 3"),
        ("solo", [1, 2], "exactly one"),
        ("boost", [1], "mute"),
    ],
)
def test_a_bad_edit_explains_itself(mode, filters, message):
    with pytest.raises(ValueError, match=message):
        muted_filters(mode=mode, filters=filters, n_filters=4)


def test_edit_keys_are_short_and_stable():
    assert edit_key([3, 1]) == "1,3"
    long = edit_key(range(500))
    assert long.startswith("sha256:") and len(long) < 80 and long == edit_key(list(range(499, -1, -1)))


def test_the_layer_mask_holds_only_the_filters_left():
    acts = np.zeros((3, 4, 5), dtype=np.float32)
    acts[0, 0, 0] = 1.0
    acts[1, 3, 4] = 2.0

    all_on = layer_mask(acts, [], (8, 10))
    without_1 = layer_mask(acts, [1], (8, 10))
    nothing = layer_mask(acts, [0, 1, 2], (8, 10))

    assert all_on.shape == (8, 10) and all_on.max() == pytest.approx(1.0)
    assert all_on[-1, -1] == pytest.approx(1.0) and without_1[-1, -1] == pytest.approx(0.0)
    assert without_1[0, 0] == pytest.approx(1.0)
    assert not nothing.any()


# --------------------------------------------------------------------------- the real network


@pytest.fixture(scope="module")
def bundled():
    from modelzoo.management.commands.evaluate_model import load_model

    return load_model("")[0]


@pytest.fixture(scope="module")
def features(bundled):
    from insights.version_insight import evaluation_features

    return evaluation_features(bundled.params)[0][::25]


def test_muting_nothing_is_the_network_as_it_is(bundled, features):
    from insights.ablation import ablated_probabilities

    for layer in bundled.conv_layers:
        edited = ablated_probabilities(bundled, features, layer=layer, muted=[])
        for x, p in zip(features, edited, strict=True):
            np.testing.assert_allclose(p, bundled.run(x)[0], atol=1e-5)


def test_a_dead_filter_muted_changes_nothing_and_a_silent_layer_forgets_the_clip(bundled, features):
    from insights.ablation import ablated_probabilities

    last = bundled.conv_layers[-1]
    silent = ablated_probabilities(bundled, features, layer=last, muted=range(32))
    one = ablated_probabilities(bundled, features[0], layer="conv2", muted=[0, 5])

    np.testing.assert_allclose(silent, np.repeat(silent[:1], len(silent), axis=0), atol=1e-6)  # same for every clip
    assert one.shape == (10,) and one.sum() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="layer must be one of"):
        ablated_probabilities(bundled, features, layer="dense", muted=[])


def test_a_layer_that_a_branch_skips_is_edited_where_it_is_used(tmp_path):
    """A residual model: the edited layer's output feeds an Add whose other input skips it."""
    import keras

    from dsp.params import FeatureParams
    from insights.ablation import ablated_probabilities
    from modelzoo.inference import build_loaded_model

    params = FeatureParams()
    keras.utils.set_random_seed(3)
    inputs = keras.Input((params.n_freq, params.n_frames, 1))
    a = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="c1")(inputs)
    b = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="c2")(a)
    added = keras.layers.Add()([a, b])
    pooled = keras.layers.GlobalAveragePooling2D()(added)
    outputs = keras.layers.Dense(3, activation="softmax")(pooled)
    model = build_loaded_model(keras.Model(inputs, outputs), key="residual", params=params, labels=["a", "b", "c"])
    x = np.random.default_rng(0).normal(size=(2, params.n_freq, params.n_frames)).astype(np.float32)

    muted = ablated_probabilities(model, x, layer="c2", muted=[0, 1])

    head = keras.Model(inputs, a)
    expected = model.keras_model.layers[-1](keras.layers.GlobalAveragePooling2D()(head(x[..., None]))).numpy()
    np.testing.assert_allclose(muted, expected, atol=1e-5)
