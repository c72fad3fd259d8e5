"""A tiny file cannot announce a huge decoded size: channels, rate and duration are capped before decoding,
and what is decoded is mixed to mono block by block."""

import re
import tracemalloc

import numpy as np
import pytest

from dsp.canonical import canonicalise
from dsp.decode import decode_audio, decode_upload, to_mono
from dsp.errors import AudioError
from tests.experiments.lab_support import stored_state, upload_file
from tests.hostile.media import silent_flac, write


def test_the_testers_flac_is_refused_before_decoding(alice_client):
    # 8 channels at 600 kHz for 30 s: 27 KB that used to decode to 576 MB of float32.
    data = silent_flac(rate=600_000, channels=8, seconds=30)
    assert len(data) < 200_000
    before = stored_state()

    tracemalloc.start()
    try:
        response = alice_client.post("/api/recordings/", {"file": upload_file(data, "calm.flac")})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert response.status_code == 400
    assert response.json()["detail"] == "The sample rate (600000 Hz) is too high; at most 192000 Hz is accepted."
    assert peak < 64 * 1024 * 1024  # the whole request, Django included; the decode would have taken 576 MB
    assert stored_state() == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: silent_flac(rate=96_000, channels=8, seconds=1), "8 channels at 96000 Hz; at most 384000 samples a"),
        (lambda: write(np.zeros((4800, 12)), 48_000, "WAV"), "has 12 channels; at most 8 are accepted"),
        (lambda: silent_flac(rate=4_000, channels=1, seconds=1), "sample rate (4000 Hz) is too low"),
    ],
    ids=["8 channels at 96 kHz", "12 channels", "4 kHz"],
)
def test_caps_from_the_header(make, message):
    with pytest.raises(AudioError, match=re.escape(message)):
        decode_upload(make(), max_duration_s=30)


def test_the_largest_accepted_file_decodes_in_about_its_mono_size():
    # Stereo at 192 kHz for 30 s: 46 MB as interleaved float32, 23 MB as mono.
    data = silent_flac(rate=192_000, channels=2, seconds=30)
    mono_bytes = 30 * 192_000 * 4

    tracemalloc.start()
    try:
        audio, container, description = canonicalise(data, max_duration_s=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (container.name, description) == ("FLAC", "FLAC PCM_16, 192000 Hz, 2 channels")
    assert audio.sample_rate == 16000 and audio.duration_s == 30
    assert peak < 1.5 * mono_bytes  # never the interleaved channels, never two copies of the mono clip


def test_mixing_block_by_block_equals_mixing_at_once():
    rng = np.random.default_rng(3)
    y = (0.3 * rng.standard_normal((150_001, 5))).astype(np.float32)  # more than two decode blocks
    data = write(y, 44100, "WAV", "FLOAT")

    decoded = decode_upload(data, max_duration_s=30)
    whole, _ = decode_audio(data)

    assert np.array_equal(decoded.y, to_mono(whole))


def test_a_header_that_understates_its_length_is_still_capped():
    # An OGG's frame count is an estimate; the decode stops one block past the cap whatever it says.
    y = 0.1 * np.sin(2 * np.pi * 440 * np.arange(31 * 8000) / 8000)
    data = write(y, 8000, "OGG", "VORBIS")

    with pytest.raises(AudioError, match=r"too long \(31\.0 s|too long \(more than 30 s"):
        decode_upload(data, max_duration_s=30)
