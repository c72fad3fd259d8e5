"""The layer explorer: the prediction, every filter's map and sound, zoom, and the model's weights."""

from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import replace_url

from core.errors import ServiceError
from core.htmx import AuthenticatedHttpRequest, form_refused
from core.media import Media, media_view, stored_name
from dsp.params import FeatureParams
from dsp.sonification import wav_bytes
from experiments import selectors
from experiments.filter_media import filter_audio_media, filter_image_media, layer_maps_media, media_grant
from experiments.models import Analysis
from experiments.presenters import filter_statistics, filter_tiles, layer_overview, poll_delay_ms, probability_rows
from experiments.services.analyses import analysis_request, analysis_retry
from modelzoo.rendering import figure_png
from modelzoo.selectors import weight_panels


def _layer(analysis: Analysis, layer_name: str) -> dict:
    """The stored statistics of one convolution layer of a finished analysis, or 404."""
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    for layer in analysis.layers:
        if layer["name"] == layer_name:
            return layer
    raise Http404(f"No convolution layer called {layer_name}.")


def _filter_map(analysis: Analysis, layer_name: str, index: int) -> tuple[dict, np.ndarray]:
    layer = _layer(analysis, layer_name)
    if not 0 <= index < layer["filters"]:
        raise Http404(f"{layer_name} has {layer['filters']} filters.")
    return layer, selectors.analysis_cache(analysis).activations[layer_name][index].astype(np.float32)


@login_required
@require_http_methods(["GET", "POST"])
def recording_analysis(request: AuthenticatedHttpRequest, recording_id: int) -> HttpResponse:
    """The prediction panel htmx polls while the worker runs; POST (the owner's "Analyse" or "Retry") starts it."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    analysis = selectors.analysis_for(recording=recording)
    context = {"recording": recording, "is_owner": recording.owner_id == request.user.pk}
    if request.method == "POST":
        if not context["is_owner"]:
            raise Http404("Only the owner can analyse this recording.")
        try:
            if analysis is None:
                analysis, _ = analysis_request(recording=recording, requested_by=request.user)
            elif analysis.job.status == "failed":
                analysis = analysis_retry(analysis=analysis)
        except ServiceError as exc:
            if not request.htmx:
                messages.error(request, exc.message)
                return redirect(recording)
            context |= {"analysis": analysis, "poll_ms": poll_delay_ms(analysis), "error": exc.message}
            template = "experiments/recording_detail.html#analysis-panel"
            return form_refused(request, template, context, status=exc.status, target="#analysis-panel")
    if not request.htmx:
        return redirect(recording)
    context |= {"analysis": analysis, "poll_ms": poll_delay_ms(analysis)}
    if analysis is not None and analysis.is_done:
        context |= {"probabilities": probability_rows(analysis), **explorer_context(analysis, viewer=request.user)}
    return render(request, "experiments/recording_detail.html#analysis-panel", context)


@login_required
@require_GET
def analysis_explorer(request: AuthenticatedHttpRequest, analysis_id: int) -> HttpResponse:
    """The layer explorer: a tab per layer with all its filters, plus overview, input, weights, model."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    context = explorer_context(
        analysis,
        viewer=request.user,
        tab=request.GET.get("tab", ""),
        scale=request.GET.get("scale", ""),
        sort=request.GET.get("sort", ""),
    )
    if not request.htmx:
        return render(request, "experiments/explorer.html", context)
    response = render(request, "experiments/explorer.html#explorer", context)
    page = _explorer_page_url(request, analysis, context)
    if page is not None:
        # The layer, colour scale and order live in the address bar: a reload or a shared link keeps them.
        replace_url(response, page)
    return response


def _explorer_page_url(request: AuthenticatedHttpRequest, analysis: Analysis, context: dict) -> str | None:
    """The page the explorer sits in (the lab or its own page), with the explorer's choices in its query."""
    current = urlsplit(request.htmx.current_url_abs_path or "")
    if current.path == reverse("analysis_explorer", args=[analysis.pk]):
        key = "tab"
    elif current.path == analysis.recording.get_absolute_url():
        key = "layer"  # the lab's name for the tab it opens the explorer on
    else:
        return None
    query = QueryDict(current.query, mutable=True)
    query[key] = context["tab"]
    query["scale"], query["sort"] = context["scale"], context["sort"]
    return f"{current.path}?{query.urlencode()}"


def explorer_context(analysis: Analysis, *, viewer: User, tab: str = "", scale: str = "", sort: str = "") -> dict:
    """What the explorer shows for a finished analysis: one tab (default: the first layer), or 404.

    The lab page renders it inline as soon as the analysis is done, so the first layer's
    filters are requested with the page rather than after another round trip.
    """
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    tab = tab or (analysis.layers[0]["name"] if analysis.layers else "overview")
    sort = sort if sort in ("index", "strength") else "index"
    context: dict[str, Any] = {
        "analysis": analysis,
        "recording": analysis.recording,
        "version": analysis.model_version,
        "tab": tab,
        "scale": scale if scale in ("filter", "layer") else "filter",
        "sort": sort,
        # In the grid's image and sound URLs: answered without the whole stack per filter.
        "media_grant": urlencode(
            {
                "grant": media_grant(
                    user_id=viewer.pk, analysis_id=analysis.pk, file_name=stored_name(analysis.activations)
                )
            }
        ),
    }
    if tab == "overview":
        context["overview"] = layer_overview(analysis)
    elif tab == "weights":
        context["weights"] = weight_panels(analysis.model_version)
    elif tab in ("model", "input"):
        pass
    else:
        layer = _layer(analysis, tab)
        context["layer"] = layer
        # The grid shows each tile's part of the layer's maps in one image: one request per layer, not
        # one per filter (the browser's six connections would queue them behind the page's own files).
        image_query, grant = f"?scale={context['scale']}&{context['media_grant']}", context["media_grant"]
        context["maps_url"] = reverse("layer_maps", args=[analysis.pk, tab]) + image_query
        # Each tile's URLs from one reverse per layer, not two per tile (a page has up to 32 tiles).
        detail, sound = (
            reverse(view, args=[analysis.pk, tab, 0]).removesuffix(end)
            for view, end in (("filter_detail", "0/"), ("filter_audio", "0.wav"))
        )
        context["tiles"] = [
            tile | {"detail_url": f"{detail}{tile['index']}/", "sound_url": f"{sound}{tile['index']}.wav?{grant}"}
            for tile in filter_tiles(layer, sort=sort)
        ]
        # The other layers' maps as their tabs will ask for them.
        context["prefetch_urls"] = [
            reverse("layer_maps", args=[analysis.pk, other["name"]]) + image_query
            for other in analysis.layers
            if other["name"] != tab
        ]
    return context


