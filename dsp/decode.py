"""Decoding audio files into samples, mixing to mono and resampling (pure numpy, soundfile, soxr).

Waveforms are float32, shaped ``(n,)`` (mono) or ``(n, channels)``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from dsp.errors import AudioError


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
