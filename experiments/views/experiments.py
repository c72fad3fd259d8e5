"""Experiment pages: the list, a new comparison, the comparison page, edits, submission, review, comments."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ServiceError
from core.media import cached_response
from experiments import comparison_page, selectors
from experiments.models import Analysis, Experiment, ReadMark, Recording
from experiments.report import experiment_report_html
from experiments.services.analyses import analysis_retry
from experiments.services.experiments import (
    comment_create,
    experiment_create,
    experiment_delete,
    experiment_duplicate,
    experiment_mark_read,
    experiment_mark_reviewed,
    experiment_reopen,
    experiment_request_analyses,
    experiment_submit,
    experiment_update,
)
from experiments.views.analyses import poll_delay_ms
from modelzoo.models import ModelVersion
from modelzoo.presenters import robustness_side_by_side

# ----------------------------------------------------------------------------- access helpers


def _visible(request: HttpRequest, experiment_id: int) -> Experiment:
    """An experiment the user may open, or 404."""
    return selectors.experiment_get(user=request.user, experiment_id=experiment_id)


def _owned(request: HttpRequest, experiment_id: int) -> Experiment:
    """One of the user's own experiments: 404 if invisible, 403 if only readable (an instructor)."""
    experiment = _visible(request, experiment_id)
    if experiment.owner_id != request.user.pk:
        raise PermissionDenied("Only the student who made this experiment can change it.")
    return experiment


def _is_reviewer(experiment: Experiment, user) -> bool:
    """True for an instructor of the course the experiment was submitted to."""
    return (
        experiment.course_id is not None
        and experiment.status != Experiment.Status.DRAFT
        and experiment.course.instructors.filter(pk=user.pk).exists()
    )


def _service_error(request: HttpRequest, exc: ServiceError, experiment: Experiment) -> HttpResponse:
    """Show a service's message on the experiment page (htmx: as a fragment with its status)."""
    if request.htmx:
        return render(request, "experiments/experiment_detail.html#flash", {"error": exc.message}, status=exc.status)
    messages.error(request, exc.message)
    return redirect("experiment_detail", experiment_id=experiment.pk)


# ----------------------------------------------------------------------------- forms


class RecordingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, recording: Recording) -> str:
        version = f" · edit of “{recording.root.title}”" if recording.root_id else ""
        return f"{recording.title} · {recording.duration_s:.2f} s{version}"


class ExperimentForm(forms.Form):
    """A new comparison: two clips through one model, or one clip through two models."""

    MODES = [("recordings", "Two clips, one model"), ("models", "One clip, two model versions")]

    title = forms.CharField(max_length=200, required=False, help_text="Leave empty to name it after what it compares.")
    mode = forms.ChoiceField(choices=MODES, initial="recordings", widget=forms.RadioSelect)
    recording_a = RecordingChoiceField(queryset=Recording.objects.none(), label="Recording A")
    recording_b = RecordingChoiceField(queryset=Recording.objects.none(), required=False, label="Recording B")
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(), required=False, label="Model version", empty_label="The active model"
    )
    model_version_b = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(), required=False, label="Second model version"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=20000)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        recordings = selectors.recording_list(user=user)
        self.fields["recording_a"].queryset = recordings
        self.fields["recording_b"].queryset = recordings
        valid = ModelVersion.objects.filter(status=ModelVersion.Status.VALID)
        self.fields["model_version"].queryset = valid
        self.fields["model_version_b"].queryset = valid
        self.model_choices = valid.count()


class ExperimentEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False, max_length=20000)


# ----------------------------------------------------------------------------- list and new


@login_required
@require_GET
def experiment_list(request: HttpRequest) -> HttpResponse:
    """The user's experiments, searchable by title, notes or recording, filterable by status."""
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    experiments = selectors.experiment_search(user=request.user, query=query, status=status)
    page = Paginator(experiments, 20).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    unread = selectors.unread_counts(user=request.user, experiment_ids=[e.pk for e in rows])
    verdicts = _verdicts(rows)
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


