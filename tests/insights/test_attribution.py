"""Grad-CAM, integrated gradients and the evidence/rest masks.

Shapes, ranges and axioms are checked on the bundled model (whatever its accuracy);
that attribution points at the evidence is checked on a tiny model trained here on
synthetic tones, where the evidence is known: the tone's frequency band.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dsp.decode import decode_audio
from dsp.features import Prepared, prepare
from dsp.params import FeatureParams
from insights.attribution import (
    attribution_masks,
    baseline_features,
    evidence_outside_word,
    grad_cam,
    grad_cams,
    integrated_gradients,
    integrated_gradients_result,
    listen,
)
from modelzoo.samples import sample_clips
from tests.insights.insight_support import P

TONES_HZ = (500.0, 1500.0, 2750.0)
# The tone model is trained here on its own features: clips that fill the window as they are
# (the peak rule keeps a one-second take in place), so the tone stays where it was drawn.
TONE_P = dataclasses.replace(P, active_method="peak")


@pytest.fixture(scope="module")
def model(loaded_bundled_model):
    return loaded_bundled_model


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    clip = next(c for c in sample_clips() if c.name == "5_nicolas_6")
    y, sr = decode_audio(clip.path)
    return prepare(y, sr, P)


def tone_clip(freq: float, rng: np.random.Generator, params: FeatureParams) -> np.ndarray:
    n, sr = params.n_samples, params.sample_rate
    length = int(rng.integers(n // 4, n // 2))
    start = int(rng.integers(0, n - length))
    t = np.arange(length) / sr
    y = 0.01 * rng.standard_normal(n)
    y[start : start + length] += rng.uniform(0.1, 0.8) * np.sin(2 * np.pi * freq * (1 + rng.uniform(-0.02, 0.02)) * t)
    return y.astype(np.float32)


@pytest.fixture(scope="module")
def tone_model():
    return train_tone_model()


def train_tone_model(clips: int = 120, epochs: int = 6):
    """conv1..conv3 like the digit CNN (fewer filters), trained to name which of three tones plays."""
    import keras

    from modelzoo.inference import build_loaded_model

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = [str(int(f)) for f in TONES_HZ]
    x, y = [], []
    for i in range(clips):
        k = i % len(TONES_HZ)
        x.append(prepare(tone_clip(TONES_HZ[k], rng, TONE_P), TONE_P.sample_rate, TONE_P).features)
        y.append(k)
    layers = keras.layers
    inputs = keras.Input((P.n_freq, P.n_frames, 1))
    h = inputs
    for i, (filters, kernel) in enumerate(((4, 7), (4, 5), (8, 3)), start=1):
        h = layers.Conv2D(filters, kernel, padding="same", activation="relu", name=f"conv{i}")(h)
        h = layers.MaxPooling2D(2, name=f"pool{i}")(h)
    h = layers.Flatten()(h)  # convolutions cannot tell one frequency from another: the head must
    outputs = layers.Dense(len(labels), activation="softmax", name="probabilities")(h)
    net = keras.Model(inputs, outputs)
    net.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    net.fit(np.array(x)[..., None], np.array(y), epochs=epochs, batch_size=16, verbose=0)
    return build_loaded_model(net, key="test:tone-model", params=TONE_P, labels=labels)


# --------------------------------------------------------------------------- Grad-CAM


def test_grad_cam_every_layer_is_on_the_input_grid_in_unit_range(model, prepared) -> None:
    probabilities, _ = model.run(prepared.features)
    for target in (int(np.argmax(probabilities)), int(np.argmin(probabilities))):
        maps = grad_cams(model, prepared.features, target=target)
        assert list(maps) == model.conv_layers == ["conv1", "conv2", "conv3"]
        for name, cam in maps.items():
            assert cam.shape == (P.n_freq, P.n_frames) and cam.dtype == np.float32
            assert cam.min() >= 0.0 and cam.max() <= 1.0
            assert cam.max() in (0.0, 1.0)  # scaled by its own peak, or nothing at all
            np.testing.assert_array_equal(grad_cam(model, prepared.features, layer=name, target=target), cam)


def test_grad_cam_refuses_unknown_layer_and_target(model, prepared) -> None:
    with pytest.raises(ValueError, match="layer must be one of conv1, conv2, conv3"):
        grad_cam(model, prepared.features, layer="dense", target=0)
    for target in (-1, 10, True):
        with pytest.raises(ValueError, match="target"):
            grad_cam(model, prepared.features, layer="conv1", target=target)
    with pytest.raises(ValueError, match="features must be shaped"):
        grad_cam(model, prepared.features[:, :50], layer="conv1", target=0)


# --------------------------------------------------------------------------- integrated gradients


def test_silence_baseline_is_zero_after_clip_normalisation() -> None:
    np.testing.assert_array_equal(baseline_features(P, "silence"), baseline_features(P, "zeros"))
    raw = FeatureParams.from_dict({**P.to_dict(), "normalisation": "none"})
    np.testing.assert_allclose(baseline_features(raw, "silence"), 10 * np.log10(raw.amin))
    with pytest.raises(ValueError, match="baseline"):
        baseline_features(P, "noise")


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_integrated_gradients_completeness(model, prepared, output: str) -> None:
    """Attributions add up to f(x) - f(baseline); the midpoint rule's error shrinks like 1/steps**2."""
    probabilities, _ = model.run(prepared.features)
    target = int(np.argmax(probabilities))
    coarse = integrated_gradients_result(model, prepared.features, target=target, steps=8, output=output)
    fine = integrated_gradients_result(model, prepared.features, target=target, steps=64, output=output)
    assert fine.attribution.shape == (P.n_freq, P.n_frames) and fine.attribution.dtype == np.float32
    if output == "probability":
        assert fine.score == pytest.approx(float(probabilities[target]), abs=1e-5)
        assert fine.baseline_score == pytest.approx(float(model.run(baseline_features(P))[0][target]), abs=1e-5)
    delta = fine.score - fine.baseline_score
    assert fine.attribution.sum(dtype=np.float64) - delta == pytest.approx(fine.completeness_error, abs=1e-9)
    # Tolerance: 2% of the change, plus float32 round-off of summing ~13,000 gradients.
    assert abs(fine.completeness_error) <= 0.02 * abs(delta) + 1e-3
    assert abs(fine.completeness_error) <= abs(coarse.completeness_error) + 1e-4
    np.testing.assert_array_equal(
        integrated_gradients(model, prepared.features, target=target, steps=64, output=output), fine.attribution
    )


