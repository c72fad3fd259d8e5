"""Deriving versions: the page's edit forms and the API, with the full history kept and reproducible."""

import hashlib

import numpy as np
import pytest

from dsp.canonical import encode_wav
from dsp.operations import apply_operations
from experiments.models import Recording
from experiments.services.recordings import recording_audio
from tests.experiments.lab_support import analysed


@pytest.fixture
def original(alice, active_model) -> Recording:
    return analysed(alice).recording


def test_the_page_saves_an_edit_as_a_new_version_and_opens_it(alice_client, original):
    response = alice_client.post(f"/recordings/{original.pk}/derive/", {"op": "gain", "param_db": "-6"})

    derived = Recording.objects.get(parent=original)
    assert response.status_code == 302
    assert response.url == f"/recordings/{derived.pk}/"
    assert derived.root == original
    assert derived.source == Recording.Source.DERIVED
    assert derived.operations == [{"op": "gain", "params": {"db": -6}}]
    assert derived.title == f"{original.title} + gain"
    before, after = recording_audio(original).y, recording_audio(derived).y
    np.testing.assert_allclose(after, before * 10 ** (-6 / 20), rtol=1e-5, atol=1e-7)
    page = alice_client.get(response.url).content.decode()
    assert "Saved a new version" in page
    assert derived.analyses.get().is_done  # saving it started its analysis


def test_a_version_of_a_version_is_named_after_its_whole_history(alice_client, original):
    alice_client.post(f"/recordings/{original.pk}/derive/", {"op": "slice", "param_start": "0", "param_end": "0.2"})
    sliced = Recording.objects.get(parent=original)
    alice_client.post(f"/recordings/{sliced.pk}/derive/", {"op": "reverse"})

    assert Recording.objects.get(parent=sliced).title == f"{original.title} + slice + reverse"


def test_the_page_fills_omitted_optional_parameters(alice_client, original):
    alice_client.post(f"/recordings/{original.pk}/derive/", {"op": "add_noise", "param_snr_db": "10", "param_seed": ""})

    assert Recording.objects.get(parent=original).operations == [
        {"op": "add_noise", "params": {"snr_db": 10, "seed": 0}}
    ]


def test_an_htmx_save_redirects_the_page_to_the_new_version(alice_client, original):
    response = alice_client.post(f"/recordings/{original.pk}/derive/", {"op": "reverse"}, HTTP_HX_REQUEST="true")

    derived = Recording.objects.get(parent=original)
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/recordings/{derived.pk}/"


def test_slice_then_reverse_keeps_a_chain_of_three_versions(alice_client, original):
    d = original.duration_s
    alice_client.post(
        f"/recordings/{original.pk}/derive/",
        {"op": "slice", "param_start": f"{d * 0.1:.3f}", "param_end": f"{d * 0.9:.3f}"},
    )
    sliced = Recording.objects.get(parent=original)
    alice_client.post(f"/recordings/{sliced.pk}/derive/", {"op": "reverse"})
    reversed_ = Recording.objects.get(parent=sliced)

    assert reversed_.root == original
    assert [step["op"] for step in reversed_.operations] == ["slice", "reverse"]
    assert reversed_.operations[0] == sliced.operations[0]
    np.testing.assert_array_equal(recording_audio(reversed_).y, recording_audio(sliced).y[::-1])
    page = alice_client.get(f"/recordings/{reversed_.pk}/").content.decode()
    assert "3 versions" in page
    history = page.split('id="history"')[1].split("</ol>")[0]
    assert history.index(f'href="/recordings/{original.pk}/"') < history.index(f'href="/recordings/{sliced.pk}/"')
    assert history.index(f'href="/recordings/{sliced.pk}/"') < history.index(f'href="/recordings/{reversed_.pk}/"')
    assert 'aria-current="page"' in history.split(f'href="/recordings/{reversed_.pk}/"')[1].split(">")[0]
    assert "Original · " in history and "v1 · " in history and "v2 · " in history
    assert "--depth: 2" in history
    assert "How this version was made" in page


