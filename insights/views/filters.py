"""What each filter of a model version likes, heard and seen; its concept labels; computing it for a version."""

from functools import lru_cache

import numpy as np
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, form_refused
from core.media import Media, media_view, stored_name
from dsp.decode import decode_audio
from dsp.features import prepare
from dsp.params import FeatureParams
from dsp.sonification import sonify, wav_bytes
from insights import selectors
from insights.models import VersionInsight
from insights.panels import filter_insight_context
from insights.services import conv_filter_check, filter_label_propose, filter_label_review, version_insight_request
from modelzoo.models import ModelVersion
from modelzoo.rendering import filter_png
from modelzoo.samples import sample_clip
from modelzoo.selectors import model_version_get

#: Favourite clips played one after another by "listen to what it likes", and the silence between them.
LIKES_CLIPS = 5
LIKES_GAP_S = 0.25


def _filter(request: AuthenticatedHttpRequest, version_id: int, layer: str, index: int) -> ModelVersion:
    """A version the user may see with a convolution filter of that name and index, or 404."""
    version = model_version_get(user=request.user, version_id=version_id)
    try:
        conv_filter_check(version=version, layer=layer, index=index)
    except ServiceError as exc:
        raise Http404(exc.message) from None
    return version


def _profile(version: ModelVersion, layer: str, index: int) -> tuple[VersionInsight, dict]:
    insight = selectors.version_insight_done(version=version)
    profile = selectors.filter_profile(insight, layer=layer, index=index) if insight else None
    if insight is None or profile is None:
        raise Http404("What this filter likes has not been computed yet.")
    return insight, profile


@lru_cache(maxsize=64)
def _clip_spectrum(name: str, params_items: tuple) -> np.ndarray:
    """The STFT a bundled clip reaches the network with (its fitted window), for these feature parameters."""
    clip = sample_clip(name)
    if clip is None:
        raise Http404("No such clip.")
    y, sr = decode_audio(clip.path)
    return prepare(y, sr, FeatureParams.from_dict(dict(params_items)), allow_silent=True).stft


def _example(request: AuthenticatedHttpRequest, version_id: int, layer: str, index: int, rank: int) -> tuple:
    version = _filter(request, version_id, layer, index)
    insight, profile = _profile(version, layer, index)
    if not 0 <= rank < len(profile["examples"]):
        raise Http404("This filter has no such example.")
    values = selectors.example_map(insight, layer=layer, index=index, rank=rank)
    if values is None:
        raise Http404("This filter has no such example.")
    return version, insight, profile["examples"][rank], values


def _etag(insight: VersionInsight, *parts: object) -> str:
    return "-".join(str(p) for p in ("fx", insight.pk, stored_name(insight.examples), *parts))


@login_required
@require_GET
def model_filter(request: AuthenticatedHttpRequest, version_id: int, layer: str, index: int) -> HttpResponse:
    """One filter of a model version: the clips it likes most, its response per digit, dead or not, its labels."""
    version = _filter(request, version_id, layer, index)
    context = filter_insight_context(user=request.user, version=version, layer=layer, index=index)
    row = next(r for r in version.conv_layers if r["name"] == layer)
    context |= {"previous": index - 1 if index > 0 else None, "next": index + 1 if index + 1 < row["filters"] else None}
    return render(request, "insights/model_filter.html", context)


@media_view
def filter_example_image(
    request: AuthenticatedHttpRequest, version_id: int, layer: str, index: int, rank: int
) -> Media:
    """The map of one of a filter's favourite clips through it (scaled to its own maximum)."""
    _, insight, _, values = _example(request, version_id, layer, index, rank)
    return Media(
        etag=_etag(insight, layer, index, rank, "png"),
        content_type="image/png",
        render=lambda: filter_png(values, vmax=float(values.max()) or 1.0),
    )


@media_view
def filter_example_audio(
    request: AuthenticatedHttpRequest, version_id: int, layer: str, index: int, rank: int
) -> Media:
    """One of a filter's favourite clips as the filter hears it (its map as a mask, the clip's own phase)."""
    version, insight, example, values = _example(request, version_id, layer, index, rank)
    params = FeatureParams.from_dict(version.feature_params)

    def render_wav() -> bytes:
        spectrum = _clip_spectrum(example["clip"], tuple(sorted(version.feature_params.items())))
        return wav_bytes(sonify(values, spectrum, params), params.sample_rate)

    return Media(etag=_etag(insight, layer, index, rank, "wav"), content_type="audio/wav", render=render_wav)


