"""Decoding audio files into samples, mixing to mono and resampling (pure numpy, soundfile, soxr).

Waveforms are float32, shaped ``(n,)`` (mono) or ``(n, channels)``.  :func:`decode_upload`
is the one door for files people send: the container is decided by content
(:mod:`dsp.containers`), channels, rate and duration are capped from the header before
decoding (:mod:`dsp.limits`), and the samples are decoded in blocks and mixed to mono as
they come, so memory follows the mono result, not what the header announces.
:func:`decode_audio` reads the project's own files (bundled and training clips).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from dsp.containers import SUPPORTED_FORMATS, Container, UnsupportedFormatError, sniff_container
from dsp.errors import AudioError
from dsp.limits import CODEC_PADDING_S, DECODE_BLOCK_FRAMES, MAX_CHANNELS, MAX_SAMPLE_RATE, MAX_SAMPLES_PER_SECOND

MIN_SAMPLE_RATE = 8000


def decode_audio(source: bytes | str | Path, *, max_duration_s: float | None = None) -> tuple[np.ndarray, int]:
    """Decode one of the project's own audio files (WAV, FLAC, OGG/Vorbis, MP3...) with soundfile.

    Uploads go through :func:`decode_upload`, which caps what a header may announce.

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
        raise _too_long(None, max_duration_s)  # type: ignore[arg-type]
    if y.shape[0] == 0:
        raise AudioError("The audio file contains no samples.")
    if sr <= 0:
        raise AudioError("The audio file has an invalid sample rate.")
    if not np.all(np.isfinite(y)):
        raise AudioError("The audio file contains invalid (non-finite) samples.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return np.ascontiguousarray(y, dtype=np.float32), sr


def _duration_text(seconds: float) -> str:
    """A length as people say it: "45.2 s", "12 min 5 s", "2 h 0 min"."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def _too_long(seconds: float | None, max_duration_s: float) -> AudioError:
    """The duration cap's message; ``seconds`` is None when only "longer than the cap" is known."""
    length = f"more than {max_duration_s:g} s" if seconds is None else _duration_text(seconds)
    return AudioError(f"The recording is too long ({length}); the maximum is {max_duration_s:g} s.")


def check_stream_shape(*, channels: int, sample_rate: int, seconds: float | None, max_duration_s: float) -> None:
    """Refuse, from a header alone, audio whose decoded size or duration is over the caps.

    Raises
    ------
    AudioError
        No channels or more than ``MAX_CHANNELS``; a rate below 8 kHz or above
        ``MAX_SAMPLE_RATE``; channels × rate above ``MAX_SAMPLES_PER_SECOND``; longer
        than ``max_duration_s`` (when the header knows the duration).
    """
    if channels < 1:
        raise AudioError("The audio file has no channels.")
    if channels > MAX_CHANNELS:
        raise AudioError(f"The audio file has {channels} channels; at most {MAX_CHANNELS} are accepted.")
    if sample_rate < MIN_SAMPLE_RATE:
        raise AudioError(
            f"The sample rate ({sample_rate} Hz) is too low: the model needs at least {MIN_SAMPLE_RATE} Hz."
        )
    if sample_rate > MAX_SAMPLE_RATE:
        raise AudioError(f"The sample rate ({sample_rate} Hz) is too high; at most {MAX_SAMPLE_RATE} Hz is accepted.")
    if channels * sample_rate > MAX_SAMPLES_PER_SECOND:
        raise AudioError(
            f"The audio is too large to decode: {channels} channels at {sample_rate} Hz; at most "
            f"{MAX_SAMPLES_PER_SECOND} samples a second are accepted (stereo at 192 kHz, or 8 channels at 48 kHz)."
        )
    if seconds is not None and seconds > max_duration_s + CODEC_PADDING_S:
        raise _too_long(seconds, max_duration_s)


def _frame_caps(sample_rate: int, max_duration_s: float) -> tuple[int, int]:
    """``(frames kept, frames beyond which the file is too long)``: a codec's padding past the cap is trimmed."""
    return math.ceil(max_duration_s * sample_rate), math.ceil((max_duration_s + CODEC_PADDING_S) * sample_rate)


@dataclass(frozen=True)
class DecodedUpload:
    """An upload decoded to mono, with what it was."""

    y: np.ndarray  # float32, shape (n,)
    sample_rate: int
    container: Container
    description: str  # e.g. "WAV PCM_24, 96000 Hz, 2 channels" or "M4A aac, 44100 Hz, mono"


def _channels_text(channels: int) -> str:
    return "mono" if channels == 1 else f"{channels} channels"


def _to_mono_block(block: np.ndarray) -> np.ndarray:
    """One decoded block (frames, channels) mixed down exactly as :func:`to_mono` would."""
    return block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float64).astype(np.float32)


