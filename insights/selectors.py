"""Reading attributions, attacks, sweeps, ablations, filter insight and concept labels, scoped like what
they belong to: recordings and analyses (their owner, and instructors of a course they were submitted
to), model versions (whoever may see the version), and labels (approved ones for everyone who sees the
version, the others for their proposer and the instructors of the proposer's courses)."""

import io
from functools import lru_cache

import numpy as np
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from experiments import selectors as experiment_selectors
from experiments.models import Analysis, Course
from insights.models import Ablation, Attack, Attribution, FilterLabel, Sweep, VersionInsight
from modelzoo.models import ModelVersion
from modelzoo.selectors import model_versions_visible


def attribution_for(*, analysis: Analysis, target: str) -> Attribution | None:
    """The attribution of `analysis` for `target`, if one was asked for."""
    return Attribution.objects.filter(analysis=analysis, target=target).select_related("job").first()


def attribution_get(*, user: User, attribution_id: int) -> Attribution:
    """An attribution of an analysis `user` may open, or 404 (the same 404 for another user's and a missing one)."""
    visible = Analysis.objects.filter(recording__in=experiment_selectors.recordings_visible(user=user))
    return get_object_or_404(
        Attribution.objects.select_related("job", "analysis__model_version", "analysis__recording").filter(
            analysis__in=visible
        ),
        pk=attribution_id,
    )


def attribution_maps(attribution: Attribution) -> dict[str, np.ndarray]:
    """Every map of a finished attribution by key (``ig``, ``cam_<layer>``), kept in memory for the next requests."""
    return _load_maps(attribution.pk, attribution.maps.name)


@lru_cache(maxsize=16)
def _load_maps(attribution_id: int, file_name: str) -> dict[str, np.ndarray]:
    # Keyed by the file's name too: a retried attribution writes a new file.
    attribution = Attribution.objects.get(pk=attribution_id)
    with attribution.maps.open("rb") as stored, np.load(io.BytesIO(stored.read())) as arrays:
        return {name: arrays[name] for name in arrays.files}


def attack_get(*, user: User, attack_id: int) -> Attack:
    """An attack on one of `user`'s recordings, or 404."""
    attacks = Attack.objects.select_related("job", "recording", "adversarial", "experiment", "model_version")
    return get_object_or_404(attacks.filter(recording__owner=user), pk=attack_id)


def sweep_get(*, user: User, sweep_id: int) -> Sweep:
    """A sweep of one of `user`'s recordings, or 404."""
    sweeps = Sweep.objects.select_related("job", "recording", "model_version")
    return get_object_or_404(sweeps.filter(recording__owner=user), pk=sweep_id)


# --------------------------------------------------------------------------- what each filter likes


def version_insight_for(*, version: ModelVersion) -> VersionInsight | None:
    """The filter insight of `version`, if it was asked for (done or not)."""
    return VersionInsight.objects.filter(model_version=version).select_related("job").first()


def version_insight_done(*, version: ModelVersion) -> VersionInsight | None:
    """The finished filter insight of `version`, or None."""
    insight = version_insight_for(version=version)
    return insight if insight is not None and insight.is_done else None


def filter_profile(insight: VersionInsight, *, layer: str, index: int) -> dict | None:
    """One filter's stored profile (peak, dead, mean_by_label, examples), or None."""
    profiles = insight.layers.get(layer) or []
    return profiles[index] if 0 <= index < len(profiles) else None


def example_map(insight: VersionInsight, *, layer: str, index: int, rank: int) -> np.ndarray | None:
    """The map of a filter's `rank`-th favourite clip through it (float32), or None."""
    maps = _load_examples(insight.pk, insight.examples.name)
    found = maps.get(f"{layer}/{index}/{rank}")
    return None if found is None else found.astype(np.float32)


@lru_cache(maxsize=8)
def _load_examples(insight_id: int, file_name: str) -> dict[str, np.ndarray]:
    # Keyed by the file's name too: a recomputed insight writes a new file.
    insight = VersionInsight.objects.get(pk=insight_id)
    with insight.examples.open("rb") as stored, np.load(io.BytesIO(stored.read())) as arrays:
        return {name: arrays[name] for name in arrays.files}


# --------------------------------------------------------------------------- concept labels


def _taught_students(user: User) -> QuerySet:
    return Course.objects.filter(instructors=user).values("students")


def filter_labels_visible(*, user: User) -> QuerySet[FilterLabel]:
    """Labels `user` may see: approved ones of versions they see, their own, and their students' proposals."""
    labels = FilterLabel.objects.filter(model_version__in=model_versions_visible(user=user))
    return labels.filter(
        Q(status=FilterLabel.Status.APPROVED) | Q(proposed_by=user) | Q(proposed_by__in=_taught_students(user))
    ).select_related("proposed_by", "reviewed_by")


def filter_labels_for(*, user: User, version: ModelVersion, layer: str, index: int) -> QuerySet[FilterLabel]:
    """The labels of one filter `user` may see, oldest first."""
    return filter_labels_visible(user=user).filter(model_version=version, layer=layer, index=index)


def approved_labels_by_filter(*, version: ModelVersion, layer: str) -> dict[int, list[FilterLabel]]:
    """The approved labels of every filter of one layer, by filter index (for the explorer's tiles)."""
    labels: dict[int, list[FilterLabel]] = {}
    approved = FilterLabel.objects.filter(model_version=version, layer=layer, status=FilterLabel.Status.APPROVED)
    for label in approved.select_related("proposed_by"):
        labels.setdefault(label.index, []).append(label)
    return labels


def filter_label_get(*, user: User, label_id: int) -> FilterLabel:
    """A label `user` may see, or 404."""
    return get_object_or_404(filter_labels_visible(user=user).select_related("model_version"), pk=label_id)


def filter_labels_to_review(*, instructor: User) -> QuerySet[FilterLabel]:
    """Proposals waiting for review by students of the courses `instructor` teaches, oldest first."""
    return (
        FilterLabel.objects.filter(status=FilterLabel.Status.PROPOSED, proposed_by__in=_taught_students(instructor))
        .exclude(proposed_by=instructor)
        .select_related("proposed_by", "model_version")
    )


# --------------------------------------------------------------------------- ablations


def ablation_get(*, user: User, ablation_id: int) -> Ablation:
    """An ablation of an analysis `user` may open, or 404."""
    visible = Analysis.objects.filter(recording__in=experiment_selectors.recordings_visible(user=user))
    ablations = Ablation.objects.select_related(
        "job", "accuracy__job", "analysis__job", "analysis__model_version", "analysis__recording"
    )
    return get_object_or_404(ablations.filter(analysis__in=visible), pk=ablation_id)


def ablations_of(*, analysis: Analysis) -> QuerySet[Ablation]:
    """Every ablation of one analysis, newest first (its history)."""
    return Ablation.objects.filter(analysis=analysis).select_related("job", "accuracy__job")
