"""Robustness sweeps: values, operations, and probabilities along a sweep."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.decode import decode_audio, resample
from dsp.errors import OperationError
from dsp.features import prepare
from dsp.operations import validate_operation
from insights.robustness import SWEEPS, run_sweep, sweep_operation, sweep_operations, sweep_values
from modelzoo.samples import sample_clips
from tests.insights.insight_support import P


@pytest.fixture(scope="module")
def model(loaded_bundled_model):
    return loaded_bundled_model


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, int]:
    """A sample clip as canonical audio usually is: 16 kHz."""
    y, sr = decode_audio(next(c for c in sample_clips() if c.name == "3_theo_5").path)
    return resample(y, sr, 16000), 16000


def test_sweep_values_span_the_range_and_hit_the_identity() -> None:
    assert sweep_values("pitch_shift", -6, 6, 13) == [float(v) for v in range(-6, 7)]
    assert sweep_values("add_noise", 40, 0, 5) == [40.0, 30.0, 20.0, 10.0, 0.0]
    assert sweep_values("time_stretch", 0.7, 1.3, 7)[3] == 1.0
    assert sweep_values("gain", -30, 30, 3) == [-30.0, 0.0, 30.0]
    assert sweep_values("time_shift", -0.2, 0.2, 5) == [-0.2, -0.1, 0.0, 0.1, 0.2]
    for spec in SWEEPS.values():  # every default range is valid
        assert len(sweep_values(spec.op, spec.start, spec.stop, spec.num)) == spec.num


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reverse", 0, 1, 3), "can vary one of"),
        (("pitch_shift", -6, 6, 1), "from 2 to"),
        (("pitch_shift", -6, 6, 100), "from 2 to"),
        (("pitch_shift", -6, 6, 3.0), "from 2 to"),
        (("pitch_shift", -20, 6, 3), "between -12 and 12"),
        (("time_stretch", 0.1, 1.0, 3), "between 0.5 and 2"),
        (("gain", float("inf"), 0, 3), "finite"),
        (("gain", 3, 3, 3), "differ"),
    ],
)
def test_sweep_values_refuse_bad_ranges(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sweep_values(*args)


def test_sweep_operations_are_valid_history_steps() -> None:
    assert sweep_operation("add_noise", 20.0) == {"op": "add_noise", "params": {"snr_db": 20.0, "seed": 0}}
    assert sweep_operation("add_noise", 20.0, seed=5)["params"]["seed"] == 5
    assert sweep_operation("pitch_shift", -2.0) == {"op": "pitch_shift", "params": {"semitones": -2.0}}
    for spec in SWEEPS.values():
        for op in sweep_operations(spec.op, sweep_values(spec.op, spec.start, spec.stop, spec.num)):
            assert validate_operation(op, duration_s=1.0) == op


@pytest.mark.parametrize("op", list(SWEEPS))
def test_run_sweep_probabilities_and_identity(model, clip, op: str) -> None:
    y, sr = clip
    spec = SWEEPS[op]
    values = sweep_values(op, spec.start, spec.stop, 3)
    done: list[tuple[int, int]] = []
    result = run_sweep(model, y, sr, op, values, progress=lambda *a: done.append(a))
    assert done == [(1, 3), (2, 3), (3, 3)]
    assert result["op"] == op and result["param"] == spec.param and result["values"] == values
    assert result["labels"] == model.labels
    original = model.run(prepare(y, sr, P).features)[0]
    np.testing.assert_array_equal(np.float32(result["original"]["probabilities"]), original)
    for point, value in zip(result["points"], values, strict=True):
        assert point["value"] == value and point["operation"]["params"][spec.param] == value
        assert len(point["probabilities"]) == len(model.labels)
        assert sum(point["probabilities"]) == pytest.approx(1.0, abs=1e-5)
        assert point["predicted_label"] == model.labels[int(np.argmax(point["probabilities"]))]
        if value == spec.identity:  # the unmodified clip, bit for bit
            assert point["probabilities"] == result["original"]["probabilities"]
            assert point["predicted_label"] == result["original"]["predicted_label"]
    if spec.identity is not None:
        assert spec.identity in values
    assert result["probabilities_by_label"][model.labels[0]] == [pt["probabilities"][0] for pt in result["points"]]


def test_run_sweep_variants_differ_and_noise_is_seeded(model, clip) -> None:
    y, sr = clip
    first = run_sweep(model, y, sr, "add_noise", [10.0, 0.0])
    again = run_sweep(model, y, sr, "add_noise", [10.0, 0.0])
    assert [p["probabilities"] for p in first["points"]] == [p["probabilities"] for p in again["points"]]
    other = run_sweep(model, y, sr, "add_noise", [10.0, 0.0], seed=1)
    assert [p["probabilities"] for p in first["points"]] != [p["probabilities"] for p in other["points"]]
    shifted = run_sweep(model, y, sr, "pitch_shift", [-6.0, 6.0])
    assert shifted["points"][0]["probabilities"] != shifted["points"][1]["probabilities"]


def test_run_sweep_refuses_values_the_clip_cannot_take(model, clip) -> None:
    y, sr = clip
    with pytest.raises(OperationError, match="seconds"):
        run_sweep(model, y, sr, "time_shift", [0.0, 5.0])
    with pytest.raises(OperationError, match="silent"):
        run_sweep(model, np.zeros(8000, np.float32), 8000, "add_noise", [10.0])
    with pytest.raises(ValueError, match="can vary one of"):
        run_sweep(model, y, sr, "slice", [0.1])
