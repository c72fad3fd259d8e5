"""Reading attributions, attacks and sweeps, scoped like the recordings and analyses they belong to."""

import io
from functools import lru_cache

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.shortcuts import get_object_or_404

from experiments import selectors as experiment_selectors
from experiments.models import Analysis
from insights.models import Attack, Attribution, Sweep


def attribution_for(*, analysis: Analysis, target: str) -> Attribution | None:
    """The attribution of `analysis` for `target`, if one was asked for."""
    return Attribution.objects.filter(analysis=analysis, target=target).select_related("job").first()


def attribution_get(*, user: AbstractBaseUser, attribution_id: int) -> Attribution:
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


def attack_get(*, user: AbstractBaseUser, attack_id: int) -> Attack:
    """An attack on one of `user`'s recordings, or 404."""
    attacks = Attack.objects.select_related("job", "recording", "adversarial", "experiment", "model_version")
    return get_object_or_404(attacks.filter(recording__owner=user), pk=attack_id)


def sweep_get(*, user: AbstractBaseUser, sweep_id: int) -> Sweep:
    """A sweep of one of `user`'s recordings, or 404."""
    sweeps = Sweep.objects.select_related("job", "recording", "model_version")
    return get_object_or_404(sweeps.filter(recording__owner=user), pk=sweep_id)
