"""Robustness sweeps: one edit at many strengths, and each digit's probability along it.

A sweep varies one parameter of one operation of :mod:`experiments.operations` (pitch
shift, noise SNR, time shift, gain, time stretch) over a range, applies it to the
recording's canonical audio with the very function the lab's edits use, and runs every
variant through the model exactly as an analysis does (``features.prepare`` then one
forward pass per variant).  Each point carries the operation that made it, so "open
this variant in the lab" is a derive with that one operation, and the point at the
identity value (0 semitones, 0 dB, shift 0, rate 1) is the unmodified clip bit for bit.

The pure helpers (:data:`SWEEPS`, :func:`sweep_values`, :func:`sweep_operation`) are
safe for the web tier; :func:`run_sweep` needs a loaded model (TensorFlow).  The attack
benchmark for the evaluation command (:func:`attack_benchmark`) lives here too: the
worst case next to ordinary edits.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dsp.decode import to_mono
from dsp.features import prepare
from dsp.operation_specs import OPERATIONS
from dsp.operations import apply_operation, validate_operation
from insights.attacks import pgd_attack

if TYPE_CHECKING:
    from modelzoo.inference import LoadedModel

__all__ = [
    "MAX_POINTS",
    "SWEEPS",
    "SweepSpec",
    "attack_benchmark",
    "format_benchmark",
    "run_sweep",
    "sweep_operation",
    "sweep_operations",
    "sweep_values",
]

MAX_POINTS = 41
#: The noise realisation of every add_noise point: one fixed seed, so that points differ
#: only in level and a sweep replays exactly.
NOISE_SEED = 0


@dataclass(frozen=True)
class SweepSpec:
    """One sweepable operation.

    Attributes
    ----------
    op : str
        Name in :data:`experiments.operations.OPERATIONS`.
    param : str
        The parameter that varies.
    label, unit : str
        For axes.
    start, stop : float
        The default range (the issue's; ``stop`` may be below ``start``).
    num : int
        Default number of points.
    identity : float or None
        The value that leaves the clip unchanged (None: there is none, e.g. noise).
    minimum, maximum : float
        Allowed values; time shift's are fractions of the clip's duration.
    relative_to_duration : bool
    """

    op: str
    param: str
    label: str
    unit: str
    start: float
    stop: float
    num: int
    identity: float | None
    minimum: float
    maximum: float
    relative_to_duration: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def _spec(op: str, start: float, stop: float, num: int, identity: float | None, **kw: Any) -> SweepSpec:
    # Bounds come from the operation registry, so a sweep never asks for a value an
    # ordinary edit would refuse.
    p = next(p for p in OPERATIONS[op].params if p.name == kw.pop("param"))
    return SweepSpec(
        op, p.name, p.label, p.unit, start, stop, num, identity, p.minimum, p.maximum, p.relative_to_duration, **kw
    )


SWEEPS: dict[str, SweepSpec] = {
    s.op: s
    for s in (
        _spec("pitch_shift", -6.0, 6.0, 13, 0.0, param="semitones"),
        _spec("add_noise", 40.0, 0.0, 9, None, param="snr_db"),
        _spec("time_shift", -0.2, 0.2, 9, 0.0, param="seconds"),
        _spec("gain", -30.0, 30.0, 13, 0.0, param="db"),
        _spec("time_stretch", 0.7, 1.3, 13, 1.0, param="rate"),
    )
}


def _spec_for(op: str) -> SweepSpec:
    if op not in SWEEPS:
        raise ValueError(f"A sweep can vary one of {', '.join(SWEEPS)}, not {op!r}.")
    return SWEEPS[op]


def sweep_values(op: str, start: float, stop: float, num: int) -> list[float]:
    """Evenly spaced parameter values from ``start`` to ``stop`` (both included).

    Values are rounded to 6 decimals so they are stored and shown as typed (and a
    range through the identity hits it exactly: ``-6..6`` in 13 points includes 0).

    Parameters
    ----------
    op : str
        A key of :data:`SWEEPS`.
    start, stop : float
        Ends of the range; ``stop < start`` sweeps downwards.  Checked against the
        operation's limits, except time shift's, which depend on the clip
        (:func:`run_sweep` checks those).
    num : int
        2 to :data:`MAX_POINTS` points.

    Returns
    -------
    list of float, length num

    Raises
    ------
    ValueError
        Unknown operation, non-finite or out-of-range ends, bad ``num``; the message
        is a sentence for the user.
    """
    spec = _spec_for(op)
    if isinstance(num, bool) or not isinstance(num, numbers.Integral) or not 2 <= num <= MAX_POINTS:
        raise ValueError(f"A sweep has from 2 to {MAX_POINTS} points (got {num!r}).")
    for name, v in (("start", start), ("stop", stop)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"The sweep's {name} must be a finite number (got {v!r}).")
        if not spec.relative_to_duration and not spec.minimum <= v <= spec.maximum:
            raise ValueError(
                f"The sweep's {name} for {spec.label.lower()} must be between "
                f"{spec.minimum:g} and {spec.maximum:g} {spec.unit} (got {v:g})."
            )
    if start == stop:
        raise ValueError("The sweep's start and stop must differ.")
    return [round(float(v), 6) + 0.0 for v in np.linspace(float(start), float(stop), int(num))]


def sweep_operation(op: str, value: float, *, seed: int = NOISE_SEED) -> dict[str, Any]:
    """The edit for one point of a sweep, as stored in a recording's history.

    Parameters
    ----------
    op : str
        A key of :data:`SWEEPS`.
    value : float
        The swept parameter's value.
    seed : int
        The noise seed (``add_noise`` only).

    Returns
    -------
    dict
        ``{"op": op, "params": {...}}`` (not yet validated against a clip).
    """
    spec = _spec_for(op)
    params: dict[str, Any] = {spec.param: float(value)}
    if op == "add_noise":
        params["seed"] = int(seed)
    return {"op": op, "params": params}


def sweep_operations(op: str, values: Sequence[float], *, seed: int = NOISE_SEED) -> list[dict[str, Any]]:
    """:func:`sweep_operation` for every value."""
    return [sweep_operation(op, v, seed=seed) for v in values]


def run_sweep(
    model: LoadedModel,
    y: np.ndarray,
    sr: int,
    op: str,
    values: Sequence[float],
    *,
    seed: int = NOISE_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Each digit's probability across a sweep of one operation on a recording.

    Parameters
    ----------
    model : LoadedModel
    y : np.ndarray, float32, shape (n,) or (n, channels)
        The recording's canonical audio.
    sr : int
        Its rate (8 to 48 kHz).
    op : str
        A key of :data:`SWEEPS`.
    values : sequence of float
        The swept parameter's values (e.g. from :func:`sweep_values`).
    seed : int
        Noise seed for ``add_noise``.
    progress : callable(done, total), optional
        Called after each point.

    Returns
    -------
    dict
        ``op``, ``param``, ``unit``, ``labels``, ``values``; ``original`` (the
        unmodified clip's ``probabilities`` and ``predicted_label``); ``points``, one
        per value in order, each with ``value``, ``operation`` (the validated edit),
        ``probabilities`` (one list per point, in label order, summing to 1),
        ``predicted_label`` and ``silent``; ``probabilities_by_label`` (label to the
        list over points, for plotting); ``elapsed_ms``.

    Raises
    ------
    OperationError
        A value is invalid for this clip (e.g. a time shift longer than the clip,
        noise on digital silence); raised before any model work.
    """
    started = time.perf_counter()
    spec = _spec_for(op)
    if not values or len(values) > MAX_POINTS:
        raise ValueError(f"A sweep has from 1 to {MAX_POINTS} points (got {len(values)}).")
    mono = to_mono(y)
    duration_s = len(mono) / sr
    # Validate every point first: a bad value fails the sweep before any work is done.
    operations = [validate_operation(o, duration_s=duration_s) for o in sweep_operations(op, values, seed=seed)]
    labels = list(model.labels)

    def analyse(audio: np.ndarray) -> tuple[np.ndarray, bool]:
        prepared = prepare(audio, sr, model.params, allow_silent=True)
        # One forward pass per variant, batch of one like an analysis, so the identity
        # point's probabilities are bit-identical to the unmodified clip's.
        return model.run(prepared.features)[0].astype(np.float64), prepared.silent

    original, _ = analyse(mono)
    points = []
    for done, operation in enumerate(operations, start=1):
        probabilities, silent = analyse(apply_operation(mono, sr, operation))
        points.append(
            {
                "value": operation["params"][spec.param],
                "operation": operation,
                "probabilities": [float(p) for p in probabilities],
                "predicted_label": labels[int(np.argmax(probabilities))],
                "silent": silent,
            }
        )
        if progress is not None:
            progress(done, len(operations))
    return {
        "op": op,
        "param": spec.param,
        "unit": spec.unit,
        "labels": labels,
        "values": [pt["value"] for pt in points],
        "original": {
            "probabilities": [float(p) for p in original],
            "predicted_label": labels[int(np.argmax(original))],
        },
        "points": points,
        "probabilities_by_label": {label: [pt["probabilities"][i] for pt in points] for i, label in enumerate(labels)},
        "elapsed_ms": round((time.perf_counter() - started) * 1000.0, 1),
    }


# --------------------------------------------------------------------------- the attack benchmark


def attack_benchmark(
    model: LoadedModel,
    clips: Sequence[tuple[np.ndarray, int, str]],
    *,
    snr_db: float,
    steps: int,
    seed: int,
    targeted: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Attack success and cost on labelled clips, untargeted and targeted to every other digit.

    For the evaluation command: robustness to the worst case, next to the sweeps'
    robustness to ordinary edits.

    Parameters
    ----------
    model : LoadedModel
    clips : sequence of (y, sr, label)
        Decoded audio (float32, shape (n,) or (n, channels)) and its true label.
    snr_db, steps, seed
        As for :func:`pgd_attack` (the same seed for every attack).
    targeted : bool
        Also run one targeted attack per clip for every label but the true one.
    progress : callable(done, total), optional
        Called after each attack.

    Returns
    -------
    dict
        ``clean_accuracy``; ``untargeted`` and ``targeted`` each with ``attacks``,
        ``successes``, ``success_rate``, ``mean_snr_db`` (all attacks),
        ``mean_snr_db_successful``, ``mean_steps_used``; untargeted adds
        ``success_rate_on_correct`` (clips the model got right), targeted adds
        ``per_target`` success rates and ``already`` (targets predicted before any
        change); ``time_ms`` with ``median``, ``p95``, ``mean`` of one attack; and
        ``clips`` with each clip's outcome.
    """
    labels = list(model.labels)
    per_clip: list[dict[str, Any]] = []
    runs: dict[str, list[dict[str, Any]]] = {"untargeted": [], "targeted": []}
    total = len(clips) * (1 + (len(labels) - 1 if targeted else 0))
    done = 0
    for y, sr, label in clips:
        true = labels.index(label)
        x = prepare(y, sr, model.params).waveform
        plan: list[int | None] = [None] + ([t for t in range(len(labels)) if t != true] if targeted else [])
        outcome: dict[str, Any] = {"label": label}
        for target in plan:
            r = pgd_attack(model, x, target=target, snr_db=snr_db, steps=steps, seed=seed)
            run = {
                "success": r.success,
                "snr_db": r.snr_db,
                "steps_used": r.steps_used,
                "ms": r.elapsed_ms,
                "correct": r.original == true,
                "target": target,
                "already": target is not None and r.original == target,
            }
            runs["untargeted" if target is None else "targeted"].append(run)
            if target is None:
                outcome |= {"predicted": labels[r.original], "untargeted_success": r.success}
                outcome["adversarial"] = labels[r.predicted]
            else:
                outcome.setdefault("targeted_success", {})[labels[target]] = r.success
            done += 1
            if progress is not None:
                progress(done, total)
        per_clip.append(outcome)

    def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
        if not items:
            return {"attacks": 0}
        ok = [i for i in items if i["success"]]
        return {
            "attacks": len(items),
            "successes": len(ok),
            "success_rate": round(len(ok) / len(items), 4),
            "mean_snr_db": round(float(np.mean([i["snr_db"] for i in items])), 2),
            "mean_snr_db_successful": round(float(np.mean([i["snr_db"] for i in ok])), 2) if ok else None,
            "mean_steps_used": round(float(np.mean([i["steps_used"] for i in items])), 2),
        }

    untargeted = summary(runs["untargeted"])
    correct = [i for i in runs["untargeted"] if i["correct"]]
    untargeted["success_rate_on_correct"] = (
        round(sum(i["success"] for i in correct) / len(correct), 4) if correct else None
    )
    tgt = summary(runs["targeted"])
    if runs["targeted"]:
        tgt["already"] = sum(i["already"] for i in runs["targeted"])
        tgt["per_target"] = {}
        for t, name in enumerate(labels):
            hits = [i["success"] for i in runs["targeted"] if i["target"] == t]
            tgt["per_target"][name] = round(sum(hits) / len(hits), 4) if hits else None
    times = np.array([i["ms"] for group in runs.values() for i in group])
    return {
        "snr_db": float(snr_db),
        "steps": int(steps),
        "seed": int(seed),
        "n_clips": len(clips),
        "clean_accuracy": round(len(correct) / len(clips), 4) if clips else None,
        "untargeted": untargeted,
        "targeted": tgt,
        "time_ms": {
            "median": round(float(np.median(times)), 1),
            "p95": round(float(np.percentile(times, 95)), 1),
            "mean": round(float(times.mean()), 1),
            "n": len(times),
        }
        if times.size
        else {},
        "clips": per_clip,
    }


def format_benchmark(result: dict[str, Any]) -> str:
    """The benchmark's headline figures as a few lines of text."""
    u, t, ms = result["untargeted"], result["targeted"], result["time_ms"]
    lines = [
        f"PGD on {result['n_clips']} clips, SNR >= {result['snr_db']:g} dB, {result['steps']} steps, "
        f"seed {result['seed']}; clean accuracy {100 * (result['clean_accuracy'] or 0):.1f}%",
    ]
    for name, s in (("untargeted", u), ("targeted", t)):
        if s.get("attacks"):
            lines.append(
                f"{name}: {s['successes']}/{s['attacks']} succeeded ({100 * s['success_rate']:.1f}%), "
                f"mean SNR {s['mean_snr_db']:.1f} dB, mean steps {s['mean_steps_used']:.1f}"
            )
    if u.get("success_rate_on_correct") is not None:
        lines.append(f"untargeted on correctly classified clips: {100 * u['success_rate_on_correct']:.1f}%")
    if ms:
        lines.append(f"time per attack: median {ms['median']:.0f} ms, p95 {ms['p95']:.0f} ms ({ms['n']} attacks)")
    return "\n".join(lines)
