"""Validating and applying the audio manipulations a student makes (their registry: :mod:`dsp.operation_specs`).

Pure numpy (+ soxr for pitch shifting), no Django, no TensorFlow, so that the web tier
can validate and replay edit histories.  Audio ``y`` is float32 shaped ``(n,)`` (mono)
at an integer ``sr`` of 8000 to 48000 Hz; an operation is ``{"op": name, "params": {...}}``
with times in seconds and gains in dB.  Operations never clip (float32 WAV stores any
finite value) but refuse a result above ``dsp.limits.MAX_PEAK_DBFS``.  Everything is deterministic, noise included, so
replaying a normalised history on the original gives bit-identical audio.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from dsp.errors import OperationError
from dsp.limits import MAX_PEAK, MAX_PEAK_DBFS
from dsp.operation_specs import EDGE_MARGIN_S, MAX_SR, MIN_DURATION_S, MIN_SR, OPERATIONS, ParamSpec

__all__ = ["apply_operation", "apply_operations", "validate_operation"]


def _fmt(x: float) -> str:
    """A number as a user reads it: ``30``, ``0.25``, ``2147483647``, ``1e+20``."""
    if isinstance(x, int) or (x.is_integer() and abs(x) < 1e16):
        return str(int(x))
    return f"{x:.6g}"


def _show(value: Any) -> str:
    """A value the user sent, spelled the way the JSON request spelled it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        try:
            text = json.dumps(value.item() if isinstance(value, np.generic) else value)
        except (TypeError, ValueError):
            text = repr(value)
    elif isinstance(value, numbers.Integral):
        text = str(int(value))  # float() would overflow on a huge integer
    else:
        text = _fmt(float(value))
    return text if len(text) <= 40 else text[:37] + "..."


def _check_duration(duration_s: float) -> None:
    if not (isinstance(duration_s, numbers.Real) and math.isfinite(duration_s) and duration_s > 0):
        raise ValueError(f"duration_s must be a positive finite number (got {duration_s!r})")


def _expected(p: ParamSpec, duration_s: float) -> str:
    """What is allowed, as a phrase: "a number between -60 and 30"."""
    lo, hi = p.bounds(duration_s)
    text = f"{'a whole number' if p.kind == 'int' else 'a number'} {'strictly ' if p.exclusive else ''}"
    text += f"between {_fmt(lo)} and {_fmt(hi)}"
    return text + " s, the clip's duration" if p.relative_to_duration else text


def _coerce(op: str, p: ParamSpec, value: Any, duration_s: float) -> float | int:
    def fail(expected: str) -> OperationError:
        return OperationError(f"{p.name} must be {expected} (got {_show(value)}).", op=op, param=p.name)

    lo, hi = p.bounds(duration_s)
    # bool is an int to Python but never a meaningful amount; numeric strings are refused
    # too, so that a stored history has exactly one spelling of each value.
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise fail(_expected(p, duration_s))
    if isinstance(value, numbers.Integral):
        x: float = int(value)  # compared exactly, as float() would overflow on a huge integer
    else:
        x = float(value)
        if not math.isfinite(x):
            raise fail("a finite number")
        if p.kind == "int" and not x.is_integer():
            raise fail(_expected(p, duration_s))
    accepted_lo, accepted_hi = p.accepted_bounds(duration_s)
    if not (lo < x < hi if p.exclusive else accepted_lo <= x <= accepted_hi):
        raise fail(_expected(p, duration_s).removeprefix("a number ").removeprefix("a whole number "))
    if p.kind == "int":
        return int(x)
    return min(max(float(x), lo), hi)  # a time within EDGE_TOLERANCE_S of an edge is that edge


def _check_region(op: str, params: dict[str, Any], duration_s: float) -> None:
    start, end = params["start"], params["end"]
    if end <= start:
        raise OperationError(f"end must be after start (got start {_fmt(start)} s and end {_fmt(end)} s).",
                             op=op, param="end")  # fmt: skip
    if end - start < MIN_DURATION_S - 1e-9:
        raise OperationError(f"the region from start to end must be at least {_fmt(MIN_DURATION_S * 1000)} ms "
                             f"long (got {_fmt((end - start) * 1000)} ms).", op=op, param="end")  # fmt: skip


