"""The features of the evaluation clips' degraded copies, kept per process for every validation after the first."""

from dataclasses import replace

import numpy as np
import pytest

from dsp.features import prepare
from dsp.params import FeatureParams
from modelzoo import worker
from modelzoo.conditions import CONDITION_NAMES, DEFAULT_SEED

P = FeatureParams()


@pytest.fixture
def computed(monkeypatch) -> list[str]:
    """The conditions whose features were computed (not taken from the cache), emptied first."""
    worker._degraded_features.cache_clear()
    calls: list[str] = []
    compute = worker.clip_features

    def counted(clips, params):
        calls.append(len(clips))
        return compute(clips, params)

    monkeypatch.setattr(worker, "clip_features", counted)
    return calls


def test_a_conditions_features_are_those_of_its_clips_computed_once(computed):
    features = worker._degraded_features(P, "quiet", DEFAULT_SEED)
    again = worker._degraded_features(P, "quiet", DEFAULT_SEED)

    assert again is features and computed == [250]
    clips = worker._degraded_evaluation_clips("quiet", DEFAULT_SEED)
    assert features.shape == (len(clips), P.n_freq, P.n_frames)
    for i in (0, 137, len(clips) - 1):
        assert np.array_equal(features[i], prepare(*clips[i], P, allow_silent=True).features)
    with pytest.raises(ValueError, match="read-only"):
        features[0, 0, 0] = 0.0


def test_other_parameters_and_another_seed_have_features_of_their_own(computed):
    features = worker._degraded_features(P, "noise_20db", DEFAULT_SEED)
    other_params = worker._degraded_features(replace(P, normalisation="none"), "noise_20db", DEFAULT_SEED)
    other_seed = worker._degraded_features(P, "noise_20db", DEFAULT_SEED + 1)

    assert computed == [250, 250, 250]
    assert not np.allclose(features, other_params)
    assert not np.allclose(features, other_seed)
    assert worker._degraded_features(P, "noise_20db", DEFAULT_SEED) is features


def test_the_features_of_a_few_parameters_are_kept_not_more():
    # Each set of parameters keeps about 115 MB: an unbounded cache would grow with every version validated.
    kept = worker._degraded_features.cache_parameters()["maxsize"]

    assert kept == worker.FEATURE_PARAMS_KEPT * len(CONDITION_NAMES)
    assert 1 <= worker.FEATURE_PARAMS_KEPT <= 4


@pytest.mark.slow  # runs the bundled model on two conditions' copies, twice
@pytest.mark.parametrize("condition", ["clean", "take_44k_stereo"])
def test_the_kept_features_give_the_predictions_of_the_clips(condition):
    from tests.insights.insight_support import bundled_model

    loaded = bundled_model()
    clips = worker._degraded_evaluation_clips(condition, DEFAULT_SEED)
    keep = list(range(0, len(clips), 2))

    kept = worker.predict_feature_labels(
        loaded, worker._degraded_features(loaded.params, condition, DEFAULT_SEED)[keep]
    )

    assert kept == worker.predict_labels(loaded, [clips[i] for i in keep])
