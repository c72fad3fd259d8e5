"""With REDIS_URL set, the throttles count in Redis: every web process sees the same counters."""

from django.core.cache import cache
from django.test import Client

from experiments.services.courses import course_create


def test_join_code_guesses_count_in_redis_across_clients(redis_cache, alice, ines):
    server, prefix = redis_cache
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


def test_the_api_rate_counts_in_redis_across_clients(redis_cache, alice):
    server, prefix = redis_cache
    first, second = Client(), Client()
    first.force_login(alice)
    second.force_login(alice)

    statuses = [client.get("/api/recordings/").status_code for client in (first, second, first, second, first)]

    assert statuses == [200] * 5
    history = cache.get(f"throttle_user_{alice.pk}")  # DRF's list of this user's request times
    assert len(history) == 5  # one count for both clients
    assert any(b"throttle_user" in key for key in server.scan_iter(f"{prefix}:*"))
