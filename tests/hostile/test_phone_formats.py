"""What phones and browsers make uploads and analyses: M4A/AAC (iPhone voice memos), WebM/Opus (MediaRecorder),
OGG/Vorbis and Opus, MP3, FLAC, AIFF; ffmpeg decodes what libsndfile cannot, under the same caps.

Every fixture is made at test time from the bundled spoken seven by the ffmpeg inside the imageio-ffmpeg wheel.
"""

import io

import pytest
import soundfile as sf

import dsp.ffmpeg
from dsp.decode import decode_upload
from dsp.errors import AudioError
from experiments.models import Recording
from experiments.services.analyses import analysis_request
from tests.experiments.lab_support import SEVEN, sample_bytes, stored_state, upload_file
from tests.hostile.media import ffmpeg_tone, seven_as

SEVEN_S = sf.info(io.BytesIO(sample_bytes(SEVEN))).duration
FORMATS = [
    # (what makes it, suffix, ffmpeg arguments, container, description starts with)
    ("iPhone voice memo (M4A/AAC)", ".m4a", ["-c:a", "aac", "-b:a", "64k"], "M4A", "M4A aac, 8000 Hz, mono"),
    ("MediaRecorder (WebM/Opus)", ".webm", ["-c:a", "libopus", "-b:a", "32k"], "WebM", "WebM opus, 48000 Hz, mono"),
    ("WebM without a duration", ".webm", ["-c:a", "libopus", "-live", "1"], "WebM", "WebM opus, 48000 Hz"),
    ("raw AAC (ADTS)", ".aac", ["-c:a", "aac", "-f", "adts"], "AAC", "AAC aac, 8000 Hz, mono"),
    ("OGG/Vorbis", ".ogg", ["-c:a", "libvorbis"], "OGG", "OGG VORBIS, 8000 Hz, mono"),
    ("OGG/Opus", ".opus", ["-c:a", "libopus"], "OGG", "OGG OPUS, 8000 Hz, mono"),
    ("MP3", ".mp3", ["-c:a", "libmp3lame", "-b:a", "32k"], "MP3", "MP3 MPEG_LAYER_III, 8000 Hz, mono"),
    ("FLAC", ".flac", ["-c:a", "flac"], "FLAC", "FLAC PCM_16, 8000 Hz, mono"),
    ("AIFF", ".aiff", ["-c:a", "pcm_s16be"], "AIFF", "AIFF PCM_16, 8000 Hz, mono"),
]


@pytest.mark.parametrize(("case", "suffix", "args", "container", "description"), FORMATS, ids=[f[0] for f in FORMATS])
def test_it_uploads_and_analyses(alice_client, alice, active_model, case, suffix, args, container, description):
    data = seven_as(suffix, *args)

    response = alice_client.post("/api/recordings/", {"file": upload_file(data, f"take{suffix}")})

    assert response.status_code == 201, response.content
    recording = Recording.objects.get(pk=response.json()["id"])
    assert recording.original_format.startswith(description)
    assert recording.original_file.name.endswith(suffix if suffix != ".opus" else ".ogg")
    assert recording.original_file.read() == data
    assert abs(recording.duration_s - SEVEN_S) < 0.25  # give or take a codec's padding
    analysis, _ = analysis_request(recording=recording, requested_by=alice)
    assert analysis.is_done, analysis.job.error
    assert analysis.predicted_label == "7"


def test_the_duration_cap_holds_from_the_probe():
    with pytest.raises(AudioError, match=r"too long \(60\.0 s\); the maximum is 30 s"):
        decode_upload(ffmpeg_tone(".m4a", "-c:a", "aac", "-b:a", "16k", seconds=60, rate=8000), max_duration_s=30)


@pytest.mark.parametrize("args", [["-c:a", "libopus"], ["-c:a", "libopus", "-live", "1"]], ids=["WebM", "live WebM"])
def test_a_take_exactly_as_long_as_allowed_is_accepted(args):
    # Opus pads to whole frames: the file says 30.01 s; the padding past the cap is trimmed.
    decoded = decode_upload(ffmpeg_tone(".webm", *args, "-b:a", "8k", seconds=30, rate=48000), max_duration_s=30)

    assert 29.9 <= len(decoded.y) / decoded.sample_rate <= 30.0


def test_the_duration_cap_holds_while_decoding_when_the_header_does_not_say():
    data = ffmpeg_tone(".webm", "-c:a", "libopus", "-b:a", "8k", "-live", "1", seconds=40, rate=48000)

    with pytest.raises(AudioError, match=r"too long \(more than 30 s\); the maximum is 30 s"):
        decode_upload(data, max_duration_s=30)


def test_the_decoded_size_cap_holds_from_the_probe():
    data = ffmpeg_tone(".m4a", "-c:a", "aac", seconds=1, rate=96000, channels=8)

    with pytest.raises(AudioError, match="8 channels at 96000 Hz; at most 384000 samples a second"):
        decode_upload(data, max_duration_s=30)


def test_a_multichannel_take_is_mixed_to_mono():
    decoded = decode_upload(ffmpeg_tone(".m4a", "-c:a", "aac", seconds=1, rate=48000, channels=6), max_duration_s=30)

    assert decoded.description == "M4A aac, 48000 Hz, 6 channels"
    assert decoded.y.ndim == 1 and 0.9 < len(decoded.y) / 48000 < 1.1


def test_an_unsupported_codec_in_a_supported_container_is_refused_with_the_list(alice_client):
    data = ffmpeg_tone(".m4a", "-c:a", "ac3", seconds=1, rate=48000)
    before = stored_state()

    response = alice_client.post("/api/recordings/", {"file": upload_file(data, "film.m4a")})

    assert response.status_code == 415
    assert "The M4A file holds ac3 audio, which is not supported; upload WAV, FLAC" in response.json()["detail"]
    assert stored_state() == before


@pytest.mark.parametrize("cut", [0.5, 0.1])
def test_a_truncated_m4a_is_a_clear_400(alice_client, cut):
    data = seven_as(".m4a", "-c:a", "aac")

    response = alice_client.post("/api/recordings/", {"file": upload_file(data[: int(len(data) * cut)], "cut.m4a")})

    assert response.status_code == 400
    assert "could not be read as M4A audio" in response.json()["detail"] or "no audio" in response.json()["detail"]


def test_ffmpeg_runs_against_a_deadline(monkeypatch):
    monkeypatch.setattr(dsp.ffmpeg, "FFMPEG_TIMEOUT_S", 0.001)

    with pytest.raises(AudioError, match="took too long to read"):
        decode_upload(seven_as(".m4a", "-c:a", "aac"), max_duration_s=30)
