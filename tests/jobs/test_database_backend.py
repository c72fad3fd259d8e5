"""The production backend: jobs wait in the database until a worker takes them."""

from io import StringIO

import pytest
from django.core.management import call_command

from jobs.models import Job
from jobs.services import job_create


# The worker closes and reopens connections, as in production: no wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_what_the_database_backend_queued(settings, alice, job_kinds):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

    job = job_create(kind="test-steps", owner=alice)

    assert job.status == Job.Status.PENDING
    assert job_kinds == []

    call_command("run_worker", "--batch", "--no-startup-delay", stdout=StringIO())

    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.progress == 100
    assert job_kinds == [("running", 25), ("running", 50), ("running", 75)]
