"""Leases of running jobs: a worker heart-beats the jobs it runs; a job whose heart-beat stopped is failed.

A worker process (``run_worker``) takes an id and starts a :class:`Heartbeat` thread. A job it
starts records that id and the time; every ``JOB_HEARTBEAT_SECONDS`` the thread renews the time
of the jobs it runs. A running job whose time is older than ``JOB_LEASE_SECONDS`` lost its worker
(killed, out of memory, machine gone): :func:`jobs_fail_abandoned` fails it with a sentence for
people, and it can be retried. It is not re-queued by itself: a job that killed its worker (out
of memory, say) would kill the next one too, so a person decides.

Who notices: every worker's heart-beat thread, and every web process before it answers a page
or an API request (at most once per heart-beat interval, :class:`AbandonedJobsMiddleware`), so
it happens even when no worker is alive.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from jobs.models import Job

logger = logging.getLogger(__name__)

_worker_id = ""


def worker_id() -> str:
    """The id of this worker process, or "" in a process that is not a heart-beating worker."""
    return _worker_id


def abandoned_error(job: Job) -> str:
    """What people read on a job whose worker stopped."""
    where = f" (at “{job.message}”, {job.progress}%)" if job.message else ""
    return (
        f"The worker stopped before this job finished{where}: it may have run out of memory or been "
        "restarted. Retry it."
    )


def jobs_fail_abandoned() -> int:
    """Fail every running job whose worker stopped heart-beating; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    stale = list(Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff))
    failed = 0
    for job in stale:
        # Only if it is still the same stale run: its worker may have come back a moment ago.
        failed += Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts, heartbeat_at__lt=cutoff
        ).update(status=Job.Status.FAILED, error=abandoned_error(job), finished_at=timezone.now())
        logger.warning("Job %s (%s) lost its worker %s; failed it.", job.pk, job.kind, job.worker_id)
        _fail_task_record(job)
    return failed


def _fail_task_record(job: Job) -> None:
    """Close the django-tasks-db row of the task too, so it does not show as running for ever."""
    from django.apps import apps

    if not job.task_id or not apps.is_installed("django_tasks_db"):
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=job.task_id, status="RUNNING").update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path="jobs.leases.WorkerStopped",
        traceback=f"The worker {job.worker_id} stopped heart-beating while it ran this task.",
    )


class Heartbeat(threading.Thread):
    """Renews the lease of this worker's running jobs and fails the jobs of workers that stopped."""

    def __init__(self, *, worker: str, interval: float | None = None) -> None:
        super().__init__(name="job-heartbeat", daemon=True)
        self.worker = worker
        self.interval = interval or settings.JOB_HEARTBEAT_SECONDS
        self.stopping = threading.Event()

    def start(self) -> None:
        global _worker_id
        _worker_id = self.worker
        super().start()

    def beat(self) -> None:
        """One heart-beat: renew our leases, then fail what lost its worker."""
        Job.objects.filter(worker_id=self.worker, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
        jobs_fail_abandoned()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.beat()
            except DatabaseError:
                logger.exception("Heart-beat of worker %s failed; trying again.", self.worker)
            finally:
                close_old_connections()
        connection.close()

    def stop(self) -> None:
        global _worker_id
        self.stopping.set()
        self.join(timeout=self.interval + 5)
        _worker_id = ""


class AbandonedJobsMiddleware:
    """Before a page or API answers, fail jobs whose worker stopped (at most once per heart-beat interval)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.next_check = 0.0
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = time.monotonic()
        if now >= self.next_check and self.lock.acquire(blocking=False):
            try:
                self.next_check = now + settings.JOB_HEARTBEAT_SECONDS
                jobs_fail_abandoned()
            except DatabaseError:
                logger.exception("Looking for jobs that lost their worker failed.")
            finally:
                self.lock.release()
        return self.get_response(request)
