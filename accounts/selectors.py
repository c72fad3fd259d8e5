"""Reading accounts, always for the user who asks."""

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import ApiToken


def api_tokens_live(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still open the API, newest first."""
    return ApiToken.objects.filter(user=user, expires__gt=timezone.now())


def api_token_get(*, user: User, token_id: int) -> ApiToken:
    """One of the user's tokens; another user's is a 404 like a missing one."""
    return get_object_or_404(ApiToken, user=user, pk=token_id)
