"""Training-time augmentation of spoken-digit clips (pure numpy, no TensorFlow).

Every epoch sees freshly perturbed copies of every clip: speed, tempo, trimming,
reverberation, placement in a longer take, gain, noise of several kinds, clipping
with a DC offset and MP3/Opus on the waveform, the front end finding the word
again; a random equaliser in the STFT;
frequency warp and SpecAugment masks on the normalised log spectrogram.  It
runs *outside* the model, so the saved ``.keras`` file holds built-in layers
only and loads with ``safe_mode=True``.  RECIPE_NOTES.md says why each one is
there.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import soxr

from dsp.features import active_region, fit_to_duration, log_spectrogram, normalise, place
from dsp.params import FeatureParams
from dsp.stft import stft
from modelzoo import acoustics


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


@dataclass(frozen=True)
class Banks:
    """Noises and room impulse responses drawn once per training run (seeded), sampled every epoch.

    Attributes
    ----------
    noises : dict of str to np.ndarray, float32, shape (k, m)
        Unit-RMS noise segments of each kind in :data:`modelzoo.acoustics.NOISE_KINDS`.
    rirs : list of np.ndarray, float32
        Synthetic room impulse responses.
    """

    noises: dict[str, np.ndarray]
    rirs: list[np.ndarray]


BANK_SEGMENTS = 16
BANK_SEGMENT_S = 4.0
BANK_RIRS = 96


def build_banks(
    clips: Sequence[np.ndarray], params: FeatureParams, hyper: dict[str, Any], rng: np.random.Generator
) -> Banks:
    """Noise segments of every kind (babble made from ``clips``) and room impulse responses."""
    sr = params.sample_rate
    m = int(BANK_SEGMENT_S * sr)
    noises = {
        kind: np.stack([acoustics.noise_of_kind(rng, kind, m, sr, clips) for _ in range(BANK_SEGMENTS)])
        for kind in hyper["noise_kinds"]
    }
    rirs = [
        acoustics.room_impulse_response(
            rng, sr, rt60_s=rng.uniform(*hyper["rt60_s"]), drr_db=rng.uniform(*hyper["drr_db"])
        )
        for _ in range(BANK_RIRS if hyper["reverb_p"] > 0 else 0)
    ]
    return Banks(noises=noises, rirs=rirs)


def _noise_from_bank(rng: np.random.Generator, banks: Banks, kinds: Sequence[str], n: int) -> np.ndarray:
    """A random stretch of a random segment of a random kind, unit RMS.  (n,)"""
    bank = banks.noises[kinds[int(rng.integers(len(kinds)))]]
    segment = bank[int(rng.integers(len(bank)))]
    if n > len(segment):
        segment = np.tile(segment, n // len(segment) + 1)
    start = int(rng.integers(0, len(segment) - n + 1))
    return acoustics.unit_rms(segment[start : start + n] * rng.choice([-1.0, 1.0]))


def _perturb_word(y: np.ndarray, params: FeatureParams, hyper: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """Speed (pitch and tempo), tempo alone and random trimming of the word's ends."""
    sr = params.sample_rate
    factor = rng.uniform(1 - hyper["speed"], 1 + hyper["speed"])
    if factor != 1.0:  # resampling to sr/factor and playing at sr = speed * factor
        y = soxr.resample(y, sr, sr / factor, quality="MQ").astype(np.float32)
    if hyper["tempo_p"] > 0 and rng.random() < hyper["tempo_p"]:
        y = acoustics.wsola_stretch(y, sr, float(np.exp(rng.uniform(-1, 1) * np.log(1 + hyper["tempo"]))))
    if hyper["trim"] > 0 and rng.random() < hyper["trim_p"]:
        # FSDD's own trimming sometimes clips the word's ends (nicolas' early "eight"s lose
        # their final /t/): cut up to `trim` of the active region at each end
        start, end = active_region(y, params)
        cut = (rng.uniform(0, hyper["trim"], 2) * (end - start)).astype(np.int64)
        y = y[start + cut[0] : end - cut[1]]
    return y


