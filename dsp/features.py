"""The log-spectrogram features the digit CNN sees.

Pure numpy / soundfile / soxr so that both the web tier (which must invert
spectrograms for sonification without librosa or TensorFlow) and the worker
tier compute exactly the same thing.  The training pipeline reuses the same
functions on augmented waveforms, so features at training and inference time
cannot drift apart.

Array conventions
-----------------
* waveforms are float32, shaped ``(n,)`` (mono) or ``(n, channels)``;
* spectrograms are shaped ``(n_freq, n_frames)``: frequency on axis 0 with
  the lowest frequency at index 0, time on axis 1.  ``stft``, ``istft``,
  ``log_spectrogram`` and ``normalise`` also accept leading batch axes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsp.decode import resample, to_mono
from dsp.errors import AudioError
from dsp.params import FeatureParams
from dsp.stft import stft


@dataclass(frozen=True)
class Prepared:
    """A clip ready for the model.

    Attributes
    ----------
    waveform : np.ndarray, float32, shape (n_samples,)
        The fitted mono waveform at ``params.sample_rate``.
    stft : np.ndarray, complex64, shape (n_freq, n_frames)
        Its STFT (kept for sonification of layer outputs).
    features : np.ndarray, float32, shape (n_freq, n_frames)
        Normalised log spectrogram; add the channel axis at model call time.
    silent : bool
        Whether the clip was silent (only possible with ``allow_silent``).
    """

    waveform: np.ndarray
    stft: np.ndarray
    features: np.ndarray
    silent: bool


# --------------------------------------------------------------------------- fitting


def _frame_energy_db(y: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Mean power of (partial) frames starting every ``hop`` samples, in dB."""
    c = np.concatenate([[0.0], np.cumsum(np.square(y, dtype=np.float64))])
    starts = np.arange(0, max(len(y) - frame, 0) + 1, hop)
    ends = np.minimum(starts + frame, len(y))
    power = (c[ends] - c[starts]) / np.maximum(ends - starts, 1)
    return 10.0 * np.log10(power + 1e-20)


def active_region(y: np.ndarray, params: FeatureParams) -> tuple[int, int]:
    """Sample span ``[start, end)`` of the spoken part of a take.

    With ``params.active_method="peak"``: from the first to the last frame
    within ``trim_db`` of the loudest.  With ``"noise_floor"``: see
    :func:`_speech_frames`; the loudest group of speech frames.

    Parameters
    ----------
    y : np.ndarray, shape (n,)

    Returns
    -------
    (int, int)
        The whole clip when it is (digitally) silent.
    """
    if len(y) == 0 or not np.any(y):
        return 0, len(y)
    frame, hop = params.win_length, params.hop_length
    if params.active_method == "noise_floor":
        # Pre-emphasis: speech lives above ~100 Hz, while rumble, hum and brown noise put their
        # power below it, where it would swamp the frame levels.
        emphasised = np.concatenate([y[:1], y[1:] - PRE_EMPHASIS * y[:-1]])
        first, last = _speech_frames(_frame_energy_db(emphasised, frame, hop), params, hop)
    else:
        db = _frame_energy_db(y, frame, hop)
        active = np.flatnonzero(db >= db.max() - params.trim_db)
        first, last = int(active[0]), int(active[-1])
    return int(first * hop), int(min(last * hop + frame, len(y)))


#: First-difference filter applied before measuring frame levels for the noise-floor method.
PRE_EMPHASIS = 0.95
#: Quantile of the frame levels taken as the take's noise floor: the quietest tenth of a take
#: is room, not word, unless the take was trimmed to the word (then the margin rule below keeps
#: the word whole enough to centre it).
NOISE_FLOOR_QUANTILE = 10.0
#: Speech frames closer than this are one word: the closures inside "six" and "eight" last up to
#: about 0.1 s, and a word's quiet middle must not split it.
MAX_WORD_GAP_S = 0.2


def _speech_frames(db: np.ndarray, params: FeatureParams, hop: int) -> tuple[int, int]:
    """First and last frame of the loudest word: frames well above the estimated noise floor.

    The levels are those of the pre-emphasised take.  The floor is the 10th
    percentile of the frame levels (smoothed over three frames); a frame is
    speech when it is ``floor_margin_db`` above the floor
    and in the upper half of the floor-to-peak range, and never when it is
    more than ``trim_db`` below the peak (so in digital silence this is the
    ``"peak"`` rule).  Speech frames closer than 0.2 s form one group; the
    group with the most energy above the floor is the word, so a click or a
    cough elsewhere in the take does not move it.

    Parameters
    ----------
    db : np.ndarray, shape (n_frames,)
        Frame levels in dB.

    Returns
    -------
    (int, int)
        Frame indices, inclusive.
    """
    power = 10.0 ** (db / 10.0)
    if len(power) >= 3:
        padded = np.concatenate([power[:1], power, power[-1:]])
        power = (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0
    level = 10.0 * np.log10(power + 1e-20)
    peak = float(level.max())
    k = (len(level) - 1) * NOISE_FLOOR_QUANTILE / 100.0  # the percentile, by linear interpolation
    low, high = np.partition(level, [int(k), min(int(k) + 1, len(level) - 1)])[
        [int(k), min(int(k) + 1, len(level) - 1)]
    ]
    floor = float(low + (high - low) * (k - int(k)))
    threshold = max(peak - params.trim_db, floor + max(params.floor_margin_db, 0.5 * (peak - floor)))
    threshold = min(threshold, peak)  # the loudest frame is always speech
    speech = np.flatnonzero(level >= threshold)
    max_gap = max(1, round(MAX_WORD_GAP_S * params.sample_rate / hop))
    breaks = np.flatnonzero(np.diff(speech) > max_gap)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(speech) - 1]])
    excess = np.concatenate([[0.0], np.cumsum(np.maximum(power - 10.0 ** (floor / 10.0), 0.0))])
    best = int(np.argmax(excess[speech[ends] + 1] - excess[speech[starts]]))
    return int(speech[starts[best]]), int(speech[ends[best]])


