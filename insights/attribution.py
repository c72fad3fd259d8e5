"""Why did the model say that?  Grad-CAM, integrated gradients, and attribution you can hear.

Worker side (TensorFlow, imported inside functions): :func:`grad_cam`,
:func:`grad_cams` and :func:`integrated_gradients` map a clip's features to
attribution maps on the input's ``(n_freq, n_frames)`` grid, for any target digit.

Web side (pure numpy): :func:`attribution_masks` turns a map into a soft mask for
"the evidence" and its complement "the rest"; :func:`listen` applies a mask to the
input STFT and inverts it with the input's own phase, as layer sonification does.
Because the two masks sum to one and the inverse STFT is linear, the two sounds add
up to the clip the model heard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dsp.features import active_region, log_spectrogram, normalise
from dsp.params import FeatureParams
from dsp.sonification import upsample_map
from dsp.stft import istft, stft

if TYPE_CHECKING:
    from modelzoo.inference import LoadedModel

__all__ = [
    "BASELINES",
    "CAM_METHODS",
    "DEFAULT_KEEP",
    "IntegratedGradients",
    "attribution_masks",
    "baseline_features",
    "evidence_outside_word",
    "grad_cam",
    "grad_cams",
    "integrated_gradients",
    "integrated_gradients_result",
    "listen",
]

BASELINES = ("silence", "zeros")
CAM_METHODS = ("hirescam", "gradcam")
OUTPUTS = ("probability", "logit")
#: Fraction of time-frequency bins that play at full level in "the evidence".
DEFAULT_KEEP = 0.25


def _check(model: LoadedModel, features: np.ndarray, target: int) -> np.ndarray:
    p = model.params
    x = np.asarray(features, dtype=np.float32)
    if x.shape != (p.n_freq, p.n_frames):
        raise ValueError(f"features must be shaped ({p.n_freq}, {p.n_frames}), got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or infinite values.")
    if isinstance(target, bool) or not isinstance(target, int | np.integer) or not 0 <= target < len(model.labels):
        raise ValueError(f"target must be a label index from 0 to {len(model.labels) - 1}, got {target!r}.")
    return x


# --------------------------------------------------------------------------- Grad-CAM


def _grad_cam_function(model: LoadedModel) -> Any:
    """tf.function: features (1, F, T), target -> (conv outputs, d logit / d conv outputs)."""
    import tensorflow as tf

    from insights.differentiable import differentiable_model

    dm = differentiable_model(model)
    if "grad_cam" not in dm.functions:
        p = model.params

        @tf.function(
            input_signature=[
                tf.TensorSpec((1, p.n_freq, p.n_frames), tf.float32),
                tf.TensorSpec((), tf.int32),
            ]
        )
        def grad_cam_fn(x: Any, target: Any) -> Any:
            with tf.GradientTape() as tape:
                convs, logits = dm(x)
                acts = [convs[name] for name in model.conv_layers]
                tape.watch(acts)
                score = logits[0, target]
            return acts, tape.gradient(score, acts)

        dm.functions["grad_cam"] = grad_cam_fn
    return dm.functions["grad_cam"]


def grad_cams(
    model: LoadedModel, features: np.ndarray, *, target: int, method: str = "hirescam"
) -> dict[str, np.ndarray]:
    """Grad-CAM of every convolution layer for one target, from one gradient pass.

    For a layer's output ``A`` (rows, cols, filters) and ``G = d logit_target / d A``:

    * ``"hirescam"`` (default; Draelos & Carin, 2020): ``relu(sum_k G_k * A_k)``,
      each position weighted by its own gradient;
    * ``"gradcam"`` (Selvaraju et al., 2017): ``relu(sum_k mean(G_k) A_k)``, one
      weight per filter.

    The two agree when the layer feeds global average pooling.  The digit CNN's
    recipe ends in Flatten + Dense, where the gradient differs from place to place
    and its spatial mean can point anywhere: on a model trained to tell three tones
    apart, "gradcam" maps miss the tone at every layer while "hirescam" maps keep
    over 97% of its energy (see the tests), hence the default.  The score is the
    target's pre-softmax logit: probabilities saturate on confident clips and their
    gradient vanishes.  Maps are bilinearly stretched onto the input grid with
    :func:`modelzoo.sonification.upsample_map` (the same stretch as layer images and
    sounds) and divided by their maximum.

    Parameters
    ----------
    model : LoadedModel
    features : np.ndarray, float32, shape (n_freq, n_frames)
        The clip's normalised log spectrogram (``Prepared.features``).
    target : int
        Index into ``model.labels``: the predicted digit or any other.
    method : str
        ``"hirescam"`` or ``"gradcam"``.

    Returns
    -------
    dict of layer name to np.ndarray, float32, shape (n_freq, n_frames)
        Values in [0, 1]; all zeros when nothing in the layer speaks for the target.
    """
    import tensorflow as tf

    from insights.differentiable import enable_determinism

    x = _check(model, features, target)
    if method not in CAM_METHODS:
        raise ValueError(f"method must be one of {', '.join(CAM_METHODS)}, got {method!r}.")
    enable_determinism()
    acts, grads = _grad_cam_function(model)(tf.constant(x[None]), tf.constant(int(target), tf.int32))
    maps = {}
    for name, a, g in zip(model.conv_layers, acts, grads, strict=True):
        a, g = a.numpy()[0].astype(np.float64), g.numpy()[0].astype(np.float64)
        if method == "gradcam":
            cam = np.maximum(a @ g.mean(axis=(0, 1)), 0.0).astype(np.float32)
        else:  # HiResCAM: each position weighted by its own gradient
            cam = np.maximum((a * g).sum(axis=2), 0.0).astype(np.float32)
        cam = np.maximum(upsample_map(cam, x.shape), 0.0)
        peak = float(cam.max())
        maps[name] = (cam / peak if peak > 0 else np.zeros_like(cam)).astype(np.float32)
    return maps


def grad_cam(
    model: LoadedModel, features: np.ndarray, *, layer: str, target: int, method: str = "hirescam"
) -> np.ndarray:
    """Grad-CAM (by default its HiResCAM form) of one convolution layer; see :func:`grad_cams`.

    Parameters
    ----------
    model : LoadedModel
    features : np.ndarray, float32, shape (n_freq, n_frames)
    layer : str
        One of ``model.conv_layers``.
    target : int
    method : str
        ``"hirescam"`` or ``"gradcam"``.

    Returns
    -------
    np.ndarray, float32, shape (n_freq, n_frames), values in [0, 1]
    """
    if layer not in model.conv_layers:
        raise ValueError(f"layer must be one of {', '.join(model.conv_layers)}, got {layer!r}.")
    return grad_cams(model, features, target=target, method=method)[layer]


# --------------------------------------------------------------------------- integrated gradients


def baseline_features(params: FeatureParams, kind: str = "silence") -> np.ndarray:
    """The reference input integrated gradients starts from.

    ``"silence"`` is the features of digital silence through the real pipeline: with
    per-clip normalisation (``"clip"`` or ``"frequency"``) a constant spectrogram
    maps to all zeros, which is also the mean of every normalised input, so it
    carries no information about any digit; with ``normalisation="none"`` it is
    the power floor (``10 log10(amin)`` dB everywhere), which all-zero features
    would not be.  ``"zeros"`` is the all-zero input whatever the pipeline.

    Parameters
    ----------
    params : FeatureParams
    kind : str
        ``"silence"`` (default) or ``"zeros"``.

    Returns
    -------
    np.ndarray, float32, shape (n_freq, n_frames)
    """
    if kind not in BASELINES:
        raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, got {kind!r}.")
    if kind == "zeros":
        return np.zeros((params.n_freq, params.n_frames), dtype=np.float32)
    silence = np.zeros(params.n_samples, dtype=np.float32)
    return normalise(log_spectrogram(stft(silence, params), params), params)


@dataclass(frozen=True)
class IntegratedGradients:
    """Integrated gradients and the completeness check that comes with them.

    Attributes
    ----------
    attribution : np.ndarray, float32, shape (n_freq, n_frames)
        Signed: positive bins raise the target's score, negative ones lower it.
    score : float
        The target's score (probability or logit) on the input.
    baseline_score : float
        The same on the baseline.
    completeness_error : float
        ``attribution.sum() - (score - baseline_score)``; the Riemann sum's error,
        shrinking like ``1 / steps**2`` (midpoint rule).
    """

    attribution: np.ndarray
    score: float
    baseline_score: float
    completeness_error: float


def _ig_function(model: LoadedModel, output: str) -> Any:
    """tf.function: path points (m, F, T), target -> (scores (m,), gradients (m, F, T))."""
    import tensorflow as tf

    from insights.differentiable import differentiable_model

    dm = differentiable_model(model)
    name = f"integrated_gradients:{output}"
    if name not in dm.functions:
        p = model.params

        @tf.function(
            input_signature=[
                tf.TensorSpec((None, p.n_freq, p.n_frames), tf.float32),
                tf.TensorSpec((), tf.int32),
            ]
        )
        def ig_fn(x: Any, target: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(x)
                _, logits = dm(x)
                scores = tf.nn.softmax(logits)[:, target] if output == "probability" else logits[:, target]
                # The points are independent, so the gradient of the sum is each point's own.
                total = tf.reduce_sum(scores)
            return scores, tape.gradient(total, x)

        dm.functions[name] = ig_fn
    return dm.functions[name]


def integrated_gradients_result(
    model: LoadedModel,
    features: np.ndarray,
    *,
    target: int,
    steps: int = 32,
    baseline: str = "silence",
    output: str = "probability",
    batch_size: int = 32,
) -> IntegratedGradients:
    """Integrated gradients (Sundararajan et al., 2017) on the input spectrogram.

    ``(x - b) * mean_k grad f(b + a_k (x - b))`` with ``a_k = (k + 1/2) / steps``
    (midpoint rule: ``steps`` gradient evaluations, error ``O(1/steps**2)``), so the
    attributions add up to ``f(x) - f(b)`` (completeness).

    Parameters
    ----------
    model : LoadedModel
    features : np.ndarray, float32, shape (n_freq, n_frames)
    target : int
        Index into ``model.labels``.
    steps : int
        Points on the straight path from the baseline to the input (1 to 1024).
    baseline : str
        See :func:`baseline_features`.
    output : str
        ``"probability"`` (default; the softmax probability, as in the original paper,
        so the map also shows evidence *against* the other digits and sums to a
        probability change a student can read) or ``"logit"``.
    batch_size : int
        Path points per forward/backward pass (memory bound).

    Returns
    -------
    IntegratedGradients
    """
    import tensorflow as tf

    from insights.differentiable import enable_determinism

    x = _check(model, features, target)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 1024:
        raise ValueError(f"steps must be an integer from 1 to 1024, got {steps!r}.")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}.")
    enable_determinism()
    fn = _ig_function(model, output)
    b = baseline_features(model.params, baseline)
    diff = x - b
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    total = np.zeros(x.shape, dtype=np.float64)
    t = tf.constant(int(target), tf.int32)
    for start in range(0, steps, batch_size):
        a = alphas[start : start + batch_size, None, None]
        _, grads = fn(tf.constant(b[None] + a * diff[None]), t)
        total += grads.numpy().astype(np.float64).sum(axis=0)
    ends, _ = fn(tf.constant(np.stack([x, b])), t)
    score, base_score = (float(v) for v in ends.numpy())
    attribution = (diff * total / steps).astype(np.float32)
    error = float(attribution.sum(dtype=np.float64) - (score - base_score))
    return IntegratedGradients(attribution, score, base_score, error)


def integrated_gradients(
    model: LoadedModel,
    features: np.ndarray,
    *,
    target: int,
    steps: int = 32,
    baseline: str = "silence",
    output: str = "probability",
) -> np.ndarray:
    """The attribution map of :func:`integrated_gradients_result`.

    Returns
    -------
    np.ndarray, float32, shape (n_freq, n_frames)
        Signed attributions; they sum to about ``f(x) - f(baseline)``.
    """
    return integrated_gradients_result(
        model, features, target=target, steps=steps, baseline=baseline, output=output
    ).attribution


# --------------------------------------------------------------------------- listening (pure numpy)


def _box_blur(a: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1) x (2r+1) neighbourhood, the edges averaging what exists."""
    if radius <= 0:
        return a
    out = a.astype(np.float64)
    for axis in (0, 1):
        n = out.shape[axis]
        c = np.cumsum(np.pad(out, [(1, 0) if ax == axis else (0, 0) for ax in (0, 1)]), axis=axis)
        lo = np.clip(np.arange(n) - radius, 0, n)
        hi = np.clip(np.arange(n) + radius + 1, 0, n)
        sums = np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis)
        shape = [1, 1]
        shape[axis] = n
        out = sums / (hi - lo).reshape(shape)
    return out


