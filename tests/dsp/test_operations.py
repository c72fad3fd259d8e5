"""Tests for experiments.operations: synthetic signals, tolerances, and bad cases next to good ones."""

import hashlib
import io
import json
import math
from contextlib import nullcontext

import numpy as np
import pytest
import soundfile as sf

from dsp.errors import OperationError
from dsp.operation_specs import MIN_DURATION_S, OPERATIONS, OperationSpec, ParamSpec
from dsp.operations import apply_operation, apply_operations, validate_operation

SR = 16000


def ok(expected=None):
    """The outcome of a good case: no exception, and ``expected`` to compare with."""
    return nullcontext(expected)


def bad(match):
    """The outcome of a bad case: an OperationError whose message matches ``match``."""
    return pytest.raises(OperationError, match=match)


def sine(freq=300.0, seconds=1.0, sr=SR, amp=0.5):
    t = np.arange(round(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def impulse(n, at, amp=1.0):
    y = np.zeros(n, dtype=np.float32)
    y[at] = amp
    return y


def white(n, seed=1, amp=0.1):
    return (amp * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def peak_hz(y, sr=SR):
    """Frequency of the strongest spectral peak, refined by parabolic interpolation."""
    mag = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    k = int(np.argmax(mag[1:-1])) + 1
    a, b, c = np.log(mag[k - 1 : k + 2] + 1e-12)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / len(y)


def wav_sha256(y, sr=SR):
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="FLOAT")
    return hashlib.sha256(buf.getvalue()).hexdigest()


def op(name, **params):
    return {"op": name, "params": params}


# One example of every operation, valid on a 1 s clip; the chain below uses them all.
EXAMPLES = [
    op("slice", start=0.1, end=0.9),
    op("crossfade", start=0.2, end=0.3),
    op("loudness_ramp", start_db=3, end_db=-10),
    op("gain", db=-3),
    op("repeat", times=2),
    {"op": "reverse"},
    op("fade", fade_in=0.1),
    op("pitch_shift", semitones=3),
    op("time_stretch", rate=1.3),
    op("add_noise", snr_db=20, seed=7),
    op("time_shift", seconds=-0.05),
]


# --------------------------------------------------------------------------- registry


def test_registry_names_every_operation_of_the_contract():
    assert list(OPERATIONS) == [
        "slice", "crossfade", "loudness_ramp", "gain", "repeat", "reverse",
        "fade", "pitch_shift", "time_stretch", "add_noise", "time_shift",
    ]  # fmt: skip
    assert {e["op"] for e in EXAMPLES} == set(OPERATIONS)
    params = {name: [p.name for p in spec.params] for name, spec in OPERATIONS.items()}
    assert params == {
        "slice": ["start", "end"], "crossfade": ["start", "end"], "loudness_ramp": ["start_db", "end_db"],
        "gain": ["db"], "repeat": ["times"], "reverse": [], "fade": ["fade_in", "fade_out"],
        "pitch_shift": ["semitones"], "time_stretch": ["rate"], "add_noise": ["snr_db", "seed"],
        "time_shift": ["seconds"],
    }  # fmt: skip


@pytest.mark.parametrize("spec", OPERATIONS.values(), ids=list(OPERATIONS))
def test_registry_specs_are_complete_and_json_ready(spec):
    assert isinstance(spec, OperationSpec)
    assert spec.label and spec.description.endswith(".")
    for duration in (None, 1.5):
        d = json.loads(json.dumps(spec.to_dict(duration)))
        assert d["op"] == spec.op and len(d["params"]) == len(spec.params)
    for p in spec.params:
        assert isinstance(p, ParamSpec)
        assert p.kind in ("float", "int") and p.unit in ("s", "dB", "semitones", "×", "") and p.help
        assert p.minimum <= p.default <= p.maximum and p.step > 0
        resolved = p.to_dict(2.0)
        lo, hi = p.bounds(2.0)
        assert (resolved["minimum"], resolved["maximum"]) == (lo, hi)
        assert resolved["relative_to_duration"] is False
        assert lo <= resolved["default"] <= hi


def test_spec_is_frozen():
    with pytest.raises(AttributeError):
        OPERATIONS["gain"].params[0].maximum = 100


def test_time_params_resolve_to_the_clip_duration():
    shift = OPERATIONS["time_shift"].to_dict(1.5)["params"][0]
    assert (shift["minimum"], shift["maximum"], shift["exclusive"]) == (-1.5, 1.5, True)
    end = OPERATIONS["slice"].to_dict(1.5)["params"][1]
    assert (end["maximum"], end["default"], end["unit"]) == (1.5, 1.5, "s")


# --------------------------------------------------------------------------- validation

VALIDATION_CASES = [
    # good: coercion to float/int, defaults for optional parameters, registry order
    (op("gain", db=6), 1.0, ok(op("gain", db=6.0))),
    (op("gain", db=np.float32(-60)), 1.0, ok(op("gain", db=-60.0))),
    (op("pitch_shift", semitones=-12), 1.0, ok(op("pitch_shift", semitones=-12.0))),
    (op("pitch_shift", semitones=12), 1.0, ok(op("pitch_shift", semitones=12.0))),
    (op("repeat", times=3.0), 1.0, ok(op("repeat", times=3))),
    (op("repeat", times=np.int64(8)), 1.0, ok(op("repeat", times=8))),
    ({"op": "repeat"}, 1.0, ok(op("repeat", times=2))),
    ({"op": "reverse"}, 1.0, ok(op("reverse"))),
    ({"op": "reverse", "params": None}, 1.0, ok(op("reverse"))),
    (op("add_noise", snr_db=10), 1.0, ok(op("add_noise", snr_db=10.0, seed=0))),
    (op("add_noise", seed=2**31 - 1, snr_db=-10), 1.0, ok(op("add_noise", snr_db=-10.0, seed=2**31 - 1))),
    (op("fade", fade_in=0.2), 1.0, ok(op("fade", fade_in=0.2, fade_out=0.0))),
    (op("fade", fade_out=1), 1.0, ok(op("fade", fade_in=0.0, fade_out=1.0))),
    (op("fade", fade_in=0.5, fade_out=0.5), 1.0, ok(op("fade", fade_in=0.5, fade_out=0.5))),
    (op("slice", end=0.5, start=0), 1.0, ok(op("slice", start=0.0, end=0.5))),
    (op("slice", start=0.49, end=0.5), 1.0, ok(op("slice", start=0.49, end=0.5))),
    (op("slice", start=0, end=1.0000004), 1.0, ok(op("slice", start=0.0, end=1.0))),  # browser rounding
    (op("crossfade", start=0.3, end=2.5), 2.5, ok(op("crossfade", start=0.3, end=2.5))),
    (op("loudness_ramp", start_db=20, end_db=-60), 1.0, ok(op("loudness_ramp", start_db=20.0, end_db=-60.0))),
    (op("time_stretch", rate=0.5), 1.0, ok(op("time_stretch", rate=0.5))),
    (op("time_shift", seconds=-0.999), 1.0, ok(op("time_shift", seconds=-0.999))),
    # bad: the shape of the operation
    (["gain", 6], 1.0, bad(r"^An operation must be an object like .* \(got \[\"gain\", 6\]\)\.$")),
    ({"params": {"db": 6}}, 1.0, bad(r'"op" must name one of the operations .* \(got nothing\)')),
    (op("explode"), 1.0, bad(r'"op" must name one of .*slice, crossfade.* \(got "explode"\)')),
    ({"op": 3}, 1.0, bad(r"\(got 3\)")),
    ({"op": "gain", "params": {"db": 6}, "extra": 1}, 1.0, bad(r"^gain: unknown key 'extra'")),
    ({"op": "gain", "params": [6]}, 1.0, bad(r"^gain: params must be an object \(got \[6\]\)\.$")),
    (op("gain", db=6, volume=2), 1.0, bad(r"^gain: unknown parameter 'volume' \(allowed: db\)\.$")),
    (op("reverse", fast=True), 1.0, bad(r"^reverse: unknown parameter 'fast' \(reverse takes no parameters\)")),
    ({"op": "gain"}, 1.0, bad(r"^gain: db is required: a number between -60 and 30\.$")),
    (op("add_noise", seed=1), 1.0, bad(r"^add_noise: snr_db is required")),
    (op("slice", start=0.2), 1.0, bad(r"^slice: end is required")),
    # bad: types
    (op("gain", db=float("nan")), 1.0, bad(r"^gain: db must be a finite number \(got nan\)\.$")),
    (op("gain", db=float("inf")), 1.0, bad(r"^gain: db must be a finite number \(got inf\)\.$")),
    (op("time_stretch", rate=-math.inf), 1.0, bad(r"rate must be a finite number \(got -inf\)")),
    (op("gain", db=True), 1.0, bad(r"^gain: db must be a number between -60 and 30 \(got true\)\.$")),
    (op("repeat", times=np.bool_(True)), 1.0, bad(r"times must be a whole number .*\(got true\)")),
    (op("gain", db="6"), 1.0, bad(r'^gain: db must be a number between -60 and 30 \(got "6"\)\.$')),
    (op("gain", db=None), 1.0, bad(r"\(got null\)")),
    (op("gain", db=[6]), 1.0, bad(r"\(got \[6\]\)")),
    (op("repeat", times=2.5), 1.0, bad(r"^repeat: times must be a whole number between 2 and 8 \(got 2\.5\)\.$")),
    (op("add_noise", snr_db=10, seed=0.5), 1.0, bad(r"seed must be a whole number")),
    # bad: ranges
    (op("pitch_shift", semitones=30), 1.0, bad(r"^pitch_shift: semitones must be between -12 and 12 \(got 30\)\.$")),
    (op("pitch_shift", semitones=-12.01), 1.0, bad(r"between -12 and 12 \(got -12\.01\)")),
    (op("gain", db=30.5), 1.0, bad(r"^gain: db must be between -60 and 30 \(got 30\.5\)\.$")),
    (op("loudness_ramp", start_db=0, end_db=21), 1.0, bad(r"^loudness_ramp: end_db must be between -60 and 20")),
    (op("repeat", times=1), 1.0, bad(r"^repeat: times must be between 2 and 8 \(got 1\)\.$")),
    (op("repeat", times=9), 1.0, bad(r"between 2 and 8 \(got 9\)")),
    (op("time_stretch", rate=0.49), 1.0, bad(r"^time_stretch: rate must be between 0\.5 and 2 \(got 0\.49\)")),
    (op("time_stretch", rate=2.01), 1.0, bad(r"between 0\.5 and 2 \(got 2\.01\)")),
    (op("add_noise", snr_db=61), 1.0, bad(r"^add_noise: snr_db must be between -10 and 60 \(got 61\)")),
    (op("add_noise", snr_db=0, seed=-1), 1.0, bad(r"seed must be between 0 and 2147483647 \(got -1\)")),
    (op("add_noise", snr_db=0, seed=2**31), 1.0, bad(r"seed must be between 0 and 2147483647 \(got 2147483648\)")),
    (op("add_noise", snr_db=0, seed=10**400), 1.0, bad(r"seed must be between 0 and 2147483647 \(got 1000000000")),
    (op("gain", db=-(10**400)), 1.0, bad(r"^gain: db must be between -60 and 30 \(got -1000000000.*\.\.\.\)\.$")),
    (op("gain", db=1e308 * 10), 1.0, bad(r"db must be a finite number \(got inf\)")),
    (op("time_shift", seconds=1.0), 1.0, bad(r"^time_shift: seconds must be strictly between -1 and 1 s")),
    (op("time_shift", seconds=-2.0), 2.0, bad(r"strictly between -2 and 2 s, the clip's duration \(got -2\)")),
    # bad: regions and fades, relative to the clip's duration
    (op("slice", start=0.2, end=1.5), 1.2, bad(r"^slice: end must be between 0 and 1\.2 s, the clip's duration")),
    (op("slice", start=-0.1, end=0.5), 1.0, bad(r"^slice: start must be between 0 and 1 s.*\(got -0\.1\)")),
    (op("slice", start=0.5, end=0.3), 1.0, bad(r"^slice: end must be after start \(got start 0\.5 s and end 0\.3 s\)")),
    (op("slice", start=0.5, end=0.5), 1.0, bad(r"end must be after start")),
    (op("slice", start=0.5, end=0.505), 1.0, bad(r"^slice: the region .* at least 10 ms long \(got 5 ms\)\.$")),
    (op("crossfade", start=0.3, end=0.2), 1.0, bad(r"^crossfade: end must be after start")),
    (op("crossfade", start=0.3, end=0.309), 1.0, bad(r"^crossfade: the region .* at least 10 ms")),
    (op("fade"), 1.0, bad(r"^fade: at least one of fade_in and fade_out must be greater than 0")),
    (op("fade", fade_in=0, fade_out=0), 1.0, bad(r"greater than 0 \(got 0 and 0\)")),
    (op("fade", fade_in=0.6, fade_out=0.6), 1.0, bad(r"^fade: fade_in \+ fade_out must not exceed .* 1 s .*= 1\.2 s")),
    (op("fade", fade_in=1.5), 1.0, bad(r"^fade: fade_in must be between 0 and 1 s")),
]


@pytest.mark.parametrize(("operation", "duration_s", "outcome"), VALIDATION_CASES)
def test_validate_operation(operation, duration_s, outcome):
    with outcome as expected:
        result = validate_operation(operation, duration_s=duration_s)
        assert result == expected
        assert [type(v) for v in result["params"].values()] == [type(v) for v in expected["params"].values()]
        assert validate_operation(result, duration_s=duration_s) == result  # normalising is idempotent
        json.dumps(result)


@pytest.mark.parametrize(
    ("operation", "duration_s"), [c[:2] for c in VALIDATION_CASES if not isinstance(c[2], nullcontext)]
)
def test_error_messages_are_sentences_that_say_what_was_given(operation, duration_s):
    with pytest.raises(OperationError) as info:
        validate_operation(operation, duration_s=duration_s)
    message = str(info.value)
    assert message.endswith(".") and any(w in message for w in ("(got ", "unknown ", " is required"))
    assert isinstance(info.value, ValueError)
    name = operation.get("op") if isinstance(operation, dict) else None
    if name in OPERATIONS:
        assert message.startswith(f"{name}: ") and info.value.op == name


def test_error_names_the_parameter_at_fault():
    with pytest.raises(OperationError) as info:
        validate_operation(op("slice", start=0.5, end=0.3), duration_s=1.0)
    assert (info.value.op, info.value.param, info.value.step) == ("slice", "end", None)


@pytest.mark.parametrize("duration_s", [0, -1.0, math.nan, math.inf, "1"])
def test_validate_rejects_a_bad_duration_as_a_programming_error(duration_s):
    with pytest.raises(ValueError, match="duration_s") as info:
        validate_operation(op("gain", db=1), duration_s=duration_s)
    assert not isinstance(info.value, OperationError)


# --------------------------------------------------------------------------- meaning of each operation


def test_slice_keeps_exactly_the_region():
    y = np.arange(SR, dtype=np.float32) / SR
    out = apply_operation(y, SR, op("slice", start=0.25, end=0.5))
    assert out.dtype == np.float32 and out.shape == (4000,)
    np.testing.assert_array_equal(out, y[4000:8000])


def test_slice_to_the_very_end():
    y = white(SR)
    np.testing.assert_array_equal(apply_operation(y, SR, op("slice", start=0.75, end=1.0)), y[12000:])


def test_crossfade_removes_a_click_in_the_region_and_keeps_the_rest():
    y = sine(amp=0.5)
    y[8000] = 5.0  # a click in the middle of the region [0.45, 0.55)
    out = apply_operation(y, SR, op("crossfade", start=0.45, end=0.55))
    assert out.shape == y.shape
    s, e = 7200, 8800
    assert np.max(np.abs(out[s:e])) < 0.75  # two 0.5 sines under equal-power curves peak at 0.5·√2
    np.testing.assert_array_equal(out[:s], y[:s])
    np.testing.assert_array_equal(out[e:], y[e:])
    # the region is what surrounds it: the 1600 samples before fading out, those after fading in
    phase = 0.5 * np.pi * (np.arange(1600) + 0.5) / 1600
    expected = y[s - 1600 : s] * np.cos(phase) + y[e : e + 1600] * np.sin(phase)
    np.testing.assert_allclose(out[s:e], expected, atol=1e-6)


def test_crossfade_at_the_clip_edges_fades_from_and_to_silence():
    y = np.ones(SR, dtype=np.float32)
    start = apply_operation(y, SR, op("crossfade", start=0.0, end=0.1))
    assert start[0] < 0.01 and start[1599] > 0.99  # nothing before the clip: a fade-in of what follows
    assert np.all(np.diff(start[:1600]) > 0)
    end = apply_operation(y, SR, op("crossfade", start=0.9, end=1.0))
    assert end[14400] > 0.99 and end[-1] < 0.01  # nothing after the clip: a fade-out of what precedes


def test_crossfade_keeps_the_power_of_noise():
    y = white(4 * SR, amp=0.1)
    out = apply_operation(y, SR, op("crossfade", start=1.5, end=2.5))  # 1 s of clip on either side
    assert np.mean(out[24000:40000] ** 2) == pytest.approx(np.mean(y**2), rel=0.05)


@pytest.mark.parametrize(("start_db", "end_db"), [(0, -20), (6, -6), (-60, 20), (0, 0)])
def test_loudness_ramp_gains_at_first_last_and_middle_sample(start_db, end_db):
    y = np.ones(SR + 1, dtype=np.float32)
    out = apply_operation(y, SR, op("loudness_ramp", start_db=start_db, end_db=end_db))
    assert out[0] == pytest.approx(10 ** (start_db / 20), rel=1e-6)
    assert out[-1] == pytest.approx(10 ** (end_db / 20), rel=1e-6)
    assert 20 * np.log10(out[SR // 2]) == pytest.approx((start_db + end_db) / 2, abs=1e-4)  # linear in dB


@pytest.mark.parametrize(("db", "ratio"), [(6, 2.0), (-6, 0.5), (20, 10.0), (-60, 0.001), (0, 1.0)])
def test_gain_scales_amplitude(db, ratio):
    y = sine()
    out = apply_operation(y, SR, op("gain", db=db))
    np.testing.assert_allclose(out, y * ratio, rtol=0.003, atol=1e-7)


def test_gain_never_clips():
    out = apply_operation(sine(amp=0.9), SR, op("gain", db=30))
    assert np.max(np.abs(out)) == pytest.approx(0.9 * 10**1.5, rel=1e-3)


@pytest.mark.parametrize("times", [2, 3, 8])
def test_repeat_concatenates(times):
    y = white(1000)
    out = apply_operation(y, SR, op("repeat", times=times))
    assert out.shape == (1000 * times,)
    np.testing.assert_array_equal(out.reshape(times, 1000), np.broadcast_to(y, (times, 1000)))


def test_reverse_plays_from_the_end_and_twice_is_identity():
    y = white(SR)
    once = apply_operation(y, SR, {"op": "reverse"})
    np.testing.assert_array_equal(once, y[::-1])
    np.testing.assert_array_equal(apply_operation(once, SR, {"op": "reverse"}), y)


def test_fade_in_and_out_are_linear_and_reach_zero_at_the_edges():
    y = np.ones(SR, dtype=np.float32)
    out = apply_operation(y, SR, op("fade", fade_in=0.1, fade_out=0.25))
    assert out[0] == 0 and out[-1] == 0
    np.testing.assert_allclose(out[:1600], np.arange(1600) / 1600)
    np.testing.assert_allclose(out[-4000:], np.arange(4000)[::-1] / 4000)
    np.testing.assert_array_equal(out[1600:-4000], 1.0)


def test_fade_out_only_leaves_the_beginning_alone():
    y = sine()
    out = apply_operation(y, SR, op("fade", fade_out=0.5))
    np.testing.assert_array_equal(out[:8000], y[:8000])
    assert abs(out[-1]) < 1e-4


def test_fade_is_mirrored_by_reverse():
    y = white(SR)
    a = apply_operations(y, SR, [op("fade", fade_in=0.2, fade_out=0.1), {"op": "reverse"}])[0]
    b = apply_operations(y, SR, [{"op": "reverse"}, op("fade", fade_in=0.1, fade_out=0.2)])[0]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("semitones", "sr"), [(12, SR), (-12, SR), (7, SR), (0.5, SR), (12, 8000), (-5, 44100)])
def test_pitch_shift_moves_the_peak_and_keeps_the_length(semitones, sr):
    y = sine(300, sr=sr)
    out = apply_operation(y, sr, op("pitch_shift", semitones=semitones))
    assert out.shape == y.shape
    assert peak_hz(out, sr) == pytest.approx(300 * 2 ** (semitones / 12), rel=0.01)
    middle = out[len(out) // 4 : -len(out) // 4]
    assert 0.3 < np.sqrt(2 * np.mean(middle**2)) < 0.6  # amplitude roughly kept


def test_pitch_shift_by_zero_is_identity():
    y = white(SR)
    np.testing.assert_array_equal(apply_operation(y, SR, op("pitch_shift", semitones=0)), y)


@pytest.mark.parametrize(("rate", "sr"), [(2.0, SR), (0.5, SR), (1.3, SR), (0.8, 48000), (2.0, 8000)])
def test_time_stretch_changes_the_length_and_keeps_the_pitch(rate, sr):
    y = sine(300, sr=sr)
    out = apply_operation(y, sr, op("time_stretch", rate=rate))
    assert out.shape == (round(len(y) / rate),)
    assert peak_hz(out, sr) == pytest.approx(300, rel=0.01)
    middle = out[len(out) // 4 : -len(out) // 4]
    assert np.sqrt(2 * np.mean(middle**2)) == pytest.approx(0.5, rel=0.2)


def test_time_stretch_by_one_is_identity():
    y = white(SR)
    np.testing.assert_array_equal(apply_operation(y, SR, op("time_stretch", rate=1)), y)


def test_vocoder_handles_clips_shorter_than_a_frame():
    y = sine(seconds=0.02)  # 320 samples, shorter than the 1024-sample frame
    assert apply_operation(y, SR, op("pitch_shift", semitones=4)).shape == (320,)
    assert apply_operation(y, SR, op("time_stretch", rate=0.5)).shape == (640,)


@pytest.mark.parametrize("snr_db", [-10, 0, 20, 60])
def test_add_noise_achieves_the_snr(snr_db):
    y = sine()
    out = apply_operation(y, SR, op("add_noise", snr_db=snr_db, seed=3))
    noise = out.astype(np.float64) - y
    measured = 10 * np.log10(np.mean(y.astype(np.float64) ** 2) / np.mean(noise**2))
    assert measured == pytest.approx(snr_db, abs=0.5)
    assert abs(np.mean(noise)) < 0.05 * np.std(noise)  # zero-mean
    spectrum = np.abs(np.fft.rfft(noise)) ** 2
    halves = spectrum[1 : len(spectrum) // 2].mean(), spectrum[len(spectrum) // 2 :].mean()
    assert halves[0] == pytest.approx(halves[1], rel=0.1)  # white: flat on average


def test_add_noise_is_reproducible_by_seed_and_differs_across_seeds():
    y = sine()
    a = apply_operation(y, SR, op("add_noise", snr_db=10, seed=42))
    b = apply_operation(y, SR, op("add_noise", snr_db=10, seed=42))
    c = apply_operation(y, SR, op("add_noise", snr_db=10, seed=43))
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    assert np.corrcoef(a - y, c - y)[0, 1] < 0.05


@pytest.mark.parametrize(("seconds", "moved_to"), [(0.01, 1160), (-0.01, 840), (0.0, 1000), (0.5, 9000), (-0.0625, 0)])
def test_time_shift_moves_an_impulse(seconds, moved_to):
    y = impulse(SR, 1000)
    out = apply_operation(y, SR, op("time_shift", seconds=seconds))
    assert out.shape == y.shape
    assert np.flatnonzero(out).tolist() == [moved_to]


def test_time_shift_past_the_edge_is_lost_and_zero_filled():
    y = np.ones(SR, dtype=np.float32)
    late = apply_operation(y, SR, op("time_shift", seconds=0.25))
    assert late[:4000].sum() == 0 and np.all(late[4000:] == 1)
    early = apply_operation(y, SR, op("time_shift", seconds=-0.25))
    assert np.all(early[:12000] == 1) and early[12000:].sum() == 0


@pytest.mark.parametrize("operation", EXAMPLES, ids=[e["op"] for e in EXAMPLES])
@pytest.mark.parametrize("sr", [8000, SR, 48000])
def test_every_operation_returns_new_finite_float32_audio(operation, sr):
    y = sine(sr=sr) + white(sr, amp=0.01)
    before = y.copy()
    out = apply_operation(y, sr, operation)
    assert out.dtype == np.float32 and out.ndim == 1 and np.all(np.isfinite(out))
    assert not np.shares_memory(out, y)
    np.testing.assert_array_equal(y, before)  # the input is untouched


# --------------------------------------------------------------------------- lists, determinism, limits


def test_applying_a_list_twice_gives_identical_bytes():
    y = sine() + white(SR, amp=0.05)
    first, norm1 = apply_operations(y, SR, EXAMPLES)
    second, norm2 = apply_operations(y, SR, EXAMPLES)
    assert wav_sha256(first) == wav_sha256(second)
    assert norm1 == norm2 and len(norm1) == len(EXAMPLES)


def test_one_step_at_a_time_equals_the_whole_list():
    y = sine() + white(SR, amp=0.05)
    whole, normalised = apply_operations(y, SR, EXAMPLES)
    step = y
    for operation in EXAMPLES:
        step = apply_operation(step, SR, operation)
        # the WAV round trip that stores each intermediate recording is lossless
        buf = io.BytesIO()
        sf.write(buf, step, SR, format="WAV", subtype="FLOAT")
        buf.seek(0)
        step, _ = sf.read(buf, dtype="float32")
    assert step.tobytes() == whole.tobytes()
    # replaying the stored, normalised history reproduces the audio too
    assert wav_sha256(apply_operations(y, SR, normalised)[0]) == wav_sha256(whole)


def test_normalised_history_is_json_and_fills_defaults():
    _, normalised = apply_operations(sine(), SR, [{"op": "repeat"}, op("add_noise", snr_db=5), {"op": "reverse"}])
    assert json.loads(json.dumps(normalised)) == [
        op("repeat", times=2), op("add_noise", snr_db=5.0, seed=0), op("reverse"),
    ]  # fmt: skip


def test_empty_list_returns_a_copy():
    y = sine()
    out, normalised = apply_operations(y, SR, [])
    assert normalised == [] and out.tobytes() == y.tobytes() and not np.shares_memory(out, y)


LIST_CASES = [
    # good: each step is validated against the clip as it is at that step
    ([op("slice", start=0, end=0.5), op("slice", start=0.25, end=0.5)], None, ok(4000)),
    ([op("repeat", times=3), op("slice", start=2.0, end=3.0)], None, ok(SR)),
    ([op("repeat", times=4)], 4.0, ok(4 * SR)),
    ([op("time_stretch", rate=0.5), op("time_shift", seconds=1.5)], None, ok(2 * SR)),
    ([op("slice", start=0.5, end=0.51)], None, ok(160)),
    # bad: the message says which step failed
    ([op("slice", start=0, end=0.5), op("slice", start=0, end=0.8)], None,
     bad(r"^step 2 \(slice\): end must be between 0 and 0\.5 s, the clip's duration \(got 0\.8\)\.$")),
    ([op("gain", db=1), op("repeat", times=8)], 5.0,
     bad(r"^step 2 \(repeat\): the result would be 8 s long, over the 5 s limit\.$")),
    ([op("time_stretch", rate=0.5)], 1.5, bad(r"^step 1 \(time_stretch\): the result would be 2 s long")),
    ([op("slice", start=0, end=0.015), op("time_stretch", rate=2)], None,
     bad(r"^step 2 \(time_stretch\): the result would be 7\.5 ms long; it must be at least 10 ms\.$")),
    ([op("gain", db=3), op("explode")], None, bad(r'^step 2: "op" must name one of the operations')),
    ([op("gain", db=3), op("gain", db="loud")], None, bad(r'^step 2 \(gain\): db must be a number .*\(got "loud"\)')),
    ([op("time_shift", seconds=0.99999), op("add_noise", snr_db=10)], None,
     bad(r"^step 2 \(add_noise\): the clip is digitally silent, so a signal-to-noise ratio is undefined")),
    ([op("gain", db=30)] * 30, None,
     bad(r"^step 3 \(gain\): the result would peak at \+\d+\.\d dBFS, above the \+60 dBFS ceiling; use a smaller db")),
    ({"op": "gain", "params": {"db": 1}}, None, bad(r"^Operations must be a list")),
    ("reverse", None, bad(r"^Operations must be a list")),
]  # fmt: skip


@pytest.mark.parametrize(("ops", "max_duration_s", "outcome"), LIST_CASES)
def test_apply_operations(ops, max_duration_s, outcome):
    with outcome as expected_length:
        out, normalised = apply_operations(sine(), SR, ops, max_duration_s=max_duration_s)
        assert out.shape == (expected_length,) and len(normalised) == len(ops)


def test_errors_in_lists_carry_the_step():
    with pytest.raises(OperationError) as info:
        apply_operations(sine(), SR, [op("gain", db=1), op("repeat", times=8)], max_duration_s=5)
    assert (info.value.step, info.value.op) == (2, "repeat")


@pytest.mark.parametrize(
    "y",
    [np.zeros(round(MIN_DURATION_S * SR), dtype=np.float32), np.full(SR, 1e-30, dtype=np.float32)],
    ids=["silence", "very-quiet"],
)
def test_add_noise_on_silence_is_refused_but_quiet_is_fine(y):
    outcome = bad("digitally silent") if not np.any(y) else ok()
    with outcome:
        out = apply_operation(y, SR, op("add_noise", snr_db=20))
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize(
    ("y", "sr"),
    [(np.zeros((2, SR), np.float32), SR), (np.zeros(0, np.float32), SR), (np.full(SR, np.nan, np.float32), SR),
     (sine(), 4000), (sine(), 96000), (sine(), 16000.0), (sine(), True)],
    ids=["stereo", "empty", "nan", "sr-low", "sr-high", "sr-float", "sr-bool"],
)  # fmt: skip
def test_malformed_audio_is_a_programming_error_not_an_operation_error(y, sr):
    with pytest.raises(ValueError) as info:
        apply_operation(y, sr, {"op": "reverse"})
    assert not isinstance(info.value, OperationError)
