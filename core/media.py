"""Responses for images and sounds: immutable content, cached by the browser."""

from collections.abc import Callable

from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

# Recordings and analyses never change once written: a browser may keep what it got.
IMMUTABLE = "private, max-age=31536000, immutable"


def cached_response(request: HttpRequest, etag: str, content_type: str, render: Callable[[], bytes]) -> HttpResponse:
    """Answer 304 when the browser holds `etag`, otherwise render and mark the response immutable."""
    quoted = f'"{etag}"'
    if quoted in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(render(), content_type=content_type)
    response["ETag"] = quoted
    response["Cache-Control"] = IMMUTABLE
    return response


def stored_file_response(
    request: HttpRequest, stored: FieldFile, *, etag: str, content_type: str, disposition: str = ""
) -> HttpResponse:
    """A stored file (a recording's WAV, an upload's original bytes), cached like any immutable content."""

    def read() -> bytes:
        with stored.open("rb") as handle:
            return handle.read()

    response = cached_response(request, etag, content_type, read)
    if disposition:
        response["Content-Disposition"] = disposition
    return response
