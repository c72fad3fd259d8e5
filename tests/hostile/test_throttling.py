"""Guessing and flooding are throttled: sign-in (form and token endpoint), join codes, sign-up, job starts, the API.

Every test makes the real requests through the real throttles, middleware and the database cache the
limits share across processes. The limits are the settings'; the API's rates of hundreds of requests are
checked in the settings and counted to a smaller number (`_counted_at`), the same code keeping them.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from experiments.models import Course
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token/"


def _wrong_logins(client: Client, username: str, n: int) -> list[int]:
    return [client.post(LOGIN, {"username": username, "password": f"wrong-{i}"}).status_code for i in range(n)]


def _counted_at(monkeypatch, scope: str, configured: str, rate: str) -> None:
    """Check that `scope`'s configured rate is `configured`, then count this test's requests at `rate`.

    The throttles read the rates from one dict when they count (DRF binds it when it imports them, so
    override_settings would not reach it): the same throttle, the same cache and the same views count
    to a smaller number, and the test still fails when a request is not counted or the limit not kept.
    """
    from django.conf import settings
    from rest_framework.throttling import SimpleRateThrottle

    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope] == configured
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)


def test_the_login_form_locks_a_username_after_ten_failures(alice):
    codes = _wrong_logins(Client(), "alice", 10)

    right = Client(REMOTE_ADDR="10.0.0.9").post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert codes[:9] == [200] * 9 and codes[9] == 429
    assert right.status_code == 429 and "_auth_user_id" not in right.client.session
    assert "Sign-in is locked for 15 minutes" in right.content.decode()
    assert right["Retry-After"] == str(15 * 60)


def test_the_login_form_locks_an_address_trying_many_usernames(alice, bob):
    client = Client(REMOTE_ADDR="10.0.0.7")
    codes = [client.post(LOGIN, {"username": f"guess{i}", "password": "x"}).status_code for i in range(10)]

    from_there = client.post(LOGIN, {"username": "bob", "password": PASSWORD})
    from_elsewhere = Client(REMOTE_ADDR="10.0.0.8").post(LOGIN, {"username": "bob", "password": PASSWORD})

    assert codes[-1] == 429 and from_there.status_code == 429
    assert from_elsewhere.status_code == 302


def test_a_lockout_ends_after_fifteen_minutes(alice):
    _wrong_logins(Client(), "alice", 10)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    response = Client().post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302


def test_the_token_endpoint_locks_after_ten_failures_with_a_json_429(alice):
    client = Client()
    codes = [client.post(TOKEN, {"username": "alice", "password": "nope"}).status_code for _ in range(10)]

    right = client.post(TOKEN, {"username": "alice", "password": PASSWORD}, content_type="application/json")

    assert codes[:9] == [400] * 9 and codes[9] == 429
    assert right.status_code == 429
    assert right.json() == {"detail": right.json()["detail"]} and "locked for 15 minutes" in right.json()["detail"]
    assert not alice.api_tokens.exists()


def test_failures_on_the_form_and_the_token_endpoint_add_up(alice):
    client = Client()
    _wrong_logins(client, "alice", 5)
    codes = [client.post(TOKEN, {"username": "alice", "password": "nope"}).status_code for _ in range(5)]

    assert codes[-1] == 429


def test_the_token_endpoint_allows_sixty_anonymous_requests_a_minute(alice, monkeypatch):
    _counted_at(monkeypatch, "anon", "60/min", "20/min")  # each of them makes a token
    client = Client()
    codes = [client.post(TOKEN, {"username": "alice", "password": PASSWORD}).status_code for _ in range(21)]

    assert codes[:20] == [200] * 20
    assert codes[20] == 429
    assert "Too many requests" in client.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["detail"]


def test_a_signed_in_user_gets_six_hundred_api_requests_a_minute(client, alice, bob, monkeypatch):
    # Six hundred a minute is the setting; the budget is proven at sixty (601 requests took ~10 s).
    _counted_at(monkeypatch, "user", "600/min", "60/min")
    client.force_login(alice)
    codes = [client.get("/api/models/").status_code for _ in range(61)]
    other = Client()
    other.force_login(bob)

    assert codes[:60] == [200] * 60 and codes[60] == 429
    assert client.get("/api/models/")["Retry-After"]
    assert other.get("/api/models/").status_code == 200


@pytest.fixture
def course(ines) -> Course:
    from experiments.services.courses import course_create

    return course_create(instructor=ines, name="Signals 101")


def test_join_code_guesses_are_throttled_per_user_with_the_message_by_the_field(client, alice, bob, course):
    client.force_login(alice)
    codes = [client.post("/courses/join/", {"join_code": f"WRONG{i}"}).status_code for i in range(10)]

    right = client.post("/courses/join/", {"join_code": course.join_code}, HTTP_HX_REQUEST="true")
    api = client.post("/api/courses/join/", {"join_code": course.join_code}, content_type="application/json")
    other = Client()
    other.force_login(bob)

    assert codes == [400] * 10  # a wrong code is a form error
    assert right.status_code == 429 and right["HX-Retarget"] == "#join-form"
    assert 'data-field-errors="join_code"' in right.content.decode()
    assert "Too many wrong join codes" in right.content.decode()
    assert api.status_code == 429 and "Too many wrong join codes" in api.json()["detail"]
    assert not course.students.filter(pk=alice.pk).exists()
    assert other.post("/courses/join/", {"join_code": course.join_code}).status_code == 302


def test_sign_ups_are_limited_per_address(db, settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS = 3

    def signup(i: int, address: str = "10.0.0.5"):
        data = {"username": f"new{i}", "password1": PASSWORD, "password2": PASSWORD}
        return Client(REMOTE_ADDR=address).post("/accounts/signup/", data)

    codes = [signup(i).status_code for i in range(4)]
    elsewhere = signup(9, address="10.0.0.6")

    assert codes == [302, 302, 302, 429]
    assert "Too many accounts were made from this address" in signup(5).content.decode()
    assert elsewhere.status_code == 302


@pytest.mark.parametrize(
    ("api", "page", "scope", "configured"),
    [
        ("/api/recordings/987654/attack/", "/recordings/987654/attack/", "attacks", "30/hour"),
        ("/api/recordings/987654/sweeps/", "/recordings/987654/sweep/", "sweeps", "30/hour"),
        ("/api/analyses/987654/attribution/", "/analyses/987654/attribution/", "explanations", "60/hour"),
        ("/api/analyses/987654/ablations/", "/analyses/987654/ablations/", "ablations", "120/hour"),
    ],
)
def test_starting_expensive_jobs_has_one_per_user_budget_on_the_api_and_the_pages(
    client, alice, bob, api, page, scope, configured, monkeypatch
):
    # The scope's own setting is checked; the one budget of the API and the pages is proven at ten starts.
    rate = 10
    _counted_at(monkeypatch, scope, configured, f"{rate}/hour")
    client.force_login(alice)
    half = rate // 2
    codes = [client.post(api, {}, content_type="application/json").status_code for _ in range(half)]
    codes += [client.post(page, {}, HTTP_HX_REQUEST="true").status_code for _ in range(rate - half)]

    over_api = client.post(api, {}, content_type="application/json")
    over_page = client.post(page, {}, HTTP_HX_REQUEST="true")
    reading = client.get(api)
    other = Client()
    other.force_login(bob)

    assert 429 not in codes
    assert over_api.status_code == 429 and "Too many requests" in over_api.json()["detail"]
    assert over_page.status_code == 429 and "data-error-message" in over_page.content.decode()
    assert reading.status_code != 429
    assert other.post(api, {}, content_type="application/json").status_code != 429
