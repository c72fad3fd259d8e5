"""Cancel really stops a training that a real worker is running, and the author can train again at once."""

import pytest

from accounts.services import api_token_create
from jobs.models import Job
from tests.jobs.workers import start_worker, stop, wait_for
from workshop.models import Training

LONG = {
    "name": "long one",
    "architecture": {"filters": [8, 8, 16], "kernels": [5, 3, 3], "dense": 32, "dropout": 0.2},
    "epochs": 30,
    "augment": True,
}


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _epochs(training: Training) -> int:
    training.refresh_from_db()
    return len(training.history)


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_a_running_training_and_the_author_can_retrain(database_queue, client, alice, tmp_path):
    _, key = api_token_create(user=alice, name="test")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    started = client.post("/api/trainings/", LONG, content_type="application/json", **auth)
    assert started.status_code == 202, started.content
    training = Training.objects.get(pk=started.json()["id"])

    # A lease long enough for TensorFlow's import on a busy machine.
    worker = start_worker(tmp_path, WORKSHOP_MAX_CLIPS="200", JOB_LEASE_SECONDS="120")
    try:
        wait_for(lambda: _epochs(training) >= 1, timeout=240, what="the first epoch")
        cancelled = client.post(f"/api/trainings/{training.pk}/cancel/", **auth)
        assert cancelled.status_code == 200
        wait_for(lambda: Job.objects.get(pk=training.job_id).is_finished, timeout=60, what="the job stopping")
    finally:
        stop(worker)

    training.refresh_from_db()
    assert training.job.status == Job.Status.CANCELLED
    assert training.status == Training.Status.CANCELLED
    assert 1 <= len(training.history) < 30 and training.model_version is None
    answer = client.get(f"/api/trainings/{training.pk}/", **auth).json()
    assert answer["status"] == "cancelled" and answer["model_version"] is None

    again = client.post(f"/api/trainings/{training.pk}/cancel/", **auth)
    assert again.status_code == 409
    retrained = client.post("/api/trainings/", LONG | {"epochs": 1}, content_type="application/json", **auth)
    assert retrained.status_code == 202  # the cancelled one no longer holds the author's place
