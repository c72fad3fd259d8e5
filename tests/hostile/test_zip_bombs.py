"""A zip-bomb .keras is refused from the zip's directory, before anything is inflated, on both tiers."""

import tracemalloc
import zipfile

import numpy as np
import pytest
from django.core.files.base import ContentFile

from core.errors import ServiceError
from dsp.params import FeatureParams
from jobs.models import Job
from jobs.services import job_create
from modelzoo.models import ModelVersion
from modelzoo.services import model_version_upload
from modelzoo.validation import ModelConfigError, read_model_config
from tests.conftest import login
from tests.hostile.keras_archives import archive_with, padded_config_bomb
from tests.modelzoo.keras_files import ADMIN_ADD_URL, admin_upload_form


@pytest.fixture(scope="module")
def config_bomb() -> bytes:
    """What the tester sent: a real config.json padded to 400 MB with spaces (valid JSON), about 400 KB stored."""
    return archive_with({"config.json": padded_config_bomb(400)})


@pytest.fixture(scope="module")
def weights_bomb() -> bytes:
    """model.weights.h5 of 300 MB of zeros, deflated to a fraction of a megabyte."""

    def write(archive: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo("model.weights.h5")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(bytes(1024 * 1024))

    return archive_with({"model.weights.h5": write})


def test_the_bombs_are_small_on_the_wire(config_bomb, weights_bomb):
    assert len(config_bomb) < 8 * 1024 * 1024 and len(weights_bomb) < 8 * 1024 * 1024


def test_the_web_check_refuses_a_padded_config_without_inflating_it(config_bomb):
    tracemalloc.start()
    try:
        with pytest.raises(ModelConfigError, match=r"config.json unpacks to 40\d\.\d MB; at most 4.0 MB"):
            read_model_config(config_bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024  # the 400 MB were never allocated


def test_the_web_check_refuses_compressed_weights(weights_bomb):
    with pytest.raises(ModelConfigError, match=r"unpacks \d+ times larger than it is stored.*zip bomb"):
        read_model_config(weights_bomb)


def test_many_moderately_compressed_members_are_refused_by_the_total():
    # Each member stays under the ratio cap (about 10:1: 96 random bytes in every kilobyte, the
    # rest zeros); together they unpack past 256 MB.
    rng = np.random.default_rng(0)

    def write(archive: zipfile.ZipFile) -> None:
        for k in range(12):
            info = zipfile.ZipInfo(f"assets/part{k}.bin")
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                for _ in range(24):
                    block = np.zeros((1024, 1024), dtype=np.uint8)
                    block[:, :96] = rng.integers(0, 256, size=(1024, 96), dtype=np.uint8)
                    member.write(block.tobytes())

    data = archive_with({"assets/": write})

    with pytest.raises(ModelConfigError, match=r"unpacks to 2\d\d\.\d MB; at most 256\.0 MB"):
        read_model_config(data)


def test_the_admin_shows_the_reason_and_stores_nothing(client, admin_user, config_bomb):
    login(client, admin_user)

    response = client.post(ADMIN_ADD_URL, admin_upload_form(config_bomb))

    assert response.status_code == 200
    assert "config.json unpacks to" in response.content.decode()
    assert not ModelVersion.objects.exists() and not Job.objects.exists()


def test_the_upload_service_refuses_it(admin_user, weights_bomb):
    with pytest.raises(ServiceError, match="zip bomb"):
        model_version_upload(name="bomb", data=weights_bomb, uploaded_by=admin_user)
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("bomb", ["config_bomb", "weights_bomb"])
def test_the_worker_refuses_it_before_keras_loads_it(admin_user, request, bomb):
    """Even if a bomb got past the web check, the worker checks the zip before Keras inflates it."""
    labels = [str(d) for d in range(10)]
    version = ModelVersion(name="smuggled", feature_params=FeatureParams().to_dict(), labels=labels)
    version.file.save("smuggled.keras", ContentFile(request.getfixturevalue(bomb)), save=False)
    version.save()

    job = job_create(kind="model_validate", owner=admin_user, payload={"model_version": version.pk})

    version.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert version.status == ModelVersion.Status.INVALID
    assert "unpacks" in version.validation_error and "Keras could not load" not in version.validation_error
    assert job.error == version.validation_error
