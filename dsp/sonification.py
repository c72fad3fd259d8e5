"""Web side: turn a filter's output back into sound, with numpy only.

A filter's map lives on a coarser grid than the input spectrogram (pooling halves
it after each layer). We stretch it back onto the input's STFT grid, use it as a
soft mask on the input's magnitude, and invert with the input's own phase: what
remains is the part of the clip the filter responds to, and it stays intelligible.
Griffin-Lim (phase rebuilt from the masked magnitude alone) is the alternative the
paper used; it sounds rougher.
"""

import io

import numpy as np
import soundfile as sf

from dsp.params import FeatureParams
from dsp.stft import istft, stft

METHODS = ("mask", "griffinlim")


def upsample_map(activation: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinearly stretch a (rows, cols) map onto `shape`, aligning cell centres.

    Parameters
    ----------
    activation : np.ndarray, shape (rows, cols)
    shape : (n_freq, n_frames)

    Returns
    -------
    np.ndarray, float32, shape `shape`
    """
    values = activation.astype(np.float32)
    rows, cols = values.shape

    def positions(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        centres = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        centres = np.clip(centres, 0, n_in - 1)
        low = np.floor(centres).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, (centres - low).astype(np.float32)

    r0, r1, rw = positions(shape[0], rows)
    c0, c1, cw = positions(shape[1], cols)
    top = values[r0][:, c0] * (1 - cw) + values[r0][:, c1] * cw
    bottom = values[r1][:, c0] * (1 - cw) + values[r1][:, c1] * cw
    return top * (1 - rw[:, None]) + bottom * rw[:, None]


def activation_mask(activation: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A soft mask in [0, 1] on the STFT grid from a filter's map (scaled by its own max).

    Parameters
    ----------
    activation : np.ndarray, shape (rows, cols)
    shape : (n_freq, n_frames)
    """
    mask = np.maximum(upsample_map(activation, shape), 0.0)
    peak = float(mask.max())
    return mask / peak if peak > 0 else mask


def sonify(
    activation: np.ndarray,
    spectrum: np.ndarray,
    params: FeatureParams,
    *,
    method: str = "mask",
    n_iter: int = 32,
    seed: int = 0,
) -> np.ndarray:
    """The sound of one filter.

    Parameters
    ----------
    activation : np.ndarray, shape (rows, cols)
        The filter's output map.
    spectrum : np.ndarray, complex64, shape (n_freq, n_frames)
        The STFT of the clip the model heard.
    method : "mask" (input phase) or "griffinlim" (phase rebuilt from the magnitude)

    Returns
    -------
    np.ndarray, float32, shape (params.n_samples,)
    """
    if method not in METHODS:
        raise ValueError(f"Unknown sonification method {method!r}; use one of {', '.join(METHODS)}.")
    mask = activation_mask(activation, spectrum.shape)
    if method == "mask":
        return istft(spectrum * mask, params, params.n_samples)
    return griffin_lim(np.abs(spectrum) * mask, params, n_iter=n_iter, seed=seed)


def griffin_lim(magnitude: np.ndarray, params: FeatureParams, *, n_iter: int = 32, seed: int = 0) -> np.ndarray:
    """Rebuild a waveform whose STFT magnitude approximates `magnitude` (fast Griffin-Lim, momentum 0.99).

    Parameters
    ----------
    magnitude : np.ndarray, shape (n_freq, n_frames)

    Returns
    -------
    np.ndarray, float32, shape (params.n_samples,)
    """
    rng = np.random.default_rng(seed)
    angles = np.exp(2j * np.pi * rng.random(magnitude.shape)).astype(np.complex64)
    previous = np.zeros_like(angles)
    y = istft(magnitude * angles, params, params.n_samples)
    for _ in range(n_iter):
        rebuilt = stft(y, params)[:, : magnitude.shape[1]]
        accelerated = rebuilt - 0.99 / 1.99 * previous
        previous = rebuilt
        angles = accelerated / np.maximum(np.abs(accelerated), 1e-8)
        y = istft(magnitude * angles, params, params.n_samples)
    return y


def wav_bytes(y: np.ndarray, sr: int, *, peak: float = 0.9, gain: float | None = None) -> bytes:
    """16-bit PCM WAV of `y`, scaled so its peak is `peak` (quiet filters stay audible).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    gain : float, optional
        Multiply by this instead: sounds meant to be heard side by side (the evidence and
        the rest of one map) share one gain so their relative loudness survives.
    """
    if gain is not None:
        scaled = np.clip(y * gain, -1.0, 1.0)
    else:
        top = float(np.max(np.abs(y))) if y.size else 0.0
        scaled = y * (peak / top) if top > 1e-9 else np.zeros_like(y)
    buffer = io.BytesIO()
    sf.write(buffer, scaled.astype(np.float32), sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
