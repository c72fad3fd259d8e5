"""A body larger than its path allows is refused from Content-Length, before a byte of it is read."""

import pytest
from django.conf import settings

from tests.experiments.lab_support import stored_state, upload_file

TWO_GB = str(2 * 1024**3)


def _post(client, path: str, length: str, **headers):
    # The test client's payload refuses to be read past its few bytes: reading the announced
    # body at all would fail the test, not only refusing it late.
    return client.post(path, data=b"{}", content_type="application/json", CONTENT_LENGTH=length, **headers)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/admin/modelzoo/modelversion/add/", "The model file is 2.0 GB; the limit is 50 MB."),
        ("/api/recordings/", "The file is 2.0 GB; the limit is 10 MB."),
        ("/recordings/new/", "The file is 2.0 GB; the limit is 10 MB."),
        ("/api/auth/token/", "The request is 2.0 GB; the limit is 1 MB."),
        ("/api/recordings/1/derive/", "The request is 2.0 GB; the limit is 1 MB."),
        ("/login/", "The request is 2.0 GB; the limit is 1 MB."),
    ],
)
def test_it_refuses_a_two_gigabyte_body_before_reading_it(client, admin_user, alice, path, message):
    client.force_login(admin_user if "admin" in path else alice)
    before = stored_state()

    response = _post(client, path, TWO_GB)

    assert response.status_code == 413
    assert message in response.content.decode()
    assert stored_state() == before


def test_the_api_answers_json(alice_client):
    response = _post(alice_client, "/api/recordings/", TWO_GB)

    assert response.status_code == 413
    assert response.json() == {"detail": "The file is 2.0 GB; the limit is 10 MB."}


def test_a_page_answers_a_page_with_the_message_and_a_way_back(alice_client):
    response = _post(alice_client, "/recordings/new/", TWO_GB)

    page = response.content.decode()
    assert response.status_code == 413
    assert "data-error-message" in page and 'href="/recordings/new/"' in page
    assert "<html" in page


def test_htmx_gets_the_message_as_a_fragment_for_its_control(alice_client):
    response = _post(alice_client, "/recordings/1/derive/", TWO_GB, HTTP_HX_REQUEST="true")

    assert response.status_code == 413
    assert response.content.decode().startswith('<p class="msg msg-error" role="alert" data-error-message>')


def test_an_upload_script_gets_json_it_can_show(alice_client):
    response = _post(alice_client, "/recordings/new/", TWO_GB, HTTP_X_REQUESTED_WITH="XMLHttpRequest")

    assert response.status_code == 413
    assert response.json()["detail"] == "The file is 2.0 GB; the limit is 10 MB."


@pytest.mark.parametrize("length", ["lots", "-5", "1e9"])
def test_a_content_length_that_is_not_a_size_is_a_400(alice_client, length):
    response = _post(alice_client, "/api/recordings/", length)

    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]


def test_a_file_at_the_limit_still_gets_through_to_the_upload_checks(alice_client):
    # The envelope (boundaries, the title) is allowed on top of the file itself.
    data = b"\0" * settings.MAX_UPLOAD_BYTES

    response = alice_client.post("/api/recordings/", {"file": upload_file(data, "big.wav"), "title": "Big"})

    assert response.status_code == 415
    assert "not audio in a supported format" in response.json()["detail"]
