"""`{{ when|ago }}`: "just now" or "5 minutes ago", for lists of submissions and comments."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago `value` was, in words ("just now" under a minute)."""
    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"
