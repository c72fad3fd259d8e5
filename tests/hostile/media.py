"""Audio fixtures for hostile-input tests, made at test time: soundfile for what libsndfile writes,
the ffmpeg inside the imageio-ffmpeg wheel for what phones and browsers make."""

import io
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from dsp.ffmpeg import ffmpeg_executable
from tests.experiments.lab_support import SEVEN, sample_bytes


def write(y: np.ndarray, sr: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def silent_flac(*, rate: int, channels: int, seconds: int) -> bytes:
    """A FLAC of digital silence: tiny on the wire, huge once decoded."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", rate, channels, format="FLAC", subtype="PCM_16") as f:
        block = np.zeros((rate, channels), dtype=np.float32)
        for _ in range(seconds):
            f.write(block)
    return buffer.getvalue()


def ffmpeg_encode(source: bytes, suffix: str, *args: str) -> bytes:
    """`source` (any file ffmpeg reads) re-encoded by ffmpeg with `args` into a file ending in `suffix`."""
    with tempfile.TemporaryDirectory() as folder:
        src, out = Path(folder) / "in.wav", Path(folder) / f"out{suffix}"
        src.write_bytes(source)
        command = [ffmpeg_executable(), "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(src), *args]
        subprocess.run([*command, str(out)], check=True, timeout=120)
        return out.read_bytes()


def ffmpeg_tone(suffix: str, *args: str, seconds: float = 1.0, rate: int = 44100, channels: int = 1) -> bytes:
    """A 440 Hz tone made by ffmpeg itself, encoded with `args`."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"out{suffix}"
        layout = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}[channels]
        tone = f"sine=frequency=440:duration={seconds}:sample_rate={rate},aformat=channel_layouts={layout}"
        command = [ffmpeg_executable(), "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i", tone]
        subprocess.run([*command, *args, str(out)], check=True, timeout=120)
        return out.read_bytes()


def seven_as(suffix: str, *args: str) -> bytes:
    """The bundled spoken seven, encoded by ffmpeg."""
    return ffmpeg_encode(sample_bytes(SEVEN), suffix, *args)
