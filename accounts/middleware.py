"""API tokens on the site's pages and media: every URL the API hands out opens with the same credentials."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from accounts.authentication import ApiTokenAuthentication


class TokenAuthenticationMiddleware:
    """On a GET or HEAD with ``Authorization: Token …`` and no signed-in session, act as the token's user.

    Only reads: a form POST still needs a session and its CSRF token. A wrong token answers 401
    (JSON), as the API does. DRF's own views authenticate by themselves and are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.authentication = ApiTokenAuthentication()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in ("GET", "HEAD")
            and not request.path.startswith("/api/")
            and request.headers.get("Authorization", "").split()[:1] == ["Token"]
            and not request.user.is_authenticated
        ):
            try:
                # DRF's authentication reads a DRF request (only its headers here): the page's request, wrapped.
                authenticated = self.authentication.authenticate(Request(request))
            except AuthenticationFailed as exc:
                response = JsonResponse({"detail": str(exc.detail)}, status=401)
                response["WWW-Authenticate"] = self.authentication.keyword
                return response
            if authenticated is not None:
                request.user = authenticated[0]
        return self.get_response(request)
