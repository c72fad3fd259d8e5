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
    """Return which process ran it (several workers share the queue)."""
    time.sleep(job.payload.get("seconds", 0))
    return {"pid": os.getpid()}


def register() -> None:
    """Importing this module registered the kinds (it is WORKER_WARMUP in worker_settings)."""