@media_view
def filter_likes_audio(request: AuthenticatedHttpRequest, version_id: int, layer: str, index: int) -> Media:
    """ "Listen to what it likes": its favourite clips through the filter, one after another."""
    version = _filter(request, version_id, layer, index)
    insight, profile = _profile(version, layer, index)
    if not profile["examples"]:
        raise Http404("This filter never fires on the evaluation clips: there is nothing it likes.")
    params = FeatureParams.from_dict(version.feature_params)
    items = tuple(sorted(version.feature_params.items()))

    def render_wav() -> bytes:
        gap = np.zeros(round(LIKES_GAP_S * params.sample_rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for rank, example in enumerate(profile["examples"][:LIKES_CLIPS]):
            values = selectors.example_map(insight, layer=layer, index=index, rank=rank)
            if values is None:
                continue
            y = sonify(values, _clip_spectrum(example["clip"], items), params)
            peak = float(np.max(np.abs(y))) or 1.0
            parts += [y / peak, gap]  # each clip at the same level: the loudest would drown the others
        return wav_bytes(np.concatenate(parts[:-1]) if parts else gap, params.sample_rate)

    return Media(etag=_etag(insight, layer, index, "likes"), content_type="audio/wav", render=render_wav)


@login_required
@require_POST
def filter_labels(request: AuthenticatedHttpRequest, version_id: int, layer: str, index: int) -> HttpResponse:
    """Propose a concept label for a filter; htmx gets the labels list back, with the error next to the field."""
    version = _filter(request, version_id, layer, index)
    error, status = "", 200
    try:
        filter_label_propose(
            version=version, layer=layer, index=index, text=request.POST.get("text", ""), proposed_by=request.user
        )
    except ServiceError as exc:
        error, status = exc.message, exc.status
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, "Label proposed: an instructor of your course will review it.")
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("model_filter", args=[version.pk, layer, index])
        return redirect(target)
    context = filter_insight_context(user=request.user, version=version, layer=layer, index=index)
    context |= {"label_error": error, "label_text": request.POST.get("text", "") if error else ""}
    if error:
        return form_refused(
            request,
            "insights/_filter_labels.html",
            context,
            status=status,
            target=f"#labels-{version.pk}-{layer}-{index}",
        )
    return render(request, "insights/_filter_labels.html", context)


@login_required
@require_POST
def filter_label_review_view(request: AuthenticatedHttpRequest, label_id: int) -> HttpResponse:
    """Approve or reject a proposed label (instructors of the proposer's course)."""
    label = selectors.filter_label_get(user=request.user, label_id=label_id)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        error, status = "Approve or reject the label.", 400
    else:
        try:
            filter_label_review(label=label, reviewer=request.user, approve=decision == "approve")
            error, status = "", 200
        except ServiceError as exc:
            error, status = exc.message, exc.status
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("filter_labels_review")
    label.refresh_from_db()
    if request.POST.get("panel"):
        context = filter_insight_context(
            user=request.user, version=label.model_version, layer=label.layer, index=label.index
        )
        panel = f"#labels-{label.model_version_id}-{label.layer}-{label.index}"
        return form_refused(
            request, "insights/_filter_labels.html", context | {"review_error": error}, status=status, target=panel
        )
    context = {"label": label, "error": error}
    if error:
        return form_refused(
            request, "insights/_label_review_row.html", context, status=status, target=f"tr[data-label='{label.pk}']"
        )
    return render(request, "insights/_label_review_row.html", context)


@login_required
@require_GET
def filter_labels_review(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Concept labels waiting for the instructor's review, from students of their courses."""
    return render(
        request,
        "insights/filter_labels_review.html",
        {"waiting": selectors.filter_labels_to_review(instructor=request.user)[:200]},
    )


@staff_member_required
@require_POST
def model_insight_compute(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    """Compute (or retry) what every filter of a version likes, on a worker (admins)."""
    version = model_version_get(user=request.user, version_id=version_id)
    try:
        insight, created = version_insight_request(version=version, requested_by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if insight.is_done and not created:
            messages.info(request, "What each filter likes was computed already.")
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect("model_detail", version_id=version.pk)
