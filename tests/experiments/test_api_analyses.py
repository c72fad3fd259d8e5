"""The analyses API (docs/api.md): ask for one (201, 202 or 200), read it with every layer's image and sound URLs."""

from pathlib import Path

import pytest

from experiments.models import Analysis
from experiments.services.recordings import recording_upload
from modelzoo.models import ModelVersion
from tests.experiments.lab_support import sample_bytes

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def recording(alice):
    return recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")


def _ask(client, recording, payload=None):
    return client.post(f"/api/recordings/{recording.pk}/analyses/", payload or {}, content_type="application/json")


def test_asking_runs_the_active_model_then_reuses_the_analysis(alice_client, recording, active_model):
    first = _ask(alice_client, recording)
    second = _ask(alice_client, recording)

    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"] == Analysis.objects.get().pk
    body = first.json()
    assert body["status"] == "done" and body["progress"] == 100
    assert body["model_version"] == active_model.pk
    assert body["recording"] == recording.pk
    assert set(body["probabilities"]) == set(active_model.labels)
    assert body["predicted_label"] == max(body["probabilities"], key=body["probabilities"].get)


def test_a_queued_analysis_answers_202_pending(alice_client, recording, active_model, settings):
    settings.TASKS = DATABASE_BACKEND

    response = _ask(alice_client, recording)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["progress"] == 0
    assert body["layers"] == [] and body["probabilities"] == {}
    assert _ask(alice_client, recording).status_code == 202  # still the same one, still waiting
    assert Analysis.objects.count() == 1
    poll = alice_client.get(f"/api/analyses/{body['id']}/").json()
    assert poll["status"] == "pending"
    job = alice_client.get(f"/api/jobs/{body['job']}/").json()
    assert job["kind"] == "analysis_run" and job["status"] == "pending"


def test_an_analysis_has_every_label_and_every_layers_image_and_sound(alice_client, recording, active_model):
    analysis_id = _ask(alice_client, recording).json()["id"]

    body = alice_client.get(f"/api/analyses/{analysis_id}/").json()

    assert set(body) >= {
        "id",
        "status",
        "recording",
        "model_version",
        "predicted_label",
        "probabilities",
        "layers",
        "timings",
    }
    assert list(body["probabilities"]) == [str(d) for d in range(10)]
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert [layer["filters"] for layer in body["layers"]] == [16, 16, 32]
    for layer in body["layers"]:
        name, n = layer["name"], layer["filters"]
        assert layer["shape"][2] == n
        # each filter's own URL, with the grant that lets this caller's token fetch it quickly
        images, audio = ([url.split("?grant=")[0] for url in layer[key]] for key in ("images", "audio"))
        assert images == [f"/analyses/{analysis_id}/layers/{name}/{k}.png" for k in range(n)]
        assert audio == [f"/analyses/{analysis_id}/layers/{name}/{k}.wav" for k in range(n)]
        assert len(layer["mean"]) == len(layer["max"]) == n
    last = body["layers"][-1]
    assert alice_client.get(last["images"][-1])["Content-Type"] == "image/png"
    assert alice_client.get(last["audio"][-1])["Content-Type"] == "audio/wav"
    assert body["timings"]["forward_ms"] > 0 and body["timings"]["worker_ms"] > 0


def test_a_model_version_can_be_chosen(alice_client, recording, active_model):
    response = _ask(alice_client, recording, {"model_version": active_model.pk})

    assert response.status_code == 201
    assert response.json()["model_version"] == active_model.pk


def test_an_unknown_or_invalid_model_version_answers_like_a_missing_one(alice_client, recording, active_model):
    broken = ModelVersion.objects.create(name="broken", labels=active_model.labels, status=ModelVersion.Status.INVALID)

    unknown = _ask(alice_client, recording, {"model_version": 999999})
    invalid = _ask(alice_client, recording, {"model_version": broken.pk})

    assert unknown.status_code == invalid.status_code == 400
    assert unknown.json() == invalid.json() == {"model_version": ["No such model version."]}
    assert Analysis.objects.count() == 0


def test_an_admin_sees_an_invalid_version_and_is_told_it_cannot_analyse(client, admin_user, active_model):
    broken = ModelVersion.objects.create(name="broken", labels=active_model.labels, status=ModelVersion.Status.INVALID)
    recording = recording_upload(owner=admin_user, data=sample_bytes(), filename="seven.wav")
    client.force_login(admin_user)

    response = _ask(client, recording, {"model_version": broken.pk})

    assert response.status_code == 409
    assert "is not valid" in response.json()["detail"]
    assert Analysis.objects.count() == 0


def test_without_an_active_model_it_says_so(alice_client, recording):
    response = _ask(alice_client, recording)

    assert response.status_code == 409
    assert response.json() == {"detail": "No model version is active yet; an admin must activate one."}


def test_retry_runs_a_failed_analysis_again(alice_client, recording, active_model):
    stored = Path(recording.audio.path)
    good = stored.read_bytes()
    stored.write_bytes(good[:20])
    failed = _ask(alice_client, recording)
    assert failed.status_code == 202
    assert failed.json()["status"] == "failed"
    assert "could not be read" in failed.json()["error"]
    stored.write_bytes(good)

    response = alice_client.post(f"/api/analyses/{failed.json()['id']}/retry/")

    assert response.status_code == 202
    assert response.json()["status"] == "done"
    assert len(response.json()["layers"]) == 3


def test_retrying_a_done_analysis_is_a_conflict(alice_client, recording, active_model):
    analysis_id = _ask(alice_client, recording).json()["id"]

    response = alice_client.post(f"/api/analyses/{analysis_id}/retry/")

    assert response.status_code == 409
    assert response.json() == {"detail": "Only a failed job can be retried."}


@pytest.mark.parametrize(("method", "path"), [("get", "/api/analyses/abc/"), ("post", "/api/analyses/abc/retry/")])
def test_an_id_that_is_not_a_number_is_a_json_404_not_a_500(alice_client, method, path):
    response = getattr(alice_client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
