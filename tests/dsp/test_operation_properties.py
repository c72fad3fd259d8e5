"""Property-based tests of every operation (Hypothesis): random valid parameters × clips of 0.05 to 30 s ×
sample rates of 8 to 48 kHz × chains of operations.

The only failure allowed is an OperationError that names the parameter to change; every result is finite,
float32, within the duration and loudness caps, and replays bit for bit.  The profile (tests/conftest.py)
bounds the number of examples and derandomises them, so CI runs the same examples every time.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from dsp.errors import OperationError
from dsp.limits import MAX_PEAK
from dsp.operation_specs import MIN_DURATION_S, OPERATIONS, ParamSpec
from dsp.operations import apply_operations, validate_operation

MAX_DURATION_S = 30.0
RATES = st.one_of(st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]), st.integers(8000, 48000))


def clip(seed: int, n: int, sr: int, level: float, silent: bool) -> np.ndarray:
    """A voice-like test signal: a tone with harmonics under noise, at ``level`` peak (or digital silence)."""
    if silent:
        return np.zeros(n, dtype=np.float32)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    y = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((180.0, 360.0, 540.0), start=1))
    y = y + 0.2 * rng.standard_normal(n)
    return (level * y / np.max(np.abs(y))).astype(np.float32)


@st.composite
def clips(draw, *, max_s: float) -> tuple[np.ndarray, int]:
    sr = draw(RATES)
    seconds = draw(st.one_of(st.floats(0.05, min(1.0, max_s)), st.floats(0.05, max_s)))
    level = draw(st.sampled_from([1e-4, 0.01, 0.5, 1.0, 4.0]))
    silent = draw(st.integers(0, 9)) == 0  # digital silence now and then
    return clip(draw(st.integers(0, 2**16)), max(1, round(seconds * sr)), sr, level, silent), sr


def _value(draw, p: ParamSpec, duration_s: float):
    lo, hi = p.bounds(duration_s)
    if p.kind == "int":
        hi = min(hi, lo + 10_000) if p.name != "seed" else hi
        return draw(st.integers(int(lo), int(hi)))
    edges = [lo, hi] if not p.exclusive else []
    middle = st.floats(lo, hi, exclude_min=p.exclusive, exclude_max=p.exclusive, allow_nan=False)
    return draw(st.one_of(st.sampled_from(edges), middle) if edges else middle)


@st.composite
def operation(draw, duration_s: float) -> dict:
    """One operation with every parameter drawn within its bounds on a clip of ``duration_s``."""
    spec = OPERATIONS[draw(st.sampled_from(sorted(OPERATIONS)))]
    params = {}
    for p in spec.params:
        if p.required or draw(st.booleans()):
            params[p.name] = _value(draw, p, duration_s)
    if spec.op in ("slice", "crossfade") and params["start"] > params["end"]:
        params["start"], params["end"] = params["end"], params["start"]
    return {"op": spec.op, "params": params}


def _check_result(y2: np.ndarray, sr: int) -> None:
    assert y2.dtype == np.float32 and y2.ndim == 1
    assert np.all(np.isfinite(y2))
    assert MIN_DURATION_S * sr - 1 <= len(y2) <= MAX_DURATION_S * sr
    assert float(np.max(np.abs(y2))) <= MAX_PEAK


def _check_refusal(exc: OperationError, ops: list[dict]) -> None:
    """An allowed failure: an OperationError naming a parameter of the step it is about."""
    assert exc.step is not None and exc.param is not None, str(exc)
    step = ops[exc.step - 1]
    assert exc.param in [p.name for p in OPERATIONS[step["op"]].params], str(exc)


def _run_chain(data, y: np.ndarray, sr: int, length: int) -> None:
    ops: list[dict] = []
    current = y
    for _ in range(length):
        op = data.draw(operation(len(current) / sr), label=f"step {len(ops) + 1}")
        ops.append(op)
        try:
            current, _ = apply_operations(current, sr, [op], max_duration_s=MAX_DURATION_S)
        except OperationError as exc:
            _check_refusal(exc.at_step(len(ops)), ops)
            ops.pop()
            break
    if not ops:
        return
    note(f"{sr} Hz, {len(y)} samples, {ops}")
    y2, normalised = apply_operations(y, sr, ops, max_duration_s=MAX_DURATION_S)
    _check_result(y2, sr)
    assert y2.tobytes() == current.tobytes()  # the whole chain at once equals step by step
    again, renormalised = apply_operations(y, sr, normalised, max_duration_s=MAX_DURATION_S)
    assert again.tobytes() == y2.tobytes()  # the stored history replays bit for bit
    assert renormalised == normalised
    duration = len(y) / sr
    for step in normalised[:1]:
        assert validate_operation(step, duration_s=duration) == step


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(clips(max_s=3.0), st.integers(1, 4), st.data())
def test_chains_on_short_and_medium_clips(clip_and_rate, length, data):
    y, sr = clip_and_rate
    _run_chain(data, y, sr, length)


@settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(clips(max_s=MAX_DURATION_S), st.data())
def test_single_operations_on_clips_up_to_30_seconds(clip_and_rate, data):
    y, sr = clip_and_rate
    _run_chain(data, y, sr, 1)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(RATES, st.data())
def test_every_operation_at_its_bounds_on_the_shortest_clips(sr, data):
    # The clip's own edges are valid edges: every bound on a 50 ms clip.
    y = clip(1, round(0.05 * sr), sr, 0.5, False)
    spec = OPERATIONS[data.draw(st.sampled_from(sorted(OPERATIONS)))]
    duration = len(y) / sr
    params = {p.name: data.draw(st.sampled_from(p.bounds(duration))) for p in spec.params if not p.exclusive}
    for p in spec.params:
        if p.exclusive:
            params[p.name] = 0.0
    if spec.op in ("slice", "crossfade"):
        params = {"start": 0.0, "end": duration}
    op = {"op": spec.op, "params": params}
    try:
        y2, _ = apply_operations(y, sr, [op], max_duration_s=MAX_DURATION_S)
    except OperationError as exc:
        _check_refusal(exc, [op])
        return
    _check_result(y2, sr)
