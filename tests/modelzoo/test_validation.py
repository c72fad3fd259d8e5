"""The web-side check of a .keras file's configuration (no TensorFlow needed to refuse a bad file)."""

import io
import zipfile

import pytest

from dsp.params import FeatureParams
from modelzoo.validation import ModelConfigError, check_model_config
from tests.modelzoo.keras_files import keras_file

PARAMS = FeatureParams()
LABELS = [str(d) for d in range(10)]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (lambda: keras_file("paper"), None),
        (lambda: keras_file("no_softmax"), None),  # only a forward pass can tell: the worker's check
        (lambda: keras_file("lambda"), "Lambda layer"),
        (lambda: keras_file("wrong_input"), r"input shape \(64, 64, 1\) does not match"),
        (lambda: keras_file("wrong_output"), "has 5 units but there are 10 labels"),
        (lambda: keras_file("no_conv"), "no Conv2D layer"),
        (lambda: b"I am not a model", "not a Keras model file"),
        (lambda: _zip({"config.json": b"{}"}), "lacks metadata.json, model.weights.h5"),
        (lambda: _zip({"config.json": b"{oops", "metadata.json": b"{}", "model.weights.h5": b""}), "cannot be read"),
    ],
)
def test_it_checks_the_configuration(data, error):
    if error is None:
        summary = check_model_config(data(), params=PARAMS, labels=LABELS)
        assert summary.conv_layers == ["conv1"]
        assert tuple(summary.input_shape) == (PARAMS.n_freq, PARAMS.n_frames, 1)
        return
    with pytest.raises(ModelConfigError, match=error):
        check_model_config(data(), params=PARAMS, labels=LABELS)
