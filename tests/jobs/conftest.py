"""The job kinds the jobs tests run, registered by a fixture for the tests that ask for it."""

import pytest

from core.errors import ServiceError
from jobs import registry
from jobs.models import Job

Steps = list[tuple[str, int]]


@pytest.fixture
def job_kinds(monkeypatch) -> Steps:
    """Register `test-steps`, `test-fails` and `test-crashes` for one test.

    Returns the (status, progress) the database held at each step of a `test-steps` job.
    The registry is put back as it was afterwards.
    """
    seen: Steps = []

    def steps(job, progress):
        for percent in (25, 50, 75):
            progress(percent, f"step at {percent}%")
            stored = Job.objects.get(pk=job.pk)
            seen.append((stored.status, stored.progress))
        return {"answer": 42}

    def fails(job, progress):
        if job.attempts == 1:
            raise ServiceError("The clip is silent.")
        return {"answer": "second time lucky"}

    def crashes(job, progress):
        raise ZeroDivisionError("division by zero")

    for kind, handler in (("test-steps", steps), ("test-fails", fails), ("test-crashes", crashes)):
        monkeypatch.setitem(registry._handlers, kind, handler)
    return seen
