"""The training recipe's pieces: file names, splits, augmentation and the paper's network (no full training)."""

import shutil

import numpy as np
import pytest

from dsp.params import FeatureParams
from modelzoo import augmentation, training
from modelzoo.samples import SAMPLES_DIR

PARAMS = FeatureParams()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("7_jackson_32.wav", (7, "jackson", 32)),
        ("0_theo_5.wav", (0, "theo", 5)),
        ("3_nicolas_12.flac", (3, "nicolas", 12)),
        ("9_synthEspeak-en-us-male3_0.flac", (9, "synthEspeak-en-us-male3", 0)),
        ("seven_jackson_32.wav", "not one of"),
        ("7-jackson-32.wav", "is not named"),
        ("7_jackson.wav", "is not named"),
    ],
)
def test_it_reads_labels_speakers_and_takes_from_file_names(name, expected):
    if isinstance(expected, str):
        with pytest.raises(training.DatasetError, match=expected):
            training.parse_filename(name)
        return
    assert training.parse_filename(name) == expected


@pytest.fixture(scope="module")
def samples():
    return training.load_dataset(SAMPLES_DIR, PARAMS)


def test_it_loads_a_folder_deterministically(samples):
    again = training.load_dataset(SAMPLES_DIR, PARAMS)

    assert len(samples) == 20
    assert samples.names == sorted(samples.names)
    assert sorted(set(samples.speakers.tolist())) == ["george", "jackson", "nicolas", "theo", "yweweler"]
    for a, b in zip(samples.clips, again.clips, strict=True):
        np.testing.assert_array_equal(a, b)


def test_it_reports_every_badly_named_file(tmp_path):
    shutil.copy(SAMPLES_DIR / "0_george_5.wav", tmp_path / "0_george_5.wav")
    (tmp_path / "zero.wav").write_bytes(b"x")
    (tmp_path / "one.wav").write_bytes(b"x")

    with pytest.raises(training.DatasetError, match="2 unusable file") as error:
        training.load_dataset(tmp_path, PARAMS)

    assert "one.wav" in str(error.value) and "zero.wav" in str(error.value)


def test_the_splits_never_share_a_clip(samples):
    heldout = training.heldout_split(samples, test_takes=(5,))
    assert set(heldout.train).isdisjoint(heldout.test)
    assert set(samples.takes[heldout.test].tolist()) == {5}

    folds = training.loso_splits(samples)
    assert [f.name for f in folds] == [f"loso {s}" for s in ["george", "jackson", "nicolas", "theo", "yweweler"]]
    for fold in folds:
        tested = set(samples.speakers[fold.test].tolist())
        assert len(tested) == 1 and tested.isdisjoint(samples.speakers[fold.train].tolist())


def test_augmentation_is_seeded_and_keeps_the_input_shape(samples):
    hyper = training.DEFAULT_HYPERPARAMETERS

    first = augmentation.augment_features(samples.clips, PARAMS, hyper, np.random.default_rng(3))
    again = augmentation.augment_features(samples.clips, PARAMS, hyper, np.random.default_rng(3))
    other = augmentation.augment_features(samples.clips, PARAMS, hyper, np.random.default_rng(4))

    assert first.shape[:3] == (20, PARAMS.n_freq, PARAMS.n_frames)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.isfinite(first).all()


def test_the_network_is_the_papers_and_saves_safely(tmp_path):
    import keras

    model = training.build_model(PARAMS, 10)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]

    assert [(c.name, c.filters, tuple(c.kernel_size)) for c in convs] == [
        ("conv1", 16, (7, 7)),
        ("conv2", 16, (5, 5)),
        ("conv3", 32, (3, 3)),
    ]
    assert all(c.get_config()["activation"] == "relu" for c in convs)
    assert len(pools) == 3
    assert any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert model.input_shape == (None, PARAMS.n_freq, PARAMS.n_frames, 1)
    assert model.output_shape == (None, 10)
    training.save_model(model, tmp_path / "model.keras")  # reloads with safe_mode=True


