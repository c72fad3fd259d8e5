"""Running a job: its handler, its progress, and how it ends (done, or failed with a sentence for people)."""

import logging
from typing import Any

from django.db.models import F
from django.utils import timezone

from core.errors import ServiceError
from jobs.models import Job
from jobs.registry import get_handler

logger = logging.getLogger(__name__)

UNEXPECTED_FAILURE = (
    "This job stopped on an unexpected problem on our side; it has been logged. Try again, and if it fails "
    "again, tell the person who runs this site."
)


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
    except Exception:
        # People get a sentence; the exception and its traceback go to the worker's log.
        logger.exception("Job %s (%s) failed", job.id, job.kind)
        _finish(job, status=Job.Status.FAILED, error=UNEXPECTED_FAILURE)
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
