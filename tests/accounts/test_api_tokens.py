"""API tokens: stored as hashes, expiring, revoked by a new password and by POST /api/auth/logout/."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, token_hash
from accounts.services import api_token_create
from tests.conftest import PASSWORD

TOKEN = "/api/auth/token/"


def _auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def _sign_in(username: str = "alice") -> str:
    response = Client().post(TOKEN, {"username": username, "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_the_token_endpoint_hands_out_a_token_that_expires_in_thirty_days(alice):
    response = Client().post(TOKEN, {"username": "alice", "password": PASSWORD, "name": "grading"})

    body = response.json()
    token = ApiToken.objects.get(user=alice)
    assert set(body) == {"token", "name", "expires"} and body["name"] == "grading"
    assert abs(token.expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert Client().get("/api/recordings/", **_auth(body["token"])).status_code == 200


def test_it_stores_only_a_hash_of_the_key(alice):
    key = _sign_in()

    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == token_hash(key) and key not in token.key_hash
    assert token.prefix == key[:8]
    assert not ApiToken.objects.filter(key_hash=key).exists()


def test_the_ttl_comes_from_the_settings(alice, settings):
    settings.API_TOKEN_TTL_DAYS = 2

    _sign_in()

    expires = ApiToken.objects.get(user=alice).expires
    assert abs(expires - (timezone.now() + timedelta(days=2))) < timedelta(minutes=1)


def test_it_rejects_an_expired_token_on_the_api_and_on_media(alice):
    key = _sign_in()
    ApiToken.objects.update(expires=timezone.now() - timedelta(seconds=1))

    api = Client().get("/api/recordings/", **_auth(key))
    page = Client().get("/recordings/1/audio.wav", **_auth(key))

    assert api.status_code == 401 and "expired" in api.json()["detail"]
    assert page.status_code == 401 and "expired" in page.json()["detail"]


def test_it_rejects_other_users_keys_and_made_up_keys(alice):
    assert Client().get("/api/recordings/", **_auth("x" * 43)).status_code == 401


def test_it_records_when_a_token_was_last_used(alice):
    key = _sign_in()
    assert ApiToken.objects.get().last_used is None

    Client().get("/api/recordings/", **_auth(key))

    assert ApiToken.objects.get().last_used is not None


def test_a_new_password_on_the_password_page_revokes_every_token(client, alice):
    keys = [_sign_in(), _sign_in()]
    client.force_login(alice)

    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )

    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=alice).exists()
    assert all(Client().get("/api/recordings/", **_auth(key)).status_code == 401 for key in keys)


def test_a_password_set_anywhere_revokes_the_tokens_but_not_other_users(alice, bob):
    _sign_in("alice")
    bob_key = _sign_in("bob")

    alice.set_password("set-by-an-admin-123")
    alice.save()

    assert not ApiToken.objects.filter(user=alice).exists()
    assert Client().get("/api/recordings/", **_auth(bob_key)).status_code == 200


def test_a_hash_upgrade_at_sign_in_keeps_the_tokens(alice, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
    alice.password = make_password(PASSWORD, hasher="pbkdf2_sha1")
    alice.save()
    key = _sign_in()

    Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    alice.refresh_from_db()
    assert alice.password.startswith("md5$")  # upgraded at that sign-in
    assert Client().get("/api/recordings/", **_auth(key)).status_code == 200


def test_logout_revokes_the_calling_token_only(alice):
    first, second = _sign_in(), _sign_in()

    response = Client().post("/api/auth/logout/", **_auth(first))

    assert response.status_code == 204
    assert Client().get("/api/recordings/", **_auth(first)).status_code == 401
    assert Client().get("/api/recordings/", **_auth(second)).status_code == 200


def test_logout_with_a_session_ends_it(client, alice):
    client.force_login(alice)
    client.get("/api/recordings/")

    response = client.post("/api/auth/logout/")

    assert response.status_code == 204
    assert client.get("/api/recordings/").status_code in (401, 403)


def test_logout_without_credentials_is_refused(db):
    assert Client().post("/api/auth/logout/").status_code == 401


def test_signing_in_in_a_loop_keeps_at_most_fifty_tokens(alice, settings):
    settings.API_TOKENS_PER_USER = 3
    keys = [api_token_create(user=alice, name=f"t{i}")[1] for i in range(5)]

    assert ApiToken.objects.filter(user=alice).count() == 3
    assert Client().get("/api/recordings/", **_auth(keys[0])).status_code == 401
    assert Client().get("/api/recordings/", **_auth(keys[-1])).status_code == 200


@pytest.mark.parametrize("days", [0, -1, 366])
def test_it_refuses_a_lifetime_out_of_bounds(alice, days):
    from core.errors import ServiceError

    with pytest.raises(ServiceError, match="from 1 to 365 days"):
        api_token_create(user=alice, name="x", days=days)


def test_the_plain_lookup_agrees_with_the_apis_checks(alice, bob):
    from accounts.authentication import live_token_user_id

    _, key = api_token_create(user=alice, name="live")
    expired, expired_key = api_token_create(user=alice, name="old")
    ApiToken.objects.filter(pk=expired.pk).update(expires=timezone.now() - timedelta(seconds=1))
    _, bobs_key = api_token_create(user=bob, name="bob's")
    bob.is_active = False
    bob.save()

    assert live_token_user_id(f"Token {key}") == alice.pk
    assert live_token_user_id(f"Token {expired_key}") is None
    assert live_token_user_id(f"Token {bobs_key}") is None  # an inactive user's tokens open nothing
    assert live_token_user_id(f"Bearer {key}") is None
    assert live_token_user_id("Token ") is None
    assert live_token_user_id(f"Token {key[:-1]}{'y' if key.endswith('x') else 'x'}") is None
