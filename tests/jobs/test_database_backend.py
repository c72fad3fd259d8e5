"""The production backend: jobs wait in the database until a worker takes them."""

from io import StringIO

import pytest
from django.core.management import call_command

from jobs.models import Job
from jobs.services import job_create
from tests.jobs.test_job_lifecycle import seen


# The worker closes and reopens connections, as in production: no wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_what_the_database_backend_queued(settings, alice):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    seen.clear()

    job = job_create(kind="test-steps", owner=alice)

    assert job.status == Job.Status.PENDING
    assert seen == []

    call_command("run_worker", "--batch", "--no-startup-delay", stdout=StringIO())

    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.progress == 100
    assert seen == [("running", 25), ("running", 50), ("running", 75)]
