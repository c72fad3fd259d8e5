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
