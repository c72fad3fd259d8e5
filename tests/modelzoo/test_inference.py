"""One forward pass gives the probabilities and every convolution layer's output; models load once."""

import numpy as np
import pytest

from dsp.decode import decode_audio
from dsp.params import FeatureParams
from modelzoo.inference import forward_audio, load_from_path, load_version
from modelzoo.introspection import layer_table
from modelzoo.samples import sample_clips
from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME, read_sidecar

BUNDLED = BUNDLED_DIR / f"{BUNDLED_NAME}.keras"


@pytest.fixture(scope="module")
def loaded():
    sidecar = read_sidecar(BUNDLED)
    return load_from_path(BUNDLED, params=FeatureParams.from_dict(sidecar["feature_params"]), labels=sidecar["labels"])


def test_the_bundled_model_is_the_papers_network(loaded):
    convs = [row for row in layer_table(loaded.keras_model) if row["type"] == "Conv2D"]

    assert [(row["filters"], row["kernel_size"]) for row in convs] == [(16, [7, 7]), (16, [5, 5]), (32, [3, 3])]
    pools = [row for row in layer_table(loaded.keras_model) if row["type"] == "MaxPooling2D"]
    assert len(pools) == 3
    assert any(row["type"] == "Dropout" for row in layer_table(loaded.keras_model))


def test_the_layer_table_and_the_activations_agree(loaded):
    clip = sample_clips()[0]
    y, sr = decode_audio(clip.path)

    result = forward_audio(loaded, y, sr)

    table = {row["name"]: row for row in layer_table(loaded.keras_model)}
    assert list(result.cache.activations) == loaded.conv_layers == ["conv1", "conv2", "conv3"]
    for name, values in result.cache.activations.items():
        height, width, filters = table[name]["output_shape"]
        assert values.shape == (filters, height, width)
        assert values.dtype == np.float16
        assert (values >= 0).all()  # ReLU outputs


def test_one_pass_gives_a_probability_for_every_label(loaded):
    clip = sample_clips()[0]
    y, sr = decode_audio(clip.path)

    result = forward_audio(loaded, y, sr)

    assert list(result.probabilities) == [str(d) for d in range(10)]
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert result.predicted_label == max(result.probabilities, key=result.probabilities.get)
    assert result.cache.stft.shape == (loaded.params.n_freq, loaded.params.n_frames)
    assert result.cache.waveform.shape == (loaded.params.n_samples,)
    assert set(result.timings) == {"features_ms", "forward_ms"}


def test_the_same_clip_gives_the_same_answer(loaded):
    y, sr = decode_audio(sample_clips()[3].path)

    first, second = forward_audio(loaded, y, sr), forward_audio(loaded, y, sr)

    assert first.probabilities == second.probabilities
    for name in first.cache.activations:
        np.testing.assert_array_equal(first.cache.activations[name], second.cache.activations[name])


def test_digital_silence_is_flagged_not_refused(loaded):
    result = forward_audio(loaded, np.zeros(8000, dtype=np.float32), 8000)

    assert result.silent is True
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-4)


def test_a_version_is_loaded_once_per_process(active_model):
    first = load_version(active_model)

    again = load_version(type(active_model).objects.get(pk=active_model.pk))

    assert again is first
