"""Finding the spoken part of a take: the noise-floor front end, on synthetic words with known onsets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.features import _frame_energy_db, active_region, fit_to_duration, prepare
from dsp.params import FeatureParams

SR = 8000
PEAK = FeatureParams()
FLOOR = FeatureParams(active_method="noise_floor")


def word(seconds: float = 0.4, f0: float = 140.0) -> np.ndarray:
    """A vowel-like harmonic complex with a speech-like rise and fall, peak 0.5."""
    t = np.arange(round(SR * seconds)) / SR
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 12))
    envelope = np.sin(np.pi * t / seconds) ** 0.5
    return (0.5 * y * envelope / np.max(np.abs(y * envelope))).astype(np.float32)


def noise(n: int, colour: str, seed: int = 0) -> np.ndarray:
    """Unit-RMS white, pink or brown noise."""
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.maximum(np.arange(len(spec)), 1.0)
    y = np.fft.irfft(spec * f ** -{"white": 0.0, "pink": 0.5, "brown": 1.0}[colour], n=n)
    return (y / y.std()).astype(np.float32)


def take(*, onset_s: float, total_s: float = 3.0, snr_db: float | None = None, colour: str = "white") -> np.ndarray:
    """The word at ``onset_s`` in a take of ``total_s``, with noise at ``snr_db`` against the word's power."""
    w = word()
    y = np.zeros(round(SR * total_s), dtype=np.float32)
    start = round(SR * onset_s)
    y[start : start + len(w)] = w
    if snr_db is not None:
        y += noise(len(y), colour) * np.sqrt(np.mean(w**2) / 10 ** (snr_db / 10))
    return y


def old_active_region(y: np.ndarray, params: FeatureParams) -> tuple[int, int]:
    """The front end before the noise-floor method existed, kept verbatim as the reference."""
    if len(y) == 0 or not np.any(y):
        return 0, len(y)
    frame, hop = params.win_length, params.hop_length
    db = _frame_energy_db(y, frame, hop)
    active = np.flatnonzero(db >= db.max() - params.trim_db)
    return int(active[0] * hop), int(min(active[-1] * hop + frame, len(y)))


def test_old_model_versions_keep_the_peak_method():
    stored = {key: value for key, value in PEAK.to_dict().items() if key not in ("active_method", "floor_margin_db")}

    assert FeatureParams.from_dict(stored).active_method == "peak"
    assert FeatureParams.from_dict(stored) == PEAK


@settings(max_examples=60, deadline=None)
@given(
    total_s=st.floats(0.01, 4.0),
    onset=st.floats(0.0, 1.0),
    snr_db=st.one_of(st.none(), st.floats(-5.0, 60.0)),
    trim_db=st.floats(5.0, 80.0),
)
def test_the_default_finds_exactly_what_it_found_before(total_s, onset, snr_db, trim_db):
    y = take(onset_s=0.0, total_s=max(total_s, 0.4), snr_db=snr_db)
    y = np.roll(y, round(onset * len(y)))[: round(SR * total_s)]
    params = FeatureParams(trim_db=trim_db)

    assert active_region(y, params) == old_active_region(y, params)
    np.testing.assert_array_equal(fit_to_duration(y, SR, params), _old_fit(y, params))


def _old_fit(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    from dsp.features import place

    n = params.n_samples
    start, end = old_active_region(y, params)
    if end - start <= n:
        return place(y, (start + end) // 2 - n // 2, n)
    c = np.concatenate([[0.0], np.cumsum(np.square(y[start:end], dtype=np.float64))])
    return place(y, start + int(np.argmax(c[n:] - c[:-n])), n)


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
@pytest.mark.parametrize("snr_db", [30, 20, 10, 5, 0])
def test_it_finds_the_word_in_steady_noise(snr_db, colour):
    onset = 1.7
    y = take(onset_s=onset, snr_db=snr_db, colour=colour)

    start, end = active_region(y, FLOOR)

    assert onset - 0.1 <= start / SR and end / SR <= onset + 0.4 + 0.1
    assert abs((start + end) / 2 / SR - (onset + 0.2)) < 0.1  # centred on the word


def test_the_peak_method_takes_the_whole_noisy_take():
    y = take(onset_s=1.7, snr_db=10)

    start, end = active_region(y, PEAK)

    assert start == 0 and end >= len(y) - PEAK.hop_length  # every frame, to the last one that fits


@pytest.mark.parametrize("onset", [0.0, 0.05, 1.0, 2.55])
def test_a_word_at_the_very_edge_of_the_take_is_found(onset):
    y = take(onset_s=onset, snr_db=15)

    start, end = active_region(y, FLOOR)

    assert abs((start + end) / 2 / SR - (onset + 0.2)) < 0.1


def test_a_click_elsewhere_in_the_take_does_not_move_the_word():
    y = take(onset_s=0.5, snr_db=20)
    y[round(2.5 * SR) : round(2.51 * SR)] += 1.0  # a loud 10 ms knock on the desk, twice the word's peak

    start, end = active_region(y, FLOOR)

    assert start / SR >= 0.4 and end / SR <= 1.0


def test_in_a_reverberant_room_the_word_starts_at_its_onset():
    import scipy.signal  # here: the import takes a second, and only this test needs it

    rng = np.random.default_rng(1)
    t = np.arange(round(0.6 * SR)) / SR
    rir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / 0.6) * 0.05
    rir[0] = 1.0
    y = scipy.signal.fftconvolve(take(onset_s=1.0), rir)[: 3 * SR].astype(np.float32)
    y += 1e-4 * noise(len(y), "pink")

    start, end = active_region(y, FLOOR)

    assert abs(start / SR - 1.0) < 0.06
    assert end / SR < 1.0 + 0.4 + 0.6


def test_a_clip_trimmed_to_the_word_stays_centred():
    y = word()

    start, end = active_region(y, FLOOR)
    fitted = fit_to_duration(y, SR, FLOOR)

    assert 0 <= start < end <= len(y)
    loud = np.flatnonzero(np.abs(fitted) > 0.01)
    assert abs((loud[0] + loud[-1]) / 2 - SR / 2) < 0.05 * SR


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 5 * SR),
    snr_db=st.one_of(st.none(), st.floats(-20.0, 80.0)),
    onset=st.floats(0.0, 1.0),
    margin=st.floats(0.0, 60.0),
    seed=st.integers(0, 2**16),
)
def test_any_take_gives_a_valid_region_and_window(n, snr_db, onset, margin, seed):
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.float32)
    w = word()[: max(n, 0)]
    at = round(onset * max(n - len(w), 0))
    y[at : at + len(w)] = w
    if snr_db is not None and n:
        y += (rng.standard_normal(n) * np.sqrt(np.mean(w**2) / 10 ** (snr_db / 10))).astype(np.float32)
    params = FeatureParams(active_method="noise_floor", floor_margin_db=margin)

    start, end = active_region(y, params)

    assert 0 <= start <= end <= n
    assert (start < end) or n == 0
    fitted = fit_to_duration(y, SR, params)
    assert fitted.shape == (params.n_samples,) and np.isfinite(fitted).all()
    if n:
        assert np.isfinite(prepare(y, SR, params, allow_silent=True).features).all()


@pytest.mark.parametrize("overrides", [{"active_method": "energy"}, {"floor_margin_db": -1.0}])
def test_it_refuses_unknown_methods_and_margins(overrides):
    with pytest.raises(ValueError, match="Invalid feature parameters"):
        FeatureParams(**overrides)
