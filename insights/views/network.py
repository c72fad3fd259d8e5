"""The network at a glance: one analysed clip through every layer, as a flow (CNN Explainer's overview, for sound)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.charts import network_flow
from core.htmx import AuthenticatedHttpRequest
from core.media import Media, media_view, stored_name
from experiments import selectors as experiment_selectors
from insights import selectors
from insights.network import STRONGEST, network_edges, network_stages
from modelzoo.rendering import filter_png


@login_required
@require_GET
def analysis_network(request: AuthenticatedHttpRequest, analysis_id: int) -> HttpResponse:
    """Input → each layer → the digits, a thumbnail per filter, lines from the strongest filters onward."""
    analysis = experiment_selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    version = analysis.model_version
    insight = selectors.version_insight_done(version=version)
    stages = network_stages(layer_table=version.layers, labels=version.labels)
    means = {layer["name"]: layer["mean"] for layer in analysis.layers}
    stages = [s for s in stages if s["kind"] != "conv" or s["name"] in means]
    edges = network_edges(
        stages=stages,
        layer_means=means,
        probabilities=analysis.probabilities,
        connections=insight.connections if insight else None,
    )
    dead = {
        name: {p["index"] for p in profiles if p["dead"]}
        for name, profiles in (insight.layers if insight else {}).items()
    }
    strong = {name: set(sorted(range(len(m)), key=lambda i: -m[i])[:STRONGEST]) for name, m in means.items()}
    flows = {}
    for orientation in ("horizontal", "vertical"):
        flow = network_flow(stages, edges, orientation=orientation)
        for placed, stage in zip(flow["stages"], stages, strict=True):
            placed |= {key: stage[key] for key in ("title", "labels") if key in stage}
            for item in placed["items"]:
                if stage["kind"] == "conv":
                    item["dead"] = item["index"] in dead.get(stage["name"], set())
                    item["strong"] = item["index"] in strong.get(stage["name"], set())
                    item["mean"] = means[stage["name"]][item["index"]]
                elif stage["kind"] == "output":
                    label = stage["labels"][item["index"]]
                    item["label"] = label
                    item["p"] = analysis.probabilities.get(label, 0.0)
                    item["bar_w"] = round(item["w"] * item["p"], 1)
                    item["text_end"] = round(item["x"] + item["w"] - 6, 1)
                    item["percent"] = f"{item['p']:.0%}" if item["p"] >= 0.005 else "<1%"
                    item["is_top"] = label == analysis.predicted_label
        flows[orientation] = flow
    context = {
        "analysis": analysis,
        "recording": analysis.recording,
        "version": version,
        "flows": flows,
        "uses_kernels": bool(insight and insight.connections),
        "dead_total": sum(len(v) for v in dead.values()),
    }
    return render(request, "insights/network.html", context)


@media_view
def network_input_image(request: AuthenticatedHttpRequest, analysis_id: int) -> Media:
    """The network's input as a thumbnail: the normalised log spectrogram, without axes."""
    analysis = experiment_selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    features = experiment_selectors.analysis_cache(analysis).features
    shifted = features - float(features.min())
    etag = f"network-input-{analysis.pk}-{stored_name(analysis.activations)}"
    return Media(
        etag=etag,
        content_type="image/png",
        render=lambda: filter_png(shifted, vmax=float(shifted.max()) or 1.0, cmap="viridis"),
    )
