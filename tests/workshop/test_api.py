"""/api/trainings/: start (202), refuse what cannot be built (400), one running per user and a site cap (409),
lists and objects scoped to their author (404 for others), cancel."""

import pytest

from accounts.services import api_token_create
from jobs.models import Job
from tests.workshop.workshop_support import finished_training, running_training
from workshop.models import Training

BODY = {
    "name": "api variant",
    "architecture": {"filters": [16, 16, 32], "kernels": [7, 5, 3], "dense": 128, "dropout": 0.2},
    "epochs": 5,
}


@pytest.fixture
def database_queue(settings):
    """Jobs wait on the queue (no worker in these tests): what the API answers before any training runs."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {api_token_create(user=user, name='test')[1]}"}


def _post(client, user, body, **auth):
    return client.post("/api/trainings/", body, content_type="application/json", **(auth or _auth(user)))


@pytest.mark.django_db
def test_it_accepts_a_design_and_answers_202(client, alice, database_queue):
    response = _post(client, alice, BODY | {"learning_rate": 0.001, "augment": False, "seed": 7})

    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["status"] == "queued" and answer["progress"] == 0 and answer["epochs"] == 5
    assert answer["history"] == [] and answer["model_version"] is None and answer["error"] == ""
    training = Training.objects.get(pk=answer["id"])
    assert training.owner == alice and training.seed == 7
    assert training.hyperparameters["learning_rate"] == 0.001 and training.hyperparameters["augment"] is False
    assert training.architecture["pools"] == [2, 2, 2]  # pooling defaults to the paper's


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "key", "reason"),
    [
        ({"architecture": BODY["architecture"] | {"kernels": [7, 5, 40]}}, "architecture.kernels[2]", "or equal to 11"),
        (
            {"architecture": BODY["architecture"] | {"kernels": [7, 5, 11], "pools": [4, 4, 1]}},
            "architecture.kernels[2]",
            "larger than its 8 × 3 input",
        ),
        (
            {"architecture": BODY["architecture"] | {"pools": [4, 4, 4]}},
            "architecture.pools[2]",
            "nothing would be left",
        ),
        ({"architecture": BODY["architecture"] | {"filters": [16, 0, 32]}}, "architecture.filters[1]", "one filter"),
        ({"epochs": 0}, "epochs", "greater than or equal to 1"),
        ({"epochs": 31}, "epochs", "less than or equal to 30"),
        ({"name": ""}, "name", "required"),
        ({"architecture": BODY["architecture"] | {"filters": [16, 16]}}, None, "must list 3 values"),
        ({"architecture": [16, 16, 32]}, None, "must be an object"),
    ],
)
def test_it_refuses_what_cannot_be_built_with_the_reason(client, alice, database_queue, changes, key, reason):
    response = _post(client, alice, BODY | changes)

    assert response.status_code == 400
    answer = response.json()
    assert reason in answer["detail"]
    if key:
        assert reason in answer[key][0]
    assert not Training.objects.exists()


@pytest.mark.django_db
def test_a_second_running_training_of_the_same_user_is_409(client, alice, database_queue):
    auth = _auth(alice)
    first = _post(client, alice, BODY, **auth)
    second = _post(client, alice, BODY | {"name": "another"}, **auth)

    assert first.status_code == 202
    assert second.status_code == 409 and "“api variant” is still running" in second.json()["detail"]
    assert Training.objects.count() == 1


@pytest.mark.django_db
def test_the_site_runs_at_most_its_cap_of_trainings(client, alice, bob, charlie, database_queue, settings):
    settings.WORKSHOP_MAX_RUNNING = 2
    running_training(bob)
    running_training(charlie)

    refused = _post(client, alice, BODY)
    Job.objects.filter(owner=bob).update(status=Job.Status.DONE)
    accepted = _post(client, alice, BODY)

    assert refused.status_code == 409 and "training 2 models already" in refused.json()["detail"]
    assert accepted.status_code == 202


@pytest.mark.django_db
def test_lists_and_objects_are_their_authors(client, alice, bob, charlie, course, bundled_model_description):
    mine = finished_training(alice, bundled_model_description)
    running_training(bob, name="bob's")

    listed = client.get("/api/trainings/", **_auth(alice)).json()
    detail = client.get(f"/api/trainings/{mine.pk}/", **_auth(alice)).json()

    assert [t["name"] for t in listed] == ["finished one"]
    assert detail["model_version"] == mine.model_version_id and detail["status"] == "done"
    assert [row["epoch"] for row in detail["history"]] == [1, 2]
    assert set(detail["history"][0]) >= {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    for other in (bob, charlie):  # bob shares alice's course: trainings stay hers
        auth = _auth(other)
        assert client.get(f"/api/trainings/{mine.pk}/", **auth).status_code == 404
        assert client.post(f"/api/trainings/{mine.pk}/cancel/", **auth).status_code == 404
        assert client.get(f"/api/models/{mine.model_version_id}/", **auth).status_code == 404
    assert client.get("/api/trainings/").status_code in (401, 403)


@pytest.mark.django_db
def test_cancel_stops_a_waiting_training_and_a_finished_one_is_409(client, alice, database_queue):
    auth = _auth(alice)
    training_id = _post(client, alice, BODY, **auth).json()["id"]

    cancelled = client.post(f"/api/trainings/{training_id}/cancel/", **auth)
    again = client.post(f"/api/trainings/{training_id}/cancel/", **auth)

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409 and "finished already" in again.json()["detail"]
    assert Job.objects.get().status == Job.Status.CANCELLED
    assert _post(client, alice, BODY, **auth).status_code == 202  # the place is free again
