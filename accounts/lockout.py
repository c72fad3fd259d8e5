"""What a locked-out sign-in answers (django-axes' AXES_LOCKOUT_CALLABLE): 429, in the caller's language."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def lockout_message() -> str:
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return (
        f"Too many failed sign-ins for this account or from this address. "
        f"Sign-in is locked for {minutes} minutes; try again later."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """JSON `{"detail": …}` for the API (and scripts), the login page with the message otherwise."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/") or request.headers.get("x-requested-with") == "XMLHttpRequest":
        response: HttpResponse = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": lockout_message()}, status=429)
    response["Retry-After"] = retry_after
    return response
