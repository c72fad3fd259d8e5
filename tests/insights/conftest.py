"""Fixtures of the insights tests: the bundled model loaded once, and its validation computed once.

Both are expensive (loading through TensorFlow; validating runs the model on the 20 sample
and 250 evaluation clips and the robustness conditions), so they are computed once per test
session for real and shared; each test still gets its own database rows.
"""

from typing import Any

import pytest

from tests.conftest import VALIDATED_FIELDS
from tests.insights.insight_support import bundled_model


@pytest.fixture(scope="session")
def loaded_bundled_model():
    """The bundled model as the worker loads it, shared by the tests that only run it."""
    return bundled_model()


@pytest.fixture(scope="session")
def _validations() -> dict[str, dict[str, Any]]:
    """What validation wrote on a model version, by the sha256 of its file: filled by `evaluated_model`."""
    return {}


@pytest.fixture
def evaluated_model(active_model, _validations):
    """The active bundled version, validated for real (evaluated on every bundled clip) once per session."""
    from modelzoo.worker import model_version_validate

    done = _validations.get(active_model.sha256)
    if done is None:
        version = model_version_validate(version=active_model, progress=lambda percent, message="": None)
        _validations[active_model.sha256] = {name: getattr(version, name) for name in VALIDATED_FIELDS}
        return version
    for name, value in done.items():
        setattr(active_model, name, value)
    active_model.save()
    return active_model
