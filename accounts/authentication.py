"""`Authorization: Token <key>` on the API, checked against ApiToken's hashes and expiry."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import connection
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


def live_token_user_id(authorization: str) -> int | None:
    """The id of the active user whose live token an ``Authorization: Token …`` header carries, if any.

    The checks of :meth:`ApiTokenAuthentication.authenticate_credentials` (hash, expiry, an active
    user) as one plain statement, for paths where building the query through the ORM costs more
    than the answer (a granted filter image); it does not touch `last_used`.
    """
    keyword, _, key = authorization.partition(" ")
    if keyword != ApiTokenAuthentication.keyword or not key.strip():
        return None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_TOKEN_USER_SQL, [token_hash(key.strip()), now])
        row = cursor.fetchone()
    return int(row[0]) if row else None


_LIVE_TOKEN_USER_SQL = (
    f"SELECT t.user_id FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id"
    " WHERE t.key_hash = %s AND t.expires > %s AND u.is_active"
)
