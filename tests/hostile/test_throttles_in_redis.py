"""With REDIS_URL set, the throttles count in Redis: every web process sees the same counters."""

import socket
import uuid

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from experiments.services.courses import course_create

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_counters(settings):
    """The site's cache in a real Redis (database 15, keys under a prefix of this test's own)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"ddevis-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url(REDIS_URL)
    yield server, prefix
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def test_join_code_guesses_count_in_redis_across_clients(redis_counters, alice, ines):
    server, prefix = redis_counters
    course = course_create(instructor=ines, name="Signals 101")
    first, second = Client(), Client()  # two browsers of one user: as if on two web processes
    first.force_login(alice)
    second.force_login(alice)

    codes = [
        (first if i % 2 else second).post("/courses/join/", {"join_code": f"WRONG{i}"}).status_code for i in range(10)
    ]
    refused = first.post("/courses/join/", {"join_code": course.join_code})

    assert codes == [400] * 10
    assert refused.status_code == 429
    assert not course.students.filter(pk=alice.pk).exists()
    counters = list(server.scan_iter(f"{prefix}:*"))
    assert counters and all(server.ttl(key) > 0 for key in counters)  # in Redis, and they expire


def test_the_api_rate_counts_in_redis_across_clients(redis_counters, alice):
    server, prefix = redis_counters
    first, second = Client(), Client()
    first.force_login(alice)
    second.force_login(alice)

    statuses = [client.get("/api/recordings/").status_code for client in (first, second, first, second, first)]

    assert statuses == [200] * 5
    history = cache.get(f"throttle_user_{alice.pk}")  # DRF's list of this user's request times
    assert len(history) == 5  # one count for both clients
    assert any(b"throttle_user" in key for key in server.scan_iter(f"{prefix}:*"))
