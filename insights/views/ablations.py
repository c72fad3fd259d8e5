"""Ablations: mute filters of a layer (or solo one) and hear and see what the rest of the network makes of it."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest
from core.media import Media, media_view, stored_name
from core.throttles import throttle_job_start
from dsp.params import FeatureParams
from dsp.sonification import wav_bytes
from experiments import selectors as experiment_selectors
from experiments.models import Analysis
from insights import selectors
from insights.ablation import MODES, layer_mask
from insights.attribution import listen
from insights.models import Ablation
from insights.presenters import ablation_rows, accuracy_sentence
from insights.services import ablation_request


def _int_list(values: list[str]) -> list[int] | None:
    try:
        return [int(v) for v in values]
    except ValueError:
        return None


def _form_context(analysis: Analysis, layer_name: str) -> dict:
    layer = next((row for row in analysis.layers if row["name"] == layer_name), analysis.layers[0])
    return {
        "layer": layer,
        "filters": [{"index": k, "mean": layer["mean"][k]} for k in range(layer["filters"])],
        "history": selectors.ablations_of(analysis=analysis),
    }


@login_required
@require_http_methods(["GET", "POST"])
@throttle_job_start("ablations")
def analysis_ablations(request: AuthenticatedHttpRequest, analysis_id: int) -> HttpResponse:
    """Pick a layer and filters to mute (or one to solo); the history of this clip's ablations below."""
    analysis = experiment_selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done or not analysis.layers:
        raise Http404("This analysis has not finished.")
    is_owner = analysis.recording.owner_id == request.user.pk
    layer_name = request.POST.get("layer") or request.GET.get("layer") or analysis.layers[0]["name"]
    error, status = "", 200
    if request.method == "POST":
        if not is_owner:
            raise Http404("Only the owner of the recording can edit its network.")
        mode = request.POST.get("mode", "mute")
        filters = _int_list(request.POST.getlist("filters"))
        if mode == "solo" and request.POST.get("solo") not in (None, ""):
            filters = _int_list([request.POST["solo"]])
        if mode not in MODES:
            error, status = "Choose to mute filters or to solo one.", 400
        elif filters is None:
            error, status = "Filters are given by their index (whole numbers).", 400
        else:
            try:
                ablation, _ = ablation_request(
                    analysis=analysis, layer=layer_name, mode=mode, filters=filters, requested_by=request.user
                )
            except ServiceError as exc:
                error, status = exc.message, exc.status
            else:
                return redirect(ablation)
    context = {
        "analysis": analysis,
        "recording": analysis.recording,
        "is_owner": is_owner,
        "error": error,
        "selected": set(_int_list(request.POST.getlist("filters")) or []),
        "mode": request.POST.get("mode") or request.GET.get("mode") or "mute",
        **_form_context(analysis, layer_name),
    }
    if request.GET.get("filter", "").isdigit():
        context["selected"] = {int(request.GET["filter"])}
    template = "insights/ablation_new.html" + ("#ablation-form" if request.htmx else "")
    return render(request, template, context, status=status)


@login_required
@require_GET
def ablation_detail(request: AuthenticatedHttpRequest, ablation_id: int) -> HttpResponse:
    """With and without: the probabilities, each digit's change, the layer's sound, the evaluation-set accuracy."""
    ablation = selectors.ablation_get(user=request.user, ablation_id=ablation_id)
    analysis = ablation.analysis
    context = {
        "ablation": ablation,
        "analysis": analysis,
        "recording": analysis.recording,
        "job": ablation.job,
        "rows": ablation_rows(analysis.probabilities, ablation.probabilities) if ablation.probabilities else [],
        "accuracy": ablation.accuracy,
        "accuracy_sentence": accuracy_sentence(ablation.accuracy.result) if ablation.accuracy else "",
        "accuracy_percent": {
            key: f"{ablation.accuracy.result[key] * 100:.1f}%"
            for key in ("before", "after")
            if ablation.accuracy and ablation.accuracy.result
        },
        "history": selectors.ablations_of(analysis=analysis)[:20],
    }
    template = "insights/ablation_detail.html" + ("#ablation" if request.htmx else "")
    return render(request, template, context)


@media_view
def ablation_audio(request: AuthenticatedHttpRequest, ablation_id: int, part: str) -> Media:
    """The clip through the edited layer (`after`) or the whole layer (`before`): the sum of its maps as a mask."""
    if part not in ("before", "after"):
        raise Http404("Listen to the layer before or after the edit.")
    ablation: Ablation = selectors.ablation_get(user=request.user, ablation_id=ablation_id)
    analysis = ablation.analysis
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    cache = experiment_selectors.analysis_cache(analysis)
    if ablation.layer not in cache.activations:
        raise Http404("No such layer.")
    params = FeatureParams.from_dict(analysis.model_version.feature_params)

    def render_wav() -> bytes:
        muted = ablation.muted if part == "after" else []
        mask = layer_mask(cache.activations[ablation.layer], muted, cache.stft.shape)
        return wav_bytes(listen(cache.stft, mask, params), params.sample_rate)

    etag = f"ablation-{ablation.pk}-{stored_name(analysis.activations)}-{part}"
    return Media(etag=etag, content_type="audio/wav", render=render_wav)
