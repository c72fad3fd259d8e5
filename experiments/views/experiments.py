"""Experiment pages: the list, a new comparison, the comparison page, edits, submission, review, comments."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, form_refused, page_redirect
from core.media import Media, media_view, stored_name
from experiments import comparison_page, selectors
from experiments.forms import ExperimentEditForm, ExperimentForm
from experiments.models import Analysis, Experiment
from experiments.report import experiment_report_html
from experiments.services.experiments import (
    comment_create,
    experiment_analyse,
    experiment_create,
    experiment_delete,
    experiment_duplicate,
    experiment_for_pair,
    experiment_mark_read,
    experiment_mark_reviewed,
    experiment_reopen,
    experiment_submit,
    experiment_update,
)
from modelzoo.presenters import robustness_side_by_side

# ----------------------------------------------------------------------------- access helpers


def _visible(request: AuthenticatedHttpRequest, experiment_id: int) -> Experiment:
    """An experiment the user may open, or 404."""
    return selectors.experiment_get(user=request.user, experiment_id=experiment_id)


def _owned(request: AuthenticatedHttpRequest, experiment_id: int) -> Experiment:
    """One of the user's own experiments: 404 if invisible, 403 if only readable (an instructor)."""
    experiment = _visible(request, experiment_id)
    if experiment.owner_id != request.user.pk:
        raise PermissionDenied("Only the student who made this experiment can change it.")
    return experiment


def _service_error(request: AuthenticatedHttpRequest, exc: ServiceError, experiment: Experiment) -> HttpResponse:
    """Show a service's message on the experiment page (htmx: as a fragment with its status)."""
    if request.htmx:
        return render(request, "experiments/experiment_detail.html#flash", {"error": exc.message}, status=exc.status)
    messages.error(request, exc.message)
    return redirect("experiment_detail", experiment_id=experiment.pk)


# ----------------------------------------------------------------------------- list and new


@login_required
@require_GET
def experiment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's experiments, searchable by title, notes or recording, filterable by status."""
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    experiments = selectors.experiment_search(user=request.user, query=query, status=status)
    page = Paginator(experiments, 20).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    unread = selectors.unread_counts(user=request.user, experiment_ids=[e.pk for e in rows])
    verdicts = selectors.experiment_verdicts(experiments=rows)
    for experiment in rows:
        experiment.unread = unread.get(experiment.pk, 0)
        experiment.verdicts = verdicts.get(experiment.pk)
        experiment.mode = comparison_page.experiment_mode(experiment)
    context = {
        "page": page,
        "rows": rows,
        "query": query,
        "status": status,
        "statuses": Experiment.Status.choices,
        "total": selectors.experiment_list(user=request.user).count(),
    }
    template = "experiments/experiment_list.html"
    if request.htmx and request.htmx.target == "experiment-results":
        template += "#results"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Compare two clips (or one clip through two model versions); prefilled from the lab."""
    template = "experiments/experiment_new.html"
    if request.method == "GET":
        initial = {
            "recording_a": request.GET.get("a"),
            "recording_b": request.GET.get("b"),
            "model_version": request.GET.get("model"),
            "model_version_b": request.GET.get("model_b"),
            "mode": "models" if request.GET.get("mode") == "models" else "recordings",
        }
        form = ExperimentForm(initial={k: v for k, v in initial.items() if v}, user=request.user)
        return render(request, template, {"form": form})
    form = ExperimentForm(request.POST, user=request.user)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        by_models = data["mode"] == "models"
        try:
            if request.POST.get("reuse") == "1" and not by_models and data.get("recording_b") is not None:
                # "Compare with original": the comparison of this pair opens again if it exists.
                experiment, created = experiment_for_pair(
                    owner=request.user,
                    recording_a=data["recording_a"],
                    recording_b=data["recording_b"],
                    model_version=data["model_version"],
                )
                if not created:
                    messages.info(request, "You have compared these two already: here is that experiment.")
                    return page_redirect(request, reverse("experiment_detail", args=[experiment.pk]))
            else:
                experiment = experiment_create(
                    owner=request.user,
                    title=data["title"],
                    notes=data["notes"],
                    recording_a=data["recording_a"],
                    recording_b=None if by_models else data["recording_b"],
                    model_version=data["model_version"],
                    model_version_b=data["model_version_b"] if by_models else None,
                )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, f"Saved the experiment “{experiment.title}”. Its permalink is this page.")
            return page_redirect(request, reverse("experiment_detail", args=[experiment.pk]))
    template += "#experiment-form" if request.htmx else ""
    return form_refused(request, template, {"form": form}, status=status, target="#experiment-form")


# ----------------------------------------------------------------------------- the comparison page


def _page_image(experiment: Experiment) -> Callable[[str, int, str], str]:
    def source(layer: str, index: int, side: str) -> str:
        return reverse("experiment_filter_image", args=[experiment.pk, layer, index, side])

    return source


def _page_audio(analysis: Analysis, layer: str, index: int) -> str:
    return reverse("filter_audio", args=[analysis.pk, layer, index])


def _comments_context(experiment: Experiment, user, *, last_read=None) -> dict:
    comments = list(selectors.comment_list(experiment=experiment))
    for comment in comments:
        comment.is_new = comment.author_id != user.pk and (last_read is None or comment.created_at > last_read)
        comment.by_owner = comment.author_id == experiment.owner_id
    return {
        "comments": comments,
        "can_comment": experiment.status != Experiment.Status.DRAFT
        and (experiment.owner_id == user.pk or selectors.is_experiment_reviewer(user=user, experiment=experiment)),
    }


def _results_context(request: AuthenticatedHttpRequest, experiment: Experiment, *, swap: bool) -> dict:
    """What the results fragment shows: both sides, their analyses' progress, and what changed once done."""
    left, right = comparison_page.sides(experiment, swap=swap)
    context = {
        "experiment": experiment,
        "mode": comparison_page.experiment_mode(experiment),
        "left": left,
        "right": right,
        "swap": swap,
        "swap_query": "" if swap else "?swap=1",
        "keep_swap": "swap=1&" if swap else "",
        **comparison_page.progress(left, right),
    }
    if context["done"]:
        context["results"] = comparison_page.results(
            left,
            right,
            layer_name=request.GET.get("layer"),
            order="index" if request.GET.get("order") == "index" else "change",
            image_source=_page_image(experiment),
            audio_source=_page_audio,
        )
    return context


