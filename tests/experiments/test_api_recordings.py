"""The recordings API (docs/api.md): upload, list, detail, audio; authentication, CSRF and JSON errors."""

import hashlib
import io

import pytest
import soundfile as sf
from django.test import Client

from experiments.models import Recording
from experiments.services.recordings import recording_upload
from tests.conftest import PASSWORD, login
from tests.experiments.lab_support import sample_as, sample_bytes, stored_state, upload_file


@pytest.mark.parametrize(
    ("fmt", "name"), [("WAV", "seven.wav"), ("FLAC", "seven.flac"), ("OGG", "seven.ogg"), ("MP3", "seven.mp3")]
)
def test_it_uploads_a_clip_and_answers_201_with_its_fields(alice_client, fmt, name):
    data = sample_as(fmt)

    response = alice_client.post("/api/recordings/", {"file": upload_file(data, name), "title": "API seven"})

    assert response.status_code == 201
    body = response.json()
    recording = Recording.objects.get()
    assert {"id", "title", "duration_s", "sample_rate", "sha256", "parent", "operations"} <= set(body)
    assert body["id"] == recording.pk
    assert body["title"] == "API seven"
    assert body["parent"] is None and body["operations"] == []
    assert body["sample_rate"] == 8000
    assert body["duration_s"] == pytest.approx(0.3055, abs=0.06)
    assert body["sha256"] == recording.sha256
    assert body["original_sha256"] == hashlib.sha256(data).hexdigest()
    assert body["original_name"] == name
    assert body["source"] == "upload"
    assert body["audio_url"] == f"/api/recordings/{recording.pk}/audio/"
    assert body["page_url"] == f"/recordings/{recording.pk}/"


def test_the_list_holds_only_the_callers_recordings(client, alice, bob):
    mine = recording_upload(owner=alice, data=sample_bytes(), filename="mine.wav")
    recording_upload(owner=bob, data=sample_bytes(), filename="bobs.wav")

    body = login(client, alice).get("/api/recordings/").json()

    assert body["count"] == 1
    assert [r["id"] for r in body["results"]] == [mine.pk]


def test_the_detail_and_the_audio(alice_client, alice):
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")

    detail = alice_client.get(f"/api/recordings/{recording.pk}/")
    audio = alice_client.get(f"/api/recordings/{recording.pk}/audio/")

    assert detail.status_code == 200
    assert detail.json()["sha256"] == recording.sha256
    assert audio.status_code == 200
    assert audio["Content-Type"] == "audio/wav"
    assert hashlib.sha256(audio.content).hexdigest() == recording.sha256
    y, sr = sf.read(io.BytesIO(audio.content))
    assert sr == recording.sample_rate and len(y) / sr == pytest.approx(recording.duration_s, abs=1e-3)


