"""Ablation: run the rest of the network with some filters of one layer silenced (or only one kept).

Pure numpy: which filters an edit silences (:func:`muted_filters`) and the mask of the
layer's remaining sound (:func:`layer_mask`).  Worker side (TensorFlow, imported inside
the functions): :func:`ablated_probabilities` reruns the network after the edited layer
on a batch of inputs.

The network after a layer is a Keras model whose inputs are the model's input and that
layer's output (:func:`tail_model`): it computes whatever depends on the layer from the
edited output, and any branch that skips the layer (a residual connection) from the
input, so any functional model can be edited, not only a plain chain.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dsp.sonification import activation_mask

if TYPE_CHECKING:
    from modelzoo.inference import LoadedModel

__all__ = ["MODES", "ablated_probabilities", "edit_key", "layer_mask", "muted_filters", "tail_model"]

MODES = ("mute", "solo")


def muted_filters(*, mode: str, filters: Sequence[int], n_filters: int) -> list[int]:
    """The filters an edit silences, sorted.

    Parameters
    ----------
    mode : str
        ``"mute"`` (silence `filters`) or ``"solo"`` (keep only ``filters[0]``).
    filters : sequence of int
        Distinct indices in ``range(n_filters)``; one for a solo.
    n_filters : int

    Raises
    ------
    ValueError
        With a sentence for the user.
    """
    if mode not in MODES:
        raise ValueError(f"Choose “mute” or “solo”, not “{mode}”.")
    if not filters:
        raise ValueError("Choose at least one filter.")
    chosen = sorted(set(filters))
    if len(chosen) != len(filters):
        raise ValueError("Each filter can be chosen only once.")
    if chosen[0] < 0 or chosen[-1] >= n_filters:
        raise ValueError(f"This layer has filters 0 to {n_filters - 1}.")
    if mode == "solo":
        if len(chosen) != 1:
            raise ValueError("Solo keeps exactly one filter.")
        return [k for k in range(n_filters) if k != chosen[0]]
    return chosen


def edit_key(filters: Sequence[int]) -> str:
    """A short, stable key for a set of filters (the indices, or their digest for very long lists)."""
    import hashlib

    text = ",".join(str(k) for k in sorted(filters))
    return text if len(text) <= 200 else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def layer_mask(activations: np.ndarray, muted: Sequence[int], shape: tuple[int, int]) -> np.ndarray:
    """A soft mask on the input's STFT grid from the sum of a layer's maps that are not muted.

    What the next layer still hears from this one: the maps of the filters left, added
    up, stretched onto the input's grid and scaled by their own maximum (as a single
    filter's sound is, :func:`dsp.sonification.activation_mask`).

    Parameters
    ----------
    activations : np.ndarray, shape (filters, rows, cols)
        The layer's output for the clip.
    muted : sequence of int
        Filters silenced.
    shape : (n_freq, n_frames)

    Returns
    -------
    np.ndarray, float32, shape `shape`, values in [0, 1]; all zeros when every filter is muted.
    """
    values = np.maximum(np.asarray(activations, dtype=np.float32), 0.0)
    keep = np.ones(values.shape[0], dtype=bool)
    keep[list(muted)] = False
    return activation_mask(values[keep].sum(axis=0) if keep.any() else np.zeros(values.shape[1:]), shape)


# --------------------------------------------------------------------------- worker side (TensorFlow)

_tails: dict[tuple[str, str], tuple[Any, Any]] = {}
_tails_lock = threading.Lock()


def tail_model(model: LoadedModel, layer: str) -> tuple[Any, Any]:
    """Compiled functions (head, tail) around `layer`, built once per model and layer.

    ``head(x)`` is the layer's output for features ``x`` (batch, n_freq, n_frames, 1);
    ``tail(x, a)`` the probabilities when the layer's output is ``a`` instead.
    """
    with _tails_lock:
        key = (model.key, layer)
        if key not in _tails:
            import keras
            import tensorflow as tf

            km = model.keras_model
            output = km.get_layer(layer).output
            head = keras.Model(inputs=km.inputs, outputs=output)
            tail = keras.Model(inputs=[km.inputs[0], output], outputs=km.outputs[0])
            p = model.params
            x_spec = tf.TensorSpec((None, p.n_freq, p.n_frames, 1), tf.float32)
            a_spec = tf.TensorSpec((None, *output.shape[1:]), tf.float32)
            _tails[key] = (
                tf.function(lambda x: head(x, training=False), input_signature=[x_spec]),
                tf.function(lambda x, a: tail([x, a], training=False), input_signature=[x_spec, a_spec]),
            )
        return _tails[key]


def ablated_probabilities(
    model: LoadedModel, features: np.ndarray, *, layer: str, muted: Sequence[int], batch_size: int = 64
) -> np.ndarray:
    """Probabilities with the `muted` filters of `layer` set to zero and the rest of the network run on.

    Parameters
    ----------
    model : LoadedModel
    features : np.ndarray, float32, shape (n, n_freq, n_frames) or (n_freq, n_frames)
    layer : str
        One of ``model.conv_layers``.
    muted : sequence of int
        Filters silenced (all of them is allowed: the layer then says nothing).

    Returns
    -------
    np.ndarray, float32, shape (n, n_labels), or (n_labels,) for one input
    """
    import tensorflow as tf

    if layer not in model.conv_layers:
        raise ValueError(f"layer must be one of {', '.join(model.conv_layers)}, got {layer!r}.")
    x = np.asarray(features, dtype=np.float32)
    single = x.ndim == 2
    batch = x[None] if single else x
    head, tail = tail_model(model, layer)
    out = []
    for start in range(0, len(batch), batch_size):
        chunk = tf.constant(batch[start : start + batch_size, ..., None])
        acts = head(chunk)
        keep = np.ones(int(acts.shape[-1]), dtype=np.float32)
        keep[list(muted)] = 0.0
        out.append(tail(chunk, acts * tf.constant(keep)).numpy())
    probabilities = np.concatenate(out).astype(np.float32)
    return probabilities[0] if single else probabilities
