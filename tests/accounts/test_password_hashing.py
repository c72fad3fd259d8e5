"""Passwords: Django's Argon2 costs on one lane, and hashes made on Django's eight lanes still sign in."""

import pytest
from argon2 import extract_parameters
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password

from ddevis_site import settings as site_settings

PASSWORD = "a long enough passphrase"


@pytest.fixture
def site_hashers(settings):
    """The site's own hashers (the suite signs in with MD5 for speed)."""
    settings.PASSWORD_HASHERS = site_settings.PASSWORD_HASHERS


def _parameters(encoded: str):
    return extract_parameters(encoded.removeprefix("argon2"))


def test_a_new_password_gets_djangos_argon2_costs_on_one_lane(site_hashers):
    parameters = _parameters(make_password(PASSWORD))

    assert (parameters.memory_cost, parameters.time_cost) == (
        Argon2PasswordHasher.memory_cost,
        Argon2PasswordHasher.time_cost,
    )
    assert parameters.parallelism == 1


def test_an_eight_lane_hash_signs_in_and_is_rehashed_on_one(site_hashers, make_user, client):
    user = make_user("alice")
    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    user.save()
    assert _parameters(user.password).parallelism == 8

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302

    user.refresh_from_db()
    assert _parameters(user.password).parallelism == 1
    assert user.check_password(PASSWORD)


def test_it_refuses_a_wrong_password(site_hashers, make_user, client):
    user = make_user("alice")
    user.set_password(PASSWORD)
    user.save()

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD + "!"})

    assert response.status_code == 200 and "_auth_user_id" not in client.session
