"""API tokens: the only secret the API accepts besides a session."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


def token_hash(key: str) -> str:
    """The sha256 the table keeps instead of the key: a leaked database holds no usable token.

    A token is 32 random bytes, so a plain hash is enough (no salt or slow hash needed: there is
    nothing to guess as with a password).
    """
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """One API token of a user: shown once when made, then known only by its hash and its first characters."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="The key's first characters, to recognise it.")
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    expires = models.DateTimeField()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["user", "expires"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires <= timezone.now()
