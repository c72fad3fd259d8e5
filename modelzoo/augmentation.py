"""Training-time augmentation of spoken-digit clips (pure numpy, no TensorFlow).

Every epoch sees freshly perturbed copies of every clip: speed, trimming,
placement, gain and noise on the waveform; a random equaliser in the STFT;
frequency warp and SpecAugment masks on the normalised log spectrogram.  It
runs *outside* the model, so the saved ``.keras`` file holds built-in layers
only and loads with ``safe_mode=True``.  RECIPE_NOTES.md says why each one is
there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import soxr

from dsp.features import active_region, fit_to_duration, log_spectrogram, normalise, place
from dsp.params import FeatureParams
from dsp.stft import stft


def _spectra(waves: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Batch STFT with scipy's much faster FFT when available (same result)."""
    try:
        import scipy.fft

        return stft(waves, params, rfft=scipy.fft.rfft)
    except ImportError:  # pragma: no cover - scipy is a dependency, but be lenient
        return stft(waves, params)


def clean_features(clips: Sequence[np.ndarray], params: FeatureParams) -> np.ndarray:
    """Features exactly as :func:`modelzoo.features.prepare` makes them.

    Returns
    -------
    np.ndarray, float32, shape (n, n_freq, n_frames)
    """
    waves = np.stack([fit_to_duration(y, params.sample_rate, params) for y in clips])
    return normalise(log_spectrogram(_spectra(waves, params), params), params)


def _coloured_noise(rng: np.random.Generator, n_clips: int, n: int) -> np.ndarray:
    """Unit-RMS white, pink or brown noise, one colour drawn per clip.  (n_clips, n)"""
    import scipy.fft

    spec = scipy.fft.rfft(rng.standard_normal((n_clips, n), dtype=np.float32), axis=-1)
    f = np.maximum(np.arange(spec.shape[-1], dtype=np.float32), 1.0)
    shapes = np.stack([f**-exponent for exponent in (0.0, 0.5, 1.0)])  # amplitude ~ f^-e
    noise = scipy.fft.irfft(spec * shapes[rng.integers(0, 3, n_clips)], n=n, axis=-1)
    return (noise / noise.std(axis=-1, keepdims=True)).astype(np.float32)


