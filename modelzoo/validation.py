"""Web side: check an uploaded .keras file's configuration without TensorFlow.

A .keras file is a zip holding config.json, metadata.json and model.weights.h5.
Reading config.json is enough to refuse the common mistakes at once (not a Keras
file, a Lambda layer or custom code, an input or output that does not fit), with
a clear message in the admin. The worker then loads the file with
`safe_mode=True`, runs it and evaluates it before it may be activated.
"""

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from dsp.params import FeatureParams


class ModelConfigError(ValueError):
    """An uploaded model file that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class ModelConfigSummary:
    """What config.json says about a model."""

    keras_version: str
    input_shape: tuple[int | None, ...]
    output_units: int | None
    conv_layers: list[str]
    layer_classes: list[str]


REQUIRED_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
# Layers that run arbitrary Python code when loaded or called.
FORBIDDEN_CLASSES = {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}


def _walk(node: Any):
    """Yield every layer-like dict (one with a class_name) in a Keras config, depth first."""
    if isinstance(node, dict):
        if "class_name" in node:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def read_model_config(data: bytes) -> ModelConfigSummary:
    """Read and sanity-check the configuration inside a .keras file.

    Raises
    ------
    ModelConfigError
        Not a zip, members missing, unreadable JSON, forbidden or non-Keras classes.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ModelConfigError("This is not a Keras model file: a .keras file is a zip archive.") from None
    with archive:
        missing = REQUIRED_MEMBERS - set(archive.namelist())
        if missing:
            raise ModelConfigError(
                f"This is not a Keras 3 model file: it lacks {', '.join(sorted(missing))}. "
                "Save it with model.save('name.keras')."
            )
        try:
            config = json.loads(archive.read("config.json"))
            metadata = json.loads(archive.read("metadata.json"))
        except (ValueError, zipfile.BadZipFile) as exc:
            raise ModelConfigError(f"The model's configuration cannot be read: {exc}.") from None

    layers = [node for node in _walk(config.get("config", {})) if isinstance(node.get("config"), dict)]
    classes = [str(node["class_name"]) for node in layers]
    forbidden = sorted(set(classes) & FORBIDDEN_CLASSES)
    if forbidden:
        raise ModelConfigError(
            f"The model contains a {forbidden[0]} layer, which runs arbitrary code; "
            "only built-in Keras layers are accepted."
        )
    custom = sorted(
        {
            str(node["class_name"])
            for node in layers
            if node.get("registered_name") or not str(node.get("module", "keras")).startswith("keras")
        }
    )
    if custom:
        raise ModelConfigError(
            f"The model uses custom classes ({', '.join(custom)}); only built-in Keras layers are accepted."
        )

    input_shape: tuple[int | None, ...] = ()
    output_units = None
    conv_layers = []
    for node in layers:
        layer_config = node["config"]
        if node["class_name"] == "InputLayer" and not input_shape:
            input_shape = tuple(layer_config.get("batch_shape") or layer_config.get("batch_input_shape") or ())[1:]
        if node["class_name"] == "Conv2D":
            conv_layers.append(str(layer_config.get("name")))
        if node["class_name"] == "Dense":
            output_units = layer_config.get("units")
    return ModelConfigSummary(
        keras_version=str(metadata.get("keras_version", "?")),
        input_shape=input_shape,
        output_units=output_units,
        conv_layers=conv_layers,
        layer_classes=classes,
    )


def check_model_config(data: bytes, *, params: FeatureParams, labels: list[str]) -> ModelConfigSummary:
    """Refuse a .keras file whose configuration cannot fit `params` and `labels`.

    Raises
    ------
    ModelConfigError
        See :func:`read_model_config`; also a wrong input shape, output size, or no Conv2D.
    """
    summary = read_model_config(data)
    expected = (params.n_freq, params.n_frames, 1)
    if summary.input_shape and tuple(summary.input_shape) != expected:
        raise ModelConfigError(
            f"The model's input shape {tuple(summary.input_shape)} does not match its feature parameters, "
            f"which give spectrograms of shape {expected}."
        )
    if summary.output_units is not None and summary.output_units != len(labels):
        raise ModelConfigError(
            f"The model's last Dense layer has {summary.output_units} units but there are {len(labels)} labels."
        )
    if not summary.conv_layers:
        raise ModelConfigError("The model has no Conv2D layer: there would be nothing to look inside.")
    return summary
