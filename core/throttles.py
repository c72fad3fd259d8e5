"""Rates and attempt limits, counted in the shared cache so they hold across every web process.

- The API's rates are DRF throttles (settings ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``): every
  call counts against its caller ("user", "anon"), and starting an expensive job also against
  the job's scope ("attacks", "sweeps", "explanations", "ablations"). The pages that start the
  same jobs count in the same scope (`throttle_job_start`), so a user has one budget, not two.
- `AttemptLimit` counts attempts of one kind by one key in a fixed window: wrong join codes per
  user, sign-ups per address.

Sign-in itself is django-axes' (settings ``AXES_*``, accounts.lockout).
"""

import hashlib
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

JOB_SCOPES = ("attacks", "sweeps", "explanations", "ablations")


def wait_text(seconds: float) -> str:
    """`seconds` as people say it: "1 minute", "14 minutes", "2 hours"."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{math.ceil(minutes / 60)} hours"


def client_address(request: HttpRequest) -> str:
    """The caller's address as django-axes sees it (the same proxy settings for every limit)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or "unknown"


class AttemptLimit:
    """At most `limit` attempts per key in a window of `window_minutes` (both read from settings)."""

    def __init__(self, name: str, *, limit_setting: str, window_setting: str) -> None:
        self.name = name
        self.limit_setting = limit_setting
        self.window_setting = window_setting

    def _key(self, who: str) -> str:
        # Hashed: a username or an address may hold characters some cache backends refuse in keys.
        return f"limit:{self.name}:{hashlib.sha256(who.encode()).hexdigest()}"

    def wait(self, who: str) -> str:
        """How long `who` must wait, in words ("" when another attempt is allowed)."""
        count, until = cache.get(self._key(who)) or (0, 0.0)
        now = time.time()
        if until <= now or count < getattr(settings, self.limit_setting):
            return ""
        return wait_text(until - now)

    def hit(self, who: str) -> None:
        """Count one attempt of `who`; the window starts at its first attempt."""
        key = self._key(who)
        now = time.time()
        count, until = cache.get(key) or (0, 0.0)
        if until <= now:
            count, until = 0, now + getattr(settings, self.window_setting) * 60
        cache.set(key, (count + 1, until), timeout=max(1, math.ceil(until - now)))

    def clear(self, who: str) -> None:
        cache.delete(self._key(who))


JOIN_CODE_LIMIT = AttemptLimit(
    "join-code", limit_setting="JOIN_CODE_FAILURE_LIMIT", window_setting="JOIN_CODE_WINDOW_MINUTES"
)
SIGNUP_LIMIT = AttemptLimit("signup", limit_setting="SIGNUP_LIMIT_PER_ADDRESS", window_setting="SIGNUP_WINDOW_MINUTES")


class JobStartThrottle(UserRateThrottle):
    """A per-user rate for starting one kind of expensive job; reading results is not counted."""

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


def _scoped(scope: str) -> type[JobStartThrottle]:
    return type(f"{scope.title()}Throttle", (JobStartThrottle,), {"scope": scope})


JOB_THROTTLES: dict[str, type[JobStartThrottle]] = {scope: _scoped(scope) for scope in JOB_SCOPES}


def api_job_throttles(scope: str) -> list[type]:
    """The throttle classes of an API view that starts a `scope` job: the caller's rate and the job's."""
    # DRF has imported the settings' paths into classes by now; its stubs still say strings.
    defaults = cast(list[type], list(api_settings.DEFAULT_THROTTLE_CLASSES))
    return [*defaults, JOB_THROTTLES[scope]]


def throttled_message(wait: float | None) -> str:
    return f"Too many requests; try again in {wait_text(wait or 60)}."


def throttle_job_start[V: Callable[..., HttpResponse]](scope: str) -> Callable[[V], V]:
    """A page view that starts `scope` jobs on POST: the same per-user rate as the API's, answered 429.

    The refusal has an error marker (``[data-error-message]``), so an htmx form shows its sentence in
    its error slot (static/js/forms.js); without htmx it is a page with a way back.
    """

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in SAFE_METHODS:
                throttle = JOB_THROTTLES[scope]()
                if not throttle.allow_request(request, None):
                    return throttled_page(request, throttle.wait())
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def throttled_page(request: HttpRequest, wait: float | None) -> HttpResponse:
    message = throttled_message(wait)
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    elif getattr(request, "htmx", False):
        response = render(request, "body_refused.html#message", {"message": message}, status=429)
    else:
        context = {"message": message, "back": request.path_info, "status": 429}
        response = render(request, "body_refused.html", context, status=429)
    response["Retry-After"] = str(math.ceil(wait or 60))
    return response
