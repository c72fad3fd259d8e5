"""Deletion and insertion curves, FF and the weight-randomisation sanity check: synthetic cases and the real model."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.faithfulness import (
    FRACTIONS,
    area_under,
    cell_order,
    faithfulness_of_maps,
    masked_inputs,
    rank_similarity,
    sanity_similarities,
)

SHAPE = (12, 10)


def _region_model(region: np.ndarray):
    """A 'network' whose confidence in label 0 grows with the energy inside `region` (and label 1 takes the rest)."""

    def predict(batch: np.ndarray) -> np.ndarray:
        evidence = (batch * region).sum(axis=(1, 2)) / region.sum()
        p = 1.0 / (1.0 + np.exp(-6.0 * (evidence - 0.5)))
        return np.stack([p, 1.0 - p], axis=1)

    return predict


@pytest.fixture
def synthetic():
    region = np.zeros(SHAPE)
    region[3:6, 2:8] = 1.0
    features = np.ones(SHAPE, dtype=np.float32)
    return region, features, np.zeros(SHAPE, dtype=np.float32), _region_model(region)


def test_cells_are_ordered_most_attributed_first_and_ties_keep_their_place():
    a = np.array([[0.1, 0.9], [0.9, -0.5]])

    assert cell_order(a).tolist() == [1, 2, 0, 3]


def test_masked_inputs_remove_and_insert_the_same_cells(synthetic):
    region, features, baseline, _ = synthetic
    order = cell_order(region)

    deleted, inserted = masked_inputs(features, baseline, order, FRACTIONS)

    assert deleted.shape == inserted.shape == (len(FRACTIONS), *SHAPE)
    assert np.array_equal(deleted[0], features) and np.array_equal(deleted[-1], baseline)
    assert np.array_equal(inserted[0], baseline) and np.array_equal(inserted[-1], features)
    np.testing.assert_array_equal(deleted + inserted, np.ones_like(deleted))  # complementary for 0/1 inputs
    removed = (deleted == 0).sum(axis=(1, 2))
    assert removed.tolist() == [round(f * region.size) for f in FRACTIONS]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 9),
    cols=st.integers(1, 9),
    fractions=st.lists(st.floats(0, 1), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_masked_inputs_hold_for_any_shape_and_fractions(rows, cols, fractions, seed):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, cols)).astype(np.float32)
    baseline = rng.normal(size=(rows, cols)).astype(np.float32)
    order = cell_order(rng.normal(size=(rows, cols)))

    deleted, inserted = masked_inputs(features, baseline, order, tuple(fractions))

    for k, f in enumerate(fractions):
        n = round(f * rows * cols)
        taken = np.zeros(rows * cols, dtype=bool)
        taken[order[:n]] = True
        np.testing.assert_array_equal(deleted[k].ravel(), np.where(taken, baseline.ravel(), features.ravel()))
        np.testing.assert_array_equal(inserted[k].ravel(), np.where(taken, features.ravel(), baseline.ravel()))


def test_the_area_of_a_constant_curve_is_the_constant():
    assert area_under(FRACTIONS, [0.4] * len(FRACTIONS)) == pytest.approx(0.4)
    assert area_under((0.0, 1.0), [0.0, 1.0]) == pytest.approx(0.5)


def test_a_map_of_the_evidence_gives_monotone_curves_better_than_its_opposite(synthetic):
    region, features, baseline, predict = synthetic

    result = faithfulness_of_maps(predict, features, {"right": region, "wrong": -region}, target=0, baseline=baseline)

    right, wrong = result["right"], result["wrong"]
    assert np.all(np.diff(right.deletion) <= 1e-9)  # removing evidence never raises the probability
    assert np.all(np.diff(right.insertion) >= -1e-9)
    assert right.deletion_auc < wrong.deletion_auc
    assert right.insertion_auc > wrong.insertion_auc
    assert right.ff > 0.9 and wrong.ff == pytest.approx(0.0, abs=1e-9)
    assert right.deletion[0] == right.insertion[-1] == pytest.approx(predict(features[None])[0, 0])
    assert right.baseline == "silence"
    assert 0 <= right.deletion_auc <= 1 and 0 <= right.insertion_auc <= 1


def test_the_curves_need_the_ends(synthetic):
    region, features, baseline, predict = synthetic

    with pytest.raises(ValueError, match="from 0 to 1"):
        faithfulness_of_maps(predict, features, {"m": region}, target=0, baseline=baseline, fractions=(0.1, 1.0))
    assert faithfulness_of_maps(predict, features, {}, target=0, baseline=baseline) == {}


def test_rank_similarity_of_the_same_ranking_is_one_and_of_unrelated_maps_near_zero():
    rng = np.random.default_rng(0)
    a = rng.random((30, 30))

    assert rank_similarity(a, a * 3 + 1) == pytest.approx(1.0)
    assert rank_similarity(a, -a) == pytest.approx(1.0)  # magnitudes, as Adebayo et al.
    assert abs(rank_similarity(a, rng.random((30, 30)))) < 0.1
    # Two flat maps rank no cell above another: undefined, not "the same explanation".
    assert rank_similarity(np.zeros((3, 3)), np.zeros((3, 3))) is None
    assert rank_similarity(np.zeros((3, 3)), a[:3, :3]) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        rank_similarity(a, a[:2])


def test_tied_values_share_their_rank():
    assert rank_similarity(np.array([1, 1, 2, 3]), np.array([0, 0, 5, 9])) == pytest.approx(1.0)


# --------------------------------------------------------------------------- on the real model


@pytest.fixture(scope="module")
def bundled():
    from modelzoo.management.commands.evaluate_model import load_model

    return load_model("")[0]


@pytest.fixture(scope="module")
def clip_features(bundled):
    from dsp.decode import decode_audio
    from dsp.features import prepare
    from modelzoo.samples import sample_clips

    clip = sample_clips()[6]
    y, sr = decode_audio(clip.path)
    return prepare(y, sr, bundled.params).features


def test_the_sanity_check_flags_a_method_made_insensitive_to_the_network(bundled, clip_features):
    """A "method" that returns the input's loudness, whatever the weights, looks the same on a random network."""
    from insights.faithfulness import check_explanations, explain

    def insensitive(model, features, *, target):
        return {"loudness": np.abs(features)}

    def honest(model, features, *, target):
        return {"loudness": np.abs(features), **explain(model, features, target=target)}

    probabilities, _ = bundled.run(clip_features)
    target = int(np.argmax(probabilities))
    maps = honest(bundled, clip_features, target=target)

    checks = check_explanations(bundled, clip_features, maps, target=target, explain_randomised=honest)
    flagged_with_insensitive = check_explanations(
        bundled, clip_features, {"loudness": maps["loudness"]}, target=target, explain_randomised=insensitive
    )

    assert flagged_with_insensitive.randomised_similarity["loudness"] == pytest.approx(1.0)
    assert flagged_with_insensitive.flagged() == ["loudness"]
    assert "loudness" in checks.flagged()
    for key in ("cam_conv1", "cam_conv2", "cam_conv3"):
        assert checks.randomised_similarity[key] < 0.5, checks.randomised_similarity
        assert key not in checks.flagged()


