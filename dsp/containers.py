"""Which audio container a file is, decided by its content (magic bytes), never by its name.

Only the formats the product supports get through: a file named ``.wav`` that is really an
IRCAM, MAT5, W64 or AU file is refused before any parser sees it, so only the common
parsers of libsndfile (WAV, FLAC, OGG, MP3, AIFF) and of ffmpeg (MP4/M4A, WebM/Matroska,
ADTS AAC) ever run on an upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsp.errors import AudioError

SUPPORTED_FORMATS = "WAV, FLAC, OGG (Vorbis or Opus), MP3, M4A/AAC, WebM/Opus or AIFF"


class UnsupportedFormatError(AudioError):
    """An upload in a format (container or encoding) the product does not decode."""


@dataclass(frozen=True)
class Container:
    """A supported container: its name for people, the suffix the original is stored under, its decoder.

    ``sndfile_formats`` is what libsndfile may report for it (``decoder="libsndfile"``);
    ``ffmpeg_format`` is the demuxer ffmpeg is told to use (``decoder="ffmpeg"``), so
    neither library guesses again.  ``codecs`` are the encodings accepted inside it.
    """

    name: str
    suffix: str
    decoder: Literal["libsndfile", "ffmpeg"]
    codecs: frozenset[str]
    sndfile_formats: frozenset[str] = frozenset()
    ffmpeg_format: str = ""


_PCM = frozenset({"PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})
WAV = Container(
    "WAV",
    ".wav",
    "libsndfile",
    _PCM | {"ULAW", "ALAW", "IMA_ADPCM", "MS_ADPCM"},
    sndfile_formats=frozenset({"WAV", "WAVEX"}),
)
AIFF = Container("AIFF", ".aiff", "libsndfile", _PCM | {"ULAW", "ALAW"}, sndfile_formats=frozenset({"AIFF"}))
FLAC = Container(
    "FLAC", ".flac", "libsndfile", frozenset({"PCM_S8", "PCM_16", "PCM_24"}), sndfile_formats=frozenset({"FLAC"})
)
OGG = Container("OGG", ".ogg", "libsndfile", frozenset({"VORBIS", "OPUS", "FLAC"}), sndfile_formats=frozenset({"OGG"}))
MP3 = Container(
    "MP3",
    ".mp3",
    "libsndfile",
    frozenset({"MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"}),
    sndfile_formats=frozenset({"MP3"}),
)
M4A = Container("M4A", ".m4a", "ffmpeg", frozenset({"aac", "alac", "mp3"}), ffmpeg_format="mov")
WEBM = Container("WebM", ".webm", "ffmpeg", frozenset({"opus", "vorbis"}), ffmpeg_format="matroska")
AAC = Container("AAC", ".aac", "ffmpeg", frozenset({"aac"}), ffmpeg_format="aac")

# IRCAM's four magic numbers (VAX, Sun, MIPS little and big endian), both byte orders.
_IRCAM_MAGIC = {bytes([0x64, 0xA3, k, 0]) for k in (1, 2, 3, 4)} | {bytes([0, k, 0xA3, 0x64]) for k in (1, 2, 3, 4)}
# Recognised but refused, named so that the message says what the file is.
_REFUSED = [
    (lambda d: d[:4] in (b"RF64", b"BW64"), "an RF64"),
    (lambda d: d[:4] == b"riff", "a Sony W64"),
    (lambda d: d[:4] == b"RIFF" and d[8:12] != b"WAVE", "a RIFF (but not WAVE)"),
    (lambda d: d[:10] == b"MATLAB 5.0", "a MATLAB MAT5"),
    (lambda d: d[:4] in _IRCAM_MAGIC, "an IRCAM"),
    (lambda d: d[:4] in (b".snd", b"dns."), "a Sun AU"),
    (lambda d: d[:4] == b"caff", "a Core Audio (CAF)"),
    (lambda d: d[:19] == b"Creative Voice File", "a Creative VOC"),
    (lambda d: d[:6] == b"#!AMR\n", "an AMR"),
    (lambda d: d[:4] == b"FORM" and d[8:12] in (b"8SVX", b"16SV"), "an IFF 8SVX"),
    (lambda d: d[:7] == b"NIST_1A", "a NIST SPHERE"),
    (lambda d: d[:4] == b"PK\x03\x04", "a zip archive"),
]


def _id3_size(data: bytes) -> int:
    """Length of a leading ID3v2 tag (header included), 0 when there is none."""
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


def _mpeg_sync(data: bytes) -> str:
    """``"mp3"``, ``"adts"`` or ``""``: what an MPEG frame header at the start of ``data`` is."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return ""
    layer = (data[1] >> 1) & 0b11
    if layer == 0:  # ADTS carries AAC with the layer bits at 00 and a 12-bit sync
        return "adts" if data[1] & 0xF0 == 0xF0 else ""
    version, bitrate, rate = (data[1] >> 3) & 0b11, data[2] >> 4, (data[2] >> 2) & 0b11
    return "mp3" if version != 1 and bitrate not in (0, 15) and rate != 3 else ""


def sniff_container(data: bytes) -> Container:
    """The container of an encoded audio file, from its first bytes.

    Parameters
    ----------
    data : bytes
        The whole file, or at least its first few kilobytes.

    Returns
    -------
    Container

    Raises
    ------
    UnsupportedFormatError
        Any other content, with the supported formats in the message.
    """
    head = bytes(data[:64])
    if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"OggS":
        return OGG
    if head[4:8] == b"ftyp":
        return M4A
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return WEBM
    skip = _id3_size(data)
    sync = _mpeg_sync(bytes(data[skip : skip + 4]))
    if sync == "adts":
        return AAC
    if sync == "mp3" or (skip and skip <= len(data)):
        return MP3
    for test, name in _REFUSED:
        if test(head):
            raise UnsupportedFormatError(f"This is {name} file, which is not supported; upload {SUPPORTED_FORMATS}.")
    raise UnsupportedFormatError(f"The file is not audio in a supported format; upload {SUPPORTED_FORMATS}.")
