"""The evaluation conditions: seeded degraded copies of held-out clips, as a room and a laptop make them.

Each condition turns a clean clip into what a student's take of it could be (a 3 s stereo take
at 44.1 kHz, room noise, a reverberant room, a clipping input, a phone band, an MP3...).  The
copies are built from the clips being evaluated only (held-out takes or a held-out speaker;
the babble in the room noise is made of the *other* clips of the same held-out set), with a seed
per (condition, clip), so every model is measured on exactly the same audio.

The conditions are fixed: the training recipe (:mod:`modelzoo.augmentation`) draws its own
perturbations from wider ranges, single noise kinds and other seeds, and nothing here was tuned
to make a model look good.  Pure numpy/scipy plus ffmpeg (``imageio-ffmpeg``) for the codecs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import soxr

from dsp.operations import apply_operation
from modelzoo import acoustics

Clip = tuple[np.ndarray, int]  # mono samples and their rate
#: Every degraded copy is made at the dataset's rate (then resampled where a condition says so).
RATE = 8000


@dataclass(frozen=True)
class Condition:
    """One way a take can differ from the clean recording."""

    name: str
    title: str


CONDITIONS: tuple[Condition, ...] = (
    Condition("clean", "as recorded (clean, 8 kHz)"),
    Condition("take_44k_stereo", "a 3 s take at 44.1 kHz stereo, digit not centred"),
    Condition("noise_20db", "room noise at 20 dB SNR"),
    Condition("noise_10db", "room noise at 10 dB SNR"),
    Condition("noise_5db", "room noise at 5 dB SNR"),
    Condition("reverb", "in a reverberant room"),
    Condition("reverb_noise", "reverberant room with noise at 20 dB SNR"),
    Condition("clipped_dc", "clipped, with a DC offset"),
    Condition("phone_band", "phone band (300-3400 Hz)"),
    Condition("quiet", "very quiet (peak at -42 dBFS)"),
    Condition("mp3", "MP3 at 16 kbit/s"),
    Condition("opus", "Opus at 8 kbit/s"),
    Condition("slow", "slower speech (tempo x0.8)"),
    Condition("fast", "faster speech (tempo x1.25)"),
)
CONDITION_NAMES = tuple(c.name for c in CONDITIONS)
TITLES = {c.name: c.title for c in CONDITIONS}
#: The seed of the shipped figures; a development seed (any other) gives other degraded copies.
DEFAULT_SEED = 0


def _word_power(y: np.ndarray) -> float:
    """Mean square of the clip's louder half of frames (the word, not the silence the dataset left)."""
    frames = np.lib.stride_tricks.sliding_window_view(y, 256)[::128] if len(y) >= 256 else y[None, :]
    power = np.mean(np.square(frames, dtype=np.float64), axis=-1)
    loud = power[power >= np.median(power)]
    return float(loud.mean()) if loud.size and loud.mean() > 0 else 1e-12