@login_required
@require_GET
def filter_detail(request: AuthenticatedHttpRequest, analysis_id: int, layer_name: str, index: int) -> HttpResponse:
    """One filter, zoomed: its map with axes, its sound, and its statistics."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    layer, values = _filter_map(analysis, layer_name, index)
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    context = {
        "analysis": analysis,
        "recording": analysis.recording,
        "layer": layer,
        "index": index,
        "stats": filter_statistics(values, layer=layer, index=index, params=params),
        "previous": index - 1 if index > 0 else None,
        "next": index + 1 if index + 1 < layer["filters"] else None,
    }
    template = "experiments/filter_detail.html"
    if request.htmx:
        template += "#filter-zoom"
    return render(request, template, context)


def _get_finished_analysis_for_user(request: AuthenticatedHttpRequest, analysis_id: int) -> Analysis:
    """The user's analysis if it has finished, else 404."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    return analysis


def _etag(analysis: Analysis, *parts: object) -> str:
    return "-".join(str(p) for p in (analysis.pk, stored_name(analysis.activations), *parts))


@media_view
def filter_image(request: AuthenticatedHttpRequest, analysis_id: int, layer_name: str, index: int) -> Media:
    """A filter's map as a small PNG; `scale=filter` (own max) or `layer` (shared), `cmap`."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    layer, values = _filter_map(analysis, layer_name, index)
    return filter_image_media(
        analysis_id=analysis.pk,
        file_name=stored_name(analysis.activations),
        layer=layer,
        index=index,
        values=values,
        query=request.GET,
    )


@media_view
def layer_maps(request: AuthenticatedHttpRequest, analysis_id: int, layer_name: str) -> Media:
    """Every filter's map of a layer side by side as one PNG (what the explorer's grid shows); `scale`, `cmap`."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    layer = _layer(analysis, layer_name)
    return layer_maps_media(
        analysis_id=analysis.pk,
        file_name=stored_name(analysis.activations),
        layer=layer,
        values=selectors.analysis_cache(analysis).activations[layer_name],  # cast per map while drawing
        query=request.GET,
    )


@media_view
def filter_zoom(request: AuthenticatedHttpRequest, analysis_id: int, layer_name: str, index: int) -> Media:
    """A filter's map, large, with time and frequency axes and a colour bar."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    layer, values = _filter_map(analysis, layer_name, index)
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    scale = request.GET.get("scale", "filter")
    if scale not in ("filter", "layer"):
        raise Http404("Unknown scale.")
    vmax = layer["layer_max"] if scale == "layer" else layer["max"][index]
    return Media(
        _etag(analysis, layer_name, index, "zoom", scale),
        "image/png",
        lambda: figure_png(
            values,
            duration_s=params.duration_s,
            max_freq_hz=params.sample_rate / 2,
            vmin=0.0,
            vmax=vmax or 1.0,
            title=f"{layer_name} · filter {index}",
            colorbar_label="activation",
        ),
    )


@media_view
def filter_audio(request: AuthenticatedHttpRequest, analysis_id: int, layer_name: str, index: int) -> Media:
    """A filter's output as sound: `method=mask` (input phase, default) or `griffinlim`."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    _, values = _filter_map(analysis, layer_name, index)
    return filter_audio_media(
        analysis_id=analysis.pk,
        file_name=stored_name(analysis.activations),
        layer_name=layer_name,
        index=index,
        values=values,
        cache=selectors.analysis_cache(analysis),
        params=FeatureParams.from_dict(analysis.model_version.feature_params),
        query=request.GET,
    )


@media_view
def analysis_input_image(request: AuthenticatedHttpRequest, analysis_id: int) -> Media:
    """What the network sees: the normalised log spectrogram of the fitted one-second window."""
    analysis = _get_finished_analysis_for_user(request, analysis_id)
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    features = selectors.analysis_cache(analysis).features
    return Media(
        _etag(analysis, "input"),
        "image/png",
        lambda: figure_png(
            features,
            duration_s=params.duration_s,
            max_freq_hz=params.sample_rate / 2,
            vmin=float(features.min()),
            vmax=float(features.max()),
            cmap="viridis",
            title="Network input: normalised log spectrogram",
            colorbar_label="z-score",
        ),
    )


@media_view
def analysis_input_audio(request: AuthenticatedHttpRequest, analysis_id: int) -> Media:
    """What the network hears: the fitted one-second window at the model's rate."""
    analysis = _get_finished_analysis_for_user(request, analysis_id)
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    waveform = selectors.analysis_cache(analysis).waveform
    return Media(_etag(analysis, "input-audio"), "audio/wav", lambda: wav_bytes(waveform, params.sample_rate))
