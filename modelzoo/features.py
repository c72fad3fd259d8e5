"""Audio decoding and the log-spectrogram features the digit CNN sees.

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

import io
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from modelzoo.stft import istft, stft, window

__all__ = [
    "AudioError",
    "FeatureParams",
    "Prepared",
    "decode_audio",
    "fit_to_duration",
    "is_silent",
    "istft",
    "log_spectrogram",
    "normalise",
    "prepare",
    "resample",
    "stft",
    "to_mono",
    "window",
]

FIT_MODES = ("centre_active", "start")
NORMALISATIONS = ("clip", "frequency", "none")
WINDOWS = ("hann", "hamming")


class AudioError(ValueError):
    """The one error raised for audio that cannot be used.

    Its message is a complete sentence that can be shown to the end user.
    """


@dataclass(frozen=True)
class FeatureParams:
    """Everything that defines the model's input features.

    Stored next to every model version so inference reproduces training.

    Attributes
    ----------
    sample_rate : int
        Rate (Hz) every input is resampled to.
    duration_s : float
        Length of the analysed window in seconds.
    n_fft : int
        FFT size; ``n_freq = n_fft // 2 + 1``.
    hop_length : int
        Samples between successive frames.
    win_length : int
        Window length, ``<= n_fft`` (centred inside the FFT frame).
    window : str
        ``"hann"`` or ``"hamming"`` (periodic).
    fit_mode : str
        How a clip is brought to ``duration_s``; see :func:`fit_to_duration`.
    trim_db : float
        Frames quieter than the loudest frame minus ``trim_db`` are not
        "active" when locating the word (``fit_mode="centre_active"``).
    amin : float
        Power floor before the logarithm (avoids ``log(0)``).
    top_db : float
        The log spectrogram is clipped at its maximum minus ``top_db``, so the
        floor is relative to the clip's own level (loudness invariant).
    normalisation : str
        ``"clip"`` (standardise with the clip's mean and std),
        ``"frequency"`` (standardise each frequency row over time) or
        ``"none"``.
    silence_dbfs : float
        A clip whose peak is below this level (dB re full scale) is silent.
    remove_dc : bool
        Subtract the mean before anything else (cheap microphones add DC).
    """

    sample_rate: int = 8000
    duration_s: float = 1.0
    n_fft: int = 256
    hop_length: int = 128
    win_length: int = 256
    window: str = "hann"
    fit_mode: str = "centre_active"
    trim_db: float = 40.0
    amin: float = 1e-10
    top_db: float = 80.0
    normalisation: str = "clip"
    silence_dbfs: float = -60.0
    remove_dc: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.sample_rate <= 0 or self.duration_s <= 0:
            problems.append("sample_rate and duration_s must be positive")
        if not 0 < self.win_length <= self.n_fft or self.hop_length <= 0:
            problems.append("need 0 < win_length <= n_fft and hop_length > 0")
        if self.window not in WINDOWS:
            problems.append(f"window must be one of {WINDOWS}")
        if self.fit_mode not in FIT_MODES:
            problems.append(f"fit_mode must be one of {FIT_MODES}")
        if self.normalisation not in NORMALISATIONS:
            problems.append(f"normalisation must be one of {NORMALISATIONS}")
        if self.amin <= 0 or self.top_db <= 0 or self.trim_db <= 0:
            problems.append("amin, top_db and trim_db must be positive")
        if problems:
            raise ValueError("Invalid feature parameters: " + "; ".join(problems) + ".")

    @property
    def n_samples(self) -> int:
        """Samples in the analysed window."""
        return round(self.sample_rate * self.duration_s)

    @property
    def n_freq(self) -> int:
        """Frequency bins of the one-sided spectrum."""
        return self.n_fft // 2 + 1

    @property
    def n_frames(self) -> int:
        """STFT frames of a window of ``n_samples`` (centred frames)."""
        return 1 + self.n_samples // self.hop_length

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dictionary of all fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureParams:
        """Inverse of :meth:`to_dict`; missing keys take their defaults.

        Raises
        ------
        ValueError
            On unknown keys (a model saved by a newer pipeline must not be
            silently run with different features) or invalid values.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"Unknown feature parameter(s): {', '.join(unknown)}.")
        return cls(**d)


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


