"""The training page: live curves while it runs, weights per epoch, the model card, cancel, share, debug."""

import json

import pytest
from django.urls import reverse

from experiments.models import Analysis, Experiment
from jobs.models import Job
from tests.conftest import login
from tests.workshop.workshop_support import finished_training, running_training
from workshop.models import Training


@pytest.mark.django_db
def test_a_running_training_polls_and_draws_its_curves(alice_client, alice):
    training = running_training(alice)

    page = alice_client.get(reverse("training_detail", args=[training.pk])).content.decode()
    live = alice_client.get(
        reverse("training_detail", args=[training.pk]), headers={"HX-Request": "true", "HX-Target": "training-live"}
    )

    assert 'hx-trigger="every 1000ms"' in page
    assert 'data-curve="loss"' in page and 'data-curve="accuracy"' in page and '<path d="M' in page
    assert "Cancel training" in page and "Epoch 1 of 4" in page
    assert live.status_code == 200 and "<html" not in live.content.decode()
    assert "HX-Trigger" not in live.headers  # still running: the weights and the card wait


@pytest.mark.django_db
def test_the_last_poll_tells_the_weights_and_card_to_reload(alice_client, alice, bundled_model_description):
    training = finished_training(alice, bundled_model_description)

    live = alice_client.get(
        reverse("training_detail", args=[training.pk]), headers={"HX-Request": "true", "HX-Target": "training-live"}
    )

    assert "training-ended" in json.loads(live.headers["HX-Trigger"])
    assert "every 1000ms" not in live.content.decode()


@pytest.mark.django_db
def test_the_slider_shows_the_weights_of_the_epoch_chosen(alice_client, alice, bundled_model_description):
    training = finished_training(alice, bundled_model_description)
    url = reverse("training_detail", args=[training.pk])

    first = alice_client.get(url, {"epoch": 1}, headers={"HX-Request": "true", "HX-Target": "weights"}).content.decode()
    last = alice_client.get(url, headers={"HX-Request": "true", "HX-Target": "weights"}).content.decode()

    assert "data-epoch>1<" in first and "data-epoch>2<" in last
    assert 'type="range"' in first and 'min="1" max="2"' in first
    assert first.count("<rect") == 5 * 30
    assert ": 1</title>" in first and ": 2</title>" in last  # the counts of each epoch


@pytest.mark.django_db
def test_the_model_card_lists_every_choice_the_data_and_the_seed(alice_client, alice, bundled_model_description):
    training = finished_training(alice, bundled_model_description)

    page = alice_client.get(reverse("training_detail", args=[training.pk])).content.decode()

    card = page.split('id="model-card"')[1]
    for text in (
        "16 · 16 · 32",
        "7 × 7 · 5 × 5 · 3 × 3",
        "Dense units",
        "Learning rate",
        "0.002",
        "Seed",
        "Augmentation",
        "Batch size",
        "2000 clips",
        "CC BY-SA 4.0",
        "Held-out accuracy",
        "90.0 %",
    ):
        assert text in card, text


@pytest.mark.django_db
def test_a_failed_training_says_why_in_a_sentence(alice_client, alice):
    training = running_training(alice)
    Job.objects.filter(pk=training.job_id).update(status=Job.Status.FAILED, error="The worker stopped; retry it.")

    page = alice_client.get(reverse("training_detail", args=[training.pk])).content.decode()

    training.refresh_from_db()
    assert training.status == Training.Status.FAILED
    assert "data-training-error>The worker stopped; retry it.<" in page


@pytest.mark.django_db
def test_the_cancel_button_stops_a_waiting_training_at_once(alice_client, alice):
    training = running_training(alice, history=[])
    Job.objects.filter(pk=training.job_id).update(status=Job.Status.PENDING)

    response = alice_client.post(reverse("training_cancel", args=[training.pk]), headers={"HX-Request": "true"})

    training.refresh_from_db()
    assert response.status_code == 200 and 'data-status="cancelled"' in response.content.decode()
    assert training.status == Training.Status.CANCELLED and training.job.status == Job.Status.CANCELLED


