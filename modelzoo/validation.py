"""Web side: check an uploaded .keras file's configuration without TensorFlow.

A .keras file is a zip holding config.json, metadata.json and model.weights.h5.
Reading config.json is enough to refuse the common mistakes at once (not a Keras
file, a zip bomb, JSON of the wrong shape or nested too deeply, a Lambda layer or
custom code, an input or output that does not fit), with a clear message in the admin.
The worker checks the zip's caps again, then loads the file with `safe_mode=True`, runs
it and evaluates it before it may be activated.
"""

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from core.json_limits import loads_bounded
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

# Caps checked from the zip's directory before any member is inflated, on the web tier and
# again on the worker before Keras opens the file.  Keras stores its members uncompressed,
# so a real file's ratio is 1; a zip bomb's is in the hundreds or thousands.
MAX_MEMBERS = 64
MAX_JSON_MEMBER_BYTES = 4 * 1024 * 1024  # config.json and metadata.json, uncompressed
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024  # all members together
MAX_COMPRESSION_RATIO = 20  # for members over RATIO_FLOOR_BYTES (tiny members compress well)
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_CONFIG_DEPTH = 64  # a Keras config nests about ten levels; nested models a few more


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def check_keras_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a .keras zip whose directory announces a bomb: too many members, too large, too compressed.

    Raises
    ------
    ModelConfigError
    """
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ModelConfigError(f"The model file holds {len(members)} files; a Keras file holds at most {MAX_MEMBERS}.")
    total = 0
    for info in members:
        if info.flag_bits & 0x1:
            raise ModelConfigError(f"The model file's {info.filename[:60]} is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelConfigError(f"The model file's {info.filename[:60]} uses an unsupported compression.")
        if info.filename in ("config.json", "metadata.json") and info.file_size > MAX_JSON_MEMBER_BYTES:
            raise ModelConfigError(
                f"The model's {info.filename} unpacks to {_size(info.file_size)}; at most "
                f"{_size(MAX_JSON_MEMBER_BYTES)} is accepted."
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ModelConfigError(
                f"The model file's {info.filename[:60]} unpacks {ratio:.0f} times larger than it is stored "
                f"({_size(info.compress_size)} to {_size(info.file_size)}); this looks like a zip bomb."
            )
        total += info.file_size
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ModelConfigError(
            f"The model file unpacks to {_size(total)}; at most {_size(MAX_UNCOMPRESSED_BYTES)} is accepted."
        )


def check_keras_file(data: bytes) -> None:
    """:func:`check_keras_archive` on a .keras file's bytes (the worker's check before Keras loads it)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_keras_archive(archive)
    except zipfile.BadZipFile:
        raise ModelConfigError("This is not a Keras model file: a .keras file is a zip archive.") from None


def _read_json_member(archive: zipfile.ZipFile, name: str) -> Any:
    """A JSON member, inflated no further than its cap (whatever its header says) and parsed with a depth limit."""
    with archive.open(name) as member:
        raw = member.read(MAX_JSON_MEMBER_BYTES + 1)
    if len(raw) > MAX_JSON_MEMBER_BYTES:
        raise ModelConfigError(f"The model's {name} is larger than {_size(MAX_JSON_MEMBER_BYTES)}.")
    return loads_bounded(raw, max_depth=MAX_CONFIG_DEPTH)


def _walk(node: Any):
    """Yield every layer-like dict (one with a class_name) in a Keras config, depth first (depth is capped)."""
    if isinstance(node, dict):
        if "class_name" in node:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false"}.get(type(value), "a number")


def _input_shape(layer_config: dict) -> tuple[int | None, ...]:
    shape = layer_config.get("batch_shape") or layer_config.get("batch_input_shape") or ()
    if not isinstance(shape, list | tuple) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    ):
        shown = json.dumps(shape)[:40]
        raise ModelConfigError(
            f"The InputLayer's batch_shape must be a list of sizes like [null, 129, 63, 1] (got {shown})."
        )
    return tuple(shape)[1:]


def read_model_config(data: bytes) -> ModelConfigSummary:
    """Read and sanity-check the configuration inside a .keras file.

    Raises
    ------
    ModelConfigError
        Not a zip, a zip bomb, members missing, unreadable or too deeply nested JSON, JSON of
        the wrong shape, forbidden or non-Keras classes.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ModelConfigError("This is not a Keras model file: a .keras file is a zip archive.") from None
    with archive:
        check_keras_archive(archive)
        missing = REQUIRED_MEMBERS - set(archive.namelist())
        if missing:
            raise ModelConfigError(
                f"This is not a Keras 3 model file: it lacks {', '.join(sorted(missing))}. "
                "Save it with model.save('name.keras')."
            )
        try:
            config = _read_json_member(archive, "config.json")
            metadata = _read_json_member(archive, "metadata.json")
        except (ValueError, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise ModelConfigError(f"The model's configuration cannot be read: {exc}.") from None
    for name, value in (("config.json", config), ("metadata.json", metadata)):
        if not isinstance(value, dict):
            raise ModelConfigError(
                f"The model's {name} must hold an object, as Keras writes it; it holds {_kind(value)}."
            )
    inner = config.get("config", {})
    if not isinstance(inner, dict | list):
        raise ModelConfigError(f'The model\'s config.json has a "config" that is {_kind(inner)}, not an object.')

    layers = [node for node in _walk(inner) if isinstance(node.get("config"), dict)]
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
            input_shape = _input_shape(layer_config)
        if node["class_name"] == "Conv2D":
            conv_layers.append(str(layer_config.get("name")))
        if node["class_name"] == "Dense":
            output_units = layer_config.get("units")
            if isinstance(output_units, bool) or not isinstance(output_units, int):
                raise ModelConfigError(f"A Dense layer's units must be a whole number (got {_kind(output_units)}).")
    return ModelConfigSummary(
        keras_version=str(metadata.get("keras_version", "?"))[:40],
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
