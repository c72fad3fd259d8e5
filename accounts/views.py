"""Sign-up and the dashboard each role lands on."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import SignupForm
from accounts.roles import ADMIN, INSTRUCTOR, STUDENT, role_of
from accounts.services import student_signup
from experiments import selectors as experiment_selectors
from jobs.models import Job
from modelzoo.models import ModelVersion


def site_counts() -> dict[str, int]:
    """How much the site holds, for the admin's dashboard."""
    from django.contrib.auth.models import User

    from experiments.models import Analysis, Course, Experiment, Recording

    return {
        "students": User.objects.filter(groups__name=STUDENT).count(),
        "instructors": User.objects.filter(groups__name=INSTRUCTOR).count(),
        "recordings": Recording.objects.count(),
        "analyses": Analysis.objects.count(),
        "experiments": Experiment.objects.count(),
        "courses": Course.objects.count(),
    }


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create a student account and sign it in."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = student_signup(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to d-DeVIS, {user.username}! Start by adding a clip.")
        return redirect("dashboard")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The signed-in user's home: what they work on, by role."""
    role = role_of(request.user)
    if role == ADMIN:
        return render(
            request,
            "accounts/dashboard_admin.html",
            {
                "model_versions": ModelVersion.objects.all()[:10],
                "active_model": ModelVersion.objects.filter(is_active=True).first(),
                "counts": site_counts(),
                "failed_jobs": Job.objects.filter(status=Job.Status.FAILED).select_related("owner")[:8],
            },
        )
    if role == INSTRUCTOR:
        return render(
            request,
            "accounts/dashboard_instructor.html",
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
        "accounts/dashboard_student.html",
        {
            "recordings": experiment_selectors.recording_list(user=request.user)[:8],
            "experiments": experiments,
            "courses": experiment_selectors.course_list(user=request.user),
        },
    )
