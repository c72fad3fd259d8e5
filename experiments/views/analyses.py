"""The layer explorer: the prediction, every filter's map and sound, zoom, and the model's weights."""

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import ServiceError
from core.media import Media, media_view
from dsp.params import FeatureParams
from dsp.sonification import METHODS, sonify, wav_bytes
from experiments import selectors
from experiments.models import Analysis
from experiments.services.analyses import analysis_request, analysis_retry
from modelzoo.rendering import COLORMAPS, figure_png, filter_png
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


def probability_rows(analysis: Analysis) -> list[dict]:
    """Every label with its probability (percent), the predicted one marked."""
    return [
        {"label": label, "p": p, "percent": round(p * 100, 1), "is_top": label == analysis.predicted_label}
        for label, p in analysis.probabilities.items()
    ]


def poll_delay_ms(analysis: Analysis | None) -> int:
    """How long the prediction panel waits before asking again: soon for a job just queued, then less often.

    A new clip's analysis is usually done a few hundred milliseconds after the upload; a
    job that has waited longer is behind a queue, and a page left open should not hammer
    the server.
    """
    if analysis is None or analysis.job.is_finished:
        return 0
    age_s = (timezone.now() - analysis.job.created_at).total_seconds()
    return 100 if age_s < 3 else 500 if age_s < 20 else 2000