def _verdicts(experiments: list[Experiment]) -> dict[int, tuple[str, str]]:
    """Each experiment's predicted labels (A, B) where both analyses are done, in one query."""
    pairs = {e.pk: selectors.experiment_sides(e) for e in experiments}
    wanted = Q(pk__in=[])
    for (rec_a, model_a), (rec_b, model_b) in pairs.values():
        wanted |= Q(recording=rec_a, model_version=model_a) | Q(recording=rec_b, model_version=model_b)
    found = {
        (a.recording_id, a.model_version_id): a.predicted_label
        for a in Analysis.objects.filter(wanted, job__status="done").only(
            "recording", "model_version", "predicted_label"
        )
    }
    verdicts = {}
    for pk, ((rec_a, model_a), (rec_b, model_b)) in pairs.items():
        a, b = found.get((rec_a.pk, model_a.pk)), found.get((rec_b.pk, model_b.pk))
        if a is not None and b is not None:
            verdicts[pk] = (a, b)
    return verdicts


@login_required
@require_http_methods(["GET", "POST"])
def experiment_new(request: HttpRequest) -> HttpResponse:
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
    if not form.is_valid():
        return render(request, template, {"form": form}, status=400)
    data = form.cleaned_data
    by_models = data["mode"] == "models"
    try:
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
        return render(request, template, {"form": form, "error": exc.message}, status=exc.status)
    messages.success(request, f"Saved the experiment “{experiment.title}”. Its permalink is this page.")
    return redirect("experiment_detail", experiment_id=experiment.pk)


# ----------------------------------------------------------------------------- the comparison page


def _page_image(experiment: Experiment) -> callable:
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
        and (experiment.owner_id == user.pk or _is_reviewer(experiment, user)),
    }


