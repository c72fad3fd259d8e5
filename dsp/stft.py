"""The short-time Fourier transform the features and the sonification share (pure numpy).

Frames are centred on ``t * hop_length`` and zero-padded at the ends; :func:`istft`
inverts :func:`stft` by weighted overlap-add, so a masked spectrogram turns back into
sound with the input's own phase.  Shapes: waveforms ``(..., n)``, spectrograms
``(..., n_freq, n_frames)`` with the lowest frequency at index 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dsp.params import FeatureParams


def window(params: FeatureParams) -> np.ndarray:
    """Periodic analysis window zero-padded (centred) to ``n_fft``.

    Returns
    -------
    np.ndarray, float64, shape (n_fft,)
    """
    k = np.arange(params.win_length)
    a = 0.5 if params.window == "hann" else 0.54
    w = a - (1.0 - a) * np.cos(2.0 * np.pi * k / params.win_length)
    left = (params.n_fft - params.win_length) // 2
    out = np.zeros(params.n_fft)
    out[left : left + params.win_length] = w
    return out


def stft(y: np.ndarray, params: FeatureParams, *, rfft: Callable[..., np.ndarray] | None = None) -> np.ndarray:
    """Short-time Fourier transform with centred, zero-padded frames.

    Frame ``t`` is centred on sample ``t * hop_length``.  Pure numpy.

    Parameters
    ----------
    y : np.ndarray, shape (..., n)
    params : FeatureParams
    rfft : callable, optional
        Drop-in for ``numpy.fft.rfft`` (e.g. ``scipy.fft.rfft``, ~10x faster
        on large batches; used by training).  Results agree to float32
        rounding.

    Returns
    -------
    np.ndarray, complex64, shape (..., n_freq, 1 + n // hop_length)
    """
    y = np.asarray(y, dtype=np.float32)
    pad = params.n_fft // 2
    widths = [(0, 0)] * (y.ndim - 1) + [(pad, pad)]
    padded = np.pad(y, widths)
    n_frames = 1 + y.shape[-1] // params.hop_length
    frames = np.lib.stride_tricks.sliding_window_view(padded, params.n_fft, axis=-1)
    frames = frames[..., : n_frames * params.hop_length : params.hop_length, :]
    spec = (rfft or np.fft.rfft)(frames * window(params).astype(np.float32), axis=-1)
    return np.swapaxes(spec, -1, -2).astype(np.complex64)


def _overlap_add_by_hops(out: np.ndarray, frames: np.ndarray, parts: int) -> None:
    """Add `frames` (..., n_frames, n_fft) into `out` at one hop apart, n_fft being `parts` hops.

    One array addition per part of a frame instead of one per frame. Each sample still gets its
    frames' values in frame order, so the sums are exactly those of adding frame by frame.
    """
    *lead, n_frames, n_fft = frames.shape
    hop = n_fft // parts
    blocks = out.reshape(*lead, n_frames + parts - 1, hop)
    pieces = frames.reshape(*lead, n_frames, parts, hop)
    # Block b gets part j of frame b - j: the last part first is the earliest frame first.
    for j in reversed(range(parts)):
        blocks[..., j : j + n_frames, :] += pieces[..., :, j, :]


def istft(S: np.ndarray, params: FeatureParams, length: int) -> np.ndarray:
    """Inverse of :func:`stft` by weighted overlap-add.

    Each frame is windowed again and the sum is divided by the summed squared
    window, so ``istft(stft(y))`` reconstructs ``y``; where that sum is tiny
    (never, for the supported windows and hop <= win_length / 2) nothing is
    divided.  Modified spectrograms give the least-squares consistent signal.

    Parameters
    ----------
    S : np.ndarray, complex, shape (..., n_freq, n_frames)
    params : FeatureParams
    length : int
        Samples of the output (zero-padded or cut).

    Returns
    -------
    np.ndarray, float32, shape (..., length)
    """
    S = np.asarray(S)
    if S.shape[-2] != params.n_freq:
        raise ValueError(f"Expected {params.n_freq} frequency bins, got {S.shape[-2]}.")
    n_fft, hop = params.n_fft, params.hop_length
    n_frames = S.shape[-1]
    w = window(params)
    frames = np.fft.irfft(np.swapaxes(S, -1, -2), n=n_fft, axis=-1) * w
    total = n_fft + hop * (n_frames - 1)
    out = np.zeros((*S.shape[:-2], total))
    wss = np.zeros(total)
    if n_fft % hop == 0:
        _overlap_add_by_hops(out, frames, n_fft // hop)
        _overlap_add_by_hops(wss, np.broadcast_to(w * w, (n_frames, n_fft)), n_fft // hop)
    else:
        # overlap-add frame by frame: ~100 frames, and memory stays at one signal copy
        for t in range(n_frames):
            out[..., t * hop : t * hop + n_fft] += frames[..., t, :]
            wss[t * hop : t * hop + n_fft] += w * w
    good = wss > 1e-8
    out[..., good] /= wss[good]
    pad = n_fft // 2
    out = out[..., pad : pad + length]
    if out.shape[-1] < length:
        widths = [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])]
        out = np.pad(out, widths)
    return out.astype(np.float32)
