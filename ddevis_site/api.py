"""API-wide pieces: the exception handler that keeps every error a JSON 4xx, and the token view."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError
from core.parsers import BoundedJSONParser
from dsp.errors import AudioError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn service, audio and model-validation errors into `{"detail": ...}` 4xx answers."""
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message}, status=exc.status)
    if isinstance(exc, AudioError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    return drf_exception_handler(exc, context)


class TokenView(ObtainAuthToken):
    """`POST /api/auth/token/`: DRF's token view, reading JSON with the same nesting limit as every other view."""

    parser_classes = (FormParser, MultiPartParser, BoundedJSONParser)
