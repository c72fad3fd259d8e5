"""Real .keras files for validation tests, built with Keras (imported only when called)."""

import functools
import tempfile
from pathlib import Path

from dsp.params import FeatureParams

PARAMS = FeatureParams()


def _save(model) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


# Built once per session: a .keras file records when it was saved, so one built again would be another file
# (another sha256) to store and validate.
@functools.cache
def keras_file(kind: str = "paper", *, seed: int = 1) -> bytes:
    """A small model of `kind`: paper, lambda, wrong_input, wrong_output, no_conv, no_softmax."""
    import keras

    keras.utils.set_random_seed(seed)
    shape = (64, 64, 1) if kind == "wrong_input" else (PARAMS.n_freq, PARAMS.n_frames, 1)
    inputs = keras.Input(shape)
    x = inputs
    if kind == "lambda":
        x = keras.layers.Lambda(lambda t: t * 2.0, name="sneaky")(x)
    if kind != "no_conv":
        x = keras.layers.Conv2D(4, 7, padding="same", activation="relu", name="conv1")(x)
        x = keras.layers.MaxPooling2D(2, name="pool1")(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
    else:
        x = keras.layers.Flatten()(x)
    units = 5 if kind == "wrong_output" else 10
    activation = None if kind == "no_softmax" else "softmax"
    outputs = keras.layers.Dense(units, activation=activation, name="probabilities")(x)
    return _save(keras.Model(inputs, outputs))


ADMIN_ADD_URL = "/admin/modelzoo/modelversion/add/"


def admin_upload_form(data: bytes, name: str = "uploaded-v2", **overrides) -> dict:
    """What the admin's upload form posts: the file, its name, the labels and every feature parameter."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {
        "version_name": name,
        "version_description": "",
        "keras_file": SimpleUploadedFile(f"{name}.keras", data),
        "label_names": ", ".join(str(d) for d in range(10)),
        **{key: value for key, value in PARAMS.to_dict().items() if key != "remove_dc"},
        "remove_dc": "on",
    }
    return form | overrides
