"""What a room, a laptop and a codec do to a clip: noises, reverberation, clipping, tempo, codecs.

Pure numpy and scipy (and ffmpeg from ``imageio-ffmpeg`` for codecs), no TensorFlow; every
generator takes a ``numpy.random.Generator`` so everything is seeded.  Training augmentation
(:mod:`modelzoo.augmentation`) and the evaluation conditions (:mod:`modelzoo.conditions`) both
build on these pieces, with different ranges, mixtures and seeds.

Waveforms are float32 (or float64), shaped ``(n,)``, in [-1, 1] nominally.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.fft
import soundfile as sf

# scipy.signal is imported where a filter is needed, not here: it takes over a second of CPU to import, and
# most processes that import this module (every worker, through the validation) only read degraded copies
# someone else built, or never build one.

NOISE_KINDS = ("coloured", "babble", "hum", "fan")


class CodecError(RuntimeError):
    """ffmpeg could not encode or decode a batch of clips."""


# --------------------------------------------------------------------------- noises


def unit_rms(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to an RMS of 1 (zeros stay zeros).  Same shape, float32."""
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x / rms if rms > 0 else x).astype(np.float32)


def coloured_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Unit-RMS noise whose amplitude spectrum falls as ``f ** -exponent``.

    ``exponent`` 0 is white, 0.5 pink, 1 brown; values between are fine.

    Returns
    -------
    np.ndarray, float32, shape (n,)
    """
    spec = scipy.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.arange(len(spec), dtype=np.float64), 1.0)
    return unit_rms(scipy.fft.irfft(spec * f**-exponent, n=n))


def hum(rng: np.random.Generator, n: int, sr: int, *, mains_hz: float | None = None) -> np.ndarray:
    """Unit-RMS mains hum: 50 or 60 Hz and a random set of harmonics, with a little noise.

    Returns
    -------
    np.ndarray, float32, shape (n,)
    """
    f0 = mains_hz or float(rng.choice([50.0, 60.0])) * rng.uniform(0.995, 1.005)
    k = np.arange(1, min(int((sr / 2 - 1) // f0), 24) + 1)  # the buzz of a ground loop fades by 1.5 kHz
    amplitude = rng.uniform(0.1, 1.0, len(k)) / k ** rng.uniform(0.3, 1.2) * ((k == 1) | (rng.random(len(k)) > 0.4))
    # Built in the frequency domain (one inverse FFT instead of a sine per harmonic): each harmonic
    # falls on the nearest bin, i.e. within sr / (2 n) Hz of k * f0.
    spec = np.zeros(n // 2 + 1, dtype=np.complex128)
    bins = np.minimum(np.round(k * f0 * n / sr).astype(np.int64), n // 2)
    spec[bins] = amplitude * np.exp(1j * rng.uniform(0, 2 * np.pi, len(k))) * n / 2
    y = scipy.fft.irfft(spec, n=n)
    return unit_rms(y + 0.05 * coloured_noise(rng, n, 0.5))


def fan(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Unit-RMS fan or air-conditioning noise: low-passed noise, a blade tone, slow modulation.

    Returns
    -------
    np.ndarray, float32, shape (n,)
    """
    import scipy.signal

    body = coloured_noise(rng, n, rng.uniform(0.5, 1.2))
    cutoff = rng.uniform(300.0, 1500.0)
    sos = scipy.signal.butter(2, min(cutoff, 0.45 * sr), fs=sr, output="sos")
    body = unit_rms(scipy.signal.sosfilt(sos, body) + 0.15 * coloured_noise(rng, n, 0.0))
    t = np.arange(n) / sr
    blade = rng.uniform(80.0, 400.0)
    tone = np.sin(2 * np.pi * blade * t) + 0.4 * np.sin(4 * np.pi * blade * t + rng.uniform(0, 2 * np.pi))
    wobble = 1.0 + rng.uniform(0.05, 0.3) * np.sin(2 * np.pi * rng.uniform(0.5, 4.0) * t + rng.uniform(0, 2 * np.pi))
    return unit_rms((body + rng.uniform(0.0, 0.5) * unit_rms(tone)) * wobble)


