"""The django.tasks entry point: every job runs through this one task."""

from django.tasks import task

from jobs.runner import job_execute


@task()
def run_job(job_id: str) -> None:
    """Run the job `job_id`; its record holds the outcome."""
    job_execute(job_id=job_id)
