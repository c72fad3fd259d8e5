"""`Authorization: Token <key>` on the API, checked against ApiToken's hashes and expiry."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import ApiToken, token_hash

# Writing last_used on every request would make each API read a write: once a minute is enough to tell
# a live token from a forgotten one on the account page.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing (``Token`` keyword, 401 with ``WWW-Authenticate: Token``) over our own table."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.expires <= now:
            raise AuthenticationFailed("This token has expired; sign in again or make a new one on your account page.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return token.user, token