def _fit_take(take: np.ndarray, params: FeatureParams, hyper: dict[str, Any], draw: int) -> np.ndarray:
    """The front end on an augmented take (DC removal, the word found), the window moved by up to ``shift_s``."""
    n = params.n_samples
    if params.remove_dc:
        take = take - np.float32(take.mean())
    start, end = active_region(take, params)
    if end - start <= n:
        reach = min((n - (end - start)) // 2, int(hyper["shift_s"] * params.sample_rate))
        return place(take, (start + end) // 2 - n // 2 + draw % (2 * reach + 1) - reach, n)
    return place(take, start + draw % (end - start - n + 1), n)


def augment_waveforms(
    clips: Sequence[np.ndarray],
    params: FeatureParams,
    hyper: dict[str, Any],
    rng: np.random.Generator,
    banks: Banks | None = None,
) -> np.ndarray:
    """One epoch of takes as a room and a laptop make them, fitted to the window by the front end.

    Per clip: speed, tempo and trimming (:func:`_perturb_word`); reverberation;
    the word put at a random place in a take of ``take_s`` seconds; gain; noise of
    a random kind at a random SNR over the whole take; DC offset and clipping;
    then (in one batch) MP3 or Opus.  Finally the take goes through the same
    front end as inference (DC removal, :func:`dsp.features.active_region`),
    and the window is centred on what it found, give or take ``shift_s``.

    Returns
    -------
    np.ndarray, float32, shape (n, params.n_samples)
    """
    n, sr = params.n_samples, params.sample_rate
    banks = banks if banks is not None else build_banks(clips, params, hyper, rng)
    takes = []
    for y in clips:
        word = _perturb_word(np.asarray(y, dtype=np.float32), params, hyper, rng)
        if len(word) == 0:
            word = np.asarray(y, dtype=np.float32)
        # The dataset's clips are trimmed to the word, so the whole clip's power is the word's
        power = max(float(np.mean(np.square(word, dtype=np.float64))), 1e-12)
        if banks.rirs and rng.random() < hyper["reverb_p"]:
            word = acoustics.reverberate(word, banks.rirs[int(rng.integers(len(banks.rirs)))])
        length = max(int(rng.uniform(*hyper["take_s"]) * sr), len(word))
        take = np.zeros(length, dtype=np.float32)
        at = int(rng.integers(0, length - len(word) + 1))
        take[at : at + len(word)] = word
        gain = 10.0 ** (rng.uniform(-hyper["gain_db"], hyper["gain_db"]) / 20.0)
        take *= np.float32(gain)
        power *= gain**2
        if rng.random() < hyper["noise_p"]:
            noise = _noise_from_bank(rng, banks, hyper["noise_kinds"], length)
            take = acoustics.add_at_snr(take, noise, rng.uniform(*hyper["snr_db"]), power)
        if rng.random() < hyper["clip_p"]:
            take = acoustics.clip_with_offset(
                take, drive_db=rng.uniform(*hyper["clip_drive_db"]), dc=rng.uniform(-1, 1) * hyper["dc_max"]
            )
        takes.append(take)
    coded = np.flatnonzero(rng.random(len(takes)) < hyper["codec_p"])
    mp3 = coded[rng.random(len(coded)) < 0.5]
    jobs = []
    # ffmpeg runs in its own processes: fit the other takes while it encodes and decodes
    with ThreadPoolExecutor(max_workers=2) as pool:
        for codec, chosen, bitrates in (("mp3", mp3, (16, 24, 32)), ("opus", np.setdiff1d(coded, mp3), (6, 8, 12, 16))):
            if len(chosen):
                batch, rate = [takes[i] for i in chosen], int(rng.choice(bitrates))
                jobs.append((chosen, pool.submit(acoustics.codec_roundtrip, batch, sr, codec=codec, bitrate_kbps=rate)))
        shifts = rng.integers(-(2**31), 2**31, len(takes))  # drawn now, so the order of work does not matter
        out = np.zeros((len(takes), n), dtype=np.float32)
        pending = set(coded.tolist())
        for i, take in enumerate(takes):
            if i not in pending:
                out[i] = _fit_take(take, params, hyper, int(shifts[i]))
        for chosen, job in jobs:
            for i, take in zip(chosen, job.result(), strict=True):
                out[i] = _fit_take(take, params, hyper, int(shifts[i]))
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
    (low_from, low_to), (high_from, high_to) = hyper["lowpass_hz"], hyper["highpass_hz"]
    low = rng.uniform(low_from, low_to, (count, 1))
    high = rng.uniform(high_from, high_to, (count, 1))
    rolloff = 40.0 / (1 + np.exp(-(hz - low) / 100.0)) + 30.0 / (1 + np.exp(-(high - hz) / 30.0))
    return eq - band * rolloff


def augment_features(
    clips: Sequence[np.ndarray],
    params: FeatureParams,
    hyper: dict[str, Any],
    rng: np.random.Generator,
    banks: Banks | None = None,
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
    spectra = _spectra(augment_waveforms(clips, params, hyper, rng, banks), params)
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


def mix_pairs(
    x: np.ndarray, targets: np.ndarray, alpha: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each example blended with another of the epoch (Zhang et al., 2018).

    Parameters
    ----------
    x : np.ndarray, shape (n, ...)
    targets : np.ndarray, shape (n, classes)
        One-hot.
    alpha : float
        The blend weight is drawn per example from Beta(alpha, alpha).
    rng : np.random.Generator

    Returns
    -------
    (np.ndarray, np.ndarray)
        The blended inputs (float32) and soft targets, shapes as given.
    """
    n = len(x)
    weight = rng.beta(alpha, alpha, size=n).astype(np.float32)
    weight = np.maximum(weight, 1.0 - weight)  # the example keeps the larger share: its label stays the top one
    other = rng.permutation(n)
    shape = (n,) + (1,) * (x.ndim - 1)
    mixed = weight.reshape(shape) * x + (1.0 - weight.reshape(shape)) * x[other]
    soft = weight[:, None] * targets + (1.0 - weight[:, None]) * targets[other]
    return mixed.astype(np.float32), soft.astype(np.float32)