def babble(rng: np.random.Generator, n: int, pool: Sequence[np.ndarray], *, talkers: int | None = None) -> np.ndarray:
    """Unit-RMS babble: ``talkers`` (3 to 7) streams of clips from ``pool`` end to end, summed.

    Parameters
    ----------
    pool : sequence of np.ndarray, each shaped (m,)
        Clips at the target sample rate (other speakers' words, so the babble
        is speech-like without being one clear digit).

    Returns
    -------
    np.ndarray, float32, shape (n,)
    """
    if not pool:
        return coloured_noise(rng, n, 0.5)
    out = np.zeros(n)
    for _ in range(talkers or int(rng.integers(3, 8))):
        stream = []
        length = -int(rng.integers(0, max(len(pool[0]), 1)))  # streams start out of step
        while length < n:
            clip = pool[int(rng.integers(len(pool)))]
            stream.append(unit_rms(clip) * rng.uniform(0.5, 1.0))
            length += len(clip)
        joined = np.concatenate(stream)
        out += joined[len(joined) - n :] if len(joined) >= n else np.pad(joined, (0, n - len(joined)))
    return unit_rms(out)


def noise_of_kind(rng: np.random.Generator, kind: str, n: int, sr: int, pool: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-RMS noise of one of :data:`NOISE_KINDS`.  (n,)"""
    if kind == "coloured":
        return coloured_noise(rng, n, rng.uniform(0.0, 1.0))
    if kind == "babble":
        return babble(rng, n, pool)
    if kind == "hum":
        return hum(rng, n, sr)
    if kind == "fan":
        return fan(rng, n, sr)
    raise ValueError(f"Unknown noise kind {kind!r}; use one of {NOISE_KINDS}.")


def add_at_snr(y: np.ndarray, noise: np.ndarray, snr_db: float, signal_power: float) -> np.ndarray:
    """``y + noise`` with the noise scaled so that ``signal_power / noise power`` is ``snr_db``.

    ``signal_power`` is the mean square of the word alone (not of the whole
    take), which is how a speech SNR is quoted.
    """
    noise_power = float(np.mean(np.square(noise, dtype=np.float64)))
    if noise_power <= 0 or signal_power <= 0:
        return y.astype(np.float32)
    scale = np.sqrt(signal_power / 10.0 ** (snr_db / 10.0) / noise_power)
    return (y + scale * noise).astype(np.float32)


# --------------------------------------------------------------------------- rooms


def room_impulse_response(
    rng: np.random.Generator, sr: int, *, rt60_s: float, drr_db: float, reflections: int = 12
) -> np.ndarray:
    """A synthetic room impulse response: direct sound, early reflections, a diffuse tail.

    The tail is noise in three bands (below 500 Hz, 500-2000 Hz, above) each
    decaying by 60 dB in its own reverberation time (the low band a little
    longer, the high band shorter, as air and soft furnishings absorb highs);
    the early reflections are single taps 2-40 ms after the direct sound.
    ``drr_db`` is the direct-to-reverberant energy ratio.

    Parameters
    ----------
    rng : numpy.random.Generator
    sr : int
    rt60_s : float
        Mid-band reverberation time, seconds (> 0).
    drr_db : float
        Direct-to-reverberant ratio, dB (about -5 far away in a live room,
        +10 close to a laptop's microphone).
    reflections : int

    Returns
    -------
    np.ndarray, float32, shape (m,)
        Starts with the direct sound at index 0, peak-normalised to 1 there.
    """
    length = int(min(rt60_s * 1.2, 2.0) * sr) + 1
    t = np.arange(length) / sr
    tail = np.zeros(length)
    edges = [0.0, 500.0, 2000.0, sr / 2]
    for band, stretch in enumerate((1.25, 1.0, 0.7)):
        noise = rng.standard_normal(length)
        spec = scipy.fft.rfft(noise)
        hz = np.fft.rfftfreq(length, 1 / sr)
        spec[(hz < edges[band]) | (hz >= edges[band + 1])] = 0.0
        tail += scipy.fft.irfft(spec, n=length) * np.exp(-6.9 * t / (rt60_s * stretch))
    onset = int(rng.uniform(0.002, 0.006) * sr)  # the tail builds up after the first reflections
    tail[:onset] = 0.0
    tail *= np.minimum(1.0, np.arange(length) / max(onset * 2, 1))
    for _ in range(reflections):
        k = int(rng.uniform(0.002, 0.04) * sr)
        if k < length:
            tail[k] += rng.uniform(-0.8, 0.8) * np.exp(-6.9 * t[k] / rt60_s)
    tail_energy = float(np.sum(tail**2))
    if tail_energy > 0:
        tail *= np.sqrt(10.0 ** (-drr_db / 10.0) / tail_energy)
    tail[0] = 1.0
    return tail.astype(np.float32)


def reverberate(y: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """``y`` heard in the room of ``rir``: the full convolution (the tail rings on).

    Returns
    -------
    np.ndarray, float32, shape (len(y) + len(rir) - 1,)
    """
    import scipy.signal

    return scipy.signal.fftconvolve(y.astype(np.float64), rir.astype(np.float64)).astype(np.float32)


# --------------------------------------------------------------------------- the microphone's end


def clip_with_offset(y: np.ndarray, *, drive_db: float, dc: float) -> np.ndarray:
    """A too-hot input stage: DC added, gain so the peak is ``drive_db`` over full scale, clipped to [-1, 1]."""
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    gain = 10.0 ** (drive_db / 20.0) / peak if peak > 0 else 1.0
    return np.clip(y * gain + dc, -1.0, 1.0).astype(np.float32)


def quantise(y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Round to a ``bits``-bit grid, as a file of that depth stores it."""
    step = 2.0 ** (1 - bits)
    return (np.round(np.clip(y, -1.0, 1.0 - step) / step) * step).astype(np.float32)


def band_limit(y: np.ndarray, sr: int, *, low_hz: float, high_hz: float, order: int = 4) -> np.ndarray:
    """A Butterworth band-pass (telephone: 300-3400 Hz); ``high_hz`` at Nyquist is high-pass only."""
    import scipy.signal

    if high_hz >= sr / 2 * 0.98:
        sos = scipy.signal.butter(order, low_hz, btype="highpass", fs=sr, output="sos")
    else:
        sos = scipy.signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=sr, output="sos")
    return scipy.signal.sosfilt(sos, y.astype(np.float64)).astype(np.float32)


# --------------------------------------------------------------------------- tempo


def wsola_stretch(y: np.ndarray, sr: int, rate: float, *, frame_s: float = 0.03) -> np.ndarray:
    """Change the tempo by ``rate`` (> 1 faster) and keep the pitch: waveform-similarity overlap-add.

    Frames of ``frame_s`` (Hann, 50 % overlap) are taken from the input every
    ``hop * rate`` samples, each shifted by up to a quarter frame to continue
    the previous one's waveform most smoothly, and overlap-added every ``hop``.

    Returns
    -------
    np.ndarray, float32, shape (about len(y) / rate,)
    """
    frame = max(16, int(frame_s * sr)) // 2 * 2
    hop = frame // 2
    tol = frame // 4
    out_len = int(len(y) / rate)
    if rate == 1.0 or len(y) < 2 * frame:
        return y.astype(np.float32).copy()
    x = np.pad(y.astype(np.float64), (frame + tol, frame + tol))
    window = np.hanning(frame + 2)[1:-1]
    out = np.zeros(out_len + frame)
    norm = np.zeros(out_len + frame)
    previous = frame + tol  # where the last copied frame started in x
    for k, out_start in enumerate(range(0, out_len, hop)):
        nominal = frame + tol + round(k * hop * rate)
        if k == 0:
            best = nominal
        else:
            target = x[previous + hop : previous + hop + frame]  # the natural continuation
            lo = max(nominal - tol, 0)
            hi = min(nominal + tol, len(x) - frame)
            if hi <= lo or len(target) < frame:
                break
            candidates = np.lib.stride_tricks.sliding_window_view(x[lo : hi + frame], frame)[: hi - lo + 1]
            best = lo + int(np.argmax(candidates @ target))
        segment = x[best : best + frame]
        if len(segment) < frame:
            break
        out[out_start : out_start + frame] += segment * window
        norm[out_start : out_start + frame] += window
        previous = best
    return (out[:out_len] / np.maximum(norm[:out_len], 1e-3)).astype(np.float32)


# --------------------------------------------------------------------------- codecs

CODECS = {"mp3": ("libmp3lame", "mp3"), "opus": ("libopus", "ogg")}
_GAP_S = 0.25


def ffmpeg_exe() -> str:
    """The ffmpeg that ships inside the ``imageio-ffmpeg`` wheel."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def codec_roundtrip(clips: Sequence[np.ndarray], sr: int, *, codec: str, bitrate_kbps: int) -> list[np.ndarray]:
    """Every clip encoded with ``codec`` at ``bitrate_kbps`` and decoded again, in one ffmpeg run each way.

    The clips are joined with 0.25 s of silence between them, encoded and
    decoded as one stream, realigned (the encoder's delay found by
    cross-correlation) and cut apart again, so a whole training epoch costs
    two processes, not thousands.

    Parameters
    ----------
    clips : sequence of np.ndarray, each (n_i,)
    sr : int
        Their sample rate (8000 works for both codecs).
    codec : str
        ``"mp3"`` or ``"opus"``.
    bitrate_kbps : int

    Returns
    -------
    list of np.ndarray, float32, the same lengths as ``clips``

    Raises
    ------
    CodecError
        If ffmpeg fails.
    """
    if codec not in CODECS:
        raise ValueError(f"Unknown codec {codec!r}; use one of {sorted(CODECS)}.")
    if not clips:
        return []
    gap = np.zeros(int(_GAP_S * sr), dtype=np.float32)
    parts, starts, at = [gap], [], len(gap)
    for clip in clips:
        starts.append(at)
        parts += [np.asarray(clip, dtype=np.float32), gap]
        at += len(clip) + len(gap)
    stream = np.clip(np.concatenate(parts), -1.0, 1.0)
    encoder, container = CODECS[codec]
    wav = io.BytesIO()
    sf.write(wav, stream, sr, format="WAV", subtype="FLOAT")
    with tempfile.TemporaryDirectory() as folder:
        encoded = Path(folder) / f"stream.{container}"
        _ffmpeg(
            ["-f", "wav", "-i", "pipe:0", "-c:a", encoder, "-b:a", f"{bitrate_kbps}k", str(encoded)], wav.getvalue()
        )
        raw = _ffmpeg(["-i", str(encoded), "-f", "f32le", "-ac", "1", "-ar", str(sr), "pipe:1"], b"")
    decoded = np.frombuffer(raw, dtype="<f4")
    delay = _delay(stream, decoded, max_lag=int(0.1 * sr))
    decoded = np.pad(decoded, (0, max(0, len(stream) + delay - len(decoded))))
    return [decoded[s + delay : s + delay + len(c)].astype(np.float32) for s, c in zip(starts, clips, strict=True)]


def _ffmpeg(arguments: list[str], stdin: bytes) -> bytes:
    """Run ffmpeg quietly; its stdout, or CodecError with its last words."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *arguments],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise CodecError(f"ffmpeg failed: {result.stderr.decode(errors='replace').strip()[-300:]}")
    return result.stdout


def _delay(reference: np.ndarray, decoded: np.ndarray, max_lag: int) -> int:
    """Samples by which ``decoded`` lags ``reference`` (0..max_lag), by cross-correlating their starts."""
    import scipy.signal

    n = min(len(reference), len(decoded) - max_lag, 8 * 8000 * 10)
    if n <= 0:
        return 0
    ref = reference[:n].astype(np.float64)
    corr = scipy.signal.correlate(decoded[: n + max_lag].astype(np.float64), ref, mode="valid", method="fft")
    return int(np.argmax(corr[: max_lag + 1]))
