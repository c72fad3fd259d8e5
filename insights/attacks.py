"""Adversarial examples: projected gradient descent on the waveform, bounded by an SNR.

The attack works on the clip as the model hears it — the fitted window at the model's
rate, ``features.prepare(y, sr, params).waveform`` — and adds a perturbation whose L2
norm is at most ``||x|| / 10**(snr_db / 20)``.  Gradients flow through the TensorFlow
copy of the feature pipeline (:mod:`insights.differentiable`), including the DC removal
and re-fitting that analysing the resulting recording applies, so success is judged on
exactly what an analysis of the adversarial recording will show.

Replay: the edit history stores ``{"op": "adversarial", "params": {"model_version",
"target", "snr_db", "steps", "seed"}}``; :func:`apply_adversarial` recomputes the same
samples from the same canonical audio (numpy RNG seeded, deterministic TF kernels,
deterministic stopping rule).

TensorFlow is imported inside functions only; :func:`validate_adversarial_params` and
:func:`adversarial_operation` are pure and safe for the web tier.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dsp.features import log_spectrogram, normalise, prepare
from dsp.operation_specs import ADVERSARIAL_OP, SEED_MAX
from dsp.stft import stft
from insights.differentiable import analysed_view, view_adjoint

if TYPE_CHECKING:
    from modelzoo.inference import LoadedModel

__all__ = [
    "AttackResult",
    "adversarial_operation",
    "apply_adversarial",
    "pgd_attack",
    "validate_adversarial_params",
]

SNR_RANGE_DB = (0.0, 80.0)
STEPS_RANGE = (1, 500)
#: Stop once the adversarial class leads by this much in logits (a probability ratio
#: of e**0.5 = 1.65 over the runner-up), so the flip survives float32 differences
#: between the TensorFlow and numpy feature pipelines (about 1e-4).
DEFAULT_MARGIN = 0.5

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AttackResult:
    """What one attack produced.

    Attributes
    ----------
    waveform : np.ndarray, float32, shape (n_samples,)
        The adversarial clip at the model's rate: the input plus the perturbation.
    success : bool
        Targeted: the analysed adversarial clip is classified as ``target``;
        untargeted: as anything but ``original``.
    target : int or None
    original : int
        The class predicted before the attack.
    predicted : int
        The class predicted for the analysed adversarial clip.
    snr_db : float
        Achieved ``20 log10(||x|| / ||waveform - x||)``; at least ``snr_bound_db``.
    snr_bound_db : float
        The SNR the user asked for.
    probabilities_before, probabilities_after : np.ndarray, float32, shape (n_labels,)
        What the model says of the clip and of the adversarial clip (each exactly
        as an analysis computes it: numpy features, one forward pass).
    steps : int
        Steps allowed.
    steps_used : int
        Gradient steps taken; fewer than ``steps`` when it succeeded early.
    seed : int
    elapsed_ms : float
    """

    waveform: np.ndarray
    success: bool
    target: int | None
    original: int
    predicted: int
    snr_db: float
    snr_bound_db: float
    probabilities_before: np.ndarray
    probabilities_after: np.ndarray
    steps: int
    steps_used: int
    seed: int
    elapsed_ms: float

    def to_dict(self, labels: Sequence[str]) -> dict[str, Any]:
        """JSON-ready summary (no samples) with probabilities keyed by label."""
        return {
            "success": self.success,
            "target": None if self.target is None else labels[self.target],
            "original": labels[self.original],
            "predicted": labels[self.predicted],
            "snr_db": round(self.snr_db, 3) if math.isfinite(self.snr_db) else None,
            "snr_bound_db": self.snr_bound_db,
            "probabilities_before": _by_label(labels, self.probabilities_before),
            "probabilities_after": _by_label(labels, self.probabilities_after),
            "steps": self.steps,
            "steps_used": self.steps_used,
            "seed": self.seed,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def _by_label(labels: Sequence[str], probabilities: np.ndarray) -> dict[str, float]:
    return {label: round(float(p), 6) for label, p in zip(labels, probabilities, strict=True)}


# --------------------------------------------------------------------------- parameters (pure)


def _number(name: str, value: Any, lo: float, hi: float, *, integer: bool) -> float | int:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
    if ok and integer:
        ok = isinstance(value, numbers.Integral) or float(value).is_integer()
    if not ok or not lo <= float(value) <= hi:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{name} must be {kind} between {lo:g} and {hi:g} (got {value!r}).")
    return int(value) if integer else float(value)


def validate_adversarial_params(params: Any, *, n_labels: int = 10) -> dict[str, Any]:
    """Check and normalise the params of an ``adversarial`` history step.

    Parameters
    ----------
    params : Mapping
        ``{"model_version": id, "target": label index or -1 (untargeted),
        "snr_db": float, "steps": int, "seed": int}``.
    n_labels : int
        Labels of the model version.

    Returns
    -------
    dict
        The same keys, in that order, typed int/float; validating it again returns it.

    Raises
    ------
    ValueError
        Missing or unknown keys, wrong types, out-of-range values; the message is a
        sentence for the user.
    """
    if not isinstance(params, Mapping):
        raise ValueError("adversarial: params must be an object.")
    keys = ("model_version", "target", "snr_db", "steps", "seed")
    unknown = sorted(str(k) for k in params if k not in keys)
    if unknown:
        raise ValueError(f"adversarial: unknown parameter {unknown[0]!r} (allowed: {', '.join(keys)}).")
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(f"adversarial: {missing[0]} is required.")
    return {
        "model_version": _number("model_version", params["model_version"], 1, 2**63 - 1, integer=True),
        "target": _number("target", params["target"], -1, n_labels - 1, integer=True),
        "snr_db": _number("snr_db", params["snr_db"], *SNR_RANGE_DB, integer=False),
        "steps": _number("steps", params["steps"], *STEPS_RANGE, integer=True),
        "seed": _number("seed", params["seed"], 0, SEED_MAX, integer=True),
    }


def adversarial_operation(
    *, model_version: int, target: int | None, snr_db: float, steps: int, seed: int, n_labels: int = 10
) -> dict[str, Any]:
    """The history step for an attack (``target=None`` is stored as -1, untargeted)."""
    raw = {"model_version": model_version, "target": -1 if target is None else target}
    params = validate_adversarial_params(raw | {"snr_db": snr_db, "steps": steps, "seed": seed}, n_labels=n_labels)
    return {"op": ADVERSARIAL_OP, "params": params}


# --------------------------------------------------------------------------- the attack


def _step_function(model: LoadedModel) -> Any:
    """tf.function: view (1, n), class, targeted -> (margin loss, d loss / d view, logits)."""
    import tensorflow as tf

    from insights.differentiable import differentiable_model, tf_features

    dm = differentiable_model(model)
    if "pgd_step" not in dm.functions:
        p = model.params
        n_labels = len(model.labels)

        @tf.function(
            input_signature=[
                tf.TensorSpec((1, p.n_samples), tf.float32),
                tf.TensorSpec((), tf.int32),
                tf.TensorSpec((), tf.bool),
            ]
        )
        def pgd_step(view: Any, cls: Any, targeted: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(view)
                _, logits = dm(tf_features(view, p))
                z = logits[0]
                # Carlini-Wagner margin: the best other class against `cls`.  It keeps a
                # useful gradient when the softmax saturates, unlike cross-entropy.
                other = tf.reduce_max(z - 1e9 * tf.one_hot(cls, n_labels))
                loss = tf.where(targeted, other - z[cls], z[cls] - other)
            return loss, tape.gradient(loss, view), logits

        dm.functions["pgd_step"] = pgd_step
    return dm.functions["pgd_step"]


def _probabilities(model: LoadedModel, waveform: np.ndarray) -> np.ndarray:
    """What an analysis of ``waveform`` (at the model's rate) gives: numpy features, one forward pass."""
    features = prepare(waveform, model.params.sample_rate, model.params, allow_silent=True).features
    return model.run(features)[0].astype(np.float32)


def _project(delta: np.ndarray, x: np.ndarray, eps: float, limit: float, remove_dc: bool) -> np.ndarray:
    """Into the SNR ball, DC-free, with samples inside [-limit, limit]."""
    if remove_dc:  # the analysis removes DC anyway: spending budget on it would be waste
        delta = delta - delta.mean()
    norm = float(np.linalg.norm(delta))
    if norm > eps:
        delta = delta * (eps / norm)
    # Clipping only moves samples towards x's own, so the norm can only shrink.
    return np.clip(x + delta, -limit, limit) - x


def pgd_attack(
    model: LoadedModel,
    waveform: np.ndarray,
    *,
    target: int | None,
    snr_db: float,
    steps: int,
    seed: int,
    progress: Progress | None = None,
    margin: float = DEFAULT_MARGIN,
) -> AttackResult:
    """Projected gradient descent in the waveform, in an L2 ball set by an SNR.

    From a random start inside the ball (seeded Gaussian direction, radius
    ``U(0, 1) * eps``), each step moves by ``alpha_k * g / ||g||`` down the margin
    loss's gradient ``g`` and projects back (DC removed, L2 norm ``<= eps``, samples
    within ``[-max(1, max|x|), +max(1, max|x|)]``).  The step size follows a cosine
    from ``alpha_0 = eps * min(0.5, 20 / steps)`` towards 0: the steps add up to
    ``min(steps / 4, 10) * eps``, enough to cross the ball several times while the
    gradient's direction keeps changing (smaller totals, e.g. Madry et al.'s 2.5
    ``eps``, left more targeted attacks short on the sample clips), and the last
    steps refine on its surface.
    It stops before step ``k`` once the adversarial class leads by ``margin`` logits
    on the current iterate — a deterministic rule on deterministic numbers, so a
    replay stops at the same step.

    Parameters
    ----------
    model : LoadedModel
    waveform : np.ndarray, float32, shape (params.n_samples,)
        The clip as the model hears it: ``prepare(y, sr, params).waveform``.
    target : int or None
        Label index to reach, or None to move away from the predicted class.
    snr_db : float
        Lower bound on ``20 log10(||x|| / ||delta||)``, from 0 to 80 dB.
    steps : int
        Maximum gradient steps, 1 to 500.
    seed : int
        Seeds the random start.
    progress : callable(done, total), optional
        Called after each step and once at the end with ``(steps, steps)``.
    margin : float
        Logit lead that counts as success for the early stop.

    Returns
    -------
    AttackResult

    Raises
    ------
    ValueError
        Bad parameters, a waveform of the wrong length or not finite, or a silent
        clip (its SNR is undefined).
    """
    import tensorflow as tf

    from insights.differentiable import enable_determinism

    started = time.perf_counter()
    p = model.params
    x = np.asarray(waveform, dtype=np.float32)
    if x.shape != (p.n_samples,):
        raise ValueError(f"waveform must be the fitted clip, shaped ({p.n_samples},), got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("waveform contains NaN or infinite samples.")
    n_labels = len(model.labels)
    raw = {"model_version": 1, "target": -1 if target is None else target}
    checked = validate_adversarial_params(raw | {"snr_db": snr_db, "steps": steps, "seed": seed}, n_labels=n_labels)
    snr_db, steps, seed = checked["snr_db"], checked["steps"], checked["seed"]
    x64 = x.astype(np.float64)
    norm_x = float(np.linalg.norm(x64))
    if norm_x == 0.0:
        raise ValueError("The clip is digitally silent, so a signal-to-noise ratio is undefined.")
    eps = norm_x / 10.0 ** (snr_db / 20.0)
    limit = max(1.0, float(np.max(np.abs(x64))))

    before = model.run(normalise(log_spectrogram(stft(x, p), p), p))[0].astype(np.float32)
    original = int(np.argmax(before))
    cls, targeted = (original, False) if target is None else (int(target), True)

    enable_determinism()
    step_fn = _step_function(model)
    cls_t, targeted_t = tf.constant(cls, tf.int32), tf.constant(targeted)

    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(p.n_samples)
    direction /= np.linalg.norm(direction)
    delta = _project(direction * (eps * rng.uniform()), x64, eps, limit, p.remove_dc)
    alpha_0 = eps * min(0.5, 20.0 / steps)

    used = 0
    for k in range(steps + 1):
        y = (x64 + delta).astype(np.float32)
        view, offset = analysed_view(y, p)
        loss, grad, _ = step_fn(tf.constant(view[None]), cls_t, targeted_t)
        if float(loss) <= -margin or k == steps:
            break
        g = view_adjoint(grad.numpy()[0], offset, p.n_samples, p).astype(np.float64)
        g_norm = float(np.linalg.norm(g))
        if not math.isfinite(g_norm) or g_norm == 0.0:
            break  # flat or broken gradient: nowhere to go (also deterministic)
        alpha = alpha_0 * 0.5 * (1.0 + math.cos(math.pi * k / steps))
        delta = _project(delta - alpha * g / g_norm, x64, eps, limit, p.remove_dc)
        used = k + 1
        if progress is not None:
            progress(used, steps)

    adversarial = _within_bound(x64, delta, eps)
    after = _probabilities(model, adversarial)
    predicted = int(np.argmax(after))
    success = predicted == cls if targeted else predicted != original
    noise = float(np.linalg.norm(adversarial.astype(np.float64) - x64))
    if progress is not None:
        progress(steps, steps)
    return AttackResult(
        waveform=adversarial,
        success=bool(success),
        target=cls if targeted else None,
        original=original,
        predicted=predicted,
        snr_db=math.inf if noise == 0.0 else 20.0 * math.log10(norm_x / noise),
        snr_bound_db=snr_db,
        probabilities_before=before,
        probabilities_after=after,
        steps=steps,
        steps_used=used,
        seed=seed,
        elapsed_ms=(time.perf_counter() - started) * 1000.0,
    )


def _within_bound(x64: np.ndarray, delta: np.ndarray, eps: float) -> np.ndarray:
    """``x + delta`` as float32 with the *rounded* perturbation still inside the ball.

    Rounding to float32 errs by up to 6e-8 of each sample of x, which at a high SNR is
    a noticeable part of a tiny perturbation, so shrink until the stored clip obeys.
    """
    for _ in range(20):
        y = (x64 + delta).astype(np.float32)
        norm = float(np.linalg.norm(y.astype(np.float64) - x64))
        if norm <= eps:
            return y
        delta = delta * (eps / norm) * (1.0 - 1e-4)
    return x64.astype(np.float32)  # unreachable in practice; the clean clip always obeys


def apply_adversarial(
    model: LoadedModel, y: np.ndarray, sr: int, params: Mapping[str, Any], *, progress: Progress | None = None
) -> tuple[np.ndarray, AttackResult]:
    """Replay (or run) an ``adversarial`` history step on a recording's canonical audio.

    The caller loads the model version named by ``params["model_version"]``.

    Parameters
    ----------
    model : LoadedModel
    y : np.ndarray, float32, shape (n,) or (n, channels)
        The recording's audio before this step.
    sr : int
    params : Mapping
        As :func:`validate_adversarial_params` accepts.

    Returns
    -------
    y_adv : np.ndarray, float32, shape (params.n_samples,)
        The attacked model-view clip (mono, at ``model.params.sample_rate``, fitted
        to ``duration_s``) — the derived recording's audio.
    result : AttackResult

    Raises
    ------
    ValueError
        Invalid params; ``AudioError`` (a ValueError) for silent audio.
    """
    checked = validate_adversarial_params(params, n_labels=len(model.labels))
    x = prepare(y, sr, model.params).waveform
    result = pgd_attack(
        model,
        x,
        target=None if checked["target"] < 0 else checked["target"],
        snr_db=checked["snr_db"],
        steps=checked["steps"],
        seed=checked["seed"],
        progress=progress,
    )
    return result.waveform, result
