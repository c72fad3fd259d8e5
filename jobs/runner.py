"""Running a job: its handler, its progress, and how it ends (done, or failed with a sentence for people).

A run is fenced by the job's `attempts`: progress and the outcome are written only while the
job is still running as this attempt. A worker whose job was given up (its heart-beat stopped,
:mod:`jobs.leases`) and then retried cannot overwrite the new run when it wakes up again.
"""

import logging
from typing import Any

from django.db.models import F
from django.utils import timezone

from core.errors import ServiceError
from jobs import leases
from jobs.models import Job
from jobs.registry import JobCancelled, get_handler

logger = logging.getLogger(__name__)

UNEXPECTED_FAILURE = (
    "This job stopped on an unexpected problem on our side; it has been logged. Try again, and if it fails "
    "again, tell the person who runs this site."
)


class JobSuperseded(Exception):
    """This run of a job was given up (its worker stopped heart-beating): it must stop and write nothing."""


def _this_run(job: Job):
    """The job's row, while it is still running as `job`'s attempt."""
    return Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts)


def job_report(*, job: Job, percent: int, message: str = "") -> bool:
    """Store the progress of a running job (0-100) and what it is doing; False when this run was given up.

    A worker's report renews the job's lease too (the heart-beat thread may be starved while a
    handler holds the GIL, importing TensorFlow for one).
    """
    percent = max(0, min(100, int(percent)))
    fields = {"progress": percent, "message": message[:200]}
    if job.worker_id:
        fields["heartbeat_at"] = timezone.now()
    updated = _this_run(job).update(**fields)
    job.progress, job.message = percent, message[:200]
    return bool(updated)


def job_execute(*, job_id: str) -> Job:
    """Run a pending job's handler, recording running, progress, and done or failed with its error.

    In a worker process the job takes a lease (the worker's id and a heart-beat time) that
    the worker renews while it runs (:mod:`jobs.leases`).
    """
    job = Job.objects.get(pk=job_id)
    if job.status != Job.Status.PENDING:
        return job  # done, failed, or already taken by another run
    now = timezone.now()
    worker_id = leases.worker_id()
    claimed = Job.objects.filter(pk=job.pk, status=Job.Status.PENDING).update(
        status=Job.Status.RUNNING,
        started_at=now,
        finished_at=None,
        progress=0,
        error="",
        attempts=F("attempts") + 1,
        worker_id=worker_id,
        heartbeat_at=now if worker_id else None,
    )
    job.refresh_from_db()
    if not claimed:
        return job

    def progress(percent: int, message: str = "") -> None:
        if not job_report(job=job, percent=percent, message=message):
            raise JobSuperseded(f"Job {job.pk} attempt {job.attempts} was given up.")

    try:
        result = get_handler(job.kind)(job, progress) or {}
    except JobSuperseded:
        logger.warning("Job %s (%s) was given up while it ran here; its result is dropped.", job.id, job.kind)
    except JobCancelled:
        _finish(job, status=Job.Status.CANCELLED)
    except ServiceError as exc:
        _finish(job, status=Job.Status.FAILED, error=exc.message)
    except Exception:
        # People get a sentence; the exception and its traceback go to the worker's log.
        logger.exception("Job %s (%s) failed", job.id, job.kind)
        _finish(job, status=Job.Status.FAILED, error=UNEXPECTED_FAILURE)
    else:
        if not _finish(job, status=Job.Status.DONE, result=result):
            logger.warning("Job %s (%s) was given up while it ran here; its result is dropped.", job.id, job.kind)
    job.refresh_from_db()
    return job


def _finish(job: Job, *, status: str, error: str = "", result: dict[str, Any] | None = None) -> bool:
    """Mark this run of `job` finished with `status`; False when the run had been given up."""
    fields: dict[str, Any] = {"status": status, "error": error, "finished_at": timezone.now()}
    if status == Job.Status.DONE:
        fields |= {"progress": 100, "result": result or {}, "message": ""}
    return bool(_this_run(job).update(**fields))