def augment_waveforms(
    clips: Sequence[np.ndarray], params: FeatureParams, hyper: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Speed perturbation, random trimming and placement, gain and noise.

    Returns
    -------
    np.ndarray, float32, shape (n, params.n_samples)
    """
    n, sr = params.n_samples, params.sample_rate
    count = len(clips)
    out = np.zeros((count, n), dtype=np.float32)
    signal_power = np.ones(count)
    max_shift = int(hyper["shift_s"] * sr)
    for i, y in enumerate(clips):
        factor = rng.uniform(1 - hyper["speed"], 1 + hyper["speed"])
        if factor != 1.0:  # resampling to sr/factor and playing at sr = speed * factor
            y = soxr.resample(y, sr, sr / factor, quality="MQ").astype(np.float32)
        start, end = active_region(y, params)
        if hyper["trim"] > 0 and rng.random() < hyper["trim_p"]:
            # FSDD's own trimming sometimes clips the word's ends (nicolas' early "eight"s lose
            # their final /t/): cut up to `trim` of the active region at each end
            cut = (rng.uniform(0, hyper["trim"], 2) * (end - start)).astype(np.int64)
            y = y[start + cut[0] : end - cut[1]]
            start, end = 0, len(y)
        if end - start <= n:
            slack = (n - (end - start)) // 2
            shift = int(rng.integers(-min(slack, max_shift), min(slack, max_shift) + 1))
            offset = (start + end) // 2 - n // 2 + shift
        else:
            offset = int(rng.integers(start, end - n + 1))
        out[i] = place(y, offset, n)
        active = y[start:end]
        signal_power[i] = max(float(np.mean(np.square(active, dtype=np.float64))), 1e-12)
    gains = 10.0 ** (rng.uniform(-hyper["gain_db"], hyper["gain_db"], count) / 20.0)
    out *= gains[:, None].astype(np.float32)
    signal_power *= gains**2
    if hyper["noise_p"] > 0:
        snr = rng.uniform(*hyper["snr_db"], size=count)
        use = rng.random(count) < hyper["noise_p"]
        scale = np.where(use, np.sqrt(signal_power / 10.0 ** (snr / 10.0)), 0.0)
        out += _coloured_noise(rng, count, n) * scale[:, None].astype(np.float32)
    return out


def _random_eq_db(rng: np.random.Generator, count: int, params: FeatureParams, hyper: dict[str, Any]) -> np.ndarray:
    """Random microphone/room colouring per clip, in dB.  (count, n_freq)

    A linear tilt, a smooth random curve (4 cosines) and, with probability
    ``band_p``, a soft low-pass and a soft high-pass: FSDD speakers were
    recorded with different equipment (george's clips roll off above 3.5 kHz,
    the lowest bins differ by 20 dB), and browsers' microphones differ again.
    """
    f = np.linspace(0.0, 1.0, params.n_freq)[None, :]
    hz = f * params.sample_rate / 2
    eq = rng.uniform(-1, 1, (count, 1)) * hyper["tilt_db"] * (f - 0.5)
    for k in range(1, 5):
        amp = rng.uniform(-1, 1, (count, 1)) * hyper["eq_db"] / 2
        eq += amp * np.cos(np.pi * k * f + rng.uniform(0, 2 * np.pi, (count, 1)))
    band = rng.random((count, 1)) < hyper["band_p"]
    low = rng.uniform(*hyper["lowpass_hz"], (count, 1))
    high = rng.uniform(*hyper["highpass_hz"], (count, 1))
    rolloff = 40.0 / (1 + np.exp(-(hz - low) / 100.0)) + 30.0 / (1 + np.exp(-(high - hz) / 30.0))
    return eq - band * rolloff


def augment_features(
    clips: Sequence[np.ndarray], params: FeatureParams, hyper: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """One epoch of augmented model inputs.

    Waveform augmentation (:func:`augment_waveforms`), then in the log
    STFT: random equalisation (:func:`_random_eq_db`); in the log spectrogram:
    frequency warp, normalisation, and SpecAugment masks (set to 0, the
    normalised mean).

    Returns
    -------
    np.ndarray, float32, shape (n, n_freq, n_frames)
    """
    spectra = _spectra(augment_waveforms(clips, params, hyper, rng), params)
    count, n_freq, _ = spectra.shape
    spectra *= (10.0 ** (_random_eq_db(rng, count, params, hyper) / 20.0))[:, :, None].astype(np.float32)
    logspec = log_spectrogram(spectra, params)
    if hyper["freq_warp"] > 0:
        alpha = rng.uniform(1 - hyper["freq_warp"], 1 + hyper["freq_warp"], (count, 1))
        src = np.clip(np.arange(n_freq)[None, :] / alpha, 0, n_freq - 1)
        lo = np.floor(src).astype(np.int64)
        hi = np.minimum(lo + 1, n_freq - 1)
        w = (src - lo).astype(np.float32)[:, :, None]
        logspec = (
            np.take_along_axis(logspec, lo[:, :, None], axis=1) * (1 - w)
            + np.take_along_axis(logspec, hi[:, :, None], axis=1) * w
        )
    x = normalise(logspec, params)
    for axis, masks, width in (
        (1, hyper["freq_masks"], hyper["freq_mask_bins"]),
        (2, hyper["time_masks"], hyper["time_mask_frames"]),
    ):
        pos = np.arange(x.shape[axis])[None, :]
        for _ in range(int(masks)):
            widths = rng.integers(0, int(width) + 1, (count, 1))
            starts = rng.integers(0, x.shape[axis], (count, 1))
            hit = (pos >= starts) & (pos < starts + widths)
            x[np.broadcast_to(np.expand_dims(hit, 3 - axis), x.shape)] = 0.0
    return x
