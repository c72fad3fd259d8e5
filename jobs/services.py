"""Creating, running and retrying jobs."""

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.utils import timezone

from core.errors import ServiceError
from jobs.models import Job
from jobs.registry import get_handler

logger = logging.getLogger(__name__)


class JobError(ServiceError):
    """A job failed for a reason the user can read and act on."""


def job_create(*, kind: str, owner: AbstractBaseUser | None, payload: dict[str, Any] | None = None) -> Job:
    """Record a new pending job of `kind` and put it on the task queue."""
    get_handler(kind)  # fail here, not in the worker, when nothing can run it
    job = Job.objects.create(kind=kind, owner=owner, payload=payload or {})
    return job_enqueue(job=job)


def job_enqueue(*, job: Job) -> Job:
    """Put `job` on the task queue; with the immediate backend it runs right here."""
    from jobs.tasks import run_job

    result = run_job.enqueue(str(job.id))
    Job.objects.filter(pk=job.pk, task_id="").update(task_id=result.id)
    job.refresh_from_db()
    return job


def job_retry(*, job: Job) -> Job:
    """Queue a failed job again from the start."""
    if job.status != Job.Status.FAILED:
        raise ServiceError("Only a failed job can be retried.", status=409)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.PENDING, progress=0, message="", error="", task_id="", started_at=None, finished_at=None
    )
    job.refresh_from_db()
    return job_enqueue(job=job)


def job_report(*, job: Job, percent: int, message: str = "") -> None:
    """Store the progress of a running job (0-100) and what it is doing."""
    percent = max(0, min(100, int(percent)))
    Job.objects.filter(pk=job.pk).update(progress=percent, message=message[:200])
    job.progress, job.message = percent, message[:200]


def job_execute(*, job_id: str) -> Job:
    """Run a job's handler, recording running, progress, and done or failed with its error."""
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.DONE:
        return job
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, started_at=now, progress=0, error="", attempts=F("attempts") + 1
    )
    job.refresh_from_db()

    def progress(percent: int, message: str = "") -> None:
        job_report(job=job, percent=percent, message=message)

    try:
        result = get_handler(job.kind)(job, progress) or {}
    except ServiceError as exc:
        _finish(job, status=Job.Status.FAILED, error=exc.message)
    except Exception as exc:
        logger.exception("Job %s (%s) failed", job.id, job.kind)
        _finish(job, status=Job.Status.FAILED, error=f"Unexpected error ({type(exc).__name__}): {exc}")
    else:
        _finish(job, status=Job.Status.DONE, result=result)
    job.refresh_from_db()
    return job


def _finish(job: Job, *, status: str, error: str = "", result: dict[str, Any] | None = None) -> None:
    """Mark `job` finished with `status`."""
    fields: dict[str, Any] = {"status": status, "error": error, "finished_at": timezone.now()}
    if status == Job.Status.DONE:
        fields |= {"progress": 100, "result": result or {}, "message": ""}
    Job.objects.filter(pk=job.pk).update(**fields)
