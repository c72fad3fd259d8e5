"""Fixtures of the experiment, course and review tests: real clips, real analyses.

tests/conftest.py loads them as a plugin, so every test can ask for them by name.
Analyses run inline (the immediate task backend) through the bundled model.
"""

import hashlib
import io
import zipfile
from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile

from experiments.models import Experiment, Recording
from experiments.services.experiments import comment_create, experiment_create, experiment_submit
from experiments.services.recordings import recording_derive, recording_from_sample
from modelzoo.models import ModelVersion


@pytest.fixture
def make_clip(active_model) -> Callable[..., Recording]:
    """A sample clip copied into `owner`'s recordings (a real upload through the service)."""

    def make(owner, name: str = "3_theo_5") -> Recording:
        return recording_from_sample(owner=owner, name=name)

    return make


@pytest.fixture
def ab_experiment(alice, make_clip, active_model) -> Experiment:
    """Alice's draft: a clip (A) against its reversed version (B), both analysed."""
    original = make_clip(alice)
    reversed_ = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}])
    return experiment_create(
        owner=alice,
        recording_a=original,
        recording_b=reversed_,
        title="Does the network hear a reversed three?",
        notes="I expect the prediction to change.",
    )


@pytest.fixture
def submitted_experiment(ab_experiment, course, ines) -> Experiment:
    """`ab_experiment` submitted to ines's course, with one comment from ines."""
    experiment_submit(experiment=ab_experiment, course=course)
    ab_experiment.refresh_from_db()
    comment_create(experiment=ab_experiment, author=ines, body="Look at conv3: where does it change?")
    return ab_experiment


@pytest.fixture(scope="session")
def second_model_bytes(bundled_model_description) -> bytes:
    """The bundled model with its weights perturbed and saved again: a second, different version."""
    import tempfile

    import numpy as np

    from modelzoo.inference import load_keras_file

    with tempfile.TemporaryDirectory() as folder:
        source = f"{folder}/v1.keras"
        with open(source, "wb") as out:
            out.write(bundled_model_description["data"])
        model = load_keras_file(source)
        rng = np.random.default_rng(5)
        for layer in model.layers:
            weights = layer.get_weights()
            if weights:
                layer.set_weights(
                    [w + rng.normal(0, 0.25 * (w.std() or 0.01), w.shape).astype(w.dtype) for w in weights]
                )
        target = f"{folder}/v2.keras"
        model.save(target)
        with open(target, "rb") as saved:
            data = saved.read()
    assert zipfile.is_zipfile(io.BytesIO(data))
    return data


@pytest.fixture
def second_model(active_model, second_model_bytes) -> ModelVersion:
    """A second valid (inactive) model version of the same architecture, with other weights."""
    import tempfile

    from modelzoo.inference import load_keras_file
    from modelzoo.introspection import weight_histograms

    with tempfile.NamedTemporaryFile(suffix=".keras") as copy:
        copy.write(second_model_bytes)
        copy.flush()
        histograms = weight_histograms(load_keras_file(copy.name))
    version = ModelVersion(
        name="ddevis-cnn-v4-perturbed",
        sha256=hashlib.sha256(second_model_bytes).hexdigest(),
        feature_params=active_model.feature_params,
        labels=active_model.labels,
        layers=active_model.layers,
        weight_histograms=histograms,
        hyperparameters=active_model.hyperparameters,
        status=ModelVersion.Status.VALID,
        is_active=False,
    )
    version.file.save("ddevis-cnn-v4.keras", ContentFile(second_model_bytes), save=False)
    version.save()
    return version


@pytest.fixture
def model_experiment(alice, make_clip, active_model, second_model) -> Experiment:
    """Alice's draft comparing two model versions on one clip."""
    clip = make_clip(alice, "7_nicolas_5")
    return experiment_create(owner=alice, recording_a=clip, model_version=active_model, model_version_b=second_model)