def _in_take(rng: np.random.Generator, y: np.ndarray, n: int) -> np.ndarray:
    """``y`` at a random place in ``n`` samples of silence (at least 0.1 s of room at either end)."""
    margin = min(int(0.1 * RATE), max((n - len(y)) // 2, 0))
    out = np.zeros(max(n, len(y)), dtype=np.float32)
    start = int(rng.integers(margin, max(len(out) - len(y) - margin, margin) + 1))
    out[start : start + len(y)] = y
    return out


def _room_noise(rng: np.random.Generator, n: int, sr: int, pool: Sequence[np.ndarray]) -> np.ndarray:
    """A classroom: an air conditioner, other people talking, a little mains hum, in random shares."""
    weights = rng.dirichlet([2.0, 2.0, 0.5])
    mix = (
        weights[0] * acoustics.fan(rng, n, sr)
        + weights[1] * acoustics.babble(rng, n, pool, talkers=4)
        + weights[2] * acoustics.hum(rng, n, sr)
    )
    return acoustics.unit_rms(mix)


def _noisy(rng: np.random.Generator, y: np.ndarray, sr: int, snr_db: float, pool: Sequence[np.ndarray]) -> np.ndarray:
    take = _in_take(rng, y, 2 * sr)
    return acoustics.add_at_snr(take, _room_noise(rng, len(take), sr, pool), snr_db, _word_power(y))


def _reverberant(rng: np.random.Generator, y: np.ndarray, sr: int) -> np.ndarray:
    rir = acoustics.room_impulse_response(rng, sr, rt60_s=rng.uniform(0.4, 0.9), drr_db=rng.uniform(-3.0, 6.0))
    wet = acoustics.reverberate(y, rir)
    take = _in_take(rng, wet, 2 * sr)
    return acoustics.add_at_snr(take, acoustics.coloured_noise(rng, len(take), 0.7), 45.0, _word_power(y))


def _one(condition: str, rng: np.random.Generator, y: np.ndarray, sr: int, pool: Sequence[np.ndarray]) -> Clip:
    """The degraded copy of one clip (codecs are done in batches, see :func:`degrade`)."""
    y = np.asarray(y, dtype=np.float32)
    if condition in ("mp3", "opus"):
        return y.copy(), sr
    if condition == "take_44k_stereo":
        take = _in_take(rng, y, 3 * sr)
        take = acoustics.add_at_snr(take, acoustics.coloured_noise(rng, len(take), 0.7), 45.0, _word_power(y))
        left = soxr.resample(take, sr, 44100, quality="HQ")
        right = np.roll(left, int(rng.integers(1, 20))) * rng.uniform(0.7, 1.0)  # the second microphone
        return np.stack([left, right], axis=1).astype(np.float32), 44100
    if condition.startswith("noise_"):
        return _noisy(rng, y, sr, float(condition.split("_")[1].removesuffix("db")), pool), sr
    if condition == "reverb":
        return _reverberant(rng, y, sr), sr
    if condition == "reverb_noise":
        wet = _reverberant(rng, y, sr)
        return acoustics.add_at_snr(wet, _room_noise(rng, len(wet), sr, pool), 20.0, _word_power(y)), sr
    if condition == "clipped_dc":
        return acoustics.clip_with_offset(y, drive_db=rng.uniform(6.0, 12.0), dc=rng.uniform(0.05, 0.15)), sr
    if condition == "phone_band":
        return acoustics.band_limit(y, sr, low_hz=300.0, high_hz=3400.0), sr
    if condition == "quiet":
        peak = float(np.max(np.abs(y))) or 1.0
        return acoustics.quantise(y / peak * 10.0 ** (-42.0 / 20.0)), sr
    if condition in ("slow", "fast"):
        rate = 0.8 if condition == "slow" else 1.25
        return apply_operation(y, sr, {"op": "time_stretch", "params": {"rate": rate}}).astype(np.float32), sr
    raise ValueError(f"Unknown condition {condition!r}; use one of {', '.join(CONDITION_NAMES)}.")


def degrade(clips: Sequence[Clip], *, condition: str, seed: int = DEFAULT_SEED) -> list[Clip]:
    """Seeded degraded copies of ``clips`` under ``condition``.

    Parameters
    ----------
    clips : sequence of (np.ndarray shaped (n,), int)
        Mono clean clips and their sample rates.  They are also the babble
        pool of the room noise (each clip's babble excludes the clip itself).
    condition : str
        One of :data:`CONDITION_NAMES`.
    seed : int
        With the same seed, condition and clips the copies are the same.

    Returns
    -------
    list of (np.ndarray shaped (m,) or (m, 2), int)
    """
    if condition not in CONDITION_NAMES:
        raise ValueError(f"Unknown condition {condition!r}; use one of {', '.join(CONDITION_NAMES)}.")
    if condition == "clean":
        return [(np.asarray(y, dtype=np.float32).copy(), sr) for y, sr in clips]
    index = CONDITION_NAMES.index(condition)
    at_rate = [
        np.asarray(soxr.resample(y, sr, RATE, quality="HQ") if sr != RATE else y, dtype=np.float32) for y, sr in clips
    ]
    out = []
    for i, y in enumerate(at_rate):
        rng = np.random.default_rng([seed, index, i])
        out.append(_one(condition, rng, y, RATE, at_rate[:i] + at_rate[i + 1 :]))
    if condition in ("mp3", "opus"):
        coded = acoustics.codec_roundtrip(
            [y for y, _ in out], RATE, codec=condition, bitrate_kbps=16 if condition == "mp3" else 8
        )
        out = [(y, RATE) for y in coded]
    return out


def evaluate_conditions(
    predict: Callable[[Sequence[Clip]], list[str]],
    clips: Sequence[Clip],
    labels: Sequence[str],
    true: Sequence[str],
    *,
    conditions: Sequence[str] = CONDITION_NAMES,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, dict]:
    """Accuracy, per-label accuracy and confusion matrix of ``predict`` under each condition.

    Parameters
    ----------
    predict : callable
        ``predict(clips) -> predicted labels``, one per clip (batch it).
    clips : sequence of (np.ndarray, int)
    labels : sequence of str
        The model's labels (the confusion matrix's order).
    true : sequence of str
        Each clip's true label.
    conditions : sequence of str
    seed : int
    progress : callable, optional
        ``progress(done, total, condition)`` after each condition.

    Returns
    -------
    dict
        Condition name to :func:`modelzoo.evaluation.confusion_summary` plus
        ``title``, in the order given.
    """
    from modelzoo.evaluation import confusion_summary

    results = {}
    for done, condition in enumerate(conditions, start=1):
        degraded = degrade(clips, condition=condition, seed=seed)
        predicted = predict(degraded)
        results[condition] = {"title": TITLES[condition], **confusion_summary(true, predicted, list(labels))}
        if progress:
            progress(done, len(conditions), condition)
    return results
