"""Figures to download (PNG, SVG, PDF) for lab reports: a comparison's probability change and
layer similarity, and every filter of a layer in a grid."""

from django.http import Http404

from core.figures import figure_download, filter_grid_figure, probability_change_figure, similarity_figure
from core.htmx import AuthenticatedHttpRequest
from core.media import Media, media_view, stored_name
from dsp.params import FeatureParams
from experiments import selectors
from experiments.models import Analysis

EXPERIMENT_FIGURES = ("probabilities", "similarity")


def _cache_name(analysis: Analysis) -> str:
    return stored_name(analysis.activations)


@media_view
def experiment_figure(request: AuthenticatedHttpRequest, experiment_id: int, name: str, fmt: str) -> Media:
    """The comparison's probability change (`probabilities`) or its layer-similarity curve (`similarity`)."""
    experiment = selectors.experiment_get(user=request.user, experiment_id=experiment_id)
    if name not in EXPERIMENT_FIGURES:
        raise Http404("Unknown figure.")
    a, b = selectors.experiment_analyses(experiment)
    if not (a and b and a.is_done and b.is_done):
        raise Http404("The analyses have not finished.")

    def draw() -> bytes:
        if name == "probabilities":
            return probability_change_figure(
                a.probabilities, b.probabilities, title=f"{experiment.title}: probability of each digit", fmt=fmt
            )
        stages = selectors.analyses_comparison(a, b)
        return similarity_figure(
            [s.name for s in stages],
            [s.similarity if s.comparable else None for s in stages],
            title=f"{experiment.title}: how alike A and B are, stage by stage",
            fmt=fmt,
        )

    return figure_download(
        etag=f"fig-{name}-{experiment.pk}-{_cache_name(a)}-{_cache_name(b)}",
        fmt=fmt,
        filename=f"experiment-{experiment.pk}-{name}",
        draw=draw,
    )


@media_view
def layer_figure(request: AuthenticatedHttpRequest, analysis_id: int, layer_name: str, fmt: str) -> Media:
    """Every filter map of one layer of an analysis in a grid."""
    analysis = selectors.analysis_get(user=request.user, analysis_id=analysis_id)
    if not analysis.is_done:
        raise Http404("This analysis has not finished.")
    activations = selectors.analysis_cache(analysis).activations
    if layer_name not in activations:
        raise Http404(f"No convolution layer called {layer_name}.")
    params = FeatureParams.from_dict(analysis.model_version.feature_params)

    def draw() -> bytes:
        return filter_grid_figure(
            activations[layer_name],
            layer=layer_name,
            duration_s=params.duration_s,
            max_freq_hz=params.sample_rate / 2,
            title=f"{analysis.recording.title}: every filter of {layer_name} (heard as “{analysis.predicted_label}”)",
            fmt=fmt,
        )

    return figure_download(
        etag=f"fig-layer-{analysis.pk}-{_cache_name(analysis)}-{layer_name}",
        fmt=fmt,
        filename=f"analysis-{analysis.pk}-{layer_name}",
        draw=draw,
    )
