"""Insight panels other apps' pages include: the filter zoom's "what it likes", the explorer tiles' labels and
dead marks, the model page's dead filters and explanation methods, links from the lab and the comparison."""

from django import template

from experiments.models import Analysis
from insights import panels, selectors
from modelzoo.models import ModelVersion

register = template.Library()


@register.inclusion_tag("insights/_filter_insight.html", takes_context=True)
def filter_insight_panel(context: template.Context, analysis: Analysis, layer: str, index: int) -> dict:
    """What a filter likes across the evaluation set, beside what it makes of this clip."""
    request = context["request"]
    data = panels.filter_insight_context(
        user=request.user, version=analysis.model_version, layer=layer, index=int(index), analysis=analysis
    )
    return {**data, "request": request, "csrf_token": context.get("csrf_token")}


@register.simple_tag
def layer_badges(version: ModelVersion, layer: str) -> dict:
    """Approved labels and dead filters of one layer, read once for all its tiles."""
    return panels.layer_tile_badges(version=version, layer=layer)


@register.inclusion_tag("insights/_tile_badges.html")
def tile_badges(badges: dict, index: int) -> dict:
    """One tile's approved labels, dead mark and "listen to what it likes" button."""
    return {
        "labels": badges["labels"].get(index, []),
        "dead": index in badges["dead"],
        "likes": index in badges["has_likes"],
        "version": badges["version"],
        "layer": badges["layer"],
        "index": index,
    }


@register.inclusion_tag("insights/_model_insight.html", takes_context=True)
def model_insight_panel(context: template.Context, version: ModelVersion) -> dict:
    """Dead filters per layer and which explanation to believe on this version."""
    request = context["request"]
    return {
        **panels.model_insight_context(user=request.user, version=version),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("insights/_ablation_links.html")
def ablation_links(analysis: Analysis | None, side: str = "") -> dict:
    """The ablations recorded against an analysis (its "with and without" history), for the comparison page."""
    history = list(selectors.ablations_of(analysis=analysis)[:10]) if analysis is not None else []
    return {"analysis": analysis, "history": history, "side": side}


@register.simple_tag(takes_context=True)
def labels_waiting_review(context: template.Context) -> int:
    """How many concept labels wait for the signed-in instructor's review."""
    return selectors.filter_labels_to_review(instructor=context["request"].user).count()
