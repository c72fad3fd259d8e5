"""Which function runs each kind of job.

Apps register their handlers in `AppConfig.ready()`; handler modules must stay
cheap to import (worker-only libraries such as TensorFlow are imported inside
the handler functions).
"""

from collections.abc import Callable
from typing import Any, Protocol

from core.errors import ServiceError
from jobs.models import Job


class JobError(ServiceError):
    """A job failed for a reason the user can read and act on; its message is shown as it is."""


class JobCancelled(Exception):
    """Raised by a handler that stopped because someone cancelled its job (`Job.cancel_requested`)."""


class Progress(Protocol):
    """Reports how far a job has come: `progress(percent, message)`."""

    def __call__(self, percent: int, message: str = "") -> None: ...


JobHandler = Callable[[Job, Progress], dict[str, Any] | None]

_handlers: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register the decorated function as the handler of jobs of `kind`."""

    def register(handler: JobHandler) -> JobHandler:
        _handlers[kind] = handler
        return handler

    return register


def get_handler(kind: str) -> JobHandler:
    """Return the handler registered for `kind` (KeyError when none is)."""
    return _handlers[kind]


def registered_kinds() -> list[str]:
    """Every job kind that has a handler, sorted."""
    return sorted(_handlers)
