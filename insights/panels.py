"""What the insight panels on other apps' pages show (the filter zoom, the explorer's tiles, the model page).

Each builder reads through the selectors and shapes through the presenters, so the pages
of `experiments` and `modelzoo` include a template and load a tag, and their views stay
as they are.
"""

from django.contrib.auth.models import User
from django.urls import reverse

from accounts.roles import is_instructor
from experiments.models import Analysis
from insights import selectors
from insights.models import FilterLabel, VersionInsight
from insights.presenters import label_bars, method_averages_rows, preference_sentence
from insights.services import LABEL_LENGTH, can_review_label
from modelzoo.models import ModelVersion


def example_rows(insight: VersionInsight, profile: dict, *, layer: str, index: int) -> list[dict]:
    """A filter's favourite clips with the URLs of their map and sound through the filter."""
    version_id = insight.model_version_id
    return [
        {
            **example,
            "rank": rank,
            "image": reverse("filter_example_image", args=[version_id, layer, index, rank]),
            "audio": reverse("filter_example_audio", args=[version_id, layer, index, rank]),
            "clip_audio": reverse("bundled_clip_audio", args=[example["clip"]]),
        }
        for rank, example in enumerate(profile["examples"])
    ]


def label_rows(labels: list[FilterLabel], *, user: User) -> list[dict]:
    """Labels as the panel lists them: who proposed them, their state, whether `user` may review them."""
    reviewer = is_instructor(user)
    return [
        {
            "label": label,
            "mine": label.proposed_by_id == user.pk,
            "can_review": reviewer and label.proposed_by_id != user.pk and can_review_label(label=label, user=user),
        }
        for label in labels
    ]


def filter_insight_context(
    *, user: User, version: ModelVersion, layer: str, index: int, analysis: Analysis | None = None
) -> dict:
    """What the filter zoom shows about a filter beyond this clip: what it likes, dead or not, its labels."""
    insight = selectors.version_insight_for(version=version)
    profile = selectors.filter_profile(insight, layer=layer, index=index) if insight and insight.is_done else None
    context = {
        "version": version,
        "layer_name": layer,
        "index": index,
        "analysis": analysis,
        "insight": insight,
        "profile": profile,
        "labels": label_rows(
            list(selectors.filter_labels_for(user=user, version=version, layer=layer, index=index)), user=user
        ),
        "label_max_length": LABEL_LENGTH[1],
        "can_propose": version.status == ModelVersion.Status.VALID,
    }
    if insight is not None and profile is not None:
        context |= {
            "examples": example_rows(insight, profile, layer=layer, index=index),
            "bars": label_bars(profile["mean_by_label"]),
            "preference": preference_sentence(profile["mean_by_label"], dead=profile["dead"]),
            "likes_audio": reverse("filter_likes_audio", args=[version.pk, layer, index]),
        }
    return context


def layer_tile_badges(*, version: ModelVersion, layer: str) -> dict:
    """For the explorer's tiles of one layer: approved labels and dead filters by index, and the likes URLs."""
    insight = selectors.version_insight_done(version=version)
    profiles = (insight.layers.get(layer) if insight else None) or []
    return {
        "version": version,
        "layer": layer,
        "labels": selectors.approved_labels_by_filter(version=version, layer=layer),
        "dead": {p["index"] for p in profiles if p["dead"]},
        "has_likes": {p["index"] for p in profiles if p["examples"]},
    }


def model_insight_context(*, user: User, version: ModelVersion) -> dict:
    """The model page's panel: dead filters per layer and which explanation method to believe on this model."""
    insight = selectors.version_insight_for(version=version)
    context: dict = {"version": version, "insight": insight, "can_compute": user.is_staff}
    if insight is None or not insight.is_done:
        return context
    layers = []
    for name, profiles in insight.layers.items():
        dead = [p["index"] for p in profiles if p["dead"]]
        layers.append({"name": name, "filters": len(profiles), "dead": dead, "alive": len(profiles) - len(dead)})
    context |= {
        "dead_layers": layers,
        "dead_total": sum(len(row["dead"]) for row in layers),
        "methods": method_averages_rows(insight.faithfulness) if insight.faithfulness else None,
        "faithfulness": insight.faithfulness,
    }
    return context
