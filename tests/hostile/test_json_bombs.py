"""Deeply nested JSON is a 400 with a sentence on every JSON endpoint, never a RecursionError."""

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.parsers import JSONParser
from rest_framework.test import APIClient

from core.json_limits import MAX_REQUEST_JSON_DEPTH, json_depth, loads_bounded
from core.parsers import BoundedJSONParser
from experiments.models import Recording
from experiments.services.recordings import recording_upload
from tests.experiments.lab_support import sample_bytes, stored_state

# What the hostile tester sent: 1,500 levels in about 3 KB.
ARRAY_BOMB = "[" * 1500 + "]" * 1500
OBJECT_BOMB = '{"a":' * 1500 + "1" + "}" * 1500


def _post_json(client: Client, url: str, body: str):
    return client.post(url, data=body, content_type="application/json")


@pytest.mark.parametrize("bomb", [ARRAY_BOMB, OBJECT_BOMB], ids=["arrays", "objects"])
def test_it_refuses_a_nested_bomb_on_the_anonymous_token_endpoint(db, bomb):
    response = _post_json(Client(), "/api/auth/token/", bomb)

    assert response.status_code == 400
    assert "nests 1500 levels deep" in response.json()["detail"]


@pytest.fixture
def recording(alice):
    return recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")


@pytest.mark.parametrize("bomb", [ARRAY_BOMB, OBJECT_BOMB], ids=["arrays", "objects"])
def test_it_refuses_a_nested_bomb_on_derive_and_saves_nothing(alice_client, recording, bomb):
    before = stored_state()

    response = _post_json(alice_client, f"/api/recordings/{recording.pk}/derive/", bomb)

    assert response.status_code == 400
    assert "at most 20 are accepted" in response.json()["detail"]
    assert stored_state() == before


def test_it_refuses_a_bomb_hidden_inside_an_operation(alice_client, recording):
    body = json.dumps({"operations": [{"op": "gain", "params": {"db": 1}}]}).replace("1}", ARRAY_BOMB + "}", 1)

    response = _post_json(alice_client, f"/api/recordings/{recording.pk}/derive/", body)

    assert response.status_code == 400
    assert Recording.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/recordings/{id}/analyses/",
        "/api/recordings/{id}/attack/",
        "/api/recordings/{id}/sweeps/",
        "/api/experiments/",
        "/api/courses/join/",
    ],
)
def test_every_json_endpoint_answers_400(alice_client, recording, url):
    response = _post_json(alice_client, url.format(id=recording.pk), ARRAY_BOMB)

    assert response.status_code == 400
    assert "nests 1500 levels deep" in response.json()["detail"]


def _drf_views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _drf_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield prefix + str(pattern.pattern), pattern.callback.cls


def test_every_api_view_reads_json_with_the_depth_limit():
    views = list(_drf_views(get_resolver().url_patterns))
    assert len(views) > 20  # the whole API was walked, not an empty list

    unbounded = [
        (route, parser.__name__)
        for route, cls in views
        for parser in cls.parser_classes
        if issubclass(parser, JSONParser) and not issubclass(parser, BoundedJSONParser)
    ]

    assert unbounded == []


def test_a_normal_request_still_works(alice, recording):
    client = APIClient()
    client.force_authenticate(alice)
    body = {"operations": [{"op": "gain", "params": {"db": -3}}], "title": "[quieter] {really}"}

    response = client.post(f"/api/recordings/{recording.pk}/derive/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["title"] == "[quieter] {really}"


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[["', 0),
        ('{"a": "]]]]{{{{", "b": [1, [2]]}', 3),
        ('["\\"[[[", [[]]]', 3),
        ("[]" * 1000, 1),
    ],
)
def test_json_depth_counts_only_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_loads_bounded_accepts_the_limit_and_refuses_one_more():
    at_limit = "[" * MAX_REQUEST_JSON_DEPTH + "]" * MAX_REQUEST_JSON_DEPTH

    assert loads_bounded(at_limit, max_depth=MAX_REQUEST_JSON_DEPTH) is not None
    with pytest.raises(ValueError, match="nests 21 levels deep; at most 20"):
        loads_bounded("[" + at_limit + "]", max_depth=MAX_REQUEST_JSON_DEPTH)