def test_integrated_gradients_refuses_bad_arguments(model, prepared) -> None:
    with pytest.raises(ValueError, match="method"):
        grad_cams(model, prepared.features, target=0, method="cam")
    for kwargs in ({"steps": 0}, {"steps": 2.5}, {"baseline": "noise"}, {"output": "loss"}):
        with pytest.raises(ValueError):
            integrated_gradients(model, prepared.features, target=0, **kwargs)


# --------------------------------------------------------------------------- attribution finds the evidence


def kept_energy(attribution: np.ndarray, prepared: Prepared, freq: float) -> tuple[float, float]:
    """Shares of the tone's energy and of everything else's that "the evidence" lets through."""
    evidence, _ = attribution_masks(attribution, keep=0.1)
    power = np.abs(prepared.stft) ** 2
    kept = power * evidence**2
    centre = round(freq / P.sample_rate * P.n_fft)
    band = slice(centre - 8, centre + 9)
    tone = kept[band].sum() / power[band].sum()
    return float(tone), float((kept.sum() - kept[band].sum()) / (power.sum() - power[band].sum()))


@pytest.mark.slow
def test_attribution_points_at_the_tone(tone_model) -> None:
    """The evidence keeps the tone (a random map keeps ~10-30% of it) and drops most of the rest."""
    rng = np.random.default_rng(42)
    for k, freq in enumerate(TONES_HZ):
        prepared = prepare(tone_clip(freq, rng, TONE_P), TONE_P.sample_rate, TONE_P)
        probabilities, _ = tone_model.run(prepared.features)
        assert int(np.argmax(probabilities)) == k  # the fixture model learnt its task
        maps = {"ig": integrated_gradients(tone_model, prepared.features, target=k, steps=16)}
        maps |= grad_cams(tone_model, prepared.features, target=k)
        for name, attribution in maps.items():
            tone, rest = kept_energy(attribution, prepared, freq)
            assert tone > 0.9 and rest < 0.5, (freq, name, tone, rest)


