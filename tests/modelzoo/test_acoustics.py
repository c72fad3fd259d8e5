"""Rooms, noises, tempo and codecs of the training recipe, on synthetic signals with tolerances."""

import numpy as np
import pytest

from modelzoo import acoustics

SR = 8000


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def tone(freq: float, seconds: float = 1.0) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(round(SR * seconds)) / SR)).astype(np.float32)


@pytest.mark.parametrize("kind", acoustics.NOISE_KINDS)
def test_every_noise_kind_is_unit_rms_and_seeded(kind):
    pool = [tone(200.0, 0.4), tone(330.0, 0.3)]

    a = acoustics.noise_of_kind(rng(1), kind, 2 * SR, SR, pool)
    b = acoustics.noise_of_kind(rng(1), kind, 2 * SR, SR, pool)

    assert a.shape == (2 * SR,) and np.sqrt(np.mean(a.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("exponent", "slope_db_per_octave"), [(0.0, 0.0), (0.5, -3.0), (1.0, -6.0)])
def test_coloured_noise_falls_as_asked(exponent, slope_db_per_octave):
    y = acoustics.coloured_noise(rng(), 2**16, exponent)
    power = np.abs(np.fft.rfft(y)) ** 2
    f = np.arange(len(power))

    low, high = power[(f >= 1000) & (f < 2000)].mean(), power[(f >= 4000) & (f < 8000)].mean()
    assert 10 * np.log10(high / low) / 2 == pytest.approx(slope_db_per_octave, abs=0.7)  # two octaves apart


def test_hum_sits_on_the_mains_frequency():
    y = acoustics.hum(rng(), 2 * SR, SR, mains_hz=60.0)
    spectrum = np.abs(np.fft.rfft(y))

    assert np.argmax(spectrum) * SR / len(y) == pytest.approx(60.0, abs=0.5)


@pytest.mark.parametrize(("rt60", "drr"), [(0.3, 6.0), (0.8, 0.0)])
def test_the_room_has_the_asked_reverberation_time_and_direct_ratio(rt60, drr):
    rir = acoustics.room_impulse_response(rng(2), SR, rt60_s=rt60, drr_db=drr).astype(np.float64)

    assert rir[0] == 1.0
    assert 10 * np.log10(1.0 / np.sum(rir[1:] ** 2)) == pytest.approx(drr, abs=0.01)
    # Schroeder backward integration of the tail: the time from -5 dB to -25 dB, times 3
    decay = np.cumsum(rir[1:][::-1] ** 2)[::-1]
    db = 10 * np.log10(decay / decay[0])
    t5, t25 = np.argmax(db <= -5) / SR, np.argmax(db <= -25) / SR
    assert 3 * (t25 - t5) == pytest.approx(rt60, rel=0.25)


def test_reverberation_rings_on_after_the_clip():
    y = tone(300.0, 0.3)
    wet = acoustics.reverberate(y, acoustics.room_impulse_response(rng(), SR, rt60_s=0.5, drr_db=0.0))

    assert len(wet) > len(y) + 0.4 * SR and np.abs(wet[len(y) + 400 :]).max() > 1e-3


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_wsola_changes_the_tempo_and_keeps_the_pitch(rate):
    y = acoustics.wsola_stretch(tone(440.0), SR, rate)

    assert len(y) == int(SR / rate)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) * SR / len(y) == pytest.approx(440.0, abs=4.0)


@pytest.mark.parametrize("n", [0, 1, 100, 479, 480, 4000])
def test_wsola_takes_any_length(n):
    y = acoustics.wsola_stretch(rng().standard_normal(n).astype(np.float32), SR, 1.2)

    assert np.isfinite(y).all() and len(y) <= max(n, int(n / 1.2) + 1)


def test_clipping_drives_the_peak_over_full_scale():
    driven = acoustics.clip_with_offset(tone(200.0), drive_db=6.0, dc=0.1)
    at_full_scale = acoustics.clip_with_offset(tone(200.0), drive_db=0.0, dc=0.1)

    assert driven.max() == 1.0 and driven.min() == -1.0 and np.mean(np.abs(driven) >= 1.0) > 0.3
    assert at_full_scale.max() == 1.0 and at_full_scale.min() == pytest.approx(-0.9, abs=1e-3)  # lifted by the DC


@pytest.mark.parametrize(("codec", "bitrate"), [("mp3", 16), ("opus", 8)])
def test_a_codec_round_trip_keeps_every_clip_aligned(codec, bitrate):
    clips = [tone(300.0 + 100 * k, 0.2 + 0.1 * k) for k in range(5)]

    coded = acoustics.codec_roundtrip(clips, SR, codec=codec, bitrate_kbps=bitrate)

    for y, c in zip(clips, coded, strict=True):
        assert len(c) == len(y)
        assert np.corrcoef(y[400:-400], c[400:-400])[0, 1] > 0.9


def test_an_unknown_codec_is_refused():
    with pytest.raises(ValueError, match="Unknown codec"):
        acoustics.codec_roundtrip([tone(300.0)], SR, codec="flac", bitrate_kbps=8)
