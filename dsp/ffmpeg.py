"""Decoding what libsndfile cannot (M4A/AAC, WebM/Opus) with pydub on the ffmpeg imageio-ffmpeg ships.

The binary comes inside the imageio-ffmpeg wheel, so nothing is downloaded at run time.
The caps of :mod:`dsp.decode` hold here too: the stream's channels, rate and duration are
read by a probe (``ffmpeg -i``, bounded in time) before anything is decoded; the decode
asks for at most the allowed duration (``-t``), runs under a CPU-time limit
(``-timelimit``) and is mixed to mono block by block.
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from dsp.containers import SUPPORTED_FORMATS, Container, UnsupportedFormatError
from dsp.errors import AudioError
from dsp.limits import DECODE_BLOCK_FRAMES, FFMPEG_TIMEOUT_S

# ffmpeg's names of channel layouts (libavutil/channel_layout.c) and how many channels each has.
_LAYOUTS = {"mono": 1, "stereo": 2, "downmix": 2, "2.1": 3, "3.0": 3, "3.0(back)": 3, "4.0": 4, "quad": 4,
            "quad(side)": 4, "3.1": 4, "5.0": 5, "5.0(side)": 5, "4.1": 5, "5.1": 6, "5.1(side)": 6, "6.0": 6,
            "6.0(front)": 6, "hexagonal": 6, "6.1": 7, "6.1(back)": 7, "6.1(front)": 7, "7.0": 7,
            "7.0(front)": 7, "7.1": 8, "7.1(wide)": 8, "7.1(wide-side)": 8, "octagonal": 8}  # fmt: skip
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_AUDIO = re.compile(r"Stream #\d+:\d+\S*: Audio: (\w+)[^\n]*?, (\d+) Hz, ([^,\n]+)")
_CHANNELS = re.compile(r"(\d+) channels")
# Global options (valid anywhere on ffmpeg's command line, pydub puts them last): no reading from
# the terminal, and a CPU-time limit after which the kernel stops the process.
_GLOBAL = ["-nostdin", "-hide_banner", "-timelimit", str(math.ceil(FFMPEG_TIMEOUT_S))]


@dataclass(frozen=True)
class Probe:
    """What ffmpeg reads from a file's header: the first audio stream's codec, rate and channels."""

    codec: str
    sample_rate: int
    channels: int
    duration_s: float | None  # None when the container does not say (a MediaRecorder WebM)


@cache
def ffmpeg_executable() -> str:
    """The ffmpeg binary inside the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _unreadable(container: Container) -> AudioError:
    return AudioError(
        f"The file could not be read as {container.name} audio; it may be corrupt or truncated "
        f"(upload {SUPPORTED_FORMATS})."
    )


def parse_probe(text: str, container: Container) -> Probe:
    """Read the first audio stream out of ``ffmpeg -i``'s report.

    Raises
    ------
    AudioError
        No audio stream, or a layout whose channels cannot be counted.
    UnsupportedFormatError
        A codec the container is not accepted with.
    """
    match = _AUDIO.search(text)
    if match is None:
        raise AudioError(f"The {container.name} file holds no audio stream.")
    codec, rate, layout = match.group(1), int(match.group(2)), match.group(3).strip()
    if codec not in container.codecs:
        raise UnsupportedFormatError(
            f"The {container.name} file holds {codec} audio, which is not supported; upload {SUPPORTED_FORMATS}."
        )
    counted = _CHANNELS.match(layout)
    channels = int(counted.group(1)) if counted else _LAYOUTS.get(layout)
    if channels is None:
        raise AudioError(f"The {container.name} file's channel layout ({layout[:40]}) is not supported.")
    duration = _DURATION.search(text)
    seconds = None
    if duration:
        hours, minutes, secs = duration.groups()
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    return Probe(codec=codec, sample_rate=rate, channels=channels, duration_s=seconds)


def probe(path: Path, container: Container) -> Probe:
    """Probe ``path`` with ffmpeg's ``container.ffmpeg_format`` demuxer, in bounded time."""
    command = [ffmpeg_executable(), *_GLOBAL, "-v", "info", "-f", container.ffmpeg_format, "-i", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError(f"The {container.name} file took too long to read; it may be corrupt.") from None
    # Without an output file ffmpeg always exits 1 after describing the input.
    return parse_probe(done.stderr.decode("utf-8", "replace"), container)


@cache
def _pydub():
    """pydub's AudioSegment running the bundled ffmpeg (a subclass: pydub's global stays untouched), and its error."""
    with warnings.catch_warnings():
        # pydub looks for an ffmpeg on PATH when imported, and imports audioop (deprecated).
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
        from pydub.exceptions import CouldntDecodeError

    return type("BundledFfmpegSegment", (AudioSegment,), {"converter": ffmpeg_executable()}), CouldntDecodeError


def decode_with_ffmpeg(path: Path, container: Container, found: Probe, *, max_frames: int) -> np.ndarray:
    """Decode at most ``max_frames`` frames of ``path`` and mix them to mono.

    Parameters
    ----------
    path : Path
        The file (a temporary copy of the upload).
    container, found : Container, Probe
        What :func:`dsp.containers.sniff_container` and :func:`probe` said.
    max_frames : int
        Frames to decode at most; the result has ``max_frames`` frames when the file is longer.

    Returns
    -------
    np.ndarray, float32, shape (n,)

    Raises
    ------
    AudioError
        ffmpeg failed, ran out of time, or gave nothing.
    """
    segment_class, CouldntDecodeError = _pydub()
    try:
        segment = segment_class.from_file(
            str(path),
            format=container.ffmpeg_format,
            codec=found.codec,  # forces the decoder, and spares pydub its own probe (ffprobe is not shipped)
            duration=max_frames / found.sample_rate,
            parameters=[*_GLOBAL, "-v", "error"],
        )
    except (CouldntDecodeError, OSError, IndexError, ValueError):
        raise _unreadable(container) from None
    if segment.sample_width != 2 or segment.frame_count() == 0:
        raise _unreadable(container)
    pcm = np.frombuffer(segment.raw_data, dtype="<i2")
    channels = segment.channels
    frames = min(len(pcm) // channels, max_frames)
    mono = np.empty(frames, dtype=np.float32)
    for start in range(0, frames, DECODE_BLOCK_FRAMES):
        stop = min(start + DECODE_BLOCK_FRAMES, frames)
        block = pcm[start * channels : stop * channels].reshape(-1, channels).astype(np.float32) / 32768.0
        mono[start:stop] = block.mean(axis=1, dtype=np.float64) if channels > 1 else block[:, 0]
    return mono


def write_temporary(data: bytes, suffix: str) -> tempfile._TemporaryFileWrapper:
    """A named temporary copy of ``data`` for ffmpeg to seek in (an MP4's index may sit at its end)."""
    handle = tempfile.NamedTemporaryFile(suffix=suffix)  # noqa: SIM115 - the caller closes it
    handle.write(data)
    handle.flush()
    return handle
