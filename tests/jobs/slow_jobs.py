"""Job kinds for tests that start real worker processes (tests/jobs/worker_settings.py imports them there)."""

import os
import time

from jobs.registry import job_handler


@job_handler("test-sleep")
def _sleep(job, progress):
    """Say where it is, then sleep `payload["seconds"]` on its first attempt only."""
    progress(40, "Sleeping")
    if job.attempts == 1:
        time.sleep(job.payload.get("seconds", 60))
    return {"pid": os.getpid()}


@job_handler("test-record")
def _record(job, progress):
    """Return which process ran it (several workers share the queue).

    With ``payload["hold_until_another_is_done"]`` it keeps its worker busy until some other
    test-record job is done, so that another worker must have taken one (however long that
    worker took to start on a busy machine).
    """
    from jobs.models import Job

    time.sleep(job.payload.get("seconds", 0))
    if job.payload.get("hold_until_another_is_done"):
        deadline = time.monotonic() + 300
        others = Job.objects.filter(kind="test-record", status=Job.Status.DONE).exclude(pk=job.pk)
        while not others.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    return {"pid": os.getpid()}


def register() -> None:
    """Importing this module registered the kinds (it is WORKER_WARMUP in worker_settings)."""
