"""The “Add a clip” page: upload form, recorder widget, sample clips, and the recorder's upload."""

import pytest

from experiments.models import Analysis, Recording
from modelzoo.samples import sample_clips
from tests.experiments.lab_support import sample_bytes, stored_state, upload_file


def test_it_redirects_anonymous_users_to_login(client, db):
    response = client.get("/recordings/new/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/recordings/new/"


def test_it_offers_an_upload_form_over_htmx_with_its_limits(alice_client):
    page = alice_client.get("/recordings/new/").content.decode()

    form = page.split('<form id="upload-form"')[1].split("</form>")[0]
    assert 'enctype="multipart/form-data"' in form
    assert 'hx-post="/recordings/new/" hx-encoding="multipart/form-data"' in form
    assert 'accept=".wav,.flac,.ogg,.oga,.opus,.mp3,.m4a,.aac,.webm,.aif,.aiff,audio/*"' in form
    assert "WAV, FLAC, OGG, MP3, M4A, WebM or AIFF; at most 10 MB and 30 seconds." in form
    assert "data-upload-progress" in form and 'id="upload-error"' in form


def test_it_offers_the_recorder_in_a_form_to_the_same_endpoint(alice_client):
    page = alice_client.get("/recordings/new/").content.decode()

    form = page.split('<form id="record-form"')[1].split("</form>")[0]
    assert 'hx-post="/recordings/new/" hx-encoding="multipart/form-data" data-recorder-form' in form
    assert '<input type="hidden" name="source" value="record">' in form
    assert 'name="file"' in form and "data-recorder-file" in form and "<div data-recorder" in form
    assert "Recording needs JavaScript; you can upload a file instead." in form


def test_it_offers_every_bundled_sample_clip(alice_client):
    page = alice_client.get("/recordings/new/").content.decode()

    clips = sample_clips()
    assert len(clips) == 20
    assert sorted(c.label for c in clips) == sorted([str(d) for d in range(10)] * 2)
    for clip in clips:
        assert f'value="{clip.name}"' in page
        assert f"Use the sample clip {clip.label} spoken by {clip.speaker}" in page


@pytest.mark.parametrize("name", ["no_such_clip", "../samples/7_nicolas_5", ""])
def test_it_refuses_an_unknown_sample(alice_client, name):
    before = stored_state()

    response = alice_client.post("/recordings/new/", {"sample": name})

    assert response.status_code in (400, 404)
    assert b"data-error-message" in response.content
    assert stored_state() == before


def test_a_browser_take_is_saved_as_recorded(alice_client, active_model):
    # What recorder.js sends through its htmx form: a 16 kHz PCM WAV, a title and source=record.
    from tests.factories import wav_bytes

    response = alice_client.post(
        "/recordings/new/",
        {"file": upload_file(wav_bytes(seconds=2.0, sr=16000), "take.wav"), "title": "My take", "source": "record"},
        HTTP_HX_REQUEST="true",
    )

    recording = Recording.objects.get()
    assert response.status_code == 200 and response["HX-Redirect"] == f"/recordings/{recording.pk}/"
    assert recording.source == Recording.Source.RECORD
    assert recording.sample_rate == 16000
    assert recording.duration_s == pytest.approx(2.0)
    page = alice_client.get(f"/recordings/{recording.pk}/").content.decode()
    assert "Recorded in the browser" in page
    assert Analysis.objects.get(recording=recording).is_done


def test_a_refused_take_answers_its_message_for_the_recorders_slot(alice_client, active_model):
    before = stored_state()

    response = alice_client.post(
        "/recordings/new/",
        {"file": upload_file(b"RIFF....WAVEfmt ", "take.wav"), "source": "record"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400 and response["HX-Retarget"] == "#record-error"
    assert 'id="record-error"' in response.content.decode()
    assert stored_state() == before


def test_a_sample_cannot_pose_as_a_recording(alice_client, active_model):
    response = alice_client.post("/api/recordings/", {"file": upload_file(sample_bytes()), "source": "sample"})

    assert response.status_code == 400
    assert "source" in response.json()
    assert Recording.objects.count() == 0


def test_it_says_so_when_no_model_is_active(alice_client):
    response = alice_client.post("/recordings/new/", {"sample": "5_george_5"}, follow=True)

    assert response.status_code == 200
    assert Recording.objects.count() == 1
    assert Analysis.objects.count() == 0
    assert response.content.decode().count("No model version is active yet; an admin must activate one.") == 1