def fit_to_duration(y: np.ndarray, sr: int, params: FeatureParams) -> np.ndarray:
    """Bring a mono clip to exactly ``params.n_samples`` samples.

    With ``fit_mode="centre_active"`` (default) the *active region* (see
    :func:`active_region`: by default from the first to the last STFT-sized
    frame whose power is within ``trim_db`` dB of the loudest frame) is located
    first.  If it is not longer than the window,
    the window is centred on it and filled with the clip's own surroundings,
    zero-padded where the clip ends (so a short, trimmed clip ends up centred
    between zeros, and a long browser recording keeps its room noise).  If the
    active region is longer than the window, the window of ``duration_s`` with
    the most energy inside it is kept (earliest one on ties).
    ``fit_mode="start"`` keeps the first ``duration_s`` and zero-pads the end.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal at ``sr``, which must equal ``params.sample_rate``.
    sr : int
    params : FeatureParams

    Returns
    -------
    np.ndarray, float32, shape (params.n_samples,)
    """
    if sr != params.sample_rate:
        raise ValueError(f"fit_to_duration expects {params.sample_rate} Hz audio, got {sr} Hz.")
    y = np.asarray(y, dtype=np.float32)
    n = params.n_samples
    if params.fit_mode == "start":
        return place(y, 0, n)
    start, end = active_region(y, params)
    if end - start <= n:
        return place(y, (start + end) // 2 - n // 2, n)
    c = np.concatenate([[0.0], np.cumsum(np.square(y[start:end], dtype=np.float64))])
    best = int(np.argmax(c[n:] - c[:-n]))
    return place(y, start + best, n)


def place(y: np.ndarray, offset: int, n: int) -> np.ndarray:
    """Samples ``y[offset:offset + n]``, zero where that range leaves ``y``.

    Parameters
    ----------
    y : np.ndarray, shape (m,)
    offset : int
        May be negative (leading zeros) or beyond the end.
    n : int

    Returns
    -------
    np.ndarray, float32, shape (n,)
    """
    out = np.zeros(n, dtype=np.float32)
    lo, hi = max(offset, 0), min(offset + n, len(y))
    if hi > lo:
        out[lo - offset : hi - offset] = y[lo:hi]
    return out


# --------------------------------------------------------------------------- features


def log_spectrogram(S_or_y: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Power spectrogram in dB, floored ``top_db`` below each clip's maximum.

    Parameters
    ----------
    S_or_y : np.ndarray
        A complex STFT shaped (..., n_freq, n_frames), or a real waveform
        shaped (..., n) which is transformed with :func:`stft` first.

    Returns
    -------
    np.ndarray, float32, shape (..., n_freq, n_frames)
    """
    S = np.asarray(S_or_y)
    if not np.iscomplexobj(S):
        S = stft(S, params)
    power = np.square(S.real, dtype=np.float32) + np.square(S.imag, dtype=np.float32)
    db = 10.0 * np.log10(np.maximum(power, np.float32(params.amin)))
    peak = db.max(axis=(-2, -1), keepdims=True)
    return np.maximum(db, peak - np.float32(params.top_db)).astype(np.float32)


def normalise(logspec: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Standardise a log spectrogram as ``params.normalisation`` says.

    Per-clip statistics remove loudness and (partly) microphone and speaker
    colouring.  A constant input (zero variance) maps to zeros.

    Parameters
    ----------
    logspec : np.ndarray, shape (..., n_freq, n_frames)

    Returns
    -------
    np.ndarray, float32, same shape, finite.
    """
    x = np.asarray(logspec, dtype=np.float32)
    if params.normalisation == "none":
        return x.copy()
    axes = (-2, -1) if params.normalisation == "clip" else (-1,)
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    return ((x - mean) / np.where(std > 1e-6, std, 1.0)).astype(np.float32)


def is_silent(y: np.ndarray, params: FeatureParams) -> bool:
    """Whether a clip is empty, all zeros or peaks below ``silence_dbfs``.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
    """
    y = np.asarray(y)
    if y.size == 0:
        return True
    peak = float(np.max(np.abs(y)))
    return peak == 0.0 or 20.0 * math.log10(peak) < params.silence_dbfs


def prepare(y: np.ndarray, sr: int, params: FeatureParams, *, allow_silent: bool = False) -> Prepared:
    """Decoded audio to model input: mono, DC removal, resample, fit, features.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)
    sr : int
        Its sample rate.
    params : FeatureParams
    allow_silent : bool
        Return a silent clip (``silent=True``, finite all-zero features)
        instead of raising.

    Returns
    -------
    Prepared

    Raises
    ------
    AudioError
        Empty input, or silent input when ``allow_silent`` is false.
    """
    mono = to_mono(y)
    if mono.size == 0:
        raise AudioError("The audio contains no samples.")
    if params.remove_dc:
        mono = mono - mono.mean(dtype=np.float64).astype(np.float32)
    mono = resample(mono, sr, params.sample_rate)
    waveform = fit_to_duration(mono, params.sample_rate, params)
    silent = is_silent(waveform, params)
    if silent and not allow_silent:
        raise AudioError(
            "The recording is silent (or far too quiet); please record the digit again, closer to the microphone."
        )
    spec = stft(waveform, params)
    features = normalise(log_spectrogram(spec, params), params)
    return Prepared(waveform=waveform, stft=spec, features=features, silent=silent)