def test_the_shipped_training_clips_are_the_dataset_and_its_held_out_takes_are_the_evaluation_clips():
    import soundfile as sf

    from modelzoo.samples import EVALUATION_DIR

    names = sorted(p.name for p in training.DATA_DIR.glob("*.flac"))
    assert len(names) == 2250 and (training.DATA_DIR / "README.md").exists()
    assert "CC BY-SA 4.0" in (training.DATA_DIR / "README.md").read_text()
    for stem in ("0_george_5", "6_jackson_9", "8_nicolas_7"):
        shipped, _ = sf.read(training.DATA_DIR / f"{stem}.flac", dtype="int16")
        evaluation, _ = sf.read(EVALUATION_DIR / f"{stem}.wav", dtype="int16")
        np.testing.assert_array_equal(shipped, evaluation)


def test_datasets_join_and_keep_their_labels(samples):
    joined = samples.plus(samples.subset([0, 1]))

    assert len(joined) == 22 and joined.names[20:] == samples.names[:2]
    np.testing.assert_array_equal(joined.labels[20:], samples.labels[:2])


QUIET_RECIPE = {
    **training.DEFAULT_HYPERPARAMETERS,
    **{key: 0.0 for key in ("speed", "tempo_p", "trim_p", "reverb_p", "clip_p", "codec_p", "shift_s", "gain_db")},
}


def test_the_front_end_finds_the_word_in_a_noisy_take_while_training():
    params = training.recipe_features()
    t = np.arange(3200) / params.sample_rate
    word = (0.5 * np.sin(2 * np.pi * 220 * t) * np.hanning(len(t))).astype(np.float32)
    hyper = QUIET_RECIPE | {"noise_p": 1.0, "snr_db": (10.0, 10.0), "take_s": (3.0, 3.0)}

    windows = augmentation.augment_waveforms([word] * 8, params, hyper, np.random.default_rng(0))

    assert windows.shape == (8, params.n_samples)
    for window in windows:  # the word sits in the middle of the window, wherever it was in the take
        centre = np.abs(window[3000:5000]).mean()
        edges = np.abs(np.concatenate([window[:1500], window[-1500:]])).mean()
        assert centre > 1.5 * edges


def test_codec_and_clipping_variants_keep_the_shape_and_stay_finite(samples):
    hyper = QUIET_RECIPE | {"codec_p": 1.0, "clip_p": 1.0, "reverb_p": 1.0, "tempo_p": 1.0}

    x = augmentation.augment_features(samples.clips[:6], PARAMS, hyper, np.random.default_rng(5))

    assert x.shape == (6, PARAMS.n_freq, PARAMS.n_frames) and np.isfinite(x).all()


def test_the_learning_rate_warms_up_linearly_then_follows_the_cosine():
    import keras

    schedule = training.learning_rate_schedule(2e-3, total_steps=100, warmup_steps=10)
    rates = {step: float(schedule(step)) for step in (0, 5, 10, 55, 100)}

    assert rates[0] == 0.0
    assert rates[5] == pytest.approx(1e-3)  # half-way up the ramp
    assert rates[10] == pytest.approx(2e-3)  # the peak, where the cosine starts
    assert rates[55] == pytest.approx(1e-3)  # half-way down the cosine's 90 steps
    assert rates[100] == pytest.approx(0.0, abs=1e-9)
    without = training.learning_rate_schedule(2e-3, total_steps=100)
    cosine = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=100)
    assert [float(without(s)) for s in (0, 37, 99)] == [float(cosine(s)) for s in (0, 37, 99)]
    with pytest.raises(ValueError, match="shorter than the training"):
        training.learning_rate_schedule(2e-3, total_steps=100, warmup_steps=100)


@pytest.mark.parametrize(("warmup_epochs", "steps"), [(0.0, 0), (1.0, 81), (0.5, 40), (2.0, 162)])
def test_the_warm_up_is_counted_in_epochs_of_the_training_set(warmup_epochs, steps):
    hyper = training.DEFAULT_HYPERPARAMETERS | {"warmup_epochs": warmup_epochs}

    assert training.DEFAULT_HYPERPARAMETERS["warmup_epochs"] == 1.0  # the recipe's (RECIPE_NOTES e23-e30)
    assert training.warmup_steps_for(hyper, 1800 + 780) == steps  # a LOSO fold plus the synthetic voices


