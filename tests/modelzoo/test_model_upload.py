"""Admin upload of a .keras file: checked, stored, validated on the worker (safe_mode), then activatable."""

import hashlib

import pytest

from dsp.params import FeatureParams
from jobs.models import Job
from modelzoo.models import ModelVersion
from modelzoo.services import model_version_activate
from tests.conftest import login
from tests.modelzoo.keras_files import admin_upload_form, keras_file

ADD_URL = "/admin/modelzoo/modelversion/add/"


def _post(client, data: bytes, name: str = "uploaded-v2", **extra):
    return client.post(ADD_URL, admin_upload_form(data, name, **extra))


def _media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.slow
def test_a_valid_upload_is_validated_and_evaluated_on_the_sample_clips(client, admin_user):
    login(client, admin_user)
    data = keras_file("paper")

    response = _post(client, data)

    assert response.status_code == 302
    version = ModelVersion.objects.get(name="uploaded-v2")
    assert version.status == ModelVersion.Status.VALID, version.validation_error
    assert version.uploaded_by == admin_user
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.metrics["sample_clips"]["n"] == 20
    assert 0 <= version.metrics["sample_clips"]["accuracy"] <= 1
    assert [row["name"] for row in version.layers if row["type"] == "Conv2D"] == ["conv1"]
    kernel = next(h for h in version.weight_histograms if h["layer"] == "conv1" and h["weight"] == "kernel")
    assert len(kernel["counts"]) == 40 and len(kernel["edges"]) == 41
    assert sum(kernel["counts"]) == 7 * 7 * 1 * 4
    assert len(kernel["kernels"]) == 4
    assert version.validation_job.status == Job.Status.DONE
    assert not version.is_active


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("lambda", b"Lambda layer"),
        ("wrong_input", b"does not match its feature parameters"),
        ("wrong_output", b"5 units but there are 10 labels"),
        ("no_conv", b"no Conv2D layer"),
        ("text", b"not a Keras model file"),
    ],
)
def test_a_bad_file_gets_a_clear_admin_error_and_changes_nothing(client, admin_user, settings, kind, message):
    login(client, admin_user)
    before = _media_files(settings)

    response = _post(client, b"just some text" if kind == "text" else keras_file(kind))

    assert response.status_code == 200
    assert message in response.content
    assert not ModelVersion.objects.exists()
    assert not Job.objects.exists()
    assert _media_files(settings) == before


def test_an_output_that_is_not_a_distribution_fails_on_the_worker_and_cannot_be_activated(client, admin_user):
    login(client, admin_user)

    _post(client, keras_file("no_softmax"))

    version = ModelVersion.objects.get(name="uploaded-v2")
    assert version.status == ModelVersion.Status.INVALID
    assert "softmax" in version.validation_error
    from core.errors import ServiceError

    with pytest.raises(ServiceError, match="cannot be activated"):
        model_version_activate(version=version)


def test_a_file_keras_refuses_to_load_safely_is_invalid(admin_user, tmp_path):
    """Even if the configuration check were bypassed, the worker's safe_mode load refuses Lambda layers."""
    from django.core.files.base import ContentFile

    from jobs.services import job_create

    version = ModelVersion(
        name="smuggled", feature_params=FeatureParams().to_dict(), labels=[str(d) for d in range(10)]
    )
    version.file.save("smuggled.keras", ContentFile(keras_file("lambda")), save=False)
    version.save()

    job = job_create(kind="model_validate", owner=admin_user, payload={"model_version": version.pk})

    version.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert version.status == ModelVersion.Status.INVALID
    assert "safely" in version.validation_error


def test_the_size_is_capped(client, admin_user, settings):
    settings.MAX_MODEL_UPLOAD_MB = 0.01
    login(client, admin_user)

    response = _post(client, keras_file("paper"))

    assert b"larger than the 0.01 MB limit" in response.content
    assert not ModelVersion.objects.exists()


@pytest.mark.usefixtures("validation_once")  # validated for real once (in the session) for both tests
def test_the_same_file_twice_is_refused(client, admin_user):
    login(client, admin_user)
    data = keras_file("paper")
    _post(client, data)

    response = _post(client, data, name="again")

    assert b"already registered as" in response.content
    assert ModelVersion.objects.count() == 1


@pytest.mark.usefixtures("validation_once")  # validated for real once (in the session) for both tests
def test_activation_makes_exactly_one_version_active(client, admin_user, active_model):
    login(client, admin_user)
    _post(client, keras_file("paper"))
    version = ModelVersion.objects.get(name="uploaded-v2")

    response = client.post(f"/models/{version.pk}/activate/")

    assert response.status_code == 302
    assert list(ModelVersion.objects.filter(is_active=True)) == [version]


def test_students_cannot_upload_or_activate(client, alice, active_model):
    login(client, alice)

    assert client.get(ADD_URL).status_code == 302
    assert client.post(f"/models/{active_model.pk}/activate/").status_code == 302
    active_model.refresh_from_db()
    assert active_model.is_active


def test_the_upload_form_has_a_field_per_feature_parameter_not_raw_json(client, admin_user):
    from dataclasses import fields

    from dsp.params import FeatureParams

    page = login(client, admin_user).get(ADD_URL).content.decode()

    for spec in fields(FeatureParams):
        assert f'name="{spec.name}"' in page, spec.name
    assert 'name="feature_params"' not in page and "<textarea" not in page.split('name="keras_file"')[1]
