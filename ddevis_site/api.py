"""API-wide pieces: the exception handler that keeps every error a JSON 4xx, and signing in and out."""

from typing import Any

from django.contrib.auth import authenticate, logout
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from core.errors import ServiceError
from core.parsers import BoundedJSONParser
from core.throttles import throttled_message
from dsp.errors import AudioError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn service, audio and model-validation errors into `{"detail": ...}` 4xx answers."""
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message}, status=exc.status)
    if isinstance(exc, AudioError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.Throttled) and response is not None:
        response.data = {"detail": throttled_message(getattr(exc, "wait", None))}
    return response


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(
        max_length=80, required=False, help_text="What the token is for (shown on your account page)."
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`; it is shown only now.")
    name = serializers.CharField()
    expires = serializers.DateTimeField()


class TokenView(APIView):
    """`POST /api/auth/token/`: a new token for a username and password, which expires (API_TOKEN_TTL_DAYS).

    The password goes through `authenticate()` with the Django request, so django-axes counts a
    failure by username and by address and, past the limit, answers 429 (accounts.lockout).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = (FormParser, MultiPartParser, BoundedJSONParser)

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer})
    def post(self, request: Request) -> Response:
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            raise exceptions.ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
        token, key = api_token_create(user=user, name=data.get("name") or "Signed in through the API")
        return Response({"token": key, "name": token.name, "expires": token.expires})


class LogoutView(APIView):
    """`POST /api/auth/logout/`: revoke the token this request came with (or end the session)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            api_token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