def test_the_api_derives_with_a_list_of_operations(alice_client, original):
    d = original.duration_s
    operations = [
        {"op": "slice", "params": {"start": round(d * 0.2, 3), "end": round(d * 0.8, 3)}},
        {"op": "fade", "params": {"fade_in": 0.01}},
        {"op": "reverse", "params": {}},
    ]

    response = alice_client.post(
        f"/api/recordings/{original.pk}/derive/",
        {"operations": operations, "title": "Backwards middle"},
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    derived = Recording.objects.get(pk=body["id"])
    assert body["parent"] == original.pk
    assert body["title"] == "Backwards middle"
    assert body["operations"] == derived.operations
    assert body["operations"][1] == {"op": "fade", "params": {"fade_in": 0.01, "fade_out": 0.0}}
    assert body["sha256"] == derived.sha256
    assert body["duration_s"] == pytest.approx(d * 0.6, abs=2e-3)


def test_the_api_appends_to_the_parents_history(alice_client, original):
    first = alice_client.post(
        f"/api/recordings/{original.pk}/derive/",
        {"operations": [{"op": "gain", "params": {"db": 3}}]},
        content_type="application/json",
    ).json()

    second = alice_client.post(
        f"/api/recordings/{first['id']}/derive/",
        {"operations": [{"op": "repeat", "params": {"times": 2}}]},
        content_type="application/json",
    ).json()

    assert second["parent"] == first["id"]
    assert second["root"] == original.pk
    assert second["operations"] == [
        {"op": "gain", "params": {"db": 3}},
        {"op": "repeat", "params": {"times": 2}},
    ]


def test_replaying_the_history_from_the_original_gives_the_identical_sha256(alice_client, original):
    d = original.duration_s
    steps = [
        [{"op": "slice", "params": {"start": 0.02, "end": round(d - 0.02, 3)}}],
        [{"op": "pitch_shift", "params": {"semitones": 3}}, {"op": "time_stretch", "params": {"rate": 1.2}}],
        [
            {"op": "add_noise", "params": {"snr_db": 15, "seed": 7}},
            {"op": "loudness_ramp", "params": {"start_db": 0, "end_db": -12}},
        ],
        [
            {"op": "crossfade", "params": {"start": 0.1, "end": 0.15}},
            {"op": "time_shift", "params": {"seconds": -0.03}},
        ],
        [{"op": "reverse", "params": {}}],
    ]
    current = original.pk
    for operations in steps:
        current = alice_client.post(
            f"/api/recordings/{current}/derive/", {"operations": operations}, content_type="application/json"
        ).json()["id"]
    last = Recording.objects.get(pk=current)

    source = recording_audio(original)
    y, _ = apply_operations(source.y, source.sample_rate, last.operations, max_duration_s=30)
    assert hashlib.sha256(encode_wav(y, source.sample_rate)).hexdigest() == last.sha256
    response = alice_client.post(f"/recordings/{last.pk}/replay/", HTTP_HX_REQUEST="true")
    assert 'data-replay="match"' in response.content.decode()
    assert "Replayed 8 steps from the original: identical audio" in response.content.decode()


def test_the_api_refuses_a_malformed_operations_payload(alice_client, original):
    for payload in ({}, {"operations": []}, {"operations": "reverse"}, {"operations": [{"params": {}}]}):
        response = alice_client.post(f"/api/recordings/{original.pk}/derive/", payload, content_type="application/json")
        assert response.status_code == 400, payload
    assert Recording.objects.count() == 1


def test_an_edit_that_would_be_too_long_is_refused(alice_client, original):
    operations = [{"op": "repeat", "params": {"times": 8}}] * 3

    response = alice_client.post(
        f"/api/recordings/{original.pk}/derive/", {"operations": operations}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "over the 30 s limit" in response.json()["detail"]
    assert Recording.objects.count() == 1


def test_the_canonical_wav_of_equal_samples_is_equal_bytes_a_second_later():
    # libsndfile stamps float WAVs with the time (a PEAK chunk); ours must not depend on it.
    import time

    y = np.random.default_rng(4).uniform(-0.5, 0.5, 4000).astype(np.float32)
    first = encode_wav(y, 16000)
    time.sleep(1.05)

    assert encode_wav(y, 16000) == first
    assert b"PEAK" not in first