def test_a_tiny_training_with_a_warm_up_leaves_chance(samples):
    hyper = {"augment": False, "epochs": 8, "batch_size": 4, "warmup_epochs": 1.0, "dense_dropout": 0.0}

    result = training.train(samples, PARAMS, hyper, seed=0, threads=1)

    schedule = result.model.optimizer._learning_rate
    assert float(schedule(0)) == 0.0 and float(schedule(5)) == pytest.approx(2e-3)  # 20 clips: 5 steps an epoch
    losses = [epoch["loss"] for epoch in result.history]
    assert losses[-1] < 0.5 * np.log(10)  # the uniform output's loss is ln 10 = 2.3026
    assert result.history[-1]["accuracy"] > 0.5


def test_a_training_shorter_than_its_warm_up_ramps_over_its_first_half(samples):
    hyper = {"augment": False, "epochs": 1, "batch_size": 4, "warmup_epochs": 1.0}

    result = training.train(samples, PARAMS, hyper, seed=0, threads=1)  # 5 steps: a 5-step warm-up cannot fit

    schedule = result.model.optimizer._learning_rate
    assert float(schedule(0)) == 0.0 and float(schedule(2)) == pytest.approx(2e-3)  # the peak after 5 // 2 steps
    assert len(result.history) == 1


def test_mixup_blends_pairs_and_keeps_each_examples_label_on_top():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 5, 7, 1)).astype(np.float32)
    labels = rng.integers(0, 10, size=64)
    targets = np.eye(10, dtype=np.float32)[labels]

    mixed, soft = augmentation.mix_pairs(x, targets, 0.2, np.random.default_rng(0))

    assert mixed.shape == x.shape and mixed.dtype == np.float32 and soft.shape == targets.shape
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
    kept = soft[np.arange(64), labels]
    assert (kept >= 0.5 - 1e-6).all()  # the example's own label keeps the larger share
    assert (soft.argmax(axis=1) == labels).mean() > 0.95  # ties only when both of a pair share it
    # Each blend is the same weight on the inputs as on the targets: x' - w x lies along the partner.
    row = int(np.argmin(kept))
    assert kept[row] < 0.9  # Beta(0.2, 0.2) puts some weights well away from 1
    partner = next(
        j for j in range(64) if np.allclose(mixed[row], kept[row] * x[row] + (1 - kept[row]) * x[j], atol=1e-5)
    )
    assert soft[row, labels[partner]] == pytest.approx(1 - kept[row] + (labels[partner] == labels[row]) * kept[row])
    again, _ = augmentation.mix_pairs(x, targets, 0.2, np.random.default_rng(0))
    np.testing.assert_array_equal(again, mixed)  # seeded


def test_mixup_is_off_by_default():
    assert training.DEFAULT_HYPERPARAMETERS["mixup_alpha"] == 0.0


def test_it_ends_on_the_mean_of_the_last_epochs_weights(samples):
    import keras

    seen: list[list[np.ndarray]] = []

    class KeepWeights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append([np.array(w) for w in self.model.get_weights()])

    hyper = {"augment": False, "epochs": 3, "batch_size": 8, "average_last_epochs": 2}
    result = training.train(samples, PARAMS, hyper, seed=0, threads=1, callbacks=[KeepWeights()])

    assert len(seen) == 3
    for final, second, third in zip(result.model.get_weights(), seen[1], seen[2], strict=True):
        np.testing.assert_allclose(final, (second + third) / 2, rtol=1e-5, atol=1e-7)
    assert not np.allclose(seen[1][0], seen[2][0])  # the two epochs' weights differ: the mean is neither


def test_weight_averaging_refuses_batch_normalisation(samples):
    with pytest.raises(ValueError, match="batch_norm"):
        training.train(samples, PARAMS, {"average_last_epochs": 2, "batch_norm": True, "epochs": 3}, threads=1)


def test_weight_averaging_is_off_by_default():
    assert training.DEFAULT_HYPERPARAMETERS["average_last_epochs"] == 0