def _check_fade(op: str, params: dict[str, Any], duration_s: float) -> None:
    fade_in, fade_out = params["fade_in"], params["fade_out"]
    if fade_in == 0 and fade_out == 0:
        raise OperationError("at least one of fade_in and fade_out must be greater than 0 (got 0 and 0).", op=op,
                             param="fade_in")  # fmt: skip
    if fade_in + fade_out > duration_s + EDGE_MARGIN_S:
        raise OperationError(f"fade_in + fade_out must not exceed the clip's duration, {_fmt(duration_s)} s "
                             f"(got {_fmt(fade_in)} + {_fmt(fade_out)} = {_fmt(fade_in + fade_out)} s).",
                             op=op, param="fade_out")  # fmt: skip


_CROSS_CHECKS = {"slice": _check_region, "crossfade": _check_region, "fade": _check_fade}


def validate_operation(op: Any, *, duration_s: float) -> dict[str, Any]:
    """Check one operation against a clip of ``duration_s`` seconds and normalise it.

    Parameters
    ----------
    op : Mapping
        ``{"op": name, "params": {...}}``; ``params`` may be omitted or ``None``
        when no parameter is required (e.g. ``{"op": "reverse"}``).
    duration_s : float
        Duration of the clip the operation will be applied to, in seconds.

    Returns
    -------
    dict
        ``{"op": name, "params": {...}}`` with every parameter, in registry
        order, as ``float`` or ``int``; omitted optional ones hold their default.
        Validating the result again returns it unchanged.

    Raises
    ------
    OperationError
        Unknown operation; unknown, extra or missing keys; a value of the wrong
        type (bool, string, null, NaN, infinity) or out of range.
    ValueError
        ``duration_s`` is not a positive finite number (a caller's bug).
    """
    _check_duration(duration_s)
    if not isinstance(op, Mapping):
        example = '{"op": "gain", "params": {"db": 6}}'
        raise OperationError(f"an operation must be an object like {example} (got {_show(op)}).")
    name = op.get("op")
    if not isinstance(name, str) or name not in OPERATIONS:
        given = "nothing" if name is None else _show(name)
        raise OperationError(f'"op" must name one of the operations {", ".join(OPERATIONS)} (got {given}).')
    spec = OPERATIONS[name]
    extra = sorted(str(k) for k in op if k not in ("op", "params"))
    if extra:
        raise OperationError(f'unknown key {extra[0]!r}; an operation has only "op" and "params".', op=name)
    raw = op.get("params")
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise OperationError(f"params must be an object (got {_show(raw)}).", op=name)
    names = [p.name for p in spec.params]
    for key in raw:
        if key not in names:
            allowed = f"allowed: {', '.join(names)}" if names else f"{name} takes no parameters"
            raise OperationError(f"unknown parameter {str(key)!r} ({allowed}).", op=name, param=str(key))
    params: dict[str, Any] = {}
    for p in spec.params:
        if p.name in raw:
            params[p.name] = _coerce(name, p, raw[p.name], duration_s)
        elif p.required:
            raise OperationError(f"{p.name} is required: {_expected(p, duration_s)}.", op=name, param=p.name)
        else:
            params[p.name] = p.default_for(duration_s)
    if name in _CROSS_CHECKS:
        _CROSS_CHECKS[name](name, params, duration_s)
    return {"op": name, "params": params}


# The operations.  Each takes float32 y (n,), sr and validated params, and returns a new
# array (any float dtype; the caller casts to float32 once, after checking for overflow).


def _samples(t: float, sr: int) -> int:
    """Seconds to samples, rounding half away from zero, so indices never depend on the
    parity that round-half-even would consult, and +t and -t give mirror images."""
    return math.floor(abs(t) * sr + 0.5) * (1 if t >= 0 else -1)


def _region(p: dict[str, Any], sr: int, n: int) -> tuple[int, int]:
    return min(_samples(p["start"], sr), n), min(_samples(p["end"], sr), n)


