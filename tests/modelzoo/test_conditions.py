"""The evaluation conditions: seeded degraded copies of clips, each what its name says."""

import numpy as np
import pytest

from dsp.decode import decode_audio, to_mono
from modelzoo import conditions
from modelzoo.samples import sample_clips

SR = 8000


@pytest.fixture(scope="module")
def clips() -> list[tuple[np.ndarray, int]]:
    """Eight real sample clips (FSDD, 8 kHz)."""
    decoded = [decode_audio(clip.path) for clip in sample_clips()[:8]]
    return [(to_mono(y), sr) for y, sr in decoded]


def tone(freq: float, seconds: float = 0.5) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(round(SR * seconds)) / SR)).astype(np.float32)


@pytest.mark.parametrize("condition", conditions.CONDITION_NAMES)
def test_every_condition_is_seeded_and_gives_finite_audio(clips, condition):
    first = conditions.degrade(clips, condition=condition, seed=0)
    again = conditions.degrade(clips, condition=condition, seed=0)

    assert len(first) == len(clips)
    for (y, sr), (y2, sr2) in zip(first, again, strict=True):
        assert sr == sr2 and y.dtype == np.float32 and np.isfinite(y).all() and len(y) > 0
        np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize("condition", ["take_44k_stereo", "noise_10db", "reverb", "clipped_dc"])
def test_another_seed_gives_other_copies(clips, condition):
    first = conditions.degrade(clips, condition=condition, seed=0)
    other = conditions.degrade(clips, condition=condition, seed=1)

    assert any(not np.array_equal(a, b) for (a, _), (b, _) in zip(first, other, strict=True))


def test_the_take_is_three_seconds_of_stereo_at_44k1_with_the_word_off_centre(clips):
    takes = conditions.degrade(clips, condition="take_44k_stereo")

    centres = []
    for y, sr in takes:
        assert sr == 44100 and y.shape == (3 * 44100, 2)
        energy = np.convolve(y[:, 0] ** 2, np.ones(4410), mode="same")
        centres.append(np.argmax(energy) / sr)
    assert np.std(centres) > 0.3  # the word wanders around the take


def test_room_noise_is_at_the_stated_snr():
    import scipy.signal  # here: the import takes a second, and only this test needs it

    word = tone(300.0)
    [(noisy, _)] = conditions.degrade([(word, SR)], condition="noise_10db")

    # the noise is everything but the word; find where the word went by correlation
    at = int(np.argmax(scipy.signal.correlate(noisy, word, mode="valid")))
    noise = noisy.astype(np.float64).copy()
    noise[at : at + len(word)] -= word
    snr = 10 * np.log10(np.mean(word.astype(np.float64) ** 2) / np.mean(noise**2))
    assert snr == pytest.approx(10.0, abs=0.5)


def test_clipping_hits_the_rails_and_stays_in_range(clips):
    for y, _ in conditions.degrade(clips, condition="clipped_dc"):
        assert np.max(np.abs(y)) <= 1.0 and np.mean(np.abs(y) >= 0.999) > 0.01


def test_the_phone_band_removes_what_a_phone_cannot_carry():
    low, mid, high = tone(100.0), tone(1000.0), tone(3900.0)
    out = [y for y, _ in conditions.degrade([(low, SR), (mid, SR), (high, SR)], condition="phone_band")]

    gain_db = [
        10 * np.log10(np.mean(o[800:] ** 2) / np.mean(i[800:] ** 2)) for o, i in zip(out, (low, mid, high), strict=True)
    ]
    assert gain_db[0] < -20 and abs(gain_db[1]) < 1 and gain_db[2] < -10


def test_quiet_peaks_at_minus_42_dbfs_on_a_16_bit_grid(clips):
    for y, _ in conditions.degrade(clips, condition="quiet"):
        assert 20 * np.log10(np.max(np.abs(y))) == pytest.approx(-42.0, abs=0.1)
        np.testing.assert_allclose(y * 2**15, np.round(y * 2**15), atol=1e-3)


@pytest.mark.parametrize(("condition", "codec_snr_db"), [("mp3", 6.0), ("opus", 3.0)])
def test_codecs_keep_the_clip_in_place_and_change_it(clips, condition, codec_snr_db):
    for (y, _), (coded, sr) in zip(clips, conditions.degrade(clips, condition=condition), strict=True):
        assert sr == SR and len(coded) == len(y)
        error = np.mean((coded - y) ** 2)
        assert error > 0 and 10 * np.log10(np.mean(y**2) / error) > codec_snr_db  # aligned, not shifted


@pytest.mark.parametrize(("condition", "ratio"), [("slow", 1.25), ("fast", 0.8)])
def test_tempo_changes_the_length_and_keeps_the_pitch(condition, ratio):
    [(y, _)] = conditions.degrade([(tone(440.0, 1.0), SR)], condition=condition)

    assert len(y) == pytest.approx(ratio * SR, rel=0.02)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) * SR / len(y) == pytest.approx(440.0, abs=5.0)


def test_a_clip_at_another_rate_is_degraded_at_8k():
    y16 = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)

    [(y, sr)] = conditions.degrade([(y16, 16000)], condition="phone_band")
    [(clean, clean_sr)] = conditions.degrade([(y16, 16000)], condition="clean")

    assert (sr, len(y)) == (SR, 8000) and (clean_sr, len(clean)) == (16000, 16000)


def test_it_refuses_an_unknown_condition(clips):
    with pytest.raises(ValueError, match="Unknown condition 'underwater'"):
        conditions.degrade(clips, condition="underwater")


def test_accuracy_per_condition_is_counted_per_digit(clips):
    labels = [str(d) for d in range(10)]
    true = [str(i % 10) for i in range(len(clips))]
    always_zero = conditions.evaluate_conditions(
        lambda batch: ["0"] * len(batch), clips, labels, true, conditions=["clean", "quiet"]
    )

    assert list(always_zero) == ["clean", "quiet"]
    assert always_zero["clean"]["accuracy"] == pytest.approx(true.count("0") / len(true), abs=1e-4)
    assert always_zero["clean"]["per_label"]["0"] == 1.0 and always_zero["clean"]["per_label"]["1"] == 0.0
    assert always_zero["quiet"]["title"] == conditions.TITLES["quiet"]
