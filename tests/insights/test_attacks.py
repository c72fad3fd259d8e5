"""PGD on the waveform: success, the SNR bound, determinism and replay, the benchmark.

On the bundled model whatever its accuracy: success is asked of the clip it is most
confident about, and targeted success only has to beat chance.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dsp.decode import decode_audio, resample
from dsp.errors import AudioError
from dsp.features import log_spectrogram, normalise, prepare
from dsp.stft import stft
from insights.attacks import (
    adversarial_operation,
    apply_adversarial,
    pgd_attack,
    validate_adversarial_params,
)
from insights.robustness import attack_benchmark, format_benchmark
from modelzoo.samples import sample_clips
from tests.insights.insight_support import P

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(loaded_bundled_model):
    return loaded_bundled_model


@pytest.fixture(scope="module")
def clips() -> list[tuple[str, np.ndarray, int]]:
    return [(c.name, *decode_audio(c.path)) for c in sample_clips()]


@pytest.fixture(scope="module")
def confident(model, clips) -> np.ndarray:
    """The fitted sample clip the model is most confident about."""
    prepared = [prepare(y, sr, P) for _, y, sr in clips]
    return max(prepared, key=lambda p: float(model.run(p.features)[0].max())).waveform


def snr(x: np.ndarray, y: np.ndarray) -> float:
    x64 = x.astype(np.float64)
    return 20 * np.log10(np.linalg.norm(x64) / np.linalg.norm(y.astype(np.float64) - x64))


def analysed(model, y: np.ndarray) -> np.ndarray:
    """What an analysis of a recording holding ``y`` (at the model's rate) shows: prepare re-fits it."""
    return model.run(prepare(y, P.sample_rate, P).features)[0]


def heard(model, fitted: np.ndarray) -> np.ndarray:
    """What the model says of an already fitted clip (the original recording's analysis)."""
    return model.run(normalise(log_spectrogram(stft(fitted, P), P), P))[0]


# --------------------------------------------------------------------------- parameters


def test_adversarial_params_are_validated_and_normalised() -> None:
    op = adversarial_operation(model_version=3, target=None, snr_db=30, steps=50, seed=7)
    assert op == {
        "op": "adversarial",
        "params": {"model_version": 3, "target": -1, "snr_db": 30.0, "steps": 50, "seed": 7},
    }
    assert validate_adversarial_params(op["params"]) == op["params"]
    assert adversarial_operation(model_version=3, target=4, snr_db=12.5, steps=1, seed=0)["params"]["target"] == 4
    good = op["params"]
    for bad, message in (
        ({**good, "target": 10}, "target"),
        ({**good, "target": -2}, "target"),
        ({**good, "snr_db": float("nan")}, "snr_db"),
        ({**good, "snr_db": 100}, "snr_db"),
        ({**good, "steps": 0}, "steps"),
        ({**good, "steps": 2.5}, "steps"),
        ({**good, "seed": True}, "seed"),
        ({**good, "extra": 1}, "unknown parameter"),
        ({k: v for k, v in good.items() if k != "seed"}, "seed is required"),
        ("30 dB", "object"),
    ):
        with pytest.raises(ValueError, match=message):
            validate_adversarial_params(bad)


# --------------------------------------------------------------------------- the attack


def test_untargeted_attack_flips_a_confident_clip_at_30_db(model, confident) -> None:
    before = heard(model, confident)
    progress: list[tuple[int, int]] = []
    r = pgd_attack(model, confident, target=None, snr_db=30.0, steps=50, seed=0, progress=lambda *a: progress.append(a))
    assert r.success and r.predicted != r.original == int(np.argmax(before))
    assert r.waveform.dtype == np.float32 and r.waveform.shape == (P.n_samples,)
    assert np.all(np.isfinite(r.waveform))
    assert r.snr_db >= 30.0 and r.snr_db == pytest.approx(snr(confident, r.waveform), abs=1e-9)
    np.testing.assert_array_equal(r.probabilities_before, before)
    # "after" is exactly what an analysis of the adversarial recording shows
    np.testing.assert_array_equal(r.probabilities_after, analysed(model, r.waveform))
    assert r.probabilities_after.sum() == pytest.approx(1.0, abs=1e-5)
    assert 1 <= r.steps_used <= 50 and r.elapsed_ms > 0
    assert progress[-1] == (50, 50) and [d for d, _ in progress[:-1]] == list(range(1, r.steps_used + 1))
    assert r.to_dict(model.labels)["original"] == model.labels[r.original]


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 40.0, 80.0])
def test_snr_bound_always_holds(model, clips, snr_db: float) -> None:
    for i, (_, y, sr) in enumerate(clips[:: len(clips) // 3]):
        x = prepare(y, sr, P).waveform
        r = pgd_attack(model, x, target=i % 10, snr_db=snr_db, steps=5, seed=i)
        assert snr(x, r.waveform) >= snr_db
        assert np.all(np.isfinite(r.waveform)) and np.all(np.isfinite(r.probabilities_after))
        assert np.max(np.abs(r.waveform)) <= max(1.0, float(np.max(np.abs(x))))


def test_targeted_attack_beats_chance(model, clips) -> None:
    hits = []
    for i, (_, y, sr) in enumerate(clips[::4]):
        x = prepare(y, sr, P).waveform
        for target in ((i + 3) % 10, (i + 6) % 10):
            r = pgd_attack(model, x, target=target, snr_db=20.0, steps=30, seed=1)
            assert r.target == target and r.success == (r.predicted == target)
            hits.append(r.success)
    assert np.mean(hits) > 0.1 + 0.2  # chance is 1 in 10


def test_attack_refuses_bad_input(model, confident) -> None:
    with pytest.raises(ValueError, match="silent"):
        pgd_attack(model, np.zeros(P.n_samples, np.float32), target=None, snr_db=30, steps=5, seed=0)
    with pytest.raises(ValueError, match="fitted clip"):
        pgd_attack(model, confident[:4000], target=None, snr_db=30, steps=5, seed=0)
    with pytest.raises(ValueError, match="target"):
        pgd_attack(model, confident, target=11, snr_db=30, steps=5, seed=0)
    bad = confident.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pgd_attack(model, bad, target=None, snr_db=30, steps=5, seed=0)


# --------------------------------------------------------------------------- replay


def test_apply_adversarial_makes_the_model_view_clip_and_replays(model, clips) -> None:
    _, y, sr = clips[5]
    y16 = resample(y, sr, 16000)  # canonical audio may be at 16 kHz
    params = adversarial_operation(model_version=1, target=2, snr_db=25.0, steps=10, seed=3)["params"]
    y_adv, _ = apply_adversarial(model, y16, 16000, params)
    assert y_adv.shape == (P.n_samples,) and y_adv.dtype == np.float32  # 1 s at the model's rate
    x = prepare(y16, 16000, P).waveform
    assert snr(x, y_adv) >= 25.0
    direct = pgd_attack(model, x, target=2, snr_db=25.0, steps=10, seed=3)
    np.testing.assert_array_equal(direct.waveform, y_adv)
    again, _ = apply_adversarial(model, y16, 16000, params)
    np.testing.assert_array_equal(again, y_adv)
    other_seed, _ = apply_adversarial(model, y16, 16000, {**params, "seed": 4})
    assert not np.array_equal(other_seed, y_adv)
    with pytest.raises(AudioError):
        apply_adversarial(model, np.zeros(16000, np.float32), 16000, params)


REPLAY = textwrap.dedent(
    """
    import hashlib, json
    from dsp.decode import decode_audio
    from dsp.params import FeatureParams
    from insights.attacks import apply_adversarial
    from modelzoo.inference import load_from_path
    from modelzoo.samples import sample_clips
    meta = json.load(open("modelzoo/bundled/ddevis-cnn-v4.json"))
    params = FeatureParams.from_dict(meta["feature_params"])
    model = load_from_path("modelzoo/bundled/ddevis-cnn-v4.keras", params=params, labels=meta["labels"])
    y, sr = decode_audio(sample_clips()[7].path)
    step = {"model_version": 1, "target": -1, "snr_db": 35.0, "steps": 12, "seed": 11}
    y_adv, result = apply_adversarial(model, y, sr, step)
    print(hashlib.sha256(y_adv.tobytes()).hexdigest(), result.steps_used)
    """
)


def test_replay_is_bit_identical_in_fresh_processes(model, clips) -> None:
    # Side by side: each spends seconds importing TensorFlow, and neither may see the other.
    replays = [
        subprocess.Popen([sys.executable, "-c", REPLAY], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    runs = []
    for replay in replays:
        out, err = replay.communicate(timeout=300)
        assert replay.returncode == 0, err.decode()
        runs.append(out.decode().split())
    assert runs[0] == runs[1]
    _, y, sr = clips[7]
    here, result = apply_adversarial(
        model, y, sr, {"model_version": 1, "target": -1, "snr_db": 35.0, "steps": 12, "seed": 11}
    )
    assert [hashlib.sha256(here.tobytes()).hexdigest(), str(result.steps_used)] == runs[0]


# --------------------------------------------------------------------------- benchmark


def test_attack_benchmark_reports_rates_snr_and_timings(model, clips) -> None:
    labelled = [(y, sr, name[0]) for name, y, sr in clips[:2]]
    done: list[int] = []
    result = attack_benchmark(model, labelled, snr_db=30.0, steps=3, seed=0, progress=lambda d, t: done.append(d))
    assert done == list(range(1, 21))  # per clip: 1 untargeted + 9 targeted
    assert result["untargeted"]["attacks"] == 2 and result["targeted"]["attacks"] == 18
    for key in ("untargeted", "targeted"):
        s = result[key]
        assert 0 <= s["success_rate"] <= 1 and s["mean_snr_db"] >= 30.0
    assert set(result["targeted"]["per_target"]) == set(model.labels)
    assert result["time_ms"]["n"] == 20 and 0 < result["time_ms"]["median"] <= result["time_ms"]["p95"]
    assert len(result["clips"]) == 2 and len(result["clips"][0]["targeted_success"]) == 9
    text = format_benchmark(result)
    assert "untargeted" in text and "time per attack" in text