@login_required
@require_GET
def experiment_detail(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """The comparison: A and B side by side, what changed layer by layer, notes, review and comments.

    htmx asks for fragments: `results` (polled while an analysis runs), `layer-panel`
    (another layer or order), `comments`.
    """
    experiment = _visible(request, experiment_id)
    context = _results_context(request, experiment, swap=request.GET.get("swap") == "1")
    left, right = context["left"], context["right"]
    is_owner = experiment.owner_id == request.user.pk
    context |= {
        "is_owner": is_owner,
        "is_reviewer": selectors.is_experiment_reviewer(user=request.user, experiment=experiment),
    }
    target = request.htmx.target if request.htmx else None
    if target in ("results", "layer-panel"):
        return render(request, f"experiments/experiment_detail.html#{target}", context)
    for side in (left, right):
        side.level = comparison_page.clip_level(side.recording)
    if context["mode"] == "models":
        context["weights"] = comparison_page.weight_overlays(left.model_version, right.model_version)
        context["robustness_pairs"] = robustness_side_by_side(left.model_version, right.model_version)
    last_read = selectors.read_mark_at(user=request.user, experiment=experiment)
    context |= _comments_context(experiment, request.user, last_read=last_read)
    context["new_comments"] = sum(1 for comment in context["comments"] if comment.is_new)
    experiment_mark_read(experiment=experiment, user=request.user)
    if is_owner and experiment.status == Experiment.Status.DRAFT:
        context["courses"] = selectors.courses_attended(user=request.user)
    return render(request, "experiments/experiment_detail.html", context)


@media_view
def experiment_filter_image(
    request: AuthenticatedHttpRequest, experiment_id: int, layer_name: str, index: int, side: str
) -> Media:
    """One filter's map for A or B on their shared scale, or the difference A−B / B−A (RdBu_r, centred on 0)."""
    experiment = _visible(request, experiment_id)
    if side not in comparison_page.SIDES:
        raise Http404("Unknown side.")
    analysis_a, analysis_b = selectors.experiment_analyses(experiment)
    if not (analysis_a and analysis_b and analysis_a.is_done and analysis_b.is_done):
        raise Http404("The analyses have not finished.")
    pair = comparison_page.layer_pair(analysis_a, analysis_b, layer_name)
    if pair is None:
        raise Http404(f"No layer called {layer_name}.")
    a, b = pair
    own = b if side == "b" else a
    if not 0 <= index < own.shape[0]:
        raise Http404("No such filter.")
    render_side = side
    if a.shape != b.shape:
        # Two different architectures: no difference map, each side on its own scale.
        if side not in ("a", "b"):
            raise Http404("These layers have different shapes: there is no difference map.")
        a = b = own
        render_side = "a"
    files = (stored_name(analysis_a.activations), stored_name(analysis_b.activations))
    etag = f"cmp-{analysis_a.pk}-{files[0]}-{analysis_b.pk}-{files[1]}-{layer_name}-{index}-{side}"
    return Media(etag, "image/png", lambda: comparison_page.filter_image_png(a, b, index, render_side))


@login_required
@require_GET
def experiment_report(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """Download the experiment as one self-contained HTML file (images and sounds embedded)."""
    experiment = _visible(request, experiment_id)
    html = experiment_report_html(experiment=experiment, viewer=request.user)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    name = slugify(experiment.title)[:60] or "experiment"
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="experiment-{experiment.pk}-{name}-{stamp}.html"'
    response["Cache-Control"] = "private, no-store"
    return response


# ----------------------------------------------------------------------------- changes by the owner


@login_required
@require_http_methods(["GET", "POST"])
def experiment_edit(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """Rename an experiment and edit its notes."""
    experiment = _owned(request, experiment_id)
    template = "experiments/experiment_edit.html"
    if request.method == "GET":
        form = ExperimentEditForm(initial={"title": experiment.title, "notes": experiment.notes})
        return render(request, template, {"form": form, "experiment": experiment})
    form = ExperimentEditForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            experiment_update(experiment=experiment, title=form.cleaned_data["title"], notes=form.cleaned_data["notes"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, "Saved.")
            return page_redirect(request, reverse("experiment_detail", args=[experiment.pk]))
    template += "#edit-form" if request.htmx else ""
    context = {"form": form, "experiment": experiment}
    return form_refused(request, template, context, status=status, target="#edit-form")


@login_required
@require_POST
def experiment_duplicate_view(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """Copy an experiment as a new draft and open the copy."""
    experiment = _owned(request, experiment_id)
    copy = experiment_duplicate(experiment=experiment, owner=request.user)
    messages.success(request, f"Duplicated as “{copy.title}”, a new draft.")
    return redirect("experiment_detail", experiment_id=copy.pk)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_delete_view(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """Ask, then delete a draft experiment (its recordings stay)."""
    experiment = _owned(request, experiment_id)
    template = "experiments/experiment_confirm_delete.html"
    if request.method == "GET":
        return render(request, template, {"experiment": experiment})
    try:
        experiment_delete(experiment=experiment)
    except ServiceError as exc:
        return render(request, template, {"experiment": experiment, "error": exc.message}, status=exc.status)
    messages.success(request, f"Deleted “{experiment.title}”. Its recordings are still in your lab.")
    return redirect("experiment_list")


@login_required
@require_POST
def experiment_submit_view(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """Submit a draft to one of the student's courses."""
    experiment = _owned(request, experiment_id)
    try:
        course = selectors.course_attended_get(user=request.user, course_id=request.POST.get("course", ""))
        if course is None:
            raise ServiceError("Choose one of your courses to submit to.")
        experiment_submit(experiment=experiment, course=course)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("experiment_detail", experiment_id=experiment.pk)
    messages.success(request, f"Submitted to {course.name}. Its instructors can now open it and comment.")
    return redirect("experiment_detail", experiment_id=experiment.pk)


@login_required
@require_POST
def experiment_retry(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """Ask for the analyses an experiment is missing and run the failed ones again ("Analyse", "Retry")."""
    experiment = _visible(request, experiment_id)
    try:
        experiment_analyse(experiment=experiment)
    except ServiceError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect("experiment_detail", experiment_id=experiment.pk)
        context = _results_context(request, experiment, swap=request.POST.get("swap") == "1") | {"error": exc.message}
        template = "experiments/experiment_detail.html#results"
        return form_refused(request, template, context, status=exc.status, target="#results")
    if request.htmx:
        context = _results_context(request, experiment, swap=request.POST.get("swap") == "1")
        return render(request, "experiments/experiment_detail.html#results", context)
    return redirect("experiment_detail", experiment_id=experiment.pk)


# ----------------------------------------------------------------------------- review and comments


@login_required
@require_POST
def experiment_review(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """An instructor marks a submission reviewed (or puts it back in the waiting list)."""
    experiment = _visible(request, experiment_id)
    try:
        if request.POST.get("action") == "reopen":
            experiment_reopen(experiment=experiment, reviewer=request.user)
            messages.success(request, "Back in the waiting list.")
        else:
            experiment_mark_reviewed(experiment=experiment, reviewer=request.user)
            messages.success(request, f"Marked “{experiment.title}” as reviewed.")
    except ServiceError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        return _service_error(request, exc, experiment)
    if experiment.course_id and request.POST.get("next") == "course":
        return redirect("course_detail", course_id=experiment.course_id)
    return redirect("experiment_detail", experiment_id=experiment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_comments(request: AuthenticatedHttpRequest, experiment_id: int) -> HttpResponse:
    """The comment thread (htmx fragment); POST adds a comment or a reply."""
    experiment = _visible(request, experiment_id)
    thread = reverse("experiment_detail", args=[experiment.pk]) + "#comments"
    if request.method == "POST":
        try:
            comment_create(experiment=experiment, author=request.user, body=request.POST.get("body", ""))
        except ServiceError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from None
            if not request.htmx:
                messages.error(request, exc.message)
                return redirect(thread)
            context = {"experiment": experiment, "error": exc.message, "draft": request.POST.get("body", "")}
            context |= _comments_context(experiment, request.user)
            template = "experiments/experiment_detail.html#comments"
            return form_refused(request, template, context, status=exc.status, target="#comments")
    if not request.htmx:
        return redirect(thread)
    if request.method == "GET":
        experiment_mark_read(experiment=experiment, user=request.user)
    experiment.refresh_from_db()
    context = {"experiment": experiment, **_comments_context(experiment, request.user)}
    return render(request, "experiments/experiment_detail.html#comments", context)
