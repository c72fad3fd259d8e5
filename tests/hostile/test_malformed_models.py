"""Malformed .keras files get an admin form error naming the problem, never a 500, and nothing is stored."""

import json

import pytest
from django.utils.html import escape

from core.errors import ServiceError
from jobs.models import Job
from modelzoo.models import ModelVersion
from modelzoo.services import model_version_upload
from tests.conftest import login
from tests.hostile.keras_archives import archive_with, bundled_config
from tests.modelzoo.keras_files import ADMIN_ADD_URL, admin_upload_form


def _input_batch_shape(value) -> bytes:
    config = bundled_config()
    config["config"]["layers"][0]["config"]["batch_shape"] = value
    return json.dumps(config).encode()


OBJECT = "must hold an object, as Keras writes it; it holds"
SHAPE = "batch_shape must be a list of sizes"
DEEP = b'{"config": ' + b"[" * 5000 + b"]" * 5000 + b"}"
UNREADABLE = "The model's configuration cannot be read"
MALFORMED = [
    ("config.json is a list", {"config.json": b"[1, 2, 3]"}, f"config.json {OBJECT} a list"),
    ("config.json is null", {"config.json": b"null"}, f"config.json {OBJECT} null"),
    ("metadata.json is a list", {"metadata.json": b'["3.15"]'}, f"metadata.json {OBJECT} a list"),
    ("batch_shape is an int", {"config.json": _input_batch_shape(5)}, f"{SHAPE} like [null, 129, 63, 1] (got 5)"),
    ("batch_shape holds a string", {"config.json": _input_batch_shape([None, "129", 63, 1])}, SHAPE),
    ("config nested 5,000 deep", {"config.json": DEEP}, "nests 5001 levels deep; at most 64 are accepted"),
    ("config.json is not JSON", {"config.json": b"{'single': 'quotes'}"}, UNREADABLE),
    ("config.json is not UTF-8", {"config.json": b'{"name": "\xff\xfe"}'}, UNREADABLE),
]


@pytest.mark.parametrize(("case", "members", "message"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_the_admin_names_the_problem_and_stores_nothing(client, admin_user, case, members, message):
    login(client, admin_user)

    response = client.post(ADMIN_ADD_URL, admin_upload_form(archive_with(members)))

    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert 'class="errorlist' in response.content.decode()
    assert not ModelVersion.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize(("case", "members", "message"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_the_upload_service_refuses_them_with_the_same_sentence(admin_user, case, members, message):
    with pytest.raises(ServiceError) as refused:
        model_version_upload(name="malformed", data=archive_with(members), uploaded_by=admin_user)

    assert message in refused.value.message
    assert refused.value.field == "file"


def test_the_admin_form_asks_for_each_feature_parameter_with_the_active_versions_values(
    client, admin_user, active_model
):
    active_model.feature_params = {**active_model.feature_params, "hop_length": 64, "window": "hamming"}
    active_model.save()
    login(client, admin_user)

    page = client.get(ADMIN_ADD_URL).content.decode()

    assert 'name="hop_length" value="64"' in page
    assert '<option value="hamming" selected>' in page
    assert 'name="sample_rate" value="8000"' in page
    assert 'name="label_names" value="0, 1, 2, 3, 4, 5, 6, 7, 8, 9"' in page
    assert "feature_params" not in page  # no raw JSON to type


def test_the_admin_form_goes_through_the_upload_service(client, admin_user):
    # A rule only the service knows (names must be file-safe) shows up next to the name field.
    login(client, admin_user)

    response = client.post(ADMIN_ADD_URL, admin_upload_form(archive_with({}), name="../../etc/model"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "cannot name a model version" in page
    assert page.index("cannot name a model version") < page.index('name="version_name"')
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_fft", "1000000", "less than or equal to 16384"),
        ("sample_rate", "eight thousand", "Enter a whole number"),
        ("win_length", "512", "win_length <= n_fft"),
        ("label_names", "0, 1, 1", "The labels must not repeat"),
        ("label_names", ", ,", "non-empty list of names"),
    ],
)
def test_bad_feature_parameters_and_labels_are_form_errors(client, admin_user, field, value, message):
    login(client, admin_user)

    response = client.post(ADMIN_ADD_URL, admin_upload_form(archive_with({}), **{field: value}))

    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert not ModelVersion.objects.exists()
