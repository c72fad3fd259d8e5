"""A recording's canonical audio: mono float32 WAV at a bounded rate.

Every original is converted once: mixed to mono and, above 16 kHz, resampled to
16 kHz (the model listens at 8 kHz; 16 kHz keeps clips pleasant to hear). The WAV
is float32 so that edits never clip and re-encoding is exact: replaying a
recording's history gives the same bytes, hence the same sha256.
"""

import hashlib
import io
import struct
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from dsp.decode import decode_audio, resample, to_mono
from dsp.errors import AudioError

CANONICAL_MAX_RATE = 16000
MIN_SAMPLE_RATE = 8000
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


def describe_format(data: bytes) -> str:
    """A short description of an audio file's format, e.g. 'WAV PCM_24, 96000 Hz, 2 channels'."""
    info = sf.info(io.BytesIO(data))
    channels = "mono" if info.channels == 1 else f"{info.channels} channels"
    return f"{info.format} {info.subtype}, {info.samplerate} Hz, {channels}"


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
    order = "little" if data[:4] == b"RIFF" else "big"
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


def canonicalise(data: bytes, *, max_duration_s: float) -> tuple[CanonicalAudio, str]:
    """Decode an uploaded file and convert it to canonical audio.

    Returns
    -------
    (CanonicalAudio, format description of the original)

    Raises
    ------
    AudioError
        Unreadable, empty, truncated, too long, too short, or a sample rate below 8 kHz.
    """
    check_wav_complete(data)
    y, sr = decode_audio(data, max_duration_s=max_duration_s)
    if sr < MIN_SAMPLE_RATE:
        raise AudioError(f"The sample rate ({sr} Hz) is too low: the model needs at least {MIN_SAMPLE_RATE} Hz.")
    mono = to_mono(y)
    if len(mono) / sr < MIN_DURATION_S:
        raise AudioError(f"The recording is too short ({len(mono) / sr * 1000:.0f} ms); at least 10 ms are needed.")
    rate = min(sr, CANONICAL_MAX_RATE)
    if rate != sr:
        mono = resample(mono, sr, rate)
    return canonical(mono, rate), describe_format(data)


def load_canonical(data: bytes) -> CanonicalAudio:
    """Read a stored canonical WAV back."""
    y, sr = sf.read(io.BytesIO(data), dtype="float32")
    return CanonicalAudio(y=y, sample_rate=int(sr), wav=data)
