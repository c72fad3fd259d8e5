"""Tests of modelzoo.features on synthetic signals (no Django, no TensorFlow)."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
import soundfile as sf

from dsp.decode import decode_audio, resample, to_mono
from dsp.errors import AudioError
from dsp.features import fit_to_duration, is_silent, log_spectrogram, normalise, prepare
from dsp.params import FeatureParams
from dsp.stft import istft, stft, window

P = FeatureParams()


def sine(freq: float = 440.0, sr: int = 8000, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def encode(y: np.ndarray, sr: int, fmt: str, subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def burst(sr: int = 8000, total_s: float = 3.0, at_s: float = 2.0, length_s: float = 0.4) -> np.ndarray:
    """Quiet noise floor with a loud 300 Hz tone burst at ``at_s``."""
    y = 1e-3 * np.random.default_rng(0).standard_normal(round(sr * total_s)).astype(np.float32)
    start = round(sr * at_s)
    y[start : start + round(sr * length_s)] += sine(300.0, sr, length_s)
    return y


STEREO_96K = np.stack([sine(440, 96000, 0.5), sine(660, 96000, 0.5, 0.25)], axis=1)

# --------------------------------------------------------------------------- params


def test_params_derived_sizes() -> None:
    assert (P.n_samples, P.n_freq, P.n_frames) == (8000, P.n_fft // 2 + 1, 1 + 8000 // P.hop_length)


def test_params_round_trip_and_unknown_key() -> None:
    assert FeatureParams.from_dict(P.to_dict()) == P
    assert FeatureParams.from_dict({"hop_length": 64}).n_frames == 126
    with pytest.raises(ValueError, match="Unknown feature parameter"):
        FeatureParams.from_dict({**P.to_dict(), "n_mels": 40})


@pytest.mark.parametrize(
    "overrides", [{"window": "kaiser"}, {"win_length": 512}, {"normalisation": "max"}, {"fit_mode": "x"}]
)
def test_params_invalid_values(overrides: dict) -> None:
    with pytest.raises(ValueError, match="Invalid feature parameters"):
        FeatureParams(**overrides)


# --------------------------------------------------------------------------- decoding


def _truncated_wav() -> bytes:
    return encode(sine(), 8000, "WAV", "PCM_16")[:20]


@pytest.mark.parametrize(
    ("make", "kwargs", "expected"),
    [
        (lambda: encode(sine(), 8000, "WAV", "PCM_16"), {}, (8000, (8000,))),
        (lambda: encode(sine(), 16000, "FLAC", "PCM_16"), {}, (16000, (8000,))),
        (lambda: encode(sine(), 44100, "OGG", "VORBIS"), {}, (44100, (8000,))),
        (lambda: encode(STEREO_96K, 96000, "WAV", "PCM_24"), {}, (96000, (48000, 2))),
        (lambda: encode(sine(), 8000, "WAV", "FLOAT"), {"max_duration_s": 1.0}, (8000, (8000,))),
        (lambda: b"not audio", {}, "could not be read as audio"),
        (_truncated_wav, {}, "could not be read as audio"),
        (lambda: b"", {}, "empty"),
        (lambda: encode(np.zeros(0, np.float32), 8000, "WAV", "PCM_16"), {}, "no samples"),
        (lambda: encode(sine(seconds=3.0), 8000, "WAV", "PCM_16"), {"max_duration_s": 2.0}, "too long"),
        (lambda: encode(sine(seconds=3.0), 8000, "FLAC", "PCM_16"), {"max_duration_s": 2.0}, "too long"),
    ],
    ids=[
        "wav",
        "flac",
        "ogg",
        "wav-96k-24bit-stereo",
        "wav-float-at-limit",
        "not-audio",
        "truncated-header",
        "empty-file",
        "zero-length",
        "too-long-wav",
        "too-long-flac",
    ],
)
def test_decode_audio(make: Callable[[], bytes], kwargs: dict, expected: tuple | str) -> None:
    data = make()
    if isinstance(expected, str):
        with pytest.raises(AudioError, match=expected):
            decode_audio(data, **kwargs)
        return
    y, sr = decode_audio(data, **kwargs)
    assert (sr, y.shape, y.dtype) == (*expected, np.float32)
    assert np.abs(y).max() <= 1.0


def test_decode_audio_from_path_matches_bytes(tmp_path) -> None:
    data = encode(sine(), 8000, "WAV", "PCM_16")
    path = tmp_path / "clip.wav"
    path.write_bytes(data)
    y_path, sr_path = decode_audio(path)
    y_str, _ = decode_audio(str(path))
    y_bytes, sr_bytes = decode_audio(data)
    assert sr_path == sr_bytes == 8000
    np.testing.assert_array_equal(y_path, y_bytes)
    np.testing.assert_array_equal(y_str, y_bytes)


def test_decode_audio_missing_file(tmp_path) -> None:
    with pytest.raises(AudioError):
        decode_audio(tmp_path / "nope.wav")


def test_decode_audio_mp3_if_supported() -> None:
    try:
        data = encode(sine(), 8000, "MP3", "MPEG_LAYER_III")
    except (sf.LibsndfileError, ValueError, TypeError):
        pytest.skip("this libsndfile cannot write MP3")
    y, sr = decode_audio(data)
    assert sr == 8000 and y.ndim == 1 and len(y) > 0.9 * 8000


# --------------------------------------------------------------------------- mono / resampling


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.ones(10, np.float32), np.ones(10)),
        (np.stack([np.ones(10), np.zeros(10)], axis=1), np.full(10, 0.5)),
        (np.stack([np.ones(10), -np.ones(10), np.ones(10)], axis=1), np.full(10, 1 / 3)),
        (np.ones((10, 1)), np.ones(10)),
    ],
    ids=["mono", "stereo", "three-channels", "one-column"],
)
def test_to_mono(y: np.ndarray, expected: np.ndarray) -> None:
    out = to_mono(y)
    assert out.shape == (10,) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6)


@pytest.mark.parametrize(("orig_sr", "target_sr"), [(48000, 8000), (44100, 8000), (8000, 16000), (8000, 8000)])
def test_resample_keeps_frequency_and_length(orig_sr: int, target_sr: int) -> None:
    out = resample(sine(440.0, orig_sr), orig_sr, target_sr)
    assert out.dtype == np.float32
    assert abs(len(out) - target_sr) <= 1
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    assert abs(np.argmax(spectrum) * target_sr / len(out) - 440.0) <= 2.0
    np.testing.assert_array_equal(out, resample(sine(440.0, orig_sr), orig_sr, target_sr))


# --------------------------------------------------------------------------- fitting


def test_fit_short_clip_is_centred_between_zeros() -> None:
    clip = sine(300.0, seconds=0.4)
    out = fit_to_duration(clip, 8000, P)
    assert out.shape == (P.n_samples,) and out.dtype == np.float32
    left = (P.n_samples - len(clip)) // 2
    np.testing.assert_array_equal(out[left : left + len(clip)], clip)
    assert not out[:left].any() and not out[left + len(clip) :].any()


def test_fit_long_recording_centres_the_word() -> None:
    out = fit_to_duration(burst(at_s=2.0, length_s=0.4), 8000, P)
    assert out.shape == (P.n_samples,)
    loud = np.flatnonzero(np.abs(out) > 0.1)
    centre = (loud[0] + loud[-1]) / 2
    assert abs(centre - P.n_samples / 2) < P.win_length  # word centred to within a frame
    assert loud[-1] - loud[0] > 0.39 * 8000  # and kept whole


def test_fit_long_active_region_keeps_loudest_second() -> None:
    y = np.concatenate([sine(300.0, seconds=1.5, amp=0.2), sine(300.0, seconds=0.5, amp=0.8)])
    out = fit_to_duration(y, 8000, P)
    assert out.shape == (P.n_samples,)
    np.testing.assert_array_equal(out, y[-P.n_samples :])


def test_fit_start_mode_and_determinism() -> None:
    params = FeatureParams(fit_mode="start")
    y = burst()
    np.testing.assert_array_equal(fit_to_duration(y, 8000, params), y[:8000])
    np.testing.assert_array_equal(fit_to_duration(y, 8000, P), fit_to_duration(y, 8000, P))


def test_fit_rejects_wrong_rate() -> None:
    with pytest.raises(ValueError, match="8000 Hz"):
        fit_to_duration(sine(sr=16000), 16000, P)


# --------------------------------------------------------------------------- STFT


@pytest.mark.parametrize(
    "params",
    [P, FeatureParams(hop_length=64), FeatureParams(win_length=200, hop_length=80), FeatureParams(window="hamming")],
    ids=["default", "hop64", "win200", "hamming"],
)
def test_stft_shape_and_istft_round_trip(params: FeatureParams) -> None:
    y = np.random.default_rng(1).standard_normal(params.n_samples).astype(np.float32) * 0.3
    S = stft(y, params)
    assert S.shape == (params.n_freq, params.n_frames) and S.dtype == np.complex64
    back = istft(S, params, len(y))
    assert back.shape == y.shape and back.dtype == np.float32
    interior = slice(params.n_fft, -params.n_fft)
    np.testing.assert_allclose(back[interior], y[interior], atol=1e-5)


def test_stft_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    y = sine(440.0) + sine(1234.0, amp=0.1)
    ours = stft(y, P)
    ref = librosa.stft(y, n_fft=P.n_fft, hop_length=P.hop_length, window="hann", center=True, pad_mode="constant")
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_stft_batch_and_frequency_axis() -> None:
    batch = np.stack([sine(500.0), sine(2000.0)])
    S = stft(batch, P)
    assert S.shape == (2, P.n_freq, P.n_frames)
    peaks = np.abs(S[:, :, P.n_frames // 2]).argmax(axis=1) * 8000 / P.n_fft
    np.testing.assert_allclose(peaks, [500.0, 2000.0], atol=8000 / P.n_fft)  # low frequencies at index 0
    np.testing.assert_allclose(istft(S, P, 8000), batch, atol=1e-5)


@pytest.mark.parametrize("params", [P, FeatureParams(hop_length=64)], ids=["default", "hop64"])
def test_istft_sums_exactly_as_adding_frame_by_frame(params: FeatureParams) -> None:
    rng = np.random.default_rng(3)
    S = stft(rng.standard_normal((2, params.n_samples)).astype(np.float32), params)
    S = S * rng.random(S.shape[-2:]).astype(np.float32)  # a masked spectrogram: no longer consistent
    w = window(params)
    frames = np.fft.irfft(np.swapaxes(S, -1, -2), n=params.n_fft, axis=-1) * w
    out = np.zeros((2, params.n_fft + params.hop_length * (S.shape[-1] - 1)))
    wss = np.zeros(out.shape[-1])
    for t in range(S.shape[-1]):
        out[:, t * params.hop_length : t * params.hop_length + params.n_fft] += frames[:, t]
        wss[t * params.hop_length : t * params.hop_length + params.n_fft] += w * w
    good = wss > 1e-8
    out[:, good] /= wss[good]
    pad = params.n_fft // 2
    expected = out[:, pad : pad + params.n_samples].astype(np.float32)

    assert np.array_equal(istft(S, params, params.n_samples), expected)


def test_istft_pads_and_cuts_to_length() -> None:
    S = stft(sine(), P)
    assert istft(S, P, 9000).shape == (9000,)
    assert istft(S, P, 4000).shape == (4000,)
    with pytest.raises(ValueError, match="frequency bins"):
        istft(S[:-1], P, 8000)


# --------------------------------------------------------------------------- features


def test_log_spectrogram_floor_and_input_kinds() -> None:
    y = sine(440.0)
    from_wave = log_spectrogram(y, P)
    from_stft = log_spectrogram(stft(y, P), P)
    assert from_wave.shape == (P.n_freq, P.n_frames) and from_wave.dtype == np.float32
    np.testing.assert_array_equal(from_wave, from_stft)
    assert from_wave.min() >= from_wave.max() - P.top_db - 1e-3


@pytest.mark.parametrize("normalisation", ["clip", "frequency", "none"])
def test_normalise(normalisation: str) -> None:
    params = FeatureParams(normalisation=normalisation)
    x = log_spectrogram(sine(440.0) + 0.01 * sine(3000.0), params)
    out = normalise(x, params)
    assert out.shape == x.shape and out.dtype == np.float32 and np.isfinite(out).all()
    if normalisation == "clip":
        assert abs(out.mean()) < 1e-4 and abs(out.std() - 1) < 1e-4
    constant = normalise(np.full((params.n_freq, params.n_frames), -100.0, np.float32), params)
    assert np.isfinite(constant).all()


def test_features_are_gain_invariant() -> None:
    y = sine(300.0, seconds=0.5) * np.hanning(4000).astype(np.float32)
    loud = prepare(y, 8000, P).features
    quiet = prepare(y * 0.05, 8000, P).features
    np.testing.assert_allclose(loud, quiet, atol=1e-3)


@pytest.mark.parametrize(
    ("y", "silent"),
    [
        (np.zeros(8000, np.float32), True),
        (np.zeros(0, np.float32), True),
        (np.full(8000, 1e-4, np.float32), True),  # -80 dBFS
        (sine(amp=1e-2), False),  # -40 dBFS
        (np.stack([np.zeros(100), np.full(100, 0.5)], axis=1), False),
    ],
    ids=["zeros", "empty", "very-quiet", "quiet-tone", "stereo-one-channel"],
)
def test_is_silent(y: np.ndarray, silent: bool) -> None:
    assert is_silent(y, P) is silent


# --------------------------------------------------------------------------- prepare


@pytest.mark.parametrize(
    ("y", "sr", "allow_silent", "expected"),
    [
        (sine(440.0, seconds=0.6), 8000, False, False),
        (STEREO_96K, 96000, False, False),
        (burst(sr=48000), 48000, False, False),
        (np.zeros(8000, np.float32), 8000, True, True),
        (np.full(8000, 0.3, np.float32), 8000, True, True),  # pure DC offset is silence
        (np.zeros(8000, np.float32), 8000, False, "silent"),
        (np.zeros(0, np.float32), 8000, True, "no samples"),
    ],
    ids=["tone", "96k-stereo", "48k-long", "silent-allowed", "dc-allowed", "silent-refused", "empty"],
)
def test_prepare(y: np.ndarray, sr: int, allow_silent: bool, expected: bool | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(AudioError, match=expected):
            prepare(y, sr, P, allow_silent=allow_silent)
        return
    out = prepare(y, sr, P, allow_silent=allow_silent)
    assert out.silent is expected
    assert out.waveform.shape == (P.n_samples,) and out.waveform.dtype == np.float32
    assert out.stft.shape == (P.n_freq, P.n_frames) and out.stft.dtype == np.complex64
    assert out.features.shape == (P.n_freq, P.n_frames) and out.features.dtype == np.float32
    assert np.isfinite(out.features).all()
    again = prepare(y, sr, P, allow_silent=allow_silent)
    np.testing.assert_array_equal(out.features, again.features)


def test_prepare_stft_inverts_to_waveform() -> None:
    out = prepare(burst(), 8000, P)
    back = istft(out.stft, P, P.n_samples)
    np.testing.assert_allclose(back, out.waveform, atol=1e-5)
