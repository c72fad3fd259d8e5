"""The container is decided by the file's content, never by its name: rarer formats named .wav are refused
before any parser sees them, and a supported format is read as what it is whatever it is called."""

import numpy as np
import pytest

from dsp.containers import SUPPORTED_FORMATS, UnsupportedFormatError, sniff_container
from experiments.models import Recording
from tests.experiments.lab_support import sample_bytes, stored_state, upload_file
from tests.hostile.media import write

TONE = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.float32)

DISGUISED = [
    ("MAT5", "PCM_16", "a MATLAB MAT5 file"),
    ("IRCAM", "PCM_16", "an IRCAM file"),
    ("W64", "PCM_16", "a Sony W64 file"),
    ("AU", "PCM_16", "a Sun AU file"),
    ("CAF", "PCM_16", "a Core Audio (CAF) file"),
    ("VOC", "PCM_16", "a Creative VOC file"),
    ("NIST", "PCM_16", "a NIST SPHERE file"),
    ("SVX", "PCM_16", "an IFF 8SVX file"),
    ("RF64", "PCM_16", "an RF64 file"),
    ("MAT4", "PCM_16", "not audio in a supported format"),
    ("PAF", "PCM_16", "not audio in a supported format"),
    ("HTK", "PCM_16", "not audio in a supported format"),
]


@pytest.mark.parametrize(("fmt", "subtype", "what"), DISGUISED, ids=[case[0] for case in DISGUISED])
def test_a_rare_format_named_wav_is_refused_with_the_supported_list(alice_client, fmt, subtype, what):
    before = stored_state()

    response = alice_client.post(
        "/api/recordings/", {"file": upload_file(write(TONE, 8000, fmt, subtype), "seven.wav")}
    )

    assert response.status_code == 415
    detail = response.json()["detail"]
    assert what in detail and SUPPORTED_FORMATS in detail
    assert stored_state() == before


def test_the_page_says_the_same(alice_client):
    response = alice_client.post(
        "/recordings/new/", {"file": upload_file(write(TONE, 8000, "IRCAM", "PCM_16"), "a.wav")}
    )

    assert response.status_code == 415
    assert "This is an IRCAM file, which is not supported" in response.content.decode()


def test_an_aiff_named_wav_is_read_as_the_aiff_it_is(alice):
    from experiments.services.recordings import recording_upload

    recording = recording_upload(owner=alice, data=write(TONE, 8000, "AIFF", "PCM_16"), filename="take.wav")

    assert recording.original_format == "AIFF PCM_16, 8000 Hz, mono"
    assert recording.original_file.name.endswith(".aiff")
    assert recording.original_name == "take.wav"


def test_a_wav_named_txt_is_a_wav(alice):
    from experiments.services.recordings import recording_upload

    recording = recording_upload(owner=alice, data=sample_bytes(), filename="notes.txt")

    assert recording.original_format.startswith("WAV PCM_16")
    assert Recording.objects.count() == 1


@pytest.mark.parametrize(
    ("subtype", "message"),
    [("G721_32", "WAV files encoded as G721_32 are not supported"), ("GSM610", "encoded as GSM610")],
)
def test_a_wav_with_a_rare_encoding_inside_is_refused(subtype, message):
    with pytest.raises(UnsupportedFormatError, match=message):
        from dsp.decode import decode_upload

        decode_upload(write(TONE, 8000, "WAV", subtype), max_duration_s=30)


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "WAV"),
        (b"FORM\x00\x00\x00\x00AIFFCOMM", "AIFF"),
        (b"fLaC\x00\x00\x00\x22", "FLAC"),
        (b"OggS\x00\x02", "OGG"),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00", "M4A"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "WebM"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64", "MP3"),
        (b"\xff\xfb\x90\x64\x00\x00", "MP3"),
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", "AAC"),
    ],
)
def test_sniffing_by_magic_bytes(head, name):
    assert sniff_container(head + bytes(64)).name == name


@pytest.mark.parametrize("head", [b"", b"\xff\xff\xff\xff", b"<html>", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n"])
def test_anything_else_is_not_audio(head):
    with pytest.raises(UnsupportedFormatError, match="supported"):
        sniff_container(head + bytes(16))
