"""Refusals say what is wrong in words: unknown keys, real lengths, feature parameters, model names."""

import pytest

from core.errors import ServiceError
from experiments.models import Recording
from experiments.services.recordings import recording_upload
from modelzoo.models import ModelVersion
from modelzoo.services import model_version_upload
from tests.experiments.lab_support import sample_bytes, upload_file
from tests.hostile.keras_archives import archive_with
from tests.hostile.media import silent_flac


@pytest.fixture
def recording(alice):
    return recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")


def _derive(client, recording, body):
    return client.post(f"/api/recordings/{recording.pk}/derive/", body, content_type="application/json")


def test_an_unknown_key_inside_an_operation_is_refused_by_the_api(alice_client, recording):
    response = _derive(alice_client, recording, {"operations": [{"op": "gain", "params": {"db": 3}, "gain": 9}]})

    assert response.status_code == 400
    assert "Unknown key; an operation has only “op” and “params”." in str(response.json())
    assert Recording.objects.count() == 1


def test_an_unknown_key_in_the_request_is_refused(alice_client, recording):
    response = _derive(alice_client, recording, {"operation": [{"op": "gain", "params": {"db": 3}}]})

    assert response.status_code == 400
    assert response.json()["operation"] == ["Unknown key; a derive request has only “operations” and “title”."]


def test_an_unknown_parameter_is_refused_by_the_service_through_the_api(alice_client, recording):
    response = _derive(alice_client, recording, {"operations": [{"op": "gain", "params": {"dB": 3}}]})

    assert response.status_code == 400
    assert response.json()["detail"] == "step 1 (gain): unknown parameter 'dB' (allowed: db)."


def test_a_two_hour_file_says_how_long_it_is(alice_client):
    data = silent_flac(rate=8000, channels=1, seconds=7200)  # under the size cap: FLAC of silence
    assert len(data) < 10 * 1024 * 1024

    response = alice_client.post("/api/recordings/", {"file": upload_file(data, "lecture.flac")})

    assert response.status_code == 400
    assert response.json()["detail"] == "The recording is too long (2 h 0 min); the maximum is 30 s."


def test_a_twelve_minute_file_too():
    with pytest.raises(ServiceError, match=r"too long \(12 min 5 s\); the maximum is 30 s"):
        recording_upload(owner=None, data=silent_flac(rate=8000, channels=1, seconds=725), filename="x.flac")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("feature_params", "message"),
    [
        ([8000, 1.0], "Feature parameters must be an object of names and values"),
        ({"sample_rate": "8000"}, "sample_rate must be a whole number (got '8000')"),
        ({"n_fft": True}, "n_fft must be a whole number (got True)"),
        ({"window": ["hann"]}, "window must be one of hann, hamming"),
        ({"n_fft": 10**12}, "n_fft must be between 8 and 16384"),
        ({42: 1}, "Unknown feature parameter(s): 42"),
    ],
)
def test_feature_parameters_of_the_wrong_kind_get_a_sentence(admin_user, feature_params, message):
    with pytest.raises(ServiceError) as refused:
        model_version_upload(name="v2", data=archive_with({}), uploaded_by=admin_user, feature_params=feature_params)

    assert refused.value.message == f"The feature parameters are invalid: {message}" or message in refused.value.message
    assert "sequence item" not in refused.value.message
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "", " spaced ", "x" * 101, "-leading-dash", "名前"])
def test_a_model_name_that_cannot_be_a_file_name_gets_a_sentence(admin_user, name):
    with pytest.raises(ServiceError, match="cannot name a model version: use up to 100 letters, digits"):
        model_version_upload(name=name, data=archive_with({}), uploaded_by=admin_user)
    assert not ModelVersion.objects.exists()
