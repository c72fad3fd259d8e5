"""Request bodies: refused by size from Content-Length before reading, and received within a time limit.

One mechanism for the whole site:

- :class:`RequestBodyLimitMiddleware` compares Content-Length with the limit of the request's
  path (``settings.REQUEST_BODY_LIMITS``, else ``REQUEST_BODY_DEFAULT_LIMIT``) and answers
  413 before any byte of the body is read; a Content-Length that is not a number is a 400.
- :func:`with_body_deadline` wraps the WSGI application (``ddevis_site.wsgi``, which
  gunicorn, granian and runserver all load) so that the body is read in bounded chunks: no
  more than ``REQUEST_BODY_IDLE_TIMEOUT_S`` without a byte, and no longer in all than that
  plus the size at ``REQUEST_BODY_MIN_BYTES_PER_S``.  Under gunicorn the socket itself gets
  the timeout (``environ["gunicorn.socket"]``), so a body that never comes cannot hold a
  request thread; a late body becomes :class:`RequestBodyTimeout`, answered 408.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

_CHUNK = 64 * 1024


class RequestBodyTimeout(BadRequest):
    """The client did not send the body it announced in time."""


def _megabytes(size: int) -> str:
    """A size as people read it: "19.2 MB", "10 MB", "2.0 GB"."""
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"


@cache
def _limits() -> list[tuple[re.Pattern, int, str]]:
    return [(re.compile(pattern), size, what) for pattern, (size, what) in settings.REQUEST_BODY_LIMITS.items()]


def body_limit(path: str) -> tuple[int, int, str]:
    """``(allowed bytes, the size announced to people, what is sent)`` for a request to ``path``.

    An upload's multipart envelope (boundaries, the other fields) is allowed on top of the file.
    """
    for pattern, size, what in _limits():
        if pattern.search(path):
            return size + settings.REQUEST_BODY_ENVELOPE_BYTES, size, what
    size = settings.REQUEST_BODY_DEFAULT_LIMIT
    return size, size, "The request"


def refusal(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """The same refusal everywhere: JSON for the API and scripts, a fragment for htmx, else a page."""
    if request.path_info.startswith("/api/") or request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"detail": message}, status=status)
    if getattr(request, "htmx", False):
        return render(request, "body_refused.html#message", {"message": message}, status=status)
    context = {"message": message, "back": request.path_info, "status": status}
    return render(request, "body_refused.html", context, status=status)


class RequestBodyLimitMiddleware:
    """Answer 413 when Content-Length is over the path's limit, before the body is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return refusal(request, "The request's Content-Length is not a number.", status=400)
        if length < 0:
            return refusal(request, "The request's Content-Length is negative.", status=400)
        allowed, announced, what = body_limit(request.path_info)
        if length > allowed:
            message = f"{what} is {_megabytes(length)}; the limit is {_megabytes(announced)}."
            return refusal(request, message, status=413)
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a late body is a 408 with a sentence; anything else keeps Django's 400 page."""
    if isinstance(exception, RequestBodyTimeout):
        return refusal(request, str(exception), status=408)
    return defaults.bad_request(request, exception)


class DeadlineInput:
    """``wsgi.input`` whose body must arrive without idling and before a deadline.

    With the client's socket (gunicorn), every receive waits at most the idle timeout, and a
    watchdog shuts the socket's reading side at the deadline, which ends a receive that a
    trickle of bytes would otherwise keep alive; the response can still be written.  Without
    it (runserver), the deadline is checked between chunks.
    """

    def __init__(self, stream: Any, *, length: int, sock: socket.socket | None) -> None:
        self.stream, self.sock = stream, sock
        idle = settings.REQUEST_BODY_IDLE_TIMEOUT_S
        budget = idle + length / settings.REQUEST_BODY_MIN_BYTES_PER_S
        self.deadline = time.monotonic() + budget
        self.expired = False
        self.watchdog: threading.Timer | None = None
        if sock is not None:
            sock.settimeout(idle)
            self.watchdog = threading.Timer(budget, self._expire)
            self.watchdog.daemon = True
            self.watchdog.start()

    def _expire(self) -> None:
        self.expired = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RD)  # type: ignore[union-attr]

    def close(self) -> None:
        """Stop the watchdog (the request is over)."""
        if self.watchdog is not None:
            self.watchdog.cancel()

    def _late(self) -> RequestBodyTimeout:
        return RequestBodyTimeout(
            "The request body arrived too slowly and was abandoned; check the connection and send it again."
        )

    def _chunk(self, size: int) -> bytes:
        if self.expired or time.monotonic() > self.deadline:
            raise self._late()
        try:
            data = self.stream.read(size)
        except OSError as exc:  # the idle timeout (TimeoutError), or the connection went away
            raise self._late() from exc
        if self.expired:  # the watchdog cut this read short
            raise self._late()
        return data

    def read(self, size: int | None = -1) -> bytes:
        parts, wanted = [], (size if size is not None and size >= 0 else None)
        while wanted is None or wanted > 0:
            chunk = self._chunk(_CHUNK if wanted is None else min(_CHUNK, wanted))
            if not chunk:
                break
            parts.append(chunk)
            if wanted is not None:
                wanted -= len(chunk)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        if self.expired or time.monotonic() > self.deadline:
            raise self._late()
        try:
            line = self.stream.readline(size if size is not None and size >= 0 else _CHUNK)
        except OSError as exc:
            raise self._late() from exc
        if self.expired:
            raise self._late()
        return line

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(_CHUNK):
            yield chunk


def with_body_deadline(application: Callable) -> Callable:
    """Wrap a WSGI application so that every request body is read within its time limit."""

    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # the middleware answers 400 without reading
        if length <= 0:
            return application(environ, start_response)
        body = DeadlineInput(environ["wsgi.input"], length=length, sock=environ.get("gunicorn.socket"))
        environ["wsgi.input"] = body
        try:
            return application(environ, start_response)  # Django has read what it reads by now
        finally:
            body.close()

    return guarded