# --------------------------------------------------------------------------- decoding


def decode_audio(source: bytes | str | Path, *, max_duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode an audio file (WAV, FLAC, OGG/Vorbis, MP3...) with soundfile.

    Parameters
    ----------
    source : bytes or str or Path
        The encoded file contents, or a path to it.
    max_duration_s : float, optional
        Refuse longer audio.  Checked from the header before decoding, and
        enforced again while reading for formats whose header lies.

    Returns
    -------
    y : np.ndarray, float32, shape (n,) or (n, channels)
        Samples in [-1, 1].
    sr : int
        Sample rate in Hz.

    Raises
    ------
    AudioError
        Unreadable, corrupt or truncated file, no samples, non-finite
        samples, or longer than ``max_duration_s``.
    """
    handle: io.BytesIO | str
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise AudioError("The audio file is empty.")
        handle = io.BytesIO(bytes(source))
    else:
        handle = str(source)
    try:
        with sf.SoundFile(handle) as f:
            sr = int(f.samplerate)
            limit = None
            if max_duration_s is not None:
                limit = math.ceil(max_duration_s * sr)
                if 0 < limit < f.frames < 2**62:
                    raise _too_long(f.frames / sr, max_duration_s)
            y = f.read(frames=-1 if limit is None else limit + 1, dtype="float32")
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError, EOFError) as exc:
        raise AudioError(
            "The file could not be read as audio; it may be corrupt or in an "
            "unsupported format (use WAV, FLAC, OGG or MP3)."
        ) from exc
    if limit is not None and y.shape[0] > limit:
        raise _too_long(y.shape[0] / sr, max_duration_s)  # type: ignore[arg-type]
    if y.shape[0] == 0:
        raise AudioError("The audio file contains no samples.")
    if sr <= 0:
        raise AudioError("The audio file has an invalid sample rate.")
    if not np.all(np.isfinite(y)):
        raise AudioError("The audio file contains invalid (non-finite) samples.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return np.ascontiguousarray(y, dtype=np.float32), sr


def _too_long(seconds: float, max_duration_s: float) -> AudioError:
    return AudioError(f"The recording is too long ({seconds:.1f} s); the maximum is {max_duration_s:g} s.")


def to_mono(y: np.ndarray) -> np.ndarray:
    """Average the channels.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n, channels)

    Returns
    -------
    np.ndarray, float32, shape (n,)
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        return y.copy()
    if y.ndim == 2:
        return y.mean(axis=1, dtype=np.float64).astype(np.float32)
    raise AudioError("The audio has an unexpected shape.")


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono signal with soxr (high quality, deterministic).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    orig_sr, target_sr : int
        Rates in Hz.

    Returns
    -------
    np.ndarray, float32, shape (m,) with ``m ≈ n * target_sr / orig_sr``
    """
    y = np.asarray(y, dtype=np.float32)
    if orig_sr == target_sr or y.size == 0:
        return y.copy()
    return soxr.resample(y, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


# --------------------------------------------------------------------------- fitting


def _frame_energy_db(y: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Mean power of (partial) frames starting every ``hop`` samples, in dB."""
    c = np.concatenate([[0.0], np.cumsum(np.square(y, dtype=np.float64))])
    starts = np.arange(0, max(len(y) - frame, 0) + 1, hop)
    ends = np.minimum(starts + frame, len(y))
    power = (c[ends] - c[starts]) / np.maximum(ends - starts, 1)
    return 10.0 * np.log10(power + 1e-20)


def active_region(y: np.ndarray, params: FeatureParams) -> tuple[int, int]:
    """Sample span ``[start, end)`` of frames within ``trim_db`` of the loudest.

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
    db = _frame_energy_db(y, frame, hop)
    active = np.flatnonzero(db >= db.max() - params.trim_db)
    return int(active[0] * hop), int(min(active[-1] * hop + frame, len(y)))


def fit_to_duration(y: np.ndarray, sr: int, params: FeatureParams) -> np.ndarray:
    """Bring a mono clip to exactly ``params.n_samples`` samples.

    With ``fit_mode="centre_active"`` (default) the *active region* (from the
    first to the last STFT-sized frame whose power is within ``trim_db`` dB of
    the loudest frame) is located first.  If it is not longer than the window,
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
