"""Hearing an edit before saving it, and replaying a history to prove it reproduces the audio."""

import base64
import io
import re

import numpy as np
import pytest
import soundfile as sf
from django.core.files.base import ContentFile

from dsp.canonical import encode_wav
from experiments.services.recordings import recording_audio, recording_derive
from tests.experiments.lab_support import analysed, stored_state


@pytest.fixture
def original(alice, active_model):
    return analysed(alice).recording


def _data_url(body: str, kind: str) -> bytes:
    match = re.search(rf'src="data:{kind};base64,([A-Za-z0-9+/=]+)"', body)
    assert match, f"no {kind} data URL"
    return base64.b64decode(match[1])


def test_an_htmx_preview_is_a_fragment_with_the_sound_and_its_spectrogram(alice_client, original):
    before = stored_state()

    response = alice_client.post(
        f"/recordings/{original.pk}/preview/", {"op": "time_stretch", "param_rate": "2"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "data-preview" in body
    assert "Preview of time_stretch" in body and "not saved yet" in body
    y, sr = sf.read(io.BytesIO(_data_url(body, "audio/wav")))
    assert sr == original.sample_rate
    assert len(y) / sr == pytest.approx(original.duration_s / 2, abs=0.01)
    assert _data_url(body, "image/png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'data-waveform data-src="data:audio/wav;base64,' in body
    assert stored_state() == before


def test_a_preview_without_javascript_is_a_whole_page(alice_client, original):
    before = stored_state()

    response = alice_client.post(f"/recordings/{original.pk}/preview/", {"op": "reverse"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and "<h1>Preview</h1>" in body
    assert f'href="/recordings/{original.pk}/"' in body
    y, _ = sf.read(io.BytesIO(_data_url(body, "audio/wav")), dtype="float32")
    np.testing.assert_array_equal(y, recording_audio(original).y[::-1])
    assert stored_state() == before


def test_the_preview_is_what_saving_stores(alice_client, original):
    form = {"op": "add_noise", "param_snr_db": "5", "param_seed": "3"}

    preview = alice_client.post(f"/recordings/{original.pk}/preview/", form, HTTP_HX_REQUEST="true")
    alice_client.post(f"/recordings/{original.pk}/derive/", form)

    derived = original.children.get()
    with derived.audio.open("rb") as f:
        assert _data_url(preview.content.decode(), "audio/wav") == f.read()


def test_the_edit_forms_offer_preview_and_save(alice_client, original):
    page = alice_client.get(f"/recordings/{original.pk}/").content.decode()

    form = page.split('data-op-form="reverse"')[1].split("</form>")[0]
    assert f'action="/recordings/{original.pk}/derive/"' in form
    assert f'formaction="/recordings/{original.pk}/preview/"' in form
    assert f'hx-post="/recordings/{original.pk}/preview/" hx-target="#preview"' in form
    assert "Save as new version" in form


def test_replay_says_identical_for_a_derived_version(alice_client, original):
    derived = recording_derive(recording=original, operations=[{"op": "slice", "params": {"start": 0.05, "end": 0.25}}])
    derived = recording_derive(recording=derived, operations=[{"op": "reverse"}])
    page = alice_client.get(f"/recordings/{derived.pk}/").content.decode()
    assert f'hx-post="/recordings/{derived.pk}/replay/"' in page

    response = alice_client.post(f"/recordings/{derived.pk}/replay/", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert 'data-replay="match"' in body
    assert "Replayed 2 steps from the original: identical audio" in body
    assert derived.sha256[:16] in body


def test_replay_notices_when_the_stored_audio_was_changed(alice_client, original):
    derived = recording_derive(recording=original, operations=[{"op": "gain", "params": {"db": -3}}])
    tampered = encode_wav(recording_audio(derived).y * 1.0001, derived.sample_rate)
    derived.audio.save("tampered.wav", ContentFile(tampered))

    response = alice_client.post(f"/recordings/{derived.pk}/replay/", HTTP_HX_REQUEST="true")

    assert 'data-replay="mismatch"' in response.content.decode()
    assert "Replaying gives different audio" in response.content.decode()