def _read_mono(f: sf.SoundFile, frames: int) -> np.ndarray:
    """At most ``frames`` frames of ``f``, decoded block by block and mixed to mono as they come.

    The mono result is the only full-length array: a header's frame count, when known, sizes
    it once (it is capped already); otherwise blocks are gathered and joined.
    """
    mono = np.empty(frames, dtype=np.float32)
    filled = 0
    while filled < frames:
        block = f.read(min(DECODE_BLOCK_FRAMES, frames - filled), dtype="float32", always_2d=True)
        if len(block) == 0:
            break
        mono[filled : filled + len(block)] = _to_mono_block(block)
        filled += len(block)
    return mono[:filled]


def _decode_with_libsndfile(data: bytes, container: Container, *, max_duration_s: float) -> DecodedUpload:
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            if f.format not in container.sndfile_formats:
                raise UnsupportedFormatError(
                    f"The file looks like {container.name} but is not; upload {SUPPORTED_FORMATS}."
                )
            if f.subtype not in container.codecs:
                raise UnsupportedFormatError(
                    f"{container.name} files encoded as {f.subtype} are not supported; upload {SUPPORTED_FORMATS}."
                )
            sr, channels = int(f.samplerate), int(f.channels)
            known = 0 < f.frames < 2**62  # libsndfile's "unknown" is a huge count
            check_stream_shape(
                channels=channels,
                sample_rate=sr,
                seconds=f.frames / sr if known else None,
                max_duration_s=max_duration_s,
            )
            keep, refuse = _frame_caps(sr, max_duration_s)
            mono = _read_mono(f, min(f.frames, refuse + 1) if known else refuse + 1)
            description = f"{container.name} {f.subtype}, {sr} Hz, {_channels_text(channels)}"
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError, EOFError) as exc:
        raise AudioError(
            f"The file could not be read as {container.name} audio; it may be corrupt or truncated."
        ) from exc
    if len(mono) > refuse:
        raise _too_long(None, max_duration_s)
    return DecodedUpload(y=mono[:keep], sample_rate=sr, container=container, description=description)


def _decode_with_ffmpeg(data: bytes, container: Container, *, max_duration_s: float) -> DecodedUpload:
    from dsp import ffmpeg

    with ffmpeg.write_temporary(data, container.suffix) as copy:
        found = ffmpeg.probe(Path(copy.name), container)
        check_stream_shape(
            channels=found.channels,
            sample_rate=found.sample_rate,
            seconds=found.duration_s,
            max_duration_s=max_duration_s,
        )
        keep, refuse = _frame_caps(found.sample_rate, max_duration_s)
        # A second more than allowed tells a file longer than the cap from one at it (ffmpeg's -t
        # cuts at codec frames, 20 ms or more, not at a sample).
        mono = ffmpeg.decode_with_ffmpeg(Path(copy.name), container, found, max_frames=refuse + found.sample_rate)
    if len(mono) > refuse:
        raise _too_long(None, max_duration_s)
    mono = mono[:keep]
    description = f"{container.name} {found.codec}, {found.sample_rate} Hz, {_channels_text(found.channels)}"
    return DecodedUpload(y=mono, sample_rate=found.sample_rate, container=container, description=description)


def decode_upload(data: bytes, *, max_duration_s: float) -> DecodedUpload:
    """Decode a file someone uploaded, within the caps, to mono.

    Parameters
    ----------
    data : bytes
        The file as uploaded (its size is capped by the caller).
    max_duration_s : float
        Refuse longer audio: from the header when it says, while decoding otherwise.

    Returns
    -------
    DecodedUpload
        ``y`` float32 mono shaped (n,), finite, at its own sample rate.

    Raises
    ------
    UnsupportedFormatError
        The content is not a supported container, or holds an unsupported encoding.
    AudioError
        Empty, corrupt or truncated; no samples or non-finite samples; too many
        channels, a rate out of range, too large a decoded size, or too long.
    """
    if len(data) == 0:
        raise AudioError("The audio file is empty.")
    container = sniff_container(data)
    if container.decoder == "ffmpeg":
        decoded = _decode_with_ffmpeg(data, container, max_duration_s=max_duration_s)
    else:
        decoded = _decode_with_libsndfile(data, container, max_duration_s=max_duration_s)
    if len(decoded.y) == 0:
        raise AudioError("The audio file contains no samples.")
    if not (np.isfinite(decoded.y.min()) and np.isfinite(decoded.y.max())):  # both propagate NaN and infinity
        raise AudioError("The audio file contains invalid (non-finite) samples.")
    return decoded


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
