import pytest

from core.errors import ServiceError
from jobs.models import Job
from jobs.runner import UNEXPECTED_FAILURE
from jobs.services import job_create, job_retry

pytestmark = pytest.mark.usefixtures("job_kinds")


def test_it_goes_from_pending_to_running_to_done_with_progress(alice, job_kinds):
    job = Job.objects.create(kind="test-steps", owner=alice)
    assert job.status == Job.Status.PENDING and job.progress == 0

    from jobs.services import job_enqueue

    job = job_enqueue(job=job)

    assert job_kinds == [("running", 25), ("running", 50), ("running", 75)]
    assert job.status == Job.Status.DONE
    assert job.progress == 100
    assert job.result == {"answer": 42}
    assert job.attempts == 1
    assert job.started_at <= job.finished_at
    assert job.task_id


def test_it_records_the_error_and_can_be_retried(alice):
    job = job_create(kind="test-fails", owner=alice)

    assert job.status == Job.Status.FAILED
    assert job.error == "The clip is silent."

    job = job_retry(job=job)

    assert job.status == Job.Status.DONE
    assert job.error == ""
    assert job.attempts == 2
    assert job.result == {"answer": "second time lucky"}


def test_it_records_unexpected_errors_as_a_sentence_without_raising(alice):
    job = job_create(kind="test-crashes", owner=alice)

    assert job.status == Job.Status.FAILED
    assert job.error == UNEXPECTED_FAILURE  # a sentence for people; the exception is in the log
    assert "ZeroDivisionError" not in job.error


def test_it_refuses_to_retry_a_job_that_did_not_fail(alice):
    job = job_create(kind="test-steps", owner=alice)

    with pytest.raises(ServiceError, match="Only a failed job"):
        job_retry(job=job)


def test_it_refuses_unknown_kinds(alice):
    with pytest.raises(KeyError):
        job_create(kind="no-such-kind", owner=alice)
    assert not Job.objects.exists()
