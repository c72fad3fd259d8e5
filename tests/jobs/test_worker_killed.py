"""A worker killed mid-job (SIGKILL): its job ends failed with a sentence for people, and can be retried."""

import signal

import pytest

from accounts.services import api_token_create
from jobs.models import Job
from jobs.services import job_create
from tests.jobs import slow_jobs  # noqa: F401  (registers the test kinds here too)
from tests.jobs.workers import start_worker, stop, wait_for


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.JOB_LEASE_SECONDS = 1.5


def _running(job: Job) -> bool:
    job.refresh_from_db()
    return job.status == Job.Status.RUNNING and job.message == "Sleeping"


def _status(job: Job) -> str:
    job.refresh_from_db()
    return job.status


@pytest.mark.django_db(transaction=True)
def test_a_page_read_notices_when_no_worker_is_alive(database_queue, client, alice, tmp_path):
    worker = start_worker(tmp_path)
    try:
        job = job_create(kind="test-sleep", owner=alice, payload={"seconds": 120})
        wait_for(lambda: _running(job), what="the worker taking the job")
        assert job.worker_id and job.heartbeat_at

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        wait_for(lambda: _lease_expired(job), timeout=10, what="the lease expiring")
        client.force_login(alice)
        page = client.get(f"/jobs/{job.id}/", headers={"HX-Request": "true"}).content.decode()
    finally:
        stop(worker)

    assert 'data-job-status="failed"' in page
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("The worker stopped before this job finished (at “Sleeping”, 40%)")
    assert job.error.endswith("Retry it.")
    assert "Error" not in job.error and "SIGKILL" not in job.error

    # Retry answers 202 (not 409), and a live worker runs it to the end.
    _, key = api_token_create(user=alice, name="test")
    retried = client.post(f"/api/jobs/{job.id}/retry/", HTTP_AUTHORIZATION=f"Token {key}")
    assert retried.status_code == 202 and retried.json()["status"] == "pending"
    worker = start_worker(tmp_path, name="second")
    try:
        wait_for(lambda: _status(job) == Job.Status.DONE, what="the retried job finishing")
    finally:
        stop(worker)
    assert job.attempts == 2 and job.error == ""


def _lease_expired(job: Job) -> bool:
    from datetime import timedelta

    from django.utils import timezone

    job.refresh_from_db()
    return job.heartbeat_at < timezone.now() - timedelta(seconds=1.6)


@pytest.mark.django_db(transaction=True)
def test_another_workers_heartbeat_fails_the_job_of_a_killed_worker(database_queue, alice, tmp_path):
    first = start_worker(tmp_path, name="first")
    second = None
    try:
        job = job_create(kind="test-sleep", owner=alice, payload={"seconds": 120})
        wait_for(lambda: _running(job), what="a worker taking the job")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        second = start_worker(tmp_path, name="second")  # no page is read: the worker must notice
        wait_for(lambda: _status(job) == Job.Status.FAILED, timeout=60, what="the surviving worker failing it")
    finally:
        stop(first)
        if second is not None:
            stop(second)
    assert "The worker stopped before this job finished" in job.error
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"  # not "running" for ever either