def test_a_token_from_the_token_endpoint_authenticates(alice):
    client = Client()

    token = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}).json()["token"]

    response = client.post(
        "/api/recordings/", {"file": upload_file(sample_bytes())}, HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 201
    assert Recording.objects.get().owner == alice
    listing = client.get("/api/recordings/", HTTP_AUTHORIZATION=f"Token {token}")
    assert listing.json()["count"] == 1


def test_a_wrong_password_gets_no_token(alice):
    response = Client().post("/api/auth/token/", {"username": "alice", "password": "wrong"})

    assert response.status_code == 400
    assert "token" not in response.json()


def test_anonymous_callers_get_a_json_401_or_403(db):
    client = Client()

    for method, url in [("get", "/api/recordings/"), ("post", "/api/recordings/"), ("get", "/api/recordings/1/")]:
        response = getattr(client, method)(url)
        assert response.status_code in (401, 403)
        assert "detail" in response.json()


def test_csrf_is_enforced_for_session_authenticated_writes(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    before = stored_state()

    response = client.post("/api/recordings/", {"file": upload_file(sample_bytes())})

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert stored_state() == before
    # With the token the page sends (cookie + X-CSRFToken header) it goes through.
    client.get("/recordings/new/")
    token = client.cookies["csrftoken"].value
    response = client.post("/api/recordings/", {"file": upload_file(sample_bytes())}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_token_authenticated_writes_need_no_csrf(alice):
    from accounts.services import api_token_create

    client = Client(enforce_csrf_checks=True)
    _, key = api_token_create(user=alice, name="test")

    response = client.post("/api/recordings/", {"file": upload_file(sample_bytes())}, HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "payload", "content_type", "status"),
    [
        ("post", "/api/recordings/", "{not json", "application/json", 400),
        ("post", "/api/recordings/", {}, "application/json", 400),
        ("post", "/api/recordings/", "file=x", "text/plain", 415),
        ("put", "/api/recordings/{id}/", {}, "application/json", 405),
        ("put", "/api/recordings/{id}/", {}, "application/json", 405),
        ("get", "/api/recordings/{id}/derive/", None, None, 405),
        ("post", "/api/recordings/{id}/derive/", "[1, 2", "application/json", 400),
        (
            "post",
            "/api/recordings/{id}/derive/",
            {"operations": [{"op": "gain", "params": {"db": None}}]},
            "application/json",
            400,
        ),
        (
            "post",
            "/api/recordings/{id}/derive/",
            {"operations": [{"op": "gain", "params": {"db": 1e308}}]},
            "application/json",
            400,
        ),
        (
            "post",
            "/api/recordings/{id}/derive/",
            {"operations": [{"op": "slice", "params": [0, 1]}]},
            "application/json",
            400,
        ),
        (
            "post",
            "/api/recordings/{id}/derive/",
            {"operations": [{"op": "add_noise", "params": {"snr_db": 10, "seed": -1}}]},
            "application/json",
            400,
        ),
        ("post", "/api/recordings/{id}/analyses/", {"model_version": "x"}, "application/json", 400),
        ("get", "/api/recordings/999999/", None, None, 404),
        ("get", "/api/recordings/abc/", None, None, 404),
        ("post", "/api/recordings/abc/derive/", {"operations": []}, "application/json", 404),
        ("post", "/api/recordings/abc/analyses/", {}, "application/json", 404),
    ],
)
def test_errors_are_json_4xx_never_500(alice_client, alice, method, path, payload, content_type, status):
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")
    before = stored_state()
    kwargs = {"content_type": content_type} if content_type else {}

    response = getattr(alice_client, method)(path.format(id=recording.pk), payload, **kwargs)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body  # {"detail": ...} or field errors
    assert stored_state() == before


def test_the_schema_documents_the_lab_endpoints(alice_client):
    response = alice_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    schema = response.json()
    for path in (
        "/api/recordings/",
        "/api/recordings/{id}/",
        "/api/recordings/{id}/audio/",
        "/api/recordings/{id}/derive/",
        "/api/recordings/{id}/analyses/",
        "/api/analyses/{id}/",
    ):
        assert path in schema["paths"], path


def test_the_schema_documents_attribution_attacks_sweeps_and_the_dataset_view(alice_client):
    schema = alice_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    for path, method in (
        ("/api/analyses/{analysis_id}/attribution/", "post"),
        ("/api/attributions/{attribution_id}/", "get"),
        ("/api/recordings/{recording_id}/attack/", "post"),
        ("/api/recordings/{recording_id}/sweeps/", "post"),
        ("/api/jobs/{job_id}/", "get"),
        ("/api/models/{version_id}/dataset/", "get"),
    ):
        assert method in schema["paths"].get(path, {}), (path, method)


def test_delete_removes_the_recording_its_versions_and_drafts_and_answers_204(
    alice_client, alice, active_model, django_capture_on_commit_callbacks
):
    from experiments.models import Experiment
    from experiments.services.experiments import experiment_create
    from experiments.services.recordings import recording_derive

    original = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")
    version = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}])
    experiment_create(owner=alice, recording_a=original, recording_b=version)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.delete(f"/api/recordings/{original.pk}/")

    assert response.status_code == 204
    assert not Recording.objects.exists() and not Experiment.objects.exists()
    assert not [name for name in stored_state()["files"] if name.startswith("recordings/")]


def test_delete_answers_409_naming_the_submitted_experiment(alice_client, alice, course, active_model):
    from experiments.services.experiments import experiment_create, experiment_submit
    from experiments.services.recordings import recording_derive

    original = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")
    version = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}])
    experiment_submit(
        experiment=experiment_create(owner=alice, recording_a=original, recording_b=version, title="Homework 1"),
        course=course,
    )
    before = stored_state()

    response = alice_client.delete(f"/api/recordings/{version.pk}/")

    assert response.status_code == 409
    assert "“Homework 1”" in response.json()["detail"]
    assert stored_state() == before


def test_delete_answers_404_for_another_users_recording(client, alice, charlie):
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")
    login(client, charlie)

    response = client.delete(f"/api/recordings/{recording.pk}/")

    assert response.status_code == 404 and "detail" in response.json()
    assert Recording.objects.filter(pk=recording.pk).exists()
