"""With REDIS_URL set, every request reads its session from Redis; the database keeps a copy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cached_sessions(settings, redis_cache):
    """The session engine the site uses with REDIS_URL, on the test's own Redis keys."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return redis_cache


def _signed_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def _session_keys_in_redis(server, prefix: str) -> list[bytes]:
    return list(server.scan_iter(f"{prefix}:*django.contrib.sessions.cached_db*"))


def test_a_sign_in_is_kept_in_redis_and_in_the_database(cached_sessions, alice):
    server, prefix = cached_sessions
    client = _signed_in(alice)

    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()
    assert any(key.encode() in name for name in _session_keys_in_redis(server, prefix))


def test_a_sign_out_ends_the_session_for_every_web_process(cached_sessions, alice):
    browser = _signed_in(alice)
    elsewhere = Client()  # the same browser's cookie, as another web process would read it
    elsewhere.cookies["sessionid"] = browser.cookies["sessionid"].value
    assert elsewhere.get("/recordings/").status_code == 200

    browser.post("/accounts/logout/")

    assert elsewhere.get("/recordings/").status_code == 302


def test_a_redis_that_forgot_everything_signs_nobody_out(cached_sessions, alice):
    server, prefix = cached_sessions
    client = _signed_in(alice)

    kept = _session_keys_in_redis(server, prefix)
    assert kept  # something for Redis to forget
    for name in kept:
        server.delete(name)

    assert client.get("/recordings/").status_code == 200


@pytest.mark.parametrize(
    ("redis_url", "engine"),
    [
        ("redis://127.0.0.1:6379/0", "django.contrib.sessions.backends.cached_db"),
        ("", "django.contrib.sessions.backends.db"),
    ],
)
def test_sessions_are_read_from_redis_only_when_the_cache_is_shared(redis_url, engine):
    # Without Redis the cache is a table of the same database: a cached session would save nothing.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ddevis_site.settings", "REDIS_URL": redis_url}
    printed = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SESSION_ENGINE)"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip

    assert printed == engine
