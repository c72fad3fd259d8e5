from io import StringIO

import pytest
from django.core.management import call_command

from modelzoo.conditions import CONDITION_NAMES
from modelzoo.models import ModelVersion
from modelzoo.services import BUNDLED_NAME

# Every test registers the bundled file, which validates it: evaluated on every bundled clip, for real
# once (the tests are about what registering does around that validation).
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("validation_once")]


def test_it_registers_validates_and_activates_the_bundled_model_once(db):
    first, second = StringIO(), StringIO()

    call_command("register_bundled_model", stdout=first)
    call_command("register_bundled_model", stdout=second)

    version = ModelVersion.objects.get()
    assert version.is_active and version.is_bundled
    assert version.status == ModelVersion.Status.VALID
    assert version.labels == [str(d) for d in range(10)]
    assert [layer["filters"] for layer in version.layers if layer["type"] == "Conv2D"] == [16, 16, 32]
    assert "Registered" in first.getvalue()
    assert "Already registered" in second.getvalue()
    robustness = version.metrics["robustness"]  # measured when it was validated
    assert set(robustness["conditions"]) == set(CONDITION_NAMES) and robustness["n"] == 250
    assert robustness["order"] == list(CONDITION_NAMES)
    assert robustness["conditions"]["clean"]["accuracy"] == version.metrics["evaluation_clips"]["accuracy"]
    assert version.feature_params["active_method"] == "noise_floor"  # the bundled model finds the word in noise


def test_it_leaves_an_admins_choice_of_active_version_alone(db, active_model):
    other = ModelVersion.objects.create(name="admin-choice", status=ModelVersion.Status.VALID, sha256="x" * 64)
    ModelVersion.objects.filter(pk=active_model.pk).update(is_active=False, sha256="y" * 64, name="older")
    ModelVersion.objects.filter(pk=other.pk).update(is_active=True)

    call_command("register_bundled_model", stdout=StringIO())

    assert ModelVersion.objects.get(is_active=True) == other


def test_a_newer_bundled_file_takes_over_from_the_older_bundled_one(db):
    older = ModelVersion.objects.create(
        name="ddevis-cnn-v1", status=ModelVersion.Status.VALID, sha256="o" * 64, is_bundled=True, is_active=True
    )
    out = StringIO()

    call_command("register_bundled_model", stdout=out)

    newer = ModelVersion.objects.get(is_active=True)
    assert newer != older and newer.is_bundled and newer.name == BUNDLED_NAME
    older.refresh_from_db()
    assert not older.is_active and older.status == ModelVersion.Status.VALID  # kept as an earlier version
    assert f"active model: {newer.name}" in out.getvalue()


def test_a_newer_bundled_file_under_a_taken_name_gets_its_sha_in_the_name(db):
    ModelVersion.objects.create(name=BUNDLED_NAME, status=ModelVersion.Status.VALID, sha256="o" * 64, is_bundled=True)

    call_command("register_bundled_model", stdout=StringIO())

    newer = ModelVersion.objects.get(is_active=True)
    assert newer.name == f"{BUNDLED_NAME}-{newer.sha256[:8]}"