def attribution_masks(
    attribution: np.ndarray, *, keep: float = DEFAULT_KEEP, smooth: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Soft masks for "listen to the evidence" and "listen to the rest".

    Only positive attribution is evidence for the target.  Its positive part is
    box-blurred over ``smooth`` bins (integrated gradients are speckled, and a
    speckled mask sounds like musical noise rather than like part of a word); then
    the top ``keep`` fraction of bins play at full level, the next ``keep`` fraction
    fade linearly to silence (a soft edge: hard binary masks ring), and the rest of
    the bins, and any without positive attribution, are silent.  When fewer than
    ``keep`` of the bins carry evidence, all of those play fully.  "The rest" is
    ``1 - evidence``.

    Parameters
    ----------
    attribution : np.ndarray, shape (n_freq, n_frames)
        A Grad-CAM map (in [0, 1]) or integrated gradients (signed).
    keep : float
        In (0, 1].
    smooth : int
        Blur radius in bins (0 for none).

    Returns
    -------
    evidence, rest : np.ndarray, float32, shape (n_freq, n_frames)
        Values in [0, 1] with ``evidence + rest == 1``.  Evidence is all zeros (and
        the rest all ones) when no bin speaks for the target.
    """
    a = np.asarray(attribution, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"attribution must be 2-D (n_freq, n_frames), got shape {a.shape}.")
    if not np.all(np.isfinite(a)):
        raise ValueError("attribution contains NaN or infinite values.")
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep!r}.")
    if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 0:
        raise ValueError(f"smooth must be a non-negative integer, got {smooth!r}.")
    positive = _box_blur(np.maximum(a, 0.0), smooth)
    evidence = np.zeros(a.shape)
    if positive.max() > 0:
        high = float(np.quantile(positive, 1.0 - keep))
        low = float(np.quantile(positive, max(0.0, 1.0 - 2.0 * keep)))
        if high <= 0:
            high = low = float(positive[positive > 0].min())
        if high > low:
            evidence = np.clip((positive - low) / (high - low), 0.0, 1.0)
        else:
            evidence = (positive >= high).astype(np.float64)
        evidence[positive <= 0] = 0.0
    evidence = evidence.astype(np.float32)
    return evidence, (np.float32(1.0) - evidence).astype(np.float32)


def listen(spectrum: np.ndarray, mask: np.ndarray, params: FeatureParams, *, length: int | None = None) -> np.ndarray:
    """The clip the model heard, through a time-frequency mask, with its own phase.

    Parameters
    ----------
    spectrum : np.ndarray, complex64, shape (n_freq, n_frames)
        The clip's STFT (``Prepared.stft``, kept in the analysis cache).
    mask : np.ndarray, shape (n_freq, n_frames)
        Soft mask, e.g. from :func:`attribution_masks`.
    params : FeatureParams
    length : int, optional
        Samples of the result; ``params.n_samples`` by default.

    Returns
    -------
    np.ndarray, float32, shape (length,) at ``params.sample_rate``
        Linear in ``mask``: complementary masks give two sounds that sum to the clip.
    """
    spectrum = np.asarray(spectrum)
    mask = np.asarray(mask, dtype=np.float32)
    if spectrum.shape != mask.shape or spectrum.ndim != 2:
        raise ValueError(f"spectrum {spectrum.shape} and mask {mask.shape} must be the same 2-D shape.")
    return istft(spectrum * mask, params, params.n_samples if length is None else length)


#: Share of a map's positive evidence outside the spoken part above which the page warns.
PADDING_WARNING_SHARE = 0.25


def evidence_outside_word(attribution: np.ndarray, waveform: np.ndarray, params: FeatureParams) -> float | None:
    """Share of a map's positive evidence that lies in frames outside the clip's spoken part.

    The spoken part is :func:`dsp.features.active_region` of the window the model heard
    (the same rule that centred the word in it); frame ``t`` is centred on sample
    ``t * hop_length``.  Evidence there is the network reacting to padding or to
    near-silence: nothing a listener could change by saying the digit differently, and
    "the evidence" sound is silent there.

    Parameters
    ----------
    attribution : np.ndarray, shape (n_freq, n_frames)
    waveform : np.ndarray, shape (n_samples,)
        The fitted window (``AnalysisCache.waveform``).
    params : FeatureParams

    Returns
    -------
    float in [0, 1], or None when the map holds no positive evidence.
    """
    positive = np.maximum(np.asarray(attribution, dtype=np.float64), 0.0).sum(axis=0)
    total = float(positive.sum())
    if total <= 0:
        return None
    start, end = active_region(np.asarray(waveform, dtype=np.float32), params)
    centres = np.arange(positive.shape[0]) * params.hop_length
    inside = (centres >= start) & (centres < end)
    return float(positive[~inside].sum() / total)
