"""A recording's canonical audio: mono float32 WAV at a bounded rate.

Every original is converted once: mixed to mono and, above 16 kHz, resampled to
16 kHz (the model listens at 8 kHz; 16 kHz keeps clips pleasant to hear). The WAV
is float32 so that edits never clip and re-encoding is exact: replaying a
recording's history gives the same bytes, hence the same sha256.
"""

import hashlib
import io
import math
import struct
from dataclasses import dataclass
from typing import Literal

import numpy as np
import soundfile as sf

from dsp.containers import Container
from dsp.decode import decode_upload, resample
from dsp.errors import AudioError
from dsp.limits import MAX_PEAK, MAX_PEAK_DBFS

CANONICAL_MAX_RATE = 16000
MIN_DURATION_S = 0.01


@dataclass(frozen=True)
class CanonicalAudio:
    """A clip in canonical form and its encoded WAV."""

    y: np.ndarray
    sample_rate: int
    wav: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.wav).hexdigest()

    @property
    def duration_s(self) -> float:
        return len(self.y) / self.sample_rate


def encode_wav(y: np.ndarray, sample_rate: int) -> bytes:
    """Float32 mono WAV bytes of `y` (shape (n,)); equal input gives equal bytes, always.

    Written by hand rather than by libsndfile, whose float WAVs carry a PEAK chunk
    stamped with the current time: the same samples encoded a second apart would get
    different sha256s and no history could be replayed bit for bit.
    """
    samples = np.ascontiguousarray(y, dtype="<f4").reshape(-1)
    data = samples.tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, sample_rate, sample_rate * 4, 4, 32)  # IEEE float, mono, 32 bit
    chunks = b"".join(
        [
            b"fmt " + struct.pack("<I", len(fmt)) + fmt,
            b"fact" + struct.pack("<II", 4, len(samples)),
            b"data" + struct.pack("<I", len(data)) + data,
        ]
    )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def canonical(y: np.ndarray, sample_rate: int) -> CanonicalAudio:
    """Wrap already-canonical samples (shape (n,)) with their WAV."""
    y = np.ascontiguousarray(y, dtype=np.float32)
    return CanonicalAudio(y=y, sample_rate=sample_rate, wav=encode_wav(y, sample_rate))


def check_analysable(y: np.ndarray) -> None:
    """Refuse samples an analysis could not use: not finite, or peaking above ``MAX_PEAK_DBFS``.

    A float WAV may hold any float32, e.g. 1.5e38: such a clip decodes, but its power
    spectrum overflows and the analysis would fail long after the upload was accepted.

    Parameters
    ----------
    y : np.ndarray, shape (n,)

    Raises
    ------
    AudioError
    """
    # min and max propagate NaN and infinity, and unlike abs() allocate nothing the clip's size.
    lo, hi = (float(y.min()), float(y.max())) if len(y) else (0.0, 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise AudioError("The audio file contains invalid (non-finite) samples.")
    peak = max(hi, -lo)
    if peak > MAX_PEAK:
        raise AudioError(
            f"The recording is far too loud to analyse: it peaks at {20 * math.log10(peak):+.0f} dBFS, and at most "
            f"{MAX_PEAK_DBFS:+g} dBFS ({MAX_PEAK:g} times full scale) is accepted."
        )


def check_wav_complete(data: bytes) -> None:
    """Refuse a RIFF/WAVE file whose data chunk is shorter than its header announces.

    libsndfile quietly reads what is there; an upload cut short (a dropped connection, a
    partial copy) would otherwise become a shorter clip without anyone noticing. A
    streaming writer's "unknown" sizes (0 or 0xFFFFFFFF) are accepted.

    Raises
    ------
    AudioError
        The file is a WAV and its data chunk is truncated.
    """
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        return
    order: Literal["little", "big"] = "little" if data[:4] == b"RIFF" else "big"
    position = 12
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], order)
        available = len(data) - position - 8
        if chunk == b"data":
            if size not in (0, 0xFFFFFFFF) and size - available > 8:
                raise AudioError(
                    f"The WAV file is truncated: its header announces {size} bytes of audio "
                    f"but only {available} are there. Upload the complete file."
                )
            return
        position += 8 + size + (size & 1)


def canonicalise(data: bytes, *, max_duration_s: float) -> tuple[CanonicalAudio, Container, str]:
    """Decode an uploaded file and convert it to canonical audio.

    Returns
    -------
    (CanonicalAudio, the original's container, a description of its format)

    Raises
    ------
    AudioError
        Not a supported format (``UnsupportedFormatError``), unreadable, empty, truncated,
        over a decoding cap, too long, too short, a sample rate below 8 kHz, or not analysable.
    """
    check_wav_complete(data)
    decoded = decode_upload(data, max_duration_s=max_duration_s)
    mono, sr = decoded.y, decoded.sample_rate
    if len(mono) / sr < MIN_DURATION_S:
        raise AudioError(f"The recording is too short ({len(mono) / sr * 1000:.0f} ms); at least 10 ms are needed.")
    check_analysable(mono)
    rate = min(sr, CANONICAL_MAX_RATE)
    if rate != sr:
        mono = resample(mono, sr, rate)
        check_analysable(mono)
    return canonical(mono, rate), decoded.container, decoded.description


def load_canonical(data: bytes) -> CanonicalAudio:
    """Read a stored canonical WAV back."""
    y, sr = sf.read(io.BytesIO(data), dtype="float32")
    return CanonicalAudio(y=y, sample_rate=int(sr), wav=data)
