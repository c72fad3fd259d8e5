"""A workshop design's shapes, parameter count and training time, by arithmetic (no TensorFlow).

The network is :func:`modelzoo.training.build_model`'s: three blocks of a ``same``-padded
square convolution with ReLU and a max-pool (``valid``: each side is divided by the pool size,
rounded down), then flatten, a dense layer, dropout and a softmax over the digits. The input
is the bundled model's spectrogram, so a variant hears exactly what the bundled model hears.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from dsp.params import FeatureParams

CONV_LAYERS = 3
LABELS = 10
# Bounds of what a design may ask for; the form and the API take them from here.
FILTERS_RANGE = (1, 64)
KERNEL_RANGE = (1, 11)
POOL_RANGE = (1, 4)
DENSE_RANGE = (8, 512)
DROPOUT_RANGE = (0.0, 0.8)
LEARNING_RATE_RANGE = (1e-5, 1e-1)
EPOCHS_RANGE = (1, 30)
MAX_PARAMETERS = 3_000_000  # larger variants would not train in minutes on the site's workers

#: The paper's architecture (and the bundled model's): the page's defaults.
DEFAULT_ARCHITECTURE: dict[str, Any] = {
    "filters": [16, 16, 32],
    "kernels": [7, 5, 3],
    "pools": [2, 2, 2],
    "dense": 128,
    "dropout": 0.2,
}
DEFAULT_LEARNING_RATE = 2e-3
DEFAULT_EPOCHS = 10

# What a training costs on the site's workers (2 cores, load about 1.5), measured with `manage.py workshop_benchmark`
# on the default design: multiply-accumulates per second of a training step (forward and backward
# are about three forward passes), the augmentation's cost per clip and epoch, the fixed cost of
# an epoch (the held-out evaluation, the histograms), and the start (loading the clips, TensorFlow)
# plus the validation every trained version goes through.
TRAIN_MACS_PER_SECOND = 7.0e10
AUGMENT_SECONDS_PER_CLIP = 0.0008
EPOCH_OVERHEAD_SECONDS = 0.6
START_SECONDS = 5.0
VALIDATION_SECONDS = 30.0
TRAINING_CLIPS = 2000  # takes 10-49 of the five FSDD speakers; takes 5-9 are held out


@cache
def input_shape() -> tuple[int, int]:
    """(frequency bins, frames) of the bundled model's spectrogram, from its sidecar's feature parameters."""
    from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME

    sidecar = json.loads((BUNDLED_DIR / f"{BUNDLED_NAME}.json").read_text())
    params = FeatureParams.from_dict(sidecar["feature_params"])
    return params.n_freq, params.n_frames


@dataclass(frozen=True)
class Design:
    """What a person chooses on the design page (or posts to the API)."""

    filters: tuple[int, ...] = tuple(DEFAULT_ARCHITECTURE["filters"])
    kernels: tuple[int, ...] = tuple(DEFAULT_ARCHITECTURE["kernels"])
    pools: tuple[int, ...] = tuple(DEFAULT_ARCHITECTURE["pools"])
    dense: int = DEFAULT_ARCHITECTURE["dense"]
    dropout: float = DEFAULT_ARCHITECTURE["dropout"]
    learning_rate: float = DEFAULT_LEARNING_RATE
    epochs: int = DEFAULT_EPOCHS
    augment: bool = True

    def architecture(self) -> dict:
        """The architecture as stored and answered by the API."""
        return {
            "filters": list(self.filters),
            "kernels": list(self.kernels),
            "pools": list(self.pools),
            "dense": self.dense,
            "dropout": self.dropout,
        }

    def hyperparameters(self) -> dict:
        """The overrides of :data:`modelzoo.training.DEFAULT_HYPERPARAMETERS` this design trains with."""
        return {
            "filters": list(self.filters),
            "kernels": list(self.kernels),
            "pool_sizes": list(self.pools),
            "dense_units": self.dense,
            "dense_dropout": self.dropout,
            "learning_rate": self.learning_rate,
            "epochs": self.epochs,
            "augment": self.augment,
        }

    def to_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}


@dataclass
class LayerShape:
    name: str
    kind: str
    shape: tuple[int, ...]  # (height, width, channels) or (units,)
    parameters: int
    macs: int = 0  # multiply-accumulates of one forward pass

    @property
    def shape_text(self) -> str:
        return " × ".join(str(d) for d in self.shape)


@dataclass
class Summary:
    """What the design page shows: every layer's output shape, the parameters, the time; or the problems."""

    layers: list[LayerShape] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # field name -> why it cannot be
    parameters: int = 0
    macs: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def summarise(design: Design, shape: tuple[int, int] | None = None, *, clips: int = TRAINING_CLIPS) -> Summary:
    """Shapes, parameter count and expected training time of `design`, or why it cannot be built.

    A problem is keyed by the field at fault (``filters_2``, ``kernels_1``, ``pools_3``,
    ``dense``…), so the form puts the sentence next to it.
    """
    height, width = shape or input_shape()
    summary = Summary()
    summary.layers.append(LayerShape("features", "Input", (height, width, 1), 0))
    channels = 1
    for i in range(CONV_LAYERS):
        n = i + 1
        filters, kernel, pool = design.filters[i], design.kernels[i], design.pools[i]
        if filters < 1:
            summary.problems[f"filters_{n}"] = (
                f"Layer {n} needs at least one filter; with none, nothing reaches the end."
            )
        if kernel < 1:
            summary.problems[f"kernels_{n}"] = f"Layer {n}'s kernel must be at least 1 × 1."
        elif kernel > min(height, width):
            summary.problems[f"kernels_{n}"] = (
                f"Layer {n}'s {kernel} × {kernel} kernel is larger than its {height} × {width} input; "
                f"use at most {min(height, width)}."
            )
        if pool < 1:
            summary.problems[f"pools_{n}"] = f"Layer {n}'s pooling must be at least 1 (1 = no pooling)."
        if summary.problems:
            # Later shapes depend on this layer: report what is wrong here and stop.
            return summary
        conv_params = kernel * kernel * channels * filters + filters
        summary.layers.append(
            LayerShape(
                f"conv{n}",
                "Conv2D",
                (height, width, filters),
                conv_params,
                height * width * kernel**2 * channels * filters,
            )
        )
        pooled_h, pooled_w = height // pool, width // pool
        if pooled_h < 1 or pooled_w < 1:
            summary.problems[f"pools_{n}"] = (
                f"Pooling by {pool} shrinks layer {n}'s {height} × {width} output to {pooled_h} × {pooled_w}: "
                "nothing would be left; pool by less, here or before."
            )
            return summary
        height, width, channels = pooled_h, pooled_w, filters
        summary.layers.append(LayerShape(f"pool{n}", "MaxPooling2D", (height, width, channels), 0))
    flat = height * width * channels
    summary.layers.append(LayerShape("flatten", "Flatten", (flat,), 0))
    summary.layers.append(
        LayerShape("dense", "Dense", (design.dense,), flat * design.dense + design.dense, flat * design.dense)
    )
    summary.layers.append(LayerShape("dropout_dense", "Dropout", (design.dense,), 0))
    summary.layers.append(
        LayerShape("probabilities", "Dense", (LABELS,), design.dense * LABELS + LABELS, design.dense * LABELS)
    )
    summary.parameters = sum(layer.parameters for layer in summary.layers)
    summary.macs = sum(layer.macs for layer in summary.layers)
    if summary.parameters > MAX_PARAMETERS:
        summary.problems["dense"] = (
            f"This design has {summary.parameters:,} parameters, more than the {MAX_PARAMETERS:,} a workshop "
            "training allows (most of them in the dense layer): use fewer filters in layer 3, more pooling or "
            "a narrower dense layer."
        )
    summary.seconds = expected_seconds(summary.macs, design.epochs, design.augment, clips=clips)
    return summary


def expected_seconds(macs: int, epochs: int, augment: bool, *, clips: int = TRAINING_CLIPS) -> float:
    """Wall time of a training on an otherwise idle worker, validation included."""
    per_epoch = clips * 3 * macs / TRAIN_MACS_PER_SECOND + EPOCH_OVERHEAD_SECONDS
    if augment:
        per_epoch += clips * AUGMENT_SECONDS_PER_CLIP
    return START_SECONDS + epochs * per_epoch + VALIDATION_SECONDS
