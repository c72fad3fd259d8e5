"""Reading jobs."""

import uuid

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from jobs.models import Job


def job_get_for_user(*, user: User, job_id: str | uuid.UUID) -> Job:
    """Return the job if `user` owns it (staff see all); 404 otherwise (a malformed id too)."""
    try:
        pk = uuid.UUID(str(job_id))
    except ValueError:
        raise Http404("No such job.") from None
    jobs = Job.objects.all() if user.is_staff else Job.objects.filter(owner=user)
    return get_object_or_404(jobs, pk=pk)


def failed_jobs() -> QuerySet[Job]:
    """Every failed job, newest first, with its owner."""
    return Job.objects.filter(status=Job.Status.FAILED).select_related("owner")
