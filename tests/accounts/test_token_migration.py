"""Tokens DRF's authtoken app handed out are carried over as hashes, and its table of clear keys goes."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, token_hash

carry = importlib.import_module("accounts.migrations.0002_carry_authtoken_tokens")


def _old_table_with(user_id: int, key: str) -> None:
    created = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token "
            f"(key varchar(40) PRIMARY KEY, created {created} NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)", [key, timezone.now(), user_id]
        )


@pytest.mark.django_db(transaction=True)
def test_it_carries_old_tokens_as_hashes_and_drops_the_clear_keys(alice):
    key = "0123456789abcdef0123456789abcdef01234567"
    _old_table_with(alice.pk, key)

    with connection.schema_editor() as editor:
        carry.carry_tokens(apps, editor)

    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == token_hash(key) and token.prefix == key[:8]
    assert abs(token.expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert Client().get("/api/recordings/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_database_that_never_had_the_old_app_has_nothing_to_carry(alice):
    with connection.schema_editor() as editor:
        carry.carry_tokens(apps, editor)

    assert not ApiToken.objects.exists()
