"""The TensorFlow feature pipeline agrees with the numpy reference, and gradients are sound."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsp.decode import decode_audio
from dsp.features import log_spectrogram, normalise, place, prepare
from dsp.params import FeatureParams
from dsp.stft import stft
from insights.differentiable import analysed_view, fit_offset, view_adjoint
from modelzoo.samples import sample_clips
from tests.insights.insight_support import P, bundled_model


def fitted_samples(params: FeatureParams = P, count: int = 20) -> np.ndarray:
    """The bundled sample clips as the model hears them, shaped (count, n_samples)."""
    clips = [decode_audio(c.path) for c in sample_clips()[:count]]
    return np.stack([prepare(y, sr, params).waveform for y, sr in clips])


def numpy_features(w: np.ndarray, params: FeatureParams) -> np.ndarray:
    return normalise(log_spectrogram(stft(w, params), params), params)


def synthetic(params: FeatureParams) -> np.ndarray:
    rng = np.random.default_rng(1)
    n = params.n_samples
    t = np.arange(n) / params.sample_rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * (np.abs(t - 0.5) < 0.2)
    return np.stack([0.1 * rng.standard_normal(n), tone, np.zeros(n), 1e-4 * rng.standard_normal(n)]).astype(np.float32)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"normalisation": "frequency"}, {"normalisation": "none"}, {"window": "hamming", "win_length": 200}],
)
def test_tf_features_match_numpy(overrides: dict) -> None:
    import tensorflow as tf

    from insights.differentiable import tf_features

    params = FeatureParams.from_dict({**P.to_dict(), **overrides})
    waves = np.concatenate([fitted_samples(params, 6), synthetic(params)])
    expected = numpy_features(waves, params)
    got = tf_features(tf.constant(waves), params).numpy()
    assert got.shape == expected.shape == (len(waves), params.n_freq, params.n_frames)
    diff = np.abs(got - expected)
    # Both sides use float32 FFTs, whose error relative to a frame's loudest bin shows
    # most (about 1e-3 dB) in the weakest bins; normalising divides it by the std of
    # the clip (about 20 dB) or of one frequency row (a few dB at the top rows). The
    # worst case is the pure tone's far bins, 80 dB under its peak, under a Hamming window.
    tolerance = {"clip": 5e-4, "frequency": 1e-3, "none": 5e-3}[params.normalisation]
    assert diff.max() < tolerance
    assert diff.mean() < tolerance / 100
    # silence: the floor, up to the float32 rounding of TensorFlow's log
    np.testing.assert_allclose(got[len(waves) - 2], expected[len(waves) - 2], rtol=0, atol=1e-5)


def test_tf_features_match_numpy_on_all_samples() -> None:
    import tensorflow as tf

    from insights.differentiable import tf_features

    waves = fitted_samples()
    diff = np.abs(tf_features(tf.constant(waves), P).numpy() - numpy_features(waves, P))
    assert diff.max() < 2e-4 and diff.mean() < 1e-5


@pytest.mark.parametrize("length", [8000, 3000, 12000])
def test_analysed_view_is_what_prepare_computes(length: int) -> None:
    rng = np.random.default_rng(length)
    for params in (P, FeatureParams.from_dict({**P.to_dict(), "fit_mode": "start"})):
        for clip in fitted_samples(count=3):
            # A fitted clip moved off-centre, with a DC offset: prepare re-centres it.
            y = np.roll(np.resize(clip, length), int(rng.integers(-900, 900))) + np.float32(0.01)
            view, offset = analysed_view(y, params)
            expected = prepare(y, params.sample_rate, params).waveform
            np.testing.assert_array_equal(view, expected)
            centred = y - y.mean(dtype=np.float64).astype(np.float32)
            assert offset == fit_offset(centred, params)
            np.testing.assert_array_equal(place(centred, offset, params.n_samples), expected)


def test_view_adjoint_is_the_transpose() -> None:
    rng = np.random.default_rng(0)
    for offset in (-300, 0, 57, 4000):
        for n_in in (8000, 5000):
            u, v = rng.standard_normal(n_in), rng.standard_normal(P.n_samples)
            forward = place((u - u.mean()).astype(np.float32), offset, P.n_samples)
            back = view_adjoint(v.astype(np.float32), offset, n_in, P)
            assert back.shape == (n_in,)
            assert np.dot(forward, v) == pytest.approx(np.dot(u, back), rel=1e-4, abs=1e-3)


def test_gradient_matches_finite_differences() -> None:
    """In float64 the TF pipeline's gradient matches central differences of its own value."""
    import tensorflow as tf

    from insights.differentiable import tf_features

    rng = np.random.default_rng(3)
    y = fitted_samples(count=1).astype(np.float64)
    weights = tf.constant(rng.standard_normal((1, P.n_freq, P.n_frames)))

    def objective(w: np.ndarray) -> float:
        return float(tf.reduce_sum(tf_features(tf.constant(w), P) * weights))

    x = tf.constant(y)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = tf.reduce_sum(tf_features(x, P) * weights)
    grad = tape.gradient(value, x).numpy()
    assert np.all(np.isfinite(grad))
    for _ in range(3):
        direction = rng.standard_normal(y.shape)
        # Tiny steps: no bin crosses the top_db floor (a kink) between the two points.
        direction *= 1e-9 * np.linalg.norm(y) / np.linalg.norm(direction)
        numeric = (objective(y + direction) - objective(y - direction)) / 2
        assert np.sum(grad * direction) == pytest.approx(numeric, rel=1e-3)


def test_gradient_is_finite_on_silence_and_tones() -> None:
    import tensorflow as tf

    from insights.differentiable import tf_features

    x = tf.constant(synthetic(P))
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = tf.reduce_sum(tf_features(x, P) ** 3)
    grad = tape.gradient(value, x).numpy()
    assert np.all(np.isfinite(grad))
    assert not np.any(grad[2])  # digital silence: below the power floor, nothing moves


def test_differentiable_model_gives_the_models_probabilities_and_activations() -> None:
    import tensorflow as tf

    from insights.differentiable import differentiable_model

    model = bundled_model()
    dm = differentiable_model(model)
    assert differentiable_model(model) is dm
    assert dm.logits_kind == "logits"
    features = numpy_features(fitted_samples(count=4), P)
    convs, logits = dm(tf.constant(features))
    for i, f in enumerate(features):
        probabilities, activations = model.run(f)
        np.testing.assert_allclose(tf.nn.softmax(logits[i]).numpy(), probabilities, atol=1e-6)
        for name in model.conv_layers:
            np.testing.assert_allclose(convs[name][i].numpy().transpose(2, 0, 1), activations[name], atol=1e-5)


def test_modules_import_without_tensorflow() -> None:
    code = (
        "import sys; import insights.differentiable, insights.attribution, insights.attacks, insights.robustness; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=120)
