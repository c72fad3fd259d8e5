"""core.auth.api_user: the API's signed-in user, and an anonymous caller refused as the permission refuses it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.auth import api_user


def _request(user) -> Request:
    request = Request(APIRequestFactory().get("/api/recordings/"))
    request.user = user
    return request


def test_it_gives_the_signed_in_user(alice):
    assert api_user(_request(alice)) == alice


def test_it_refuses_an_anonymous_caller_with_the_apis_401(db):
    with pytest.raises(NotAuthenticated):
        api_user(_request(AnonymousUser()))


def test_an_anonymous_api_call_is_refused_by_the_permission_first(client, db):
    response = client.post("/api/courses/join/", {"join_code": "x"}, content_type="application/json")

    assert response.status_code in (401, 403)
    assert response.json()["detail"]
