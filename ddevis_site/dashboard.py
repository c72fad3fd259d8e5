"""The home page: what each role works on (student, instructor, admin)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from accounts.roles import ADMIN, INSTRUCTOR, role_of
from core.htmx import AuthenticatedHttpRequest
from ddevis_site.selectors import site_counts
from experiments import selectors as experiment_selectors
from jobs.selectors import failed_jobs
from modelzoo.models import ModelVersion


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in user's home: what they work on, by role."""
    role = role_of(request.user)
    if role == ADMIN:
        return render(
            request,
            "dashboard/admin.html",
            {
                "model_versions": ModelVersion.objects.all()[:10],
                "active_model": ModelVersion.objects.filter(is_active=True).first(),
                "counts": site_counts(),
                "failed_jobs": failed_jobs()[:8],
            },
        )
    if role == INSTRUCTOR:
        return render(
            request,
            "dashboard/instructor.html",
            {
                "waiting": experiment_selectors.submission_list(instructor=request.user, status="submitted")[:20],
                "courses": experiment_selectors.course_list(user=request.user),
            },
        )
    experiments = list(experiment_selectors.experiment_list(user=request.user)[:8])
    unread = experiment_selectors.unread_counts(user=request.user, experiment_ids=[e.pk for e in experiments])
    for experiment in experiments:
        experiment.unread = unread.get(experiment.pk, 0)
    return render(
        request,
        "dashboard/student.html",
        {
            "recordings": experiment_selectors.recording_list(user=request.user)[:8],
            "experiments": experiments,
            "courses": experiment_selectors.course_list(user=request.user),
        },
    )
