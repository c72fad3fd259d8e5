"""The account page: a user's live API tokens, revoking one, making one (its key shown once)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create


def _api(key: str) -> int:
    return Client().get("/api/recordings/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_it_lists_only_the_users_live_tokens(client, alice, bob):
    api_token_create(user=alice, name="laptop script")
    old, _ = api_token_create(user=alice, name="old one")
    ApiToken.objects.filter(pk=old.pk).update(expires=timezone.now() - timedelta(days=1))
    api_token_create(user=bob, name="bobs token")
    client.force_login(alice)

    page = client.get("/accounts/").content.decode()

    assert "laptop script" in page
    assert "old one" not in page and "bobs token" not in page


def test_it_makes_a_token_and_shows_its_key_once(client, alice):
    client.force_login(alice)

    made = client.post("/accounts/", {"name": "marking", "days": 7})
    key = made.context["new_key"]
    again = client.get("/accounts/").content.decode()

    token = ApiToken.objects.get(user=alice)
    assert made.status_code == 200 and key in made.content.decode()
    assert key not in again and "marking" in again
    assert abs(token.expires - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert _api(key) == 200


def test_it_refuses_a_token_without_a_name_or_past_a_year_next_to_the_field(client, alice):
    client.force_login(alice)

    refused = client.post("/accounts/", {"name": "", "days": 400}, HTTP_HX_REQUEST="true")

    body = refused.content.decode()
    assert refused.status_code == 400 and refused["HX-Retarget"] == "#tokens"
    assert 'data-field-errors="name"' in body and 'data-field-errors="days"' in body
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_at_once(client, alice):
    token, key = api_token_create(user=alice, name="to revoke")
    client.force_login(alice)

    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and "Revoked the token" in response.content.decode()
    assert _api(key) == 401


def test_it_rejects_other_users_revoking_a_token(client, alice, charlie):
    token, key = api_token_create(user=alice, name="alices")
    client.force_login(charlie)

    theirs = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    missing = client.post("/accounts/tokens/987654/revoke/")

    assert theirs.status_code == missing.status_code == 404
    assert _api(key) == 200


def test_it_sends_anonymous_visitors_to_sign_in(db):
    response = Client().get("/accounts/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_admins_list_tokens_without_keys_and_revoke_them(admin_client, alice):
    token, key = api_token_create(user=alice, name="alices script")

    listing = admin_client.get("/admin/accounts/apitoken/").content.decode()
    admin_client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"})

    assert "alices script" in listing and token.prefix in listing and key not in listing
    assert _api(key) == 401
