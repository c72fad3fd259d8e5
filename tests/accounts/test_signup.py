import pytest
from django.contrib.auth.models import User

from accounts.roles import STUDENT, role_of
from tests.conftest import PASSWORD


def test_it_creates_a_signed_in_student(client, db):
    response = client.post(
        "/accounts/signup/",
        {"username": "dora", "email": "dora@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    dora = User.objects.get(username="dora")
    assert role_of(dora) == STUDENT
    assert dora.groups.filter(name=STUDENT).exists()
    assert not dora.is_staff
    assert client.session["_auth_user_id"] == str(dora.pk)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"username": "alice", "password1": PASSWORD, "password2": PASSWORD}, b"already exists"),
        ({"username": "dora", "password1": PASSWORD, "password2": PASSWORD + "x"}, b"didn\xe2\x80\x99t match"),
        ({"username": "dora", "password1": "123", "password2": "123"}, b"too short"),
        ({"username": "", "password1": PASSWORD, "password2": PASSWORD}, b"This field is required"),
    ],
)
def test_it_rejects_bad_sign_ups(client, alice, form, message):
    response = client.post("/accounts/signup/", form)

    assert response.status_code == 200
    assert message in response.content
    assert User.objects.count() == 1


def test_it_sends_signed_in_users_to_their_dashboard(alice_client):
    assert alice_client.get("/accounts/signup/").url == "/"
