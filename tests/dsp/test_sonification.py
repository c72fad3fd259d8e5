import io

import numpy as np
import pytest
import soundfile as sf

from dsp.params import FeatureParams
from dsp.sonification import activation_mask, griffin_lim, sonify, upsample_map, wav_bytes
from dsp.stft import stft

PARAMS = FeatureParams()


def _tone(freq: float = 440.0) -> np.ndarray:
    t = np.arange(PARAMS.n_samples) / PARAMS.sample_rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("shape", [(129, 101), (64, 50), (32, 25), (1, 1)])
def test_it_upsamples_any_map_onto_the_stft_grid(shape):
    grid = upsample_map(np.random.default_rng(0).random(shape).astype(np.float32), (PARAMS.n_freq, PARAMS.n_frames))

    assert grid.shape == (PARAMS.n_freq, PARAMS.n_frames)
    assert np.isfinite(grid).all()


def test_a_constant_map_stays_constant():
    grid = upsample_map(np.full((32, 25), 0.7, dtype=np.float32), (129, 101))

    np.testing.assert_allclose(grid, 0.7, atol=1e-6)


def test_the_mask_is_between_zero_and_one():
    mask = activation_mask(np.array([[0.0, 2.0], [4.0, -1.0]], dtype=np.float32), (129, 101))

    assert mask.min() == 0.0
    assert mask.max() == pytest.approx(1.0)


def test_a_filter_that_keeps_everything_gives_back_the_clip():
    y = _tone()

    out = sonify(np.ones((32, 25), dtype=np.float32), stft(y, PARAMS), PARAMS)

    assert out.shape == (PARAMS.n_samples,)
    np.testing.assert_allclose(out, y, atol=1e-4)


def test_a_filter_that_never_fires_is_silent():
    out = sonify(np.zeros((64, 50), dtype=np.float32), stft(_tone(), PARAMS), PARAMS)

    assert np.abs(out).max() == 0.0


def test_a_map_on_low_frequencies_keeps_the_low_tone():
    y = _tone(300) + _tone(3000)
    low_half = np.zeros((64, 50), dtype=np.float32)
    low_half[:16] = 1.0  # rows are frequency, lowest first: the bottom quarter, 0-1 kHz

    out = sonify(low_half, stft(y, PARAMS), PARAMS)

    spectrum = np.abs(np.fft.rfft(out))
    freqs = np.fft.rfftfreq(len(out), 1 / PARAMS.sample_rate)
    assert spectrum[np.argmin(np.abs(freqs - 300))] > 20 * spectrum[np.argmin(np.abs(freqs - 3000))]


def test_griffin_lim_gives_a_clip_of_the_right_length_and_is_seeded():
    magnitude = np.abs(stft(_tone(), PARAMS))

    first = griffin_lim(magnitude, PARAMS, n_iter=8, seed=1)
    again = griffin_lim(magnitude, PARAMS, n_iter=8, seed=1)

    assert first.shape == (PARAMS.n_samples,)
    np.testing.assert_array_equal(first, again)


@pytest.mark.parametrize("method", ["mask", "griffinlim", "telepathy"])
def test_it_offers_two_methods(method):
    maps = np.random.default_rng(0).random((16, 32, 25)).astype(np.float32)
    if method == "telepathy":
        with pytest.raises(ValueError, match="Unknown sonification method"):
            sonify(maps[0], stft(_tone(), PARAMS), PARAMS, method=method)
        return
    assert sonify(maps[0], stft(_tone(), PARAMS), PARAMS, method=method, n_iter=4).shape == (PARAMS.n_samples,)


@pytest.mark.parametrize("peak", [0.9, 0.0])
def test_the_wav_has_the_models_rate_and_length(peak):
    y = _tone() * peak

    y_read, sr = sf.read(io.BytesIO(wav_bytes(y, PARAMS.sample_rate)))

    assert sr == PARAMS.sample_rate
    assert len(y_read) == PARAMS.n_samples
    assert np.abs(y_read).max() == pytest.approx(0.9 if peak else 0.0, abs=1e-3)