@login_required
@require_GET
def experiment_detail(request: HttpRequest, experiment_id: int) -> HttpResponse:
    """The comparison: A and B side by side, what changed layer by layer, notes, review and comments.

    htmx asks for fragments: `results` (polled while an analysis runs), `layer-panel`
    (another layer or order), `comments`.
    """
    experiment = _visible(request, experiment_id)
    swap = request.GET.get("swap") == "1"
    left, right = comparison_page.sides(experiment, swap=swap)
    if left.analysis is None or right.analysis is None:
        try:
            experiment_request_analyses(experiment=experiment)
        except ServiceError as exc:
            messages.error(request, exc.message)
        left, right = comparison_page.sides(experiment, swap=swap)
    is_owner = experiment.owner_id == request.user.pk
    context = {
        "experiment": experiment,
        "mode": comparison_page.experiment_mode(experiment),
        "left": left,
        "right": right,
        "swap": swap,
        "swap_query": "" if swap else "?swap=1",
        "keep_swap": "swap=1&" if swap else "",
        "is_owner": is_owner,
        "is_reviewer": _is_reviewer(experiment, request.user),
        "done": left.is_done and right.is_done,
        "failed": "failed" in (left.status, right.status),
        # the side still waiting decides: soon after the jobs were queued, then less often
        "poll_ms": max(poll_delay_ms(left.analysis), poll_delay_ms(right.analysis), 100),
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
    target = request.htmx.target if request.htmx else None
    if target in ("results", "layer-panel"):
        return render(request, f"experiments/experiment_detail.html#{target}", context)
    for side in (left, right):
        side.level = comparison_page.clip_level(side.recording)
    if context["mode"] == "models":
        context["weights"] = comparison_page.weight_overlays(left.model_version, right.model_version)
        context["robustness_pairs"] = robustness_side_by_side(left.model_version, right.model_version)
    mark = ReadMark.objects.filter(user=request.user, experiment=experiment).first()
    context |= _comments_context(experiment, request.user, last_read=mark.read_at if mark else None)
    context["new_comments"] = sum(1 for comment in context["comments"] if comment.is_new)
    experiment_mark_read(experiment=experiment, user=request.user)
    if is_owner and experiment.status == Experiment.Status.DRAFT:
        context["courses"] = selectors.courses_attended(user=request.user)
    return render(request, "experiments/experiment_detail.html", context)


@login_required
@require_GET
def experiment_filter_image(
    request: HttpRequest, experiment_id: int, layer_name: str, index: int, side: str
) -> HttpResponse:
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
    files = (analysis_a.activations.name.rsplit("/", 1)[-1], analysis_b.activations.name.rsplit("/", 1)[-1])
    etag = f"cmp-{analysis_a.pk}-{files[0]}-{analysis_b.pk}-{files[1]}-{layer_name}-{index}-{side}"
    return cached_response(
        request, etag, "image/png", lambda: comparison_page.filter_image_png(a, b, index, render_side)
    )


@login_required
@require_GET
def experiment_report(request: HttpRequest, experiment_id: int) -> HttpResponse:
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
def experiment_edit(request: HttpRequest, experiment_id: int) -> HttpResponse:
    """Rename an experiment and edit its notes."""
    experiment = _owned(request, experiment_id)
    template = "experiments/experiment_edit.html"
    if request.method == "GET":
        form = ExperimentEditForm(initial={"title": experiment.title, "notes": experiment.notes})
        return render(request, template, {"form": form, "experiment": experiment})
    form = ExperimentEditForm(request.POST)
    if not form.is_valid():
        return render(request, template, {"form": form, "experiment": experiment}, status=400)
    try:
        experiment_update(experiment=experiment, title=form.cleaned_data["title"], notes=form.cleaned_data["notes"])
    except ServiceError as exc:
        return render(
            request, template, {"form": form, "experiment": experiment, "error": exc.message}, status=exc.status
        )
    messages.success(request, "Saved.")
    return redirect("experiment_detail", experiment_id=experiment.pk)


@login_required
@require_POST
def experiment_duplicate_view(request: HttpRequest, experiment_id: int) -> HttpResponse:
    """Copy an experiment as a new draft and open the copy."""
    experiment = _owned(request, experiment_id)
    copy = experiment_duplicate(experiment=experiment, owner=request.user)
    messages.success(request, f"Duplicated as “{copy.title}”, a new draft.")
    return redirect("experiment_detail", experiment_id=copy.pk)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_delete_view(request: HttpRequest, experiment_id: int) -> HttpResponse:
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
def experiment_submit_view(request: HttpRequest, experiment_id: int) -> HttpResponse:
    """Submit a draft to one of the student's courses."""
    experiment = _owned(request, experiment_id)
    try:
        course = selectors.courses_attended(user=request.user).filter(pk=request.POST.get("course") or 0).first()
        if course is None:
            raise ServiceError("Choose one of your courses to submit to.")
        experiment_submit(experiment=experiment, course=course)
    except (ServiceError, ValueError) as exc:
        message = exc.message if isinstance(exc, ServiceError) else "Choose one of your courses to submit to."
        messages.error(request, message)
        return redirect("experiment_detail", experiment_id=experiment.pk)
    messages.success(request, f"Submitted to {course.name}. Its instructors can now open it and comment.")
    return redirect("experiment_detail", experiment_id=experiment.pk)


@login_required
@require_POST
def experiment_retry(request: HttpRequest, experiment_id: int) -> HttpResponse:
    """Run the failed analyses of an experiment again."""
    experiment = _visible(request, experiment_id)
    for analysis in selectors.experiment_analyses(experiment):
        if analysis is not None and analysis.job.status == "failed":
            try:
                analysis_retry(analysis=analysis)
            except ServiceError as exc:
                messages.error(request, exc.message)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("experiment_detail", experiment_id=experiment.pk)


# ----------------------------------------------------------------------------- review and comments


@login_required
@require_POST
def experiment_review(request: HttpRequest, experiment_id: int) -> HttpResponse:
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
def experiment_comments(request: HttpRequest, experiment_id: int) -> HttpResponse:
    """The comment thread (htmx fragment); POST adds a comment or a reply."""
    experiment = _visible(request, experiment_id)
    error = None
    if request.method == "POST":
        try:
            comment_create(experiment=experiment, author=request.user, body=request.POST.get("body", ""))
        except ServiceError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from None
            if not request.htmx:
                messages.error(request, exc.message)
                return redirect(reverse("experiment_detail", args=[experiment.pk]) + "#comments")
            error = exc.message
        if not request.htmx:
            return redirect(reverse("experiment_detail", args=[experiment.pk]) + "#comments")
    elif not request.htmx:
        return redirect(reverse("experiment_detail", args=[experiment.pk]) + "#comments")
    else:
        experiment_mark_read(experiment=experiment, user=request.user)
    experiment.refresh_from_db()
    context = {"experiment": experiment, "error": error, **_comments_context(experiment, request.user)}
    if error:
        context["draft"] = request.POST.get("body", "")
    return render(request, "experiments/experiment_detail.html#comments", context, status=400 if error else 200)
