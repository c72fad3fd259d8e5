"""The feature pipeline in TensorFlow, so gradients flow from the model back to the waveform.

:mod:`modelzoo.features` is the reference (pure numpy, used for every analysis); this
module rebuilds the part after fitting — STFT, power, dB, ``top_db`` floor,
normalisation — from TensorFlow ops with the same constants, so the features agree
to float32 rounding (see :func:`tf_features`), plus the two numpy pieces that turn a
1-s clip into exactly what :func:`modelzoo.features.prepare` feeds the model
(:func:`analysed_view`) and carry a gradient back through them (:func:`view_adjoint`).

It also wraps a loaded Keras model so that one call gives every convolution layer's
output *and* the pre-softmax logits (:func:`differentiable_model`): Grad-CAM and the
attacks need scores that do not saturate the way probabilities do.

TensorFlow and Keras are imported inside functions only; the numpy helpers are safe to
import from the web tier.

Where the pipeline is not differentiable (all on sets of measure zero, so gradient
methods are unaffected in practice):

* ``max(power, amin)``: zero gradient for bins below the power floor (digital silence);
* ``max(db, peak - top_db)``: bins under the clip's floor get no gradient of their own,
  but follow the loudest bin through ``peak`` (a kink where a bin crosses the floor);
* ``reduce_max`` for the peak: the gradient goes to the loudest bin (split on ties);
* the standard deviation of a constant spectrogram is 0; like numpy we then divide by 1,
  and the square root is guarded so the gradient stays finite (it is zero there);
* fitting the word into the window (:func:`fit_offset`) is piecewise constant in the
  samples: the offset is recomputed in numpy and held fixed for a gradient step.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dsp.features import active_region, place
from dsp.params import FeatureParams

if TYPE_CHECKING:
    from modelzoo.inference import LoadedModel

__all__ = [
    "DifferentiableModel",
    "analysed_view",
    "differentiable_model",
    "enable_determinism",
    "fit_offset",
    "tf_features",
    "tf_log_spectrogram",
    "tf_normalise",
    "tf_power_spectrogram",
    "view_adjoint",
]


# --------------------------------------------------------------------------- numpy: the fitted view


def fit_offset(y: np.ndarray, params: FeatureParams) -> int:
    """The offset with ``fit_to_duration(y) == place(y, offset, params.n_samples)``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal at ``params.sample_rate`` (DC already removed, as
        :func:`modelzoo.features.prepare` does before fitting).

    Returns
    -------
    int
        May be negative (leading zeros) or point past the end (trailing zeros).
    """
    y = np.asarray(y, dtype=np.float32)
    n = params.n_samples
    if params.fit_mode == "start":
        return 0
    start, end = active_region(y, params)
    if end - start <= n:
        return (start + end) // 2 - n // 2
    c = np.concatenate([[0.0], np.cumsum(np.square(y[start:end], dtype=np.float64))])
    return start + int(np.argmax(c[n:] - c[:-n]))


def _remove_dc(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    # Exactly prepare()'s arithmetic (mean in float64, subtracted in float32), so the
    # view is bit-identical to the analysis.
    if not params.remove_dc:
        return y
    return y - y.mean(dtype=np.float64).astype(np.float32)


def analysed_view(y: np.ndarray, params: FeatureParams) -> tuple[np.ndarray, int]:
    """What :func:`~modelzoo.features.prepare` makes of a clip already at the model's rate.

    A derived recording at the model's rate (an adversarial clip) is analysed like any
    other: DC removal, then fitting, which can move a clip that was fitted once already
    by a few hops (the active region is measured on a frame grid).  Attacks optimise
    through this view so the recording they produce fools the analysis, not just the
    clip before re-fitting.

    Parameters
    ----------
    y : np.ndarray, float32, shape (n,)
        Mono, at ``params.sample_rate``.

    Returns
    -------
    view : np.ndarray, float32, shape (params.n_samples,)
        Bit-identical to ``prepare(y, params.sample_rate, params).waveform``.
    offset : int
        The fitting offset, for :func:`view_adjoint`.
    """
    centred = _remove_dc(np.asarray(y, dtype=np.float32), params)
    offset = fit_offset(centred, params)
    return place(centred, offset, params.n_samples), offset


def view_adjoint(grad: np.ndarray, offset: int, n_in: int, params: FeatureParams) -> np.ndarray:
    """Carry a gradient with respect to the view back to the clip (offset held fixed).

    ``place`` is a shift with zero fill and DC removal an orthogonal projection, so
    the adjoint is the opposite shift followed by the same projection.

    Parameters
    ----------
    grad : np.ndarray, shape (params.n_samples,)
        Gradient with respect to :func:`analysed_view`'s ``view``.
    offset : int
        The offset :func:`analysed_view` returned.
    n_in : int
        Length of the clip.

    Returns
    -------
    np.ndarray, float32, shape (n_in,)
    """
    back = place(np.asarray(grad, dtype=np.float32), -offset, n_in)
    if params.remove_dc:
        back = back - back.mean(dtype=np.float64).astype(np.float32)
    return back


# --------------------------------------------------------------------------- TensorFlow: features


def tf_power_spectrogram(y: Any, params: FeatureParams) -> Any:
    """``|stft(y)|**2`` with :func:`modelzoo.features.stft`'s framing and window.

    Parameters
    ----------
    y : tf.Tensor, float32 (or float64), shape (batch, n)

    Returns
    -------
    tf.Tensor, same float dtype, shape (batch, n_freq, 1 + n // hop_length)
    """
    import tensorflow as tf

    from dsp.stft import window

    pad = params.n_fft // 2
    n_frames = 1 + int(y.shape[-1]) // params.hop_length
    padded = tf.pad(y, [[0, 0], [pad, pad]])
    frames = tf.signal.frame(padded, params.n_fft, params.hop_length)[:, :n_frames, :]
    # The window rounded to float32 first, as numpy's stft does.
    frames = frames * tf.cast(tf.constant(window(params).astype(np.float32)), y.dtype)
    spec = tf.signal.rfft(frames)  # (batch, n_frames, n_freq): complex64 like numpy's for float32 input
    power = tf.square(tf.math.real(spec)) + tf.square(tf.math.imag(spec))
    return tf.transpose(power, [0, 2, 1])


def tf_log_spectrogram(power: Any, params: FeatureParams) -> Any:
    """dB with the power floor and the clip-relative ``top_db`` floor of :func:`~modelzoo.features.log_spectrogram`.

    Parameters
    ----------
    power : tf.Tensor, float32, shape (batch, n_freq, n_frames)

    Returns
    -------
    tf.Tensor, float32, same shape
    """
    import tensorflow as tf

    # Python floats take the tensor's dtype (float32 like numpy's, or float64 in tests).
    db = (10.0 / np.log(10.0)) * tf.math.log(tf.maximum(power, float(params.amin)))
    peak = tf.reduce_max(db, axis=[-2, -1], keepdims=True)
    return tf.maximum(db, peak - float(params.top_db))


def tf_normalise(logspec: Any, params: FeatureParams) -> Any:
    """:func:`~modelzoo.features.normalise` in TensorFlow (population std, constant input to zeros).

    Parameters
    ----------
    logspec : tf.Tensor, float32, shape (batch, n_freq, n_frames)

    Returns
    -------
    tf.Tensor, float32, same shape
    """
    import tensorflow as tf

    if params.normalisation == "none":
        return logspec
    axes = [-2, -1] if params.normalisation == "clip" else [-1]
    mean = tf.reduce_mean(logspec, axis=axes, keepdims=True)
    centred = logspec - mean
    variance = tf.reduce_mean(tf.square(centred), axis=axes, keepdims=True)
    # sqrt has an infinite derivative at 0; the floor keeps the gradient finite (and 0)
    # where numpy falls back to dividing by 1.
    std = tf.sqrt(tf.maximum(variance, 1e-14))
    return centred / tf.where(std > 1e-6, std, tf.ones_like(std))


def tf_features(y: Any, params: FeatureParams) -> Any:
    """Normalised log spectrogram of fitted clips, as :func:`modelzoo.features.prepare` computes it.

    Agrees with numpy to float32 rounding: on the sample clips and white noise the
    largest difference is below 1e-4 (in units of the clip's standard deviation) and
    the mean about 2e-6.  The largest differences sit in the weakest bins (near the
    ``top_db`` floor, e.g. at Nyquist), where both FFTs' float32 error, relative to the
    frame's loudest bin, is largest in dB; the tests allow 2e-4 and 1e-5.

    Parameters
    ----------
    y : tf.Tensor, float32, shape (batch, n_samples)
        Fitted, DC-free clips (the ``view`` of :func:`analysed_view`).

    Returns
    -------
    tf.Tensor, float32, shape (batch, n_freq, n_frames)
    """
    return tf_normalise(tf_log_spectrogram(tf_power_spectrogram(y, params), params), params)


# --------------------------------------------------------------------------- the model, with logits


_determinism_lock = threading.Lock()
_determinism_on = False


def enable_determinism() -> None:
    """Deterministic TensorFlow kernels (process-wide, idempotent); called before any gradient."""
    global _determinism_on
    with _determinism_lock:
        if not _determinism_on:
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
            _determinism_on = True


@dataclass
class DifferentiableModel:
    """A loaded model as a TensorFlow-callable giving conv outputs and logits.

    Attributes
    ----------
    model : LoadedModel
    probe : keras.Model
        Input ``(batch, n_freq, n_frames, 1)`` to ``[*conv outputs, head input]``.
    logits_kind : str
        ``"logits"`` when the model ends in a softmax (a Dense layer with softmax
        activation, or a Softmax/Activation layer) whose input we can read;
        otherwise ``"log_probabilities"`` (log of the output: logits up to a
        per-example constant, which leaves every class difference unchanged).
    """

    model: LoadedModel
    probe: Any
    logits_kind: str
    _head: Any = field(repr=False)
    #: Compiled tf.functions built on this model by the attribution and attack modules,
    #: by name, so each is traced once per process.
    functions: dict[str, Any] = field(default_factory=dict, repr=False)

    def __call__(self, features: Any) -> tuple[dict[str, Any], Any]:
        """Conv outputs and logits.

        Parameters
        ----------
        features : tf.Tensor, float32, shape (batch, n_freq, n_frames)

        Returns
        -------
        convs : dict of layer name to tf.Tensor, shape (batch, rows, cols, filters)
        logits : tf.Tensor, float32, shape (batch, n_labels)
        """
        outputs = self.probe([features[..., None]], training=False)
        *convs, pre = outputs
        return dict(zip(self.model.conv_layers, convs, strict=True)), self._head(pre)


def _softmax_head(keras_model: Any) -> tuple[Any, Any, str]:
    """(symbolic tensor to read, function turning it into logits, kind)."""
    import keras
    import tensorflow as tf

    last = keras_model.layers[-1]
    output = keras_model.outputs[0]
    is_output = getattr(last, "output", None) is output
    activation = getattr(last, "activation", None)
    if is_output and isinstance(last, keras.layers.Dense) and getattr(activation, "__name__", "") == "softmax":

        def dense_logits(h: Any) -> Any:
            z = tf.matmul(h, last.kernel)
            return z + last.bias if last.bias is not None else z

        return last.input, dense_logits, "logits"
    softmax_layer = isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation) and getattr(activation, "__name__", "") == "softmax"
    )
    if is_output and softmax_layer:
        return last.input, lambda h: h, "logits"
    # Unknown head: log-probabilities differ from logits by a per-example constant.
    return output, lambda p: tf.math.log(tf.maximum(p, 1e-30)), "log_probabilities"


_models: dict[int, tuple[Any, DifferentiableModel]] = {}
_models_lock = threading.Lock()


def differentiable_model(model: LoadedModel) -> DifferentiableModel:
    """Wrap (once per Keras model per process) ``model`` for gradients.

    Parameters
    ----------
    model : LoadedModel

    Returns
    -------
    DifferentiableModel
    """
    import keras

    key = id(model.keras_model)
    with _models_lock:
        cached = _models.get(key)
        # The Keras model is kept in the entry, so its id cannot be reused while cached.
        if cached is not None and cached[0] is model.keras_model and cached[1].model is model:
            return cached[1]
        km = model.keras_model
        pre, head, kind = _softmax_head(km)
        probe = keras.Model(inputs=km.inputs, outputs=[*[km.get_layer(n).output for n in model.conv_layers], pre])
        wrapped = DifferentiableModel(model=model, probe=probe, logits_kind=kind, _head=head)
        _models[key] = (km, wrapped)
        return wrapped
