"""The recording page (the lab) and its media: waveform audio, spectrogram, original file."""

import io
import re

import pytest
import soundfile as sf
from django.utils import timezone
from PIL import Image

from experiments.models import Experiment
from experiments.services.recordings import recording_derive
from tests.conftest import login
from tests.experiments.lab_support import analysed, sample_bytes


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


def test_it_redirects_anonymous_users_to_login(client, analysis):
    url = f"/recordings/{analysis.recording.pk}/"

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={url}"


def test_it_shows_the_waveform_spectrogram_prediction_edits_and_history(alice_client, analysis):
    r = analysis.recording

    page = alice_client.get(f"/recordings/{r.pk}/").content.decode()

    assert f'data-waveform data-src="/recordings/{r.pk}/audio.wav" data-regions="true"' in page
    assert f'<audio controls preload="none" src="/recordings/{r.pk}/audio.wav">' in page
    assert f'src="/recordings/{r.pk}/spectrogram.png"' in page
    assert 'id="analysis-panel"' in page and 'data-status="done"' in page
    assert page.count('<span class="digit">') == 10
    assert 'id="edit"' in page
    for op in (
        "slice",
        "crossfade",
        "loudness_ramp",
        "gain",
        "repeat",
        "reverse",
        "fade",
        "pitch_shift",
        "time_stretch",
        "add_noise",
        "time_shift",
    ):
        assert f'data-op-form="{op}"' in page
    assert 'data-region-start data-region-for="wf-main"' in page
    assert 'id="history"' in page and "1 version" in page
    # The explorer comes with the page: every filter of the first layer, no extra round trip.
    assert f'<div id="explorer" class="explorer" data-analysis="{analysis.pk}">' in page
    assert len(re.findall(r'<figure class="tile[ "]', page)) == 16
    panel_tag = re.search(r'<section class="card" id="analysis-panel"[^>]*>', page)[0]
    assert "hx-get" not in panel_tag and "hx-trigger" not in panel_tag  # nothing to poll: the analysis is done


@pytest.mark.parametrize(("asked", "shown", "tiles"), [(1, 1, 16), (2, 2, 32), ("nope", 0, 16)])
def test_it_opens_the_explorer_on_the_layer_asked_for(alice_client, analysis, asked, shown, tiles):
    layer = analysis.layers[asked]["name"] if isinstance(asked, int) else asked

    page = alice_client.get(f"/recordings/{analysis.recording.pk}/?layer={layer}").content.decode()

    assert f'data-layer="{analysis.layers[shown]["name"]}"' in page
    assert len(re.findall(r'<figure class="tile[ "]', page)) == tiles  # silent tiles add a class


def test_the_audio_is_the_stored_canonical_wav_and_cached(alice_client, analysis):
    r = analysis.recording

    response = alice_client.get(f"/recordings/{r.pk}/audio.wav")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    with r.audio.open("rb") as f:
        assert response.content == f.read()
    assert response["ETag"] == f'"{r.sha256}"'
    assert "immutable" in response["Cache-Control"]
    again = alice_client.get(f"/recordings/{r.pk}/audio.wav", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_the_spectrogram_is_a_png_with_axes(alice_client, analysis):
    response = alice_client.get(f"/recordings/{analysis.recording.pk}/spectrogram.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size == (720, 260)
    assert "immutable" in response["Cache-Control"] and response["ETag"]


def test_the_original_file_downloads_as_uploaded(alice_client, analysis):
    response = alice_client.get(f"/recordings/{analysis.recording.pk}/original/")

    assert response.status_code == 200
    assert response.content == sample_bytes()
    assert response["Content-Disposition"] == f'attachment; filename="recording-{analysis.recording.pk}-original.wav"'


def test_a_derived_version_has_no_original_file(alice_client, analysis):
    derived = recording_derive(recording=analysis.recording, operations=[{"op": "reverse"}])

    page = alice_client.get(f"/recordings/{derived.pk}/").content.decode()

    assert alice_client.get(f"/recordings/{derived.pk}/original/").status_code == 404
    assert "Download the original file" not in page
    assert "Edited" in page
    wav = alice_client.get(f"/recordings/{derived.pk}/audio.wav").content
    assert sf.info(io.BytesIO(wav)).duration == pytest.approx(analysis.recording.duration_s, abs=1e-3)


def test_an_instructor_reads_a_submitted_recording_without_editing_it(client, analysis, course, ines):
    Experiment.objects.create(
        owner=analysis.recording.owner,
        title="Reversed seven",
        recording_a=analysis.recording,
        model_version=analysis.model_version,
        course=course,
        status=Experiment.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    login(client, ines)
    r = analysis.recording

    page = client.get(f"/recordings/{r.pk}/").content.decode()

    assert "You are looking at alice’s recording, read-only." in page
    assert 'id="edit"' not in page
    assert 'data-regions="false"' in page
    assert page.count('<span class="digit">') == 10
    assert client.get(f"/analyses/{analysis.pk}/explorer/").status_code == 200
    assert client.post(f"/recordings/{r.pk}/derive/", {"op": "reverse"}).status_code == 404
    assert (
        client.post(
            f"/api/recordings/{r.pk}/derive/", {"operations": [{"op": "reverse"}]}, content_type="application/json"
        ).status_code
        == 404
    )


def test_it_escapes_titles_everywhere(alice_client, alice, active_model):
    from experiments.services.recordings import recording_upload

    recording = recording_upload(owner=alice, data=sample_bytes(), filename="x.wav", title="<script>alert(1)</script>")
    recording_derive(recording=recording, operations=[{"op": "reverse"}])

    for url in (f"/recordings/{recording.pk}/", "/recordings/", "/"):
        page = alice_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_the_history_shows_what_the_network_heard_in_each_version(alice_client, alice, active_model):
    from experiments.services.analyses import analysis_request

    original = analysed(alice)
    version = recording_derive(recording=original.recording, operations=[{"op": "reverse"}])
    heard, _ = analysis_request(recording=version, requested_by=alice)

    page = alice_client.get(f"/recordings/{version.pk}/").content.decode()
    history = page[page.index('id="history"') : page.index('class="history-steps"')]

    assert history.count("The network hears") == 2
    for analysis in (original, heard):
        percent = round(analysis.probabilities[analysis.predicted_label] * 100)
        assert f"The network hears “{analysis.predicted_label}” with probability {percent} %" in history
