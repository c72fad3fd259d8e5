"""A real training through the job runner (inline in tests): curves per epoch, weights per epoch, a validated
version owned by its author, the same weights again for the same settings."""

import pytest

from jobs.models import Job
from modelzoo.models import ModelVersion
from workshop.architecture import Design
from workshop.models import Training
from workshop.services import training_start

SMALL = Design(filters=(8, 8, 16), kernels=(5, 3, 3), dense=32, epochs=1)


@pytest.fixture
def small_subset(settings):
    settings.WORKSHOP_MAX_CLIPS = 160


@pytest.mark.django_db
def test_a_training_makes_a_validated_version_owned_by_its_author(small_subset, alice, active_model):
    training = training_start(owner=alice, name="small one", design=SMALL, seed=3)

    training.refresh_from_db()
    assert training.job.status == Job.Status.DONE, training.job.error
    assert training.status == Training.Status.DONE and training.error == ""
    [epoch] = training.history
    assert epoch["epoch"] == 1
    assert set(epoch) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert 0.0 <= epoch["val_accuracy"] <= 1.0 and epoch["loss"] > 0
    [snapshot] = training.weight_histograms
    assert [layer["layer"] for layer in snapshot["layers"]] == ["conv1", "conv2", "conv3", "dense", "probabilities"]
    conv1 = snapshot["layers"][0]
    assert len(conv1["counts"]) == 30 and sum(conv1["counts"]) == 5 * 5 * 1 * 8

    version = training.model_version
    assert version.status == ModelVersion.Status.VALID, version.validation_error
    assert version.owner == alice and not version.shared_with_courses and not version.is_active
    assert [layer["filters"] for layer in version.conv_layers] == [8, 8, 16]
    assert [layer["kernel_size"] for layer in version.conv_layers] == [[5, 5], [3, 3], [3, 3]]
    assert version.metrics["evaluation_clips"]["n"] == 250  # validated like an upload
    assert set(version.metrics["robustness"]["conditions"]) >= {"clean"}
    assert version.hyperparameters["seed"] == 3 and version.hyperparameters["dense_units"] == 32
    assert "CC BY-SA 4.0" in version.training_data["attribution"]

    # Same settings, same weights: the recipe's loop with the job's data and seed gives the job's digest.
    from modelzoo import training as recipe
    from workshop import worker

    train_ds, held_ds = worker.split(160)
    hyper = {**worker.WORKSHOP_AUGMENTATION, **training.hyperparameters}
    again = recipe.train(train_ds, recipe.recipe_features(), hyper, seed=3, monitor=held_ds)
    other = recipe.train(train_ds, recipe.recipe_features(), hyper, seed=4, monitor=held_ds)
    assert worker.weights_digest(again.model) == training.weights_sha256
    assert worker.weights_digest(other.model) != training.weights_sha256
    assert round(again.history[0]["loss"], 5) == epoch["loss"]
