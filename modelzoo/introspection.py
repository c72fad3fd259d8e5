"""Worker side: describe a loaded Keras model (layer table, weight histograms) and validate it."""

from typing import Any

import numpy as np

from dsp.params import FeatureParams

HISTOGRAM_BINS = 40


class ModelFileError(ValueError):
    """A model file that cannot become a model version; the message says why."""


def layer_table(model: Any) -> list[dict[str, Any]]:
    """One row per layer: name, type, filters, kernel size, output shape, parameters and settings."""
    rows = []
    for layer in model.layers:
        config = layer.get_config()
        shape = layer.output.shape if hasattr(layer, "output") else None
        row: dict[str, Any] = {
            "name": layer.name,
            "type": type(layer).__name__,
            "filters": config.get("filters"),
            "kernel_size": list(config["kernel_size"]) if "kernel_size" in config else None,
            "output_shape": [d for d in shape[1:]] if shape is not None else None,
            "params": int(layer.count_params()),
        }
        for key in ("activation", "units", "pool_size", "strides", "padding", "rate"):
            if key in config:
                value = config[key]
                row[key] = list(value) if isinstance(value, tuple) else value
        rows.append(row)
    return rows


def weight_histograms(model: Any) -> list[dict[str, Any]]:
    """A real histogram (counts and bin edges) of each layer's kernel and bias, with summary statistics.

    The first convolution layer also carries its kernels, shaped (filters, k, k), to draw them.
    """
    import keras

    histograms = []
    first_conv_seen = False
    for layer in model.layers:
        if not layer.weights:
            continue
        for weight in layer.weights:
            values = np.asarray(weight.numpy(), dtype=np.float64)
            kind = weight.name.split("/")[-1].split(":")[0]
            counts, edges = np.histogram(values.ravel(), bins=HISTOGRAM_BINS)
            entry: dict[str, Any] = {
                "layer": layer.name,
                "weight": kind,
                "shape": list(values.shape),
                "counts": counts.astype(int).tolist(),
                "edges": [round(float(e), 6) for e in edges],
                "mean": round(float(values.mean()), 6),
                "std": round(float(values.std()), 6),
                "min": round(float(values.min()), 6),
                "max": round(float(values.max()), 6),
            }
            if isinstance(layer, keras.layers.Conv2D) and kind == "kernel" and not first_conv_seen:
                first_conv_seen = True
                # (k, k, in_channels, filters) -> (filters, k, k), summed over input channels.
                kernels = values.sum(axis=2).transpose(2, 0, 1)
                entry["kernels"] = np.round(kernels, 5).tolist()
            histograms.append(entry)
    return histograms


def check_model(model: Any, *, params: FeatureParams, labels: list[str]) -> None:
    """Refuse a model whose input, output or layers do not fit a model version.

    Raises
    ------
    ModelFileError
        Input shape differs from (n_freq, n_frames, 1), output size from len(labels),
        no Conv2D layer, or outputs that are not probabilities.
    """
    import keras

    expected_input = (params.n_freq, params.n_frames, 1)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelFileError("The model must have exactly one input and one output.")
    got_input = tuple(model.inputs[0].shape[1:])
    if got_input != expected_input:
        raise ModelFileError(
            f"The model's input shape {got_input} does not match its feature parameters, "
            f"which give spectrograms of shape {expected_input}."
        )
    got_output = tuple(model.outputs[0].shape[1:])
    if got_output != (len(labels),):
        raise ModelFileError(f"The model outputs {got_output} values but has {len(labels)} labels.")
    if not any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers):
        raise ModelFileError("The model has no Conv2D layer: there would be nothing to look inside.")
    rng = np.random.default_rng(0)
    probe = rng.standard_normal((2, *expected_input)).astype(np.float32)
    outputs = np.asarray(model(probe, training=False))
    if not np.all(np.isfinite(outputs)) or not np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3) or outputs.min() < 0:
        raise ModelFileError("The model's output is not a probability distribution: end it with a softmax layer.")