def layer_overview(analysis: Analysis) -> list[dict]:
    """Per layer: each filter's mean and max activation, scaled for bars, strongest first marked."""
    rows = []
    for layer in analysis.layers:
        top = max(layer["max"]) or 1.0
        top_mean = max(layer["mean"]) or 1.0
        strongest = set(np.argsort(layer["mean"])[::-1][:3].tolist())
        rows.append(
            {
                "name": layer["name"],
                "filters": [
                    {
                        "index": k,
                        "mean": layer["mean"][k],
                        "max": layer["max"][k],
                        "mean_pct": round(100 * layer["mean"][k] / top_mean, 1),
                        "max_pct": round(100 * layer["max"][k] / top, 1),
                        "strong": k in strongest,
                    }
                    for k in range(layer["filters"])
                ],
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def recording_analysis(request: HttpRequest, recording_id: int) -> HttpResponse:
    """The prediction panel htmx polls while the worker runs; POST asks for (or retries) the analysis."""
    recording = selectors.recording_get(user=request.user, recording_id=recording_id)
    analysis = selectors.analysis_for(recording=recording)
    if request.method == "POST":
        if recording.owner_id != request.user.pk:
            raise Http404("Only the owner can analyse this recording.")
        try:
            if analysis is None:
                analysis, _ = analysis_request(recording=recording, requested_by=request.user)
            elif analysis.job.status == "failed":
                analysis = analysis_retry(analysis=analysis)
        except ServiceError as exc:
            messages.error(request, exc.message)
        if not request.htmx:
            return redirect(recording)
    context = {
        "recording": recording,
        "analysis": analysis,
        "is_owner": recording.owner_id == request.user.pk,
        "poll_ms": poll_delay_ms(analysis),
    }
    if analysis is not None and analysis.is_done:
        context |= {"probabilities": probability_rows(analysis), **explorer_context(analysis)}
    if not request.htmx:
        return redirect(recording)
    return render(request, "experiments/recording_detail.html#analysis-panel", context)


@login_required
@require_GET
def analysis_explorer(request: HttpRequest, analysis_id: int) -> HttpResponse:
    """The layer explorer: a tab per layer with all its filters, plus overview, input, weights, model."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    context = explorer_context(
        analysis, tab=request.GET.get("tab", ""), scale=request.GET.get("scale", ""), sort=request.GET.get("sort", "")
    )
    template = "experiments/explorer.html"
    if request.htmx:
        template += "#explorer"
    return render(request, template, context)


def explorer_context(analysis: Analysis, *, tab: str = "", scale: str = "", sort: str = "") -> dict:
    """What the explorer shows for a finished analysis: one tab (default: the first layer), or 404.

    The lab page renders it inline as soon as the analysis is done, so the first layer's
    filters are requested with the page rather than after another round trip.
    """
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    tab = tab or (analysis.layers[0]["name"] if analysis.layers else "overview")
    context = {
        "analysis": analysis,
        "recording": analysis.recording,
        "version": analysis.model_version,
        "tab": tab,
        "scale": scale if scale in ("filter", "layer") else "filter",
        "sort": sort if sort in ("index", "strength") else "index",
    }
    if tab == "overview":
        context["overview"] = layer_overview(analysis)
    elif tab == "weights":
        context["weights"] = weight_panels(analysis.model_version)
    elif tab in ("model", "input"):
        pass
    else:
        layer = _layer(analysis, tab)
        order = list(range(layer["filters"]))
        if context["sort"] == "strength":
            order.sort(key=lambda k: -layer["mean"][k])
        context["layer"] = layer
        context["tiles"] = [{"index": k, "mean": layer["mean"][k], "max": layer["max"][k]} for k in order]
    return context


@login_required
@require_GET
def filter_detail(request: HttpRequest, analysis_id: int, layer_name: str, index: int) -> HttpResponse:
    """One filter, zoomed: its map with axes, its sound, and its statistics."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    layer, values = _filter_map(analysis, layer_name, index)
    rank = sorted(range(layer["filters"]), key=lambda k: -layer["mean"][k]).index(index) + 1
    active = values > 0.5 * values.max() if values.max() > 0 else np.zeros_like(values, dtype=bool)
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    columns = np.flatnonzero(active.any(axis=0))
    rows_active = np.flatnonzero(active.any(axis=1))
    seconds_per_column = params.duration_s / values.shape[1]
    hz_per_row = params.sample_rate / 2 / values.shape[0]
    context = {
        "analysis": analysis,
        "recording": analysis.recording,
        "layer": layer,
        "index": index,
        "stats": {
            "mean": float(values.mean()),
            "max": float(values.max()),
            "std": float(values.std()),
            "active_fraction": float((values > 0).mean()),
            "rank": rank,
            "time_span": (columns[0] * seconds_per_column, (columns[-1] + 1) * seconds_per_column)
            if columns.size
            else None,
            "freq_span": (rows_active[0] * hz_per_row, (rows_active[-1] + 1) * hz_per_row)
            if rows_active.size
            else None,
        },
        "previous": index - 1 if index > 0 else None,
        "next": index + 1 if index + 1 < layer["filters"] else None,
    }
    template = "experiments/filter_detail.html"
    if request.htmx:
        template += "#filter-zoom"
    return render(request, template, context)


def _get_finished_analysis_for_user(request: HttpRequest, analysis_id: int) -> Analysis:
    """The user's analysis if it has finished, else 404."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    return analysis


def _etag(analysis: Analysis, *parts: object) -> str:
    return "-".join(str(p) for p in (analysis.pk, analysis.activations.name.rsplit("/", 1)[-1], *parts))


@media_view
def filter_image(request: HttpRequest, analysis_id: int, layer_name: str, index: int) -> Media:
    """A filter's map as a small PNG; `scale=filter` (own max) or `layer` (shared), `cmap`."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    layer, values = _filter_map(analysis, layer_name, index)
    scale = request.GET.get("scale", "filter")
    cmap = request.GET.get("cmap", "magma")
    if scale not in ("filter", "layer") or cmap not in COLORMAPS:
        raise Http404("Unknown scale or colour map.")
    vmax = layer["layer_max"] if scale == "layer" else layer["max"][index]
    return Media(
        _etag(analysis, layer_name, index, scale, cmap),
        "image/png",
        lambda: filter_png(values, vmax=vmax, cmap=cmap),
    )


@media_view
def filter_zoom(request: HttpRequest, analysis_id: int, layer_name: str, index: int) -> Media:
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
def filter_audio(request: HttpRequest, analysis_id: int, layer_name: str, index: int) -> Media:
    """A filter's output as sound: `method=mask` (input phase, default) or `griffinlim`."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    _, values = _filter_map(analysis, layer_name, index)
    method = request.GET.get("method", "mask")
    if method not in METHODS:
        raise Http404("Unknown sonification method.")
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    spectrum = selectors.analysis_cache(analysis).stft
    return Media(
        _etag(analysis, layer_name, index, method),
        "audio/wav",
        lambda: wav_bytes(sonify(values, spectrum, params, method=method), params.sample_rate),
    )


@media_view
def analysis_input_image(request: HttpRequest, analysis_id: int) -> Media:
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
def analysis_input_audio(request: HttpRequest, analysis_id: int) -> Media:
    """What the network hears: the fitted one-second window at the model's rate."""
    analysis = _get_finished_analysis_for_user(request, analysis_id)
    params = FeatureParams.from_dict(analysis.model_version.feature_params)
    waveform = selectors.analysis_cache(analysis).waveform
    return Media(_etag(analysis, "input-audio"), "audio/wav", lambda: wav_bytes(waveform, params.sample_rate))
