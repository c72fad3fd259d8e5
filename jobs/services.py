"""Creating, queueing and retrying jobs (running them: :mod:`jobs.runner`)."""

from typing import Any

from django.contrib.auth.models import User

from core.errors import ServiceError
from jobs.models import Job
from jobs.registry import get_handler
from jobs.tasks import run_job
from jobs.wakeup import notify_workers


def job_create(*, kind: str, owner: User | None, payload: dict[str, Any] | None = None) -> Job:
    """Record a new pending job of `kind` and put it on the task queue."""
    get_handler(kind)  # fail here, not in the worker, when nothing can run it
    job = Job.objects.create(kind=kind, owner=owner, payload=payload or {})
    return job_enqueue(job=job)


def job_enqueue(*, job: Job) -> Job:
    """Put `job` on the task queue and wake an idle worker; with the immediate backend it runs right here."""
    result = run_job.enqueue(str(job.id))
    Job.objects.filter(pk=job.pk, task_id="").update(task_id=result.id)
    notify_workers()
    job.refresh_from_db()
    return job


def job_retry(*, job: Job) -> Job:
    """Queue a failed job again from the start (a job whose worker stopped has been failed: :mod:`jobs.leases`)."""
    if job.status != Job.Status.FAILED:
        raise ServiceError("Only a failed job can be retried.", status=409)
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
        status=Job.Status.PENDING,
        progress=0,
        message="",
        error="",
        task_id="",
        started_at=None,
        finished_at=None,
        worker_id="",
        heartbeat_at=None,
    )
    if not updated:
        raise ServiceError("This job was retried already.", status=409)
    job.refresh_from_db()
    return job_enqueue(job=job)
