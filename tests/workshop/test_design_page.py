"""The design page: live shapes through htmx, refused designs explained next to the field, starting a training."""

import pytest
from django.urls import reverse

from workshop.architecture import Design, summarise
from workshop.models import Training

NEW = reverse("training_new")


def _design(**changes) -> dict:
    data = {
        "name": "wider",
        "filters_1": 16,
        "kernels_1": 7,
        "pools_1": 2,
        "filters_2": 16,
        "kernels_2": 5,
        "pools_2": 2,
        "filters_3": 32,
        "kernels_3": 3,
        "pools_3": 2,
        "dense": 128,
        "dropout": 0.2,
        "learning_rate": 0.002,
        "epochs": 10,
        "augment": "on",
        "seed": 0,
    }
    return {**data, **changes}


@pytest.mark.django_db
def test_the_page_opens_with_the_papers_design_and_its_shapes(alice_client):
    page = alice_client.get(NEW).content.decode()

    assert 'name="filters_1"' in page and 'value="16"' in page and 'value="7"' in page
    assert "64 × 31 × 16" in page and "16 × 7 × 32" in page
    assert "data-parameters>472026<" in page  # the bundled model's count (Keras' own, checked in test_architecture)


@pytest.mark.django_db
def test_a_change_answers_the_new_shapes_as_a_fragment(alice_client):
    response = alice_client.get(NEW, _design(filters_3=8, pools_1=1), headers={"HX-Request": "true"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in page and 'id="design-form"' in page
    assert "129 × 63 × 16" in page  # pool1 of 1 keeps the size
    assert "32 × 15 × 8" in page
    expected = summarise(Design(filters=(16, 16, 8), pools=(1, 2, 2))).parameters
    assert f"data-parameters>{expected}<" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"filters_2": 0}, "filters_2", "at least one filter"),
        ({"kernels_3": 11, "pools_1": 4, "pools_2": 4}, "kernels_3", "larger than its 8 × 3 input"),
        ({"pools_1": 4, "pools_2": 4, "pools_3": 4}, "pools_3", "nothing would be left"),
        ({"epochs": 31}, "epochs", "less than or equal to 30"),
    ],
)
def test_an_impossible_design_says_why_next_to_its_field(alice_client, changes, field, reason):
    preview = alice_client.get(NEW, _design(**changes), headers={"HX-Request": "true"}).content.decode()
    refused = alice_client.post(NEW, _design(**changes), headers={"HX-Request": "true"})

    for page in (preview, refused.content.decode()):
        errors = page.split(f'data-field-errors="{field}"')[1].split("</ul>")[0]
        assert reason in errors.replace("&#x27;", "'")
        assert "data-no-summary" in page
    assert refused.status_code == 400 and refused.headers["HX-Retarget"] == "#design-form"
    assert not Training.objects.exists()


@pytest.mark.django_db
def test_the_page_says_a_training_is_running_and_refuses_a_second(alice_client, alice):
    from jobs.models import Job

    job = Job.objects.create(kind="workshop_train", owner=alice, status=Job.Status.RUNNING)
    running = Training.objects.create(owner=alice, name="first", architecture={}, job=job, status="running")

    page = alice_client.get(NEW).content.decode()
    refused = alice_client.post(NEW, _design(), headers={"HX-Request": "true"})

    assert "data-running" in page and running.name in page
    assert refused.status_code == 409
    assert "“first” is still running" in refused.content.decode()
    assert Training.objects.count() == 1


def test_the_page_needs_a_login(client, db):
    assert client.get(NEW).status_code == 302


@pytest.mark.django_db
def test_a_possible_design_starts_a_training_and_opens_its_page(alice_client, alice, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

    response = alice_client.post(NEW, _design(filters_1=24, epochs=3), headers={"HX-Request": "true"})

    training = Training.objects.get()
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/workshop/{training.pk}/"
    assert training.owner == alice and training.name == "wider" and training.status == Training.Status.QUEUED
    assert training.architecture["filters"] == [24, 16, 32] and training.hyperparameters["epochs"] == 3
    assert training.job.kind == "workshop_train" and training.job.payload == {"training": training.pk}
