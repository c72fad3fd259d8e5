"""The analysis cache format: what one forward pass leaves for the web tier.

Pure numpy. The worker packs it once; pages unpack it to draw filter maps and to
sonify filters without TensorFlow. Activations are float16 (plenty for images and
masks) and the whole file is deflate-compressed at level 1, which is fast to write
and still shrinks post-ReLU maps (many zeros) to about half.
"""

import io
import zipfile
from dataclasses import dataclass, field

import numpy as np


@dataclass
class AnalysisCache:
    """Arrays one analysis keeps.

    Attributes
    ----------
    waveform : np.ndarray, float32, shape (n_samples,)
        The fitted one-second window the model heard, at the model's rate.
    stft : np.ndarray, complex64, shape (n_freq, n_frames)
        Its STFT: the magnitude and phase sonification masks are applied to.
    features : np.ndarray, float32, shape (n_freq, n_frames)
        The normalised log spectrogram fed to the network.
    activations : dict of str to np.ndarray, float16, shape (filters, height, width)
        Every convolution layer's output, filter-major so one filter is contiguous.
    """

    waveform: np.ndarray
    stft: np.ndarray
    features: np.ndarray
    activations: dict[str, np.ndarray] = field(default_factory=dict)


def pack(cache: AnalysisCache) -> bytes:
    """Serialise a cache to compressed bytes (a zip of .npy members)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        members = {
            "waveform": cache.waveform.astype(np.float32),
            "stft": cache.stft.astype(np.complex64),
            "features": cache.features.astype(np.float16),
        }
        members |= {f"act/{name}": values.astype(np.float16) for name, values in cache.activations.items()}
        for name, array in members.items():
            member = io.BytesIO()
            np.save(member, np.ascontiguousarray(array), allow_pickle=False)
            # A fixed time stamp: the same cache packs to the same bytes whenever it is packed (writestr with
            # a name stamps the clock's, two seconds apart at a tick).
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16  # what writestr gives a member it names
            archive.writestr(info, member.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return buffer.getvalue()


def unpack(data: bytes) -> AnalysisCache:
    """Inverse of :func:`pack`; `features` comes back as float32."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            arrays[name.removesuffix(".npy")] = np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
    return AnalysisCache(
        waveform=arrays.pop("waveform"),
        stft=arrays.pop("stft"),
        features=arrays.pop("features").astype(np.float32),
        activations={name.removeprefix("act/"): values for name, values in arrays.items()},
    )


def layer_statistics(activations: np.ndarray) -> dict[str, list[float] | float]:
    """Per-filter mean and max of one layer, and the layer's max, for ranking and shared scaling.

    Parameters
    ----------
    activations : np.ndarray, shape (filters, height, width)

    Returns
    -------
    dict with ``mean`` and ``max`` (lists of length filters) and ``layer_max`` (float).
    """
    values = activations.astype(np.float32)
    means = values.mean(axis=(1, 2))
    maxima = values.max(axis=(1, 2))
    return {
        "mean": [round(float(v), 5) for v in means],
        "max": [round(float(v), 5) for v in maxima],
        "layer_max": round(float(maxima.max(initial=0.0)), 5),
    }
