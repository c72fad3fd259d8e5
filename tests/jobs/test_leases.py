"""Leases: a job whose worker stopped is failed; a live or inline one is not; a given-up run writes nothing."""

from datetime import timedelta

from django.utils import timezone

from jobs.leases import jobs_fail_abandoned
from jobs.models import Job
from jobs.registry import job_handler
from jobs.runner import job_execute, job_report
from jobs.services import job_retry
from tests.conftest import login
from tests.jobs import slow_jobs  # noqa: F401  (registers test-record)


def _running(owner, *, beat_s_ago: float | None, worker: str = "w1") -> Job:
    beat = None if beat_s_ago is None else timezone.now() - timedelta(seconds=beat_s_ago)
    return Job.objects.create(
        kind="test-record", owner=owner, status=Job.Status.RUNNING, attempts=1, progress=30,
        message="Running the network", worker_id=worker if beat else "", heartbeat_at=beat,
    )  # fmt: skip


def test_it_fails_a_job_whose_worker_stopped_with_a_sentence(alice, settings):
    settings.JOB_LEASE_SECONDS = 20
    stale = _running(alice, beat_s_ago=21)

    assert jobs_fail_abandoned() == 1

    stale.refresh_from_db()
    assert stale.status == Job.Status.FAILED and stale.finished_at
    assert stale.error == (
        "The worker stopped before this job finished (at “Running the network”, 30%): it may have run out "
        "of memory or been restarted. Retry it."
    )


def test_it_leaves_live_and_inline_jobs_alone(alice, settings):
    settings.JOB_LEASE_SECONDS = 20
    live = _running(alice, beat_s_ago=5)
    inline = _running(alice, beat_s_ago=None)

    assert jobs_fail_abandoned() == 0

    live.refresh_from_db()
    inline.refresh_from_db()
    assert live.status == inline.status == Job.Status.RUNNING


def test_an_api_read_notices_and_the_job_can_be_retried(alice_client, alice, settings):
    settings.JOB_LEASE_SECONDS = 20
    stale = _running(alice, beat_s_ago=60)

    data = alice_client.get(f"/api/jobs/{stale.id}/").json()

    assert data["status"] == "failed" and data["error"].startswith("The worker stopped")
    stale.refresh_from_db()
    retried = job_retry(job=stale)  # runs inline here, as no worker would
    assert retried.status == Job.Status.DONE and retried.attempts == 2
    assert retried.worker_id == "" and retried.heartbeat_at is None


given_up: list[bool] = []


@job_handler("test-given-up")
def _given_up(job, progress):
    """Its lease is taken away (failed, then retried) while it runs."""
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=job.attempts + 1)
    try:
        progress(90, "still here")
    except Exception:
        given_up.append(True)
        raise
    return {"stale": True}


def test_a_run_that_was_given_up_writes_nothing(alice):
    given_up.clear()
    job = Job.objects.create(kind="test-given-up", owner=alice)

    job = job_execute(job_id=str(job.pk))

    assert given_up == [True]
    assert job.status == Job.Status.RUNNING and job.attempts == 2  # the newer run's, untouched
    assert job.result == {} and job.progress == 0
    assert not job_report(job=Job(pk=job.pk, attempts=1), percent=50)


def test_it_runs_only_pending_jobs(alice):
    job = Job.objects.create(kind="analysis_run", owner=alice, status=Job.Status.FAILED, error="Earlier.")

    assert job_execute(job_id=str(job.pk)).error == "Earlier."


def test_the_lab_page_notices_for_another_persona_too(client, alice, charlie, settings):
    settings.JOB_LEASE_SECONDS = 20
    stale = _running(alice, beat_s_ago=60)
    login(client, charlie)

    client.get("/")  # any page: the check is not tied to who owns the job

    stale.refresh_from_db()
    assert stale.status == Job.Status.FAILED
