"""Writing accounts: sign-up and API tokens."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, token_hash
from accounts.roles import STUDENT, add_to_role
from core.errors import ServiceError

MAX_TOKEN_DAYS = 365


@transaction.atomic
def student_signup(*, username: str, email: str, password: str) -> User:
    """Create a student account."""
    user = User.objects.create_user(username=username, email=email, password=password)
    add_to_role(user, STUDENT)
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str, days: float | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns it and its key, which is never stored and so shown only now.

    It expires after `days` (API_TOKEN_TTL_DAYS unless given). Expired tokens of the user are
    deleted, and beyond API_TOKENS_PER_USER live ones the oldest go, so signing in from a script
    in a loop cannot grow the table without bound.
    """
    days = settings.API_TOKEN_TTL_DAYS if days is None else days
    if not 0 < days <= MAX_TOKEN_DAYS:
        raise ServiceError(f"A token lasts from 1 to {MAX_TOKEN_DAYS} days.", field="days")
    name = name.strip()
    if not name:
        raise ServiceError("Give the token a name, to tell it from your others.", field="name")
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires__lte=now).delete()
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:80], key_hash=token_hash(key), prefix=key[:8], expires=now + timedelta(days=days)
    )
    stale = ApiToken.objects.filter(user=user).order_by("-created", "-pk")[settings.API_TOKENS_PER_USER :]
    ApiToken.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke one token: the next request with it is a 401."""
    token.delete()


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of `user` (a new password); returns how many there were."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted
