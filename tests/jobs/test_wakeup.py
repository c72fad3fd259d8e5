"""An idle worker is woken the moment a job is queued: it does not wait for its poll."""

import time

import pytest

from jobs.models import Job
from jobs.services import job_create
from jobs.wakeup import WakeListener, _notify_now
from tests.jobs import slow_jobs  # noqa: F401  (registers the test kinds)
from tests.jobs.workers import start_worker, stop, wait_for


@pytest.mark.django_db(transaction=True)
def test_a_listener_is_woken_by_a_notification_and_consumes_it():
    listener = WakeListener()
    try:
        assert listener.kind != "poll"
        assert listener.wait(0.01) is False

        _notify_now()
        _notify_now()
        time.sleep(0.5)  # both pending before the listener looks (PostgreSQL delivers them a moment later)

        assert listener.wait(30) is True
        assert listener.wait(0.05) is False  # both wake-ups were consumed at once
    finally:
        listener.close()


@pytest.mark.django_db(transaction=True)
def test_nobody_listening_is_fine():
    _notify_now()  # no worker made the pipe or listens: nothing to wake, no error


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_polls_every_ten_minutes_takes_a_new_job_at_once(settings, alice, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    worker = start_worker(tmp_path, WORKER_POLL_INTERVAL="600")
    try:
        wait_for(lambda: "Starting worker" in (tmp_path / "worker.log").read_text(), what="the worker starting")
        first = job_create(kind="test-record", owner=alice)
        wait_for(lambda: Job.objects.filter(pk=first.pk, status="done").exists(), what="the first job")
        time.sleep(0.5)  # let the worker find the queue empty and go back to waiting
        second = job_create(kind="test-record", owner=alice)

        # Within the minute, where only a wake-up (not the 600 s poll) can have started it.
        wait_for(lambda: Job.objects.filter(pk=second.pk, status="done").exists(), what="the second job")
    finally:
        stop(worker)
    assert "wake-up=" in (tmp_path / "worker.log").read_text()
