"""Responses for images and sounds: immutable content, cached by the browser."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

from experiments.models import Recording

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


def audio_response(request: HttpRequest, recording: Recording) -> HttpResponse:
    """A recording's canonical WAV."""

    def read() -> bytes:
        with recording.audio.open("rb") as stored:
            return stored.read()

    response = cached_response(request, recording.sha256, "audio/wav", read)
    response["Content-Disposition"] = f'inline; filename="recording-{recording.pk}.wav"'
    return response
