"""The edges of a clip are valid edges: a time up to half a millisecond past one (a duration or
region edge rounded to the millisecond, as pages and the API show them) is that edge."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import OperationError
from dsp.operation_specs import EDGE_TOLERANCE_S, MAX_SR, MIN_SR, OPERATIONS
from dsp.operations import apply_operation, validate_operation


def _clip(n: int, sr: int) -> np.ndarray:
    return np.sin(np.arange(n) * 2 * np.pi * 440 / sr).astype(np.float32) * 0.5


@pytest.mark.parametrize("op", ["slice", "crossfade"])
def test_a_region_ending_at_the_rounded_duration_ends_at_the_clip_end(op):
    sr, n = 16000, 6446  # 0.402875 s, shown as 0.403
    y = _clip(n, sr)

    normalised = validate_operation({"op": op, "params": {"start": 0.2, "end": 0.403}}, duration_s=n / sr)

    assert normalised["params"]["end"] == n / sr
    out = apply_operation(y, sr, {"op": op, "params": {"start": 0.2, "end": 0.403}})
    if op == "slice":
        assert len(out) == n - round(0.2 * sr)
        np.testing.assert_array_equal(out, y[round(0.2 * sr) :])
    else:
        assert len(out) == n


def test_a_time_half_a_millisecond_before_zero_is_zero():
    normalised = validate_operation({"op": "slice", "params": {"start": -0.0004, "end": 0.5}}, duration_s=1.0)

    assert normalised["params"]["start"] == 0.0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": 0.1, "end": 1.0006}, r"end must be between 0 and 1 s, the clip's duration \(got 1\.0006\)"),
        ({"start": -0.0006, "end": 0.5}, r"start must be between 0 and 1 s, the clip's duration \(got -0\.0006\)"),
    ],
)
def test_a_time_further_past_an_edge_is_refused_with_the_exact_bound(params, message):
    with pytest.raises(OperationError, match=message):
        validate_operation({"op": "slice", "params": params}, duration_s=1.0)


def test_fades_that_add_up_to_the_rounded_duration_are_accepted():
    duration = 0.402875

    normalised = validate_operation({"op": "fade", "params": {"fade_in": 0.2, "fade_out": 0.203}}, duration_s=duration)

    assert normalised["params"] == {"fade_in": 0.2, "fade_out": 0.203}


def test_a_time_shift_keeps_its_strict_bounds():
    with pytest.raises(OperationError, match="strictly between"):
        validate_operation({"op": "time_shift", "params": {"seconds": 1.0003}}, duration_s=1.0)


def test_the_accepted_bounds_widen_only_inclusive_times():
    end = OPERATIONS["slice"].params[1]
    shift = OPERATIONS["time_shift"].params[0]
    gain = OPERATIONS["gain"].params[0]

    assert end.accepted_bounds(2.0) == pytest.approx((-EDGE_TOLERANCE_S, 2.0 + EDGE_TOLERANCE_S), abs=1e-8)
    assert shift.accepted_bounds(2.0) == shift.bounds(2.0)
    assert gain.accepted_bounds(2.0) == gain.bounds(2.0)


@settings(max_examples=200, deadline=None)
@given(
    sr=st.integers(MIN_SR, MAX_SR),
    duration_ms=st.integers(20, 3000),
    extra=st.integers(0, 47),
    start_fraction=st.floats(0.0, 0.9),
    op=st.sampled_from(["slice", "crossfade"]),
)
def test_a_region_ending_at_the_duration_as_shown_is_always_valid(sr, duration_ms, extra, start_fraction, op):
    n = duration_ms * sr // 1000 + extra  # any length, not only whole milliseconds
    duration = n / sr
    shown_end = round(duration, 3)  # what the page and the API show, rounded either way
    start = round(start_fraction * duration, 3)
    if shown_end - start < 0.011:
        start = 0.0

    normalised = validate_operation({"op": op, "params": {"start": start, "end": shown_end}}, duration_s=duration)

    assert normalised["params"]["end"] == pytest.approx(duration, abs=EDGE_TOLERANCE_S + 1e-9)
    assert normalised["params"]["end"] <= duration
    out = apply_operation(_clip(n, sr), sr, normalised)
    if op == "slice" and normalised["params"]["end"] == duration:
        assert len(out) == n - math.floor(start * sr + 0.5)


@settings(max_examples=200, deadline=None)
@given(
    sr=st.integers(MIN_SR, MAX_SR),
    duration_ms=st.integers(20, 3000),
    extra=st.integers(0, 47),
    past=st.floats(0.0, EDGE_TOLERANCE_S),
)
def test_any_time_up_to_half_a_millisecond_past_the_end_is_the_end(sr, duration_ms, extra, past):
    n = duration_ms * sr // 1000 + extra
    duration = n / sr

    normalised = validate_operation(
        {"op": "slice", "params": {"start": 0.0, "end": duration + past}}, duration_s=duration
    )

    assert normalised["params"]["end"] == duration
    assert len(apply_operation(_clip(n, sr), sr, normalised)) == n