def _slice(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    s, e = _region(p, sr, len(y))
    return y[s:e].copy()


def _crossfade(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    n = len(y)
    s, e = _region(p, sr, n)
    length = e - s
    before, after = np.zeros(length), np.zeros(length)  # zeros stand in beyond the clip's edges
    k = min(length, s)
    before[length - k :] = y[s - k : s]
    k = min(length, n - e)
    after[:k] = y[e : e + k]
    # Sample-centred phases keep the two curves mirror images; cos² + sin² = 1 keeps the
    # power of uncorrelated material constant across the region.
    phase = 0.5 * np.pi * (np.arange(length) + 0.5) / length
    out = y.astype(np.float64)
    out[s:e] = before * np.cos(phase) + after * np.sin(phase)
    return out


def _loudness_ramp(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    return y * 10.0 ** (np.linspace(p["start_db"], p["end_db"], len(y)) / 20.0)


def _gain(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    return y.astype(np.float64) * 10.0 ** (p["db"] / 20.0)


def _repeat(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    return np.tile(y, p["times"])


def _reverse(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    return y[::-1].copy()


def _fade(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    n = len(y)
    n_in, n_out = min(_samples(p["fade_in"], sr), n), min(_samples(p["fade_out"], sr), n)
    env = np.ones(n)
    # Linear ramps that are exactly 0 at the clip's outer edges; the fade-out mirrors the
    # fade-in, so reversing a faded clip swaps the two.
    env[:n_in] *= np.arange(n_in) / max(n_in, 1)
    env[n - n_out :] *= np.arange(n_out)[::-1] / max(n_out, 1)
    return y * env


def _stretch(x: np.ndarray, rate: float, sr: int, m: int) -> np.ndarray:
    """Phase-vocoder time stretch of ``x`` (n,) by ``rate`` (> 1 is faster), returning (m,).

    Written out in numpy rather than called from librosa.effects so that the algorithm,
    and with it the replay of every stored history, cannot change with a librosa
    upgrade, and so the web tier pays no numba compilation on first use.
    """
    # About 50 ms frames: long enough to resolve a voice's harmonics, short enough not to
    # smear syllables (librosa's 2048 samples are 128 ms at 16 kHz).
    n_fft = 2 ** round(math.log2(0.05 * sr))
    hop = n_fft // 4
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    padded = np.pad(x.astype(np.float64), (n_fft // 2, n_fft // 2 + n_fft))
    spec = np.fft.rfft(np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop] * window, axis=1)
    mag, ang = np.abs(spec), np.angle(spec)  # (frames, bins)
    # The fractional input frame of each output frame.  arange's length is computed in floating
    # point and can take one step too many (e.g. 0 to 21 by 0.7 ends on 21.0 itself), which would
    # read frame k + 1 past the last one; every frame strictly before the last is kept as it was.
    steps = np.arange(0.0, len(spec) - 1, rate)
    steps = steps[steps < len(spec) - 1]
    k, frac = steps.astype(int), (steps % 1.0)[:, None]
    advance = 2 * np.pi * hop * np.arange(spec.shape[1]) / n_fft  # a bin-centred tone's phase per hop
    deviation = ang[k + 1] - ang[k] - advance
    deviation -= 2 * np.pi * np.round(deviation / (2 * np.pi))
    phase = ang[0] + np.concatenate([np.zeros((1, len(advance))), np.cumsum(advance + deviation, axis=0)[:-1]])
    frames = np.fft.irfft(((1 - frac) * mag[k] + frac * mag[k + 1]) * np.exp(1j * phase), n=n_fft, axis=1)
    out = np.zeros(hop * (len(frames) - 1) + n_fft)
    norm = np.zeros_like(out)
    for i, frame in enumerate(frames * window):
        out[i * hop : i * hop + n_fft] += frame
        norm[i * hop : i * hop + n_fft] += window**2
    out = out[n_fft // 2 :] / np.maximum(norm[n_fft // 2 :], 1e-3)  # norm is >= 1 inside the clip
    return _fit(out, m)


def _fit(x: np.ndarray, m: int) -> np.ndarray:
    return x[:m] if len(x) >= m else np.pad(x, (0, m - len(x)))


def _pitch_shift(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    if p["semitones"] == 0:
        return y.copy()  # the vocoder's round trip would still alter the samples
    import soxr

    # Stretch to 1/ratio of the length at the same pitch, then resample back to the
    # original length, which multiplies every frequency by ratio.
    rate = 2.0 ** (-p["semitones"] / 12.0)
    stretched = _stretch(y, rate, sr, round(len(y) / rate))
    return _fit(soxr.resample(stretched, sr / rate, sr, quality="HQ"), len(y))


def _time_stretch(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    if p["rate"] == 1:
        return y.copy()
    return _stretch(y, p["rate"], sr, _planned_length("time_stretch", p, len(y), sr))


def _add_noise(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    x = y.astype(np.float64)
    power = float(np.mean(x * x))
    if power == 0.0:
        detail = "the clip is digitally silent, so a signal-to-noise ratio is undefined; use a clip with sound in it."
        raise OperationError(detail, op="add_noise", param="snr_db")
    noise = np.random.default_rng(p["seed"]).standard_normal(len(x))
    # Scale the realised noise rather than its expectation, so that short clips hit the
    # SNR exactly (a 10 ms clip would otherwise miss it by about half a dB).
    noise_power = float(np.mean(noise * noise))
    if noise_power > 0.0:
        noise *= math.sqrt(power / 10.0 ** (p["snr_db"] / 10.0) / noise_power)
    return x + noise


def _time_shift(y: np.ndarray, sr: int, p: dict[str, Any]) -> np.ndarray:
    n = len(y)
    k = max(-n, min(n, _samples(p["seconds"], sr)))
    out = np.zeros_like(y)
    out[max(k, 0) : n + min(k, 0)] = y[max(-k, 0) : n - max(k, 0)]
    return out


# Each operation is the function named after it; building the table from the registry
# makes a missing implementation fail at import, not on a student's request.
_IMPLS: dict[str, Callable[[np.ndarray, int, dict[str, Any]], np.ndarray]] = {
    name: globals()[f"_{name}"] for name in OPERATIONS
}


def _planned_length(name: str, p: dict[str, Any], n: int, sr: int) -> int:
    """The result's length, known before any work so oversized results are refused cheaply."""
    if name == "slice":
        s, e = _region(p, sr, n)
        return e - s
    if name == "repeat":
        return n * p["times"]
    if name == "time_stretch" and p["rate"] != 1:
        return round(n / p["rate"])
    return n


def _check_audio(y: np.ndarray, sr: int) -> np.ndarray:
    if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or not MIN_SR <= sr <= MAX_SR:
        raise ValueError(f"sr must be an integer sample rate from {MIN_SR} to {MAX_SR} Hz (got {sr!r})")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"audio must be a non-empty mono array shaped (n,) (got shape {y.shape})")
    if not np.all(np.isfinite(y)):
        raise ValueError("audio contains NaN or infinite samples")
    return y


# The parameter to change when a result would be too short or too long (only these change the
# length), and when it would be too loud (what raises the level; the others can only lift a
# peak a little, e.g. the vocoder's overlap or a cross-fade's equal-power curves).
_LENGTH_PARAM = {"slice": "end", "repeat": "times", "time_stretch": "rate"}
_LOUDNESS_PARAM = {"gain": "db", "add_noise": "snr_db", "pitch_shift": "semitones", "time_stretch": "rate",
                   "crossfade": "end", "fade": "fade_in", "time_shift": "seconds", "repeat": "times",
                   "slice": "end"}  # fmt: skip


def _loudness_param(name: str, params: dict[str, Any]) -> str | None:
    if name == "loudness_ramp":
        return "start_db" if params["start_db"] > params["end_db"] else "end_db"
    return _LOUDNESS_PARAM.get(name)


def _check_loudness(name: str, params: dict[str, Any], out: np.ndarray) -> None:
    """Refuse a result that is not finite or peaks above MAX_PEAK_DBFS (an analysis could not use it)."""
    param = _loudness_param(name, params)
    advice = f"; use a smaller {param}" if param in ("db", "start_db", "end_db") else ""
    if not np.all(np.isfinite(out)):
        raise OperationError(f"the result would be too loud to store as 32-bit audio{advice}.", op=name, param=param)
    peak = float(np.max(np.abs(out)))
    if peak > MAX_PEAK:
        raise OperationError(
            f"the result would peak at {20 * math.log10(peak):+.1f} dBFS, above the {MAX_PEAK_DBFS:+g} dBFS "
            f"ceiling{advice}.",
            op=name,
            param=param,
        )


def _run(y: np.ndarray, sr: int, op: dict[str, Any], max_duration_s: float | None) -> np.ndarray:
    name, params = op["op"], op["params"]
    m = _planned_length(name, params, len(y), sr)
    param = _LENGTH_PARAM.get(name)
    if m < MIN_DURATION_S * sr - 1:  # one sample of slack: a region's two ends are rounded separately
        ms, min_ms = _fmt(1000 * m / sr), _fmt(1000 * MIN_DURATION_S)
        raise OperationError(f"the result would be {ms} ms long; it must be at least {min_ms} ms.", op=name,
                             param=param)  # fmt: skip
    if max_duration_s is not None and m > max_duration_s * sr:
        limit = _fmt(float(max_duration_s))
        raise OperationError(f"the result would be {_fmt(m / sr)} s long, over the {limit} s limit.", op=name,
                             param=param)  # fmt: skip
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected just below and reported
        out = np.asarray(_IMPLS[name](y, sr, params), dtype=np.float32)
    if len(out) != m:
        raise AssertionError(f"{name} produced {len(out)} samples instead of the planned {m}")
    _check_loudness(name, params, out)
    return out


def apply_operation(y: np.ndarray, sr: int, op: Mapping[str, Any]) -> np.ndarray:
    """Validate one operation against ``y`` and apply it.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono float32 audio (another float dtype is converted to float32 first).
    sr : int
        Sample rate in Hz, 8000 to 48000.
    op : Mapping
        ``{"op": name, "params": {...}}``, as for :func:`validate_operation`.

    Returns
    -------
    np.ndarray, shape (m,)
        New finite float32 audio, at least 10 ms long; ``y`` is left untouched.

    Raises
    ------
    OperationError
        The operation is invalid for this clip, or its result would be shorter
        than 10 ms, not finite, or peak above ``MAX_PEAK_DBFS``.  ``ValueError`` for a malformed ``y`` or ``sr``.
    """
    y = _check_audio(y, sr)
    return _run(y, sr, validate_operation(op, duration_s=len(y) / sr), None)


def apply_operations(
    y: np.ndarray, sr: int, ops: Sequence[Mapping[str, Any]], *, max_duration_s: float | None = None
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Apply operations in order, validating each against the clip as it is at that step.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono float32 audio.
    sr : int
        Sample rate in Hz, 8000 to 48000.
    ops : sequence of Mapping
        Operations as accepted by :func:`validate_operation`.
    max_duration_s : float or None
        Refuse any step whose result would be longer than this many seconds.

    Returns
    -------
    y2 : np.ndarray, shape (m,)
        The resulting float32 audio (a copy of ``y`` when ``ops`` is empty).
    normalised : list of dict
        The operations as :func:`validate_operation` returns them; applying
        them to ``y`` again gives bit-identical audio.

    Raises
    ------
    OperationError
        A step is invalid, or its result would be too short, too long, not
        finite or too loud (``param`` says what to change); the message starts with ``"step i (op): "``, ``i`` from 1.
    ValueError
        ``y``, ``sr`` or ``max_duration_s`` is malformed.
    """
    y = _check_audio(y, sr)
    if max_duration_s is not None:
        _check_duration(max_duration_s)
    if isinstance(ops, str | bytes | Mapping) or not isinstance(ops, Sequence):
        raise OperationError(f"operations must be a list of operations (got {_show(ops)}).")
    normalised: list[dict[str, Any]] = []
    out = y.copy()
    for step, op in enumerate(ops, start=1):
        try:
            norm = validate_operation(op, duration_s=len(out) / sr)
            out = _run(out, sr, norm, max_duration_s)
        except OperationError as exc:
            raise exc.at_step(step) from None
        normalised.append(norm)
    return out, normalised
