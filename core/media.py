"""Views of images and sounds: immutable content, conditional GETs through Django's `etag`, cached by the browser.

A media view resolves what it serves into a :class:`Media` (checking who may see it, raising
Http404 otherwise); :func:`media_view` answers 304 when the client holds the ETag (nothing is
rendered), else renders it, and marks both immutable. Session and API-token callers alike
(the token is read by ``accounts.middleware.TokenAuthenticationMiddleware``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models.fields.files import FieldFile
from django.http import HttpResponse
from django.views.decorators.http import etag, require_safe

from core.htmx import AuthenticatedHttpRequest

# Recordings and analyses never change once written: a browser may keep what it got.
IMMUTABLE = "private, max-age=31536000, immutable"


@dataclass(frozen=True)
class Media:
    """What a media URL serves: its ETag (without quotes), content type, how to render it, extra headers."""

    etag: str
    content_type: str
    render: Callable[[], bytes]
    headers: dict[str, str] = field(default_factory=dict)


class MediaRequest(AuthenticatedHttpRequest):
    """A media view's request: `media` is what its ETag was computed from (set before the view renders)."""

    media: Media


def stored_name(stored: FieldFile) -> str:
    """A stored file's name without its folders (ETags use it: a file written again gets a new name)."""
    if not stored.name:
        raise ValueError("Nothing is stored in this field.")
    return stored.name.rsplit("/", 1)[-1]


def stored_file(stored: FieldFile) -> Callable[[], bytes]:
    """A renderer that reads a stored file (a recording's WAV, an upload's original bytes)."""

    def read() -> bytes:
        with stored.open("rb") as handle:
            return handle.read()

    return read


def media_view(resolve: Callable[..., Media]) -> Callable[..., HttpResponse]:
    """Turn `resolve(request, **url_kwargs) -> Media` into a GET/HEAD view with ETag and immutable caching."""

    def media_etag(request: MediaRequest, *args, **kwargs) -> str:
        request.media = resolve(request, *args, **kwargs)  # access checks and 404s happen here, once
        return request.media.etag

    @etag(media_etag)
    def serve(request: MediaRequest, *args, **kwargs) -> HttpResponse:
        media: Media = request.media
        response = HttpResponse(media.render(), content_type=media.content_type)
        for name, value in media.headers.items():
            response[name] = value
        return response

    @wraps(resolve)
    @login_required
    @require_safe
    def view(request: MediaRequest, *args, **kwargs) -> HttpResponse:
        response = serve(request, *args, **kwargs)
        if response.status_code in (200, 304):
            response["Cache-Control"] = IMMUTABLE
        return response

    return view
