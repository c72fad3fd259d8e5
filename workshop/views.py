"""The workshop's pages: design a variant (live shapes), watch it train, cancel it, debug the result."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, form_refused, page_redirect
from core.throttles import throttle_job_start
from experiments.models import Course
from experiments.selectors import courses_taught
from modelzoo.samples import sample_clips
from workshop import architecture, presenters, selectors, services
from workshop.forms import CourseLimitsForm, DesignForm, VoiceForm
from workshop.models import Training


def _design_context(form: DesignForm) -> dict:
    summary = form.summary
    if summary is None and not form.is_bound:
        summary = architecture.summarise(architecture.Design())
    return {
        "form": form,
        "summary": summary,
        "input_shape": architecture.input_shape(),
        "running": None,
    }


@login_required
@require_GET
def workshop_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Your trainings, newest first, and the way to design a new one."""
    trainings = selectors.trainings_for(user=request.user).filter(owner=request.user)
    for training in trainings:
        services.training_sync(training=training)
    courses = [_limits_context(course) for course in courses_taught(user=request.user)]
    return render(request, "workshop/home.html", {"trainings": trainings, "courses": courses})


def _limits_context(course: Course, form: CourseLimitsForm | None = None, saved: bool = False) -> dict:
    limits = selectors.course_limits_of(course=course)
    form = form or CourseLimitsForm(initial={"trainings_at_once": limits.trainings_at_once})
    return {"course": course, "form": form, "saved": saved, "most": services.MAX_TRAININGS_AT_ONCE}


@login_required
@require_POST
def course_limits_view(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """An instructor lets the people of their course run more trainings at once (htmx swaps the form)."""
    course = get_object_or_404(courses_taught(user=request.user), pk=course_id)
    form = CourseLimitsForm(data=request.POST)
    template = "workshop/home.html#course-limits"
    target = f"#course-limits-{course.pk}"
    if form.is_valid():
        try:
            services.course_limits_set(
                course=course, instructor=request.user, trainings_at_once=form.cleaned_data["trainings_at_once"]
            )
        except ServiceError as exc:
            form.add_error(exc.field, exc.message)
    if form.errors:
        return form_refused(request, template, {"c": _limits_context(course, form)}, status=400, target=target)
    if not request.htmx:
        messages.success(request, f"Saved the workshop limits of {course.name}.")
        return redirect("workshop_home")
    return render(request, template, {"c": _limits_context(course, saved=True)})


@login_required
@require_http_methods(["GET", "POST"])
@throttle_job_start("trainings")
def training_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The design page. htmx asks for the form again on every change (shapes, parameters, time, or
    the reason a design cannot be); POST starts the training."""
    if request.method == "GET":
        # A query (an htmx change, or "train again" from a training) is a design to judge.
        form = DesignForm(data=request.GET, user=request.user) if request.GET else DesignForm(user=request.user)
        if form.is_bound:
            form.is_valid()
        context = _design_context(form) | {"running": selectors.training_in_the_way(user=request.user)}
        template = "workshop/new.html#design-form" if request.htmx else "workshop/new.html"
        return render(request, template, context)
    form = DesignForm(data=request.POST, user=request.user)
    if form.is_valid():
        try:
            training = services.training_start(
                owner=request.user,
                name=form.cleaned_data["name"],
                design=form.design(),
                seed=form.cleaned_data["seed"],
                course=form.cleaned_data.get("course"),
            )
        except ServiceError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                form.add_error(None, exc.message)
            status = exc.status
        else:
            return page_redirect(request, reverse("training_detail", args=[training.pk]))
    else:
        status = 400
    context = _design_context(form) | {"running": selectors.training_in_the_way(user=request.user)}
    return form_refused(request, "workshop/new.html#design-form", context, status=status, target="#design-form")


def _detail_context(request: AuthenticatedHttpRequest, training: Training) -> dict:
    training = services.training_sync(training=training)
    epoch = request.GET.get("epoch")
    return {
        "training": training,
        "job": training.job,
        "curves": presenters.curves(training),
        "weights": presenters.weight_epoch(training, int(epoch) if epoch and epoch.isdigit() else None),
        "card": presenters.model_card(training),
        "retrain_query": presenters.retrain_query(training),
        "poll_ms": presenters.POLL_MS,
        "samples": sample_clips(),
        "is_owner": training.owner_id == request.user.pk,
    }


@login_required
@require_GET
def training_detail(request: AuthenticatedHttpRequest, training_id: int) -> HttpResponse:
    """A training: progress and curves (htmx polls the live part while it runs), weights per epoch, the card."""
    training = selectors.training_get(user=request.user, training_id=training_id)
    context = _detail_context(request, training)
    target = request.htmx.target if request.htmx else None
    if target in ("training-live", "weights", "model-card"):
        response = render(request, f"workshop/detail.html#{target}", context)
        if target == "training-live" and not training.is_active:
            # The weights and the card were drawn before the end: they ask for themselves again.
            trigger_client_event(response, "training-ended")
        return response
    return render(request, "workshop/detail.html", context)


@login_required
@require_POST
def training_cancel_view(request: AuthenticatedHttpRequest, training_id: int) -> HttpResponse:
    """Stop a training (the cancel button): it ends after the batch it is on."""
    training = selectors.training_get(user=request.user, training_id=training_id)
    try:
        training = services.training_cancel(training=training)
    except ServiceError as exc:
        messages.error(request, exc.message)
    if request.htmx:
        return render(request, "workshop/detail.html#training-live", _detail_context(request, training))
    return redirect("training_detail", training_id=training.pk)


@login_required
@require_POST
def training_share_view(request: AuthenticatedHttpRequest, training_id: int) -> HttpResponse:
    """Show the trained version to your courses (or stop)."""
    training = selectors.training_get(user=request.user, training_id=training_id)
    try:
        services.training_share(training=training, shared=request.POST.get("shared") == "1")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("training_detail", training_id=training.pk)


@login_required
@require_POST
def training_debug(request: AuthenticatedHttpRequest, training_id: int) -> HttpResponse:
    """One click: analyse a sample clip with the trained version and the bundled model, and open their comparison."""
    training = selectors.training_get(user=request.user, training_id=training_id)
    try:
        experiment = services.training_debug(
            training=training, user=request.user, sample=request.POST.get("sample") or None
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("training_detail", training_id=training.pk)
    return page_redirect(request, reverse("experiment_detail", args=[experiment.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def voice_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Give labelled recordings of your voice to a course you attend (with consent), and take them back."""
    form = VoiceForm(data=request.POST if request.method == "POST" else None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.voice_contribute(
                    student=request.user,
                    course=form.cleaned_data["course"],
                    recording=form.cleaned_data["recording"],
                    label=form.cleaned_data["label"],
                    consent=form.cleaned_data["consent"],
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(request, "Thank you: the course's trainings can use this recording.")
                return redirect("voice_list")
        else:
            status = 400
    context = {
        "form": form,
        "voices": selectors.voices_of(user=request.user),
        "consent": services.VOICE_CONSENT.format(course="the course"),
    }
    return render(request, "workshop/voices.html", context, status=status)


@login_required
@require_POST
def voice_remove_view(request: AuthenticatedHttpRequest, voice_id: int) -> HttpResponse:
    """Take a contribution back (only its contributor can)."""
    services.voice_remove(voice=selectors.voice_get_own(user=request.user, voice_id=voice_id))
    messages.info(request, "Removed: trainings that start from now on will not use it.")
    return redirect("voice_list")