# --------------------------------------------------------------------------- listening


def test_masks_are_complementary_soft_and_keep_the_top_fraction() -> None:
    rng = np.random.default_rng(0)
    attribution = rng.standard_normal((P.n_freq, P.n_frames))
    for keep in (0.05, 0.25, 1.0):
        evidence, rest = attribution_masks(attribution, keep=keep, smooth=0)
        assert evidence.shape == rest.shape == attribution.shape
        assert evidence.dtype == rest.dtype == np.float32
        np.testing.assert_array_equal(evidence + rest, np.ones_like(evidence))
        assert evidence.min() >= 0 and evidence.max() == 1.0
        full = np.mean(evidence == 1.0)
        # the top `keep` of the bins play fully (all positive ones when fewer than that)
        assert full == pytest.approx(min(keep, np.mean(attribution > 0)), abs=2 / attribution.size)
        assert np.mean(evidence > 0) == pytest.approx(min(2 * keep, np.mean(attribution > 0)), abs=2 / attribution.size)
        assert np.all(evidence[attribution <= 0] == 0)
    smooth, _ = attribution_masks(attribution, keep=0.25, smooth=2)
    assert 0 < smooth.mean() < 1


def test_masks_without_evidence_and_bad_input() -> None:
    for attribution in (np.zeros((P.n_freq, P.n_frames)), -np.ones((P.n_freq, P.n_frames))):
        evidence, rest = attribution_masks(attribution)
        assert not evidence.any() and np.all(rest == 1)
    for kwargs in ({"keep": 0}, {"keep": 1.5}, {"smooth": -1}):
        with pytest.raises(ValueError):
            attribution_masks(np.ones((4, 4)), **kwargs)
    with pytest.raises(ValueError):
        attribution_masks(np.full((4, 4), np.nan))


def test_evidence_and_rest_add_up_to_the_clip(model, prepared) -> None:
    cam = grad_cam(model, prepared.features, layer="conv2", target=3)
    evidence, rest = attribution_masks(cam)
    heard, other = listen(prepared.stft, evidence, P), listen(prepared.stft, rest, P)
    assert heard.shape == other.shape == (P.n_samples,) == (round(P.sample_rate * P.duration_s),)
    assert heard.dtype == np.float32
    # istft is linear and reconstructs the clip from its own STFT
    np.testing.assert_allclose(heard + other, prepared.waveform, atol=1e-5)
    np.testing.assert_allclose(listen(prepared.stft, np.ones_like(evidence), P), prepared.waveform, atol=1e-5)
    assert np.linalg.norm(heard) > 0 and np.linalg.norm(other) > 0
    assert listen(prepared.stft, evidence, P, length=4000).shape == (4000,)
    with pytest.raises(ValueError):
        listen(prepared.stft, evidence[:, :10], P)


def test_evidence_outside_word_measures_the_share_in_the_silence_around_the_word() -> None:
    params = FeatureParams()
    waveform = np.zeros(params.n_samples, dtype=np.float32)
    word = slice(params.n_samples // 2 - 800, params.n_samples // 2 + 800)  # 0.2 s of tone, zeros around it
    waveform[word] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(1600) / params.sample_rate)
    centres = np.arange(params.n_frames) * params.hop_length
    in_word = (centres >= word.start) & (centres < word.stop)
    on_word = np.zeros((params.n_freq, params.n_frames), dtype=np.float32)
    on_word[:, in_word] = 1.0
    padding = np.zeros_like(on_word)
    padding[:, ~in_word] = 1.0

    assert evidence_outside_word(on_word, waveform, params) < 0.1
    assert evidence_outside_word(padding, waveform, params) > 0.9
    balanced = on_word / in_word.sum() + padding / (~in_word).sum()
    assert 0.4 < evidence_outside_word(balanced, waveform, params) < 0.6
    # negative attribution (evidence against the digit) in the padding is not evidence there
    assert evidence_outside_word(on_word - padding, waveform, params) < 0.1
    assert evidence_outside_word(-on_word, waveform, params) is None
