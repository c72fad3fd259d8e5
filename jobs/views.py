"""A job's progress page (and the fragment htmx polls), and retrying a failed job."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest
from jobs.selectors import job_get_for_user
from jobs.services import job_retry


@login_required
@require_GET
def job_detail(request: AuthenticatedHttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Show a job's status and progress; htmx asks only for the progress fragment."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    template = "jobs/job_detail.html"
    if request.htmx:
        template += "#job-progress"
    return render(request, template, {"job": job})


@login_required
@require_POST
def job_retry_view(request: AuthenticatedHttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Queue a failed job again and go back to where the user was."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    try:
        job = job_retry(job=job)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, "The job was queued again.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.htmx:
        return render(request, "jobs/job_detail.html#job-progress", {"job": job})
    if next_url:
        return redirect(next_url)
    return redirect("job_detail", job_id=job.id)