@pytest.mark.django_db
def test_cancelling_a_running_training_asks_its_worker_to_stop(alice_client, alice):
    training = running_training(alice)

    page = alice_client.post(reverse("training_cancel", args=[training.pk]), headers={"HX-Request": "true"})

    training.job.refresh_from_db()
    assert training.job.cancel_requested and training.job.status == Job.Status.RUNNING
    assert "Stopping…" in page.content.decode()


@pytest.mark.django_db
def test_other_people_get_404_for_a_training(client, alice, bob, charlie, course, bundled_model_description):
    training = finished_training(alice, bundled_model_description)

    for user in (bob, charlie):
        login(client, user)
        assert client.get(reverse("training_detail", args=[training.pk])).status_code == 404
        assert client.post(reverse("training_cancel", args=[training.pk])).status_code == 404
        assert client.post(reverse("training_debug", args=[training.pk])).status_code == 404


@pytest.mark.django_db
def test_the_version_is_the_authors_until_shared_with_her_course(
    client, alice, bob, charlie, course, bundled_model_description
):
    training = finished_training(alice, bundled_model_description)
    version_page = reverse("model_detail", args=[training.model_version_id])
    api = f"/api/models/{training.model_version_id}/"

    def status(user, url):
        login(client, user)
        return client.get(url).status_code

    assert status(alice, version_page) == 200 and status(alice, api) == 200
    assert status(bob, version_page) == 404 and status(bob, api) == 404
    assert training.model_version.name not in login(client, bob).get(reverse("model_list")).content.decode()

    login(client, alice).post(reverse("training_share", args=[training.pk]), {"shared": "1"})

    assert status(bob, version_page) == 200 and status(bob, api) == 200  # bob attends alice's course
    assert status(charlie, version_page) == 404 and status(charlie, api) == 404  # charlie does not


@pytest.mark.django_db
def test_debug_compares_the_trained_version_with_the_bundled_model_on_a_clip(
    alice_client, alice, active_model, bundled_model_description
):
    training = finished_training(alice, bundled_model_description)

    response = alice_client.post(reverse("training_debug", args=[training.pk]), {"sample": "3_theo_5"})

    experiment = Experiment.objects.get()
    assert response.status_code == 302 and response.url == reverse("experiment_detail", args=[experiment.pk])
    assert experiment.owner == alice
    assert experiment.model_version == active_model and experiment.model_version_b == training.model_version
    assert "“3” by theo" in experiment.recording_a.title and experiment.recording_b is None
    analyses = Analysis.objects.filter(recording=experiment.recording_a)
    assert {a.model_version_id for a in analyses} == {active_model.pk, training.model_version_id}
    assert all(a.job.status == Job.Status.DONE for a in analyses)  # the trained version analyses clips
    page = alice_client.get(response.url).content.decode()
    assert training.model_version.name in page and active_model.name in page

    alice_client.post(reverse("training_debug", args=[training.pk]), {"sample": "3_theo_5"})
    assert Experiment.objects.count() == 2 and len({e.recording_a_id for e in Experiment.objects.all()}) == 1


@pytest.mark.django_db
def test_train_again_opens_the_design_page_with_the_same_design(alice_client, alice, bundled_model_description):
    from workshop.models import Training as T

    training = finished_training(alice, bundled_model_description)
    T.objects.filter(pk=training.pk).update(
        architecture=training.architecture | {"filters": [8, 12, 24], "kernels": [5, 5, 3]}, seed=9
    )
    page = alice_client.get(reverse("training_detail", args=[training.pk])).content.decode()
    href = page.split("data-retrain")[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")

    design = alice_client.get(href).content.decode()

    assert 'id="id_filters_2" name="filters_2" type="number" min="0" max="64" step="1" value="12"' in design
    assert "129 × 63 × 8" in design and 'name="seed" value="9"' in design