def test_explanations_of_the_bundled_model_beat_a_random_order(bundled, clip_features):
    from insights.faithfulness import check_explanations, explain

    probabilities, _ = bundled.run(clip_features)
    target = int(np.argmax(probabilities))
    maps = explain(bundled, clip_features, target=target)

    checks = check_explanations(bundled, clip_features, maps, target=target)

    assert set(checks.faithfulness) == {"ig", "cam_conv1", "cam_conv2", "cam_conv3"}
    for key, faith in checks.faithfulness.items():
        assert len(faith.deletion) == len(faith.insertion) == len(FRACTIONS)
        assert faith.deletion[0] == pytest.approx(float(probabilities[target]), abs=1e-4)
        assert faith.deletion_auc < checks.reference.deletion_auc, key
        assert faith.insertion_auc > checks.reference.insertion_auc, key
    assert sanity_similarities(maps, maps) == {key: 1.0 for key in maps}


def test_the_randomised_network_keeps_the_architecture_and_changes_every_weight(bundled):
    from insights.faithfulness import randomised_model

    random = randomised_model(bundled)

    assert randomised_model(bundled) is random  # built once per process
    assert random.conv_layers == bundled.conv_layers
    for trained, redrawn in zip(bundled.keras_model.get_weights(), random.keras_model.get_weights(), strict=True):
        assert trained.shape == redrawn.shape
        if np.std(trained) > 0:
            assert not np.allclose(trained, redrawn)
        if trained.size >= 100:
            assert np.std(redrawn) == pytest.approx(np.std(trained), rel=0.2)


def test_two_flat_maps_are_not_flagged_by_the_sanity_check_and_say_why():
    from insights.faithfulness import ExplanationChecks, Faithfulness
    from insights.presenters import faithfulness_rows, method_averages_rows

    flat, varying = np.zeros((4, 4)), np.arange(16.0).reshape(4, 4)
    similarities = sanity_similarities({"cam_conv3": flat, "ig": varying}, {"cam_conv3": flat, "ig": varying})
    assert similarities == {"cam_conv3": None, "ig": 1.0}
    reference = Faithfulness((0.0, 1.0), [0.9, 0.5], [0.1, 0.9], 0.7, 0.5, ff=0.1, baseline="")
    checks = ExplanationChecks(faithfulness={}, randomised_similarity=similarities, reference=reference)
    assert checks.flagged() == ["ig"]

    entry = {"fractions": [0.0, 1.0], "deletion": [0.9, 0.1], "insertion": [0.1, 0.9]}
    entry |= {"deletion_auc": 0.5, "insertion_auc": 0.5, "ff": 0.3}
    summary = {"faithfulness": {"cam_conv3": entry}, "sanity": {"randomised_similarity": similarities}}
    (row,) = faithfulness_rows(summary, ["cam_conv3"], target="3")
    assert not row["flagged"] and row["similarity"] is None
    assert any("cannot be compared" in sentence for sentence in row["sentences"])

    averages = {"clips": 2, "threshold": 0.5, "reference": {"deletion_auc": 0.6}}
    averages["methods"] = {
        "cam_conv3": {"deletion_auc": 0.4, "insertion_auc": 0.5, "ff": 0.2, "randomised_similarity": None},
        "ig": {"deletion_auc": 0.5, "insertion_auc": 0.5, "ff": 0.2, "randomised_similarity": 0.9},
    }
    table = method_averages_rows(averages)
    assert [(row["key"], row["flagged"]) for row in table["rows"]] == [("cam_conv3", False), ("ig", True)]
