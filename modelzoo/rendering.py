"""Web side: images of spectrograms, filter maps and kernels with numpy and Pillow only.

Maps are shaped (n_rows, n_cols) = (frequency, time) with the lowest frequency in
row 0; images put it at the bottom, as on every spectrogram.
"""

import io
import struct
import zlib
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dsp.params import FeatureParams
from dsp.stft import stft

COLORMAP_FILE = Path(__file__).with_name("data") / "colormaps.npz"
COLORMAPS = ("magma", "viridis", "cividis", "RdBu_r")


@cache
def colormap(name: str) -> np.ndarray:
    """A perceptual colour lookup table, uint8 shaped (256, 3) (generated once from matplotlib)."""
    if name not in COLORMAPS:
        raise ValueError(f"Unknown colour map {name!r}; use one of {', '.join(COLORMAPS)}.")
    with np.load(COLORMAP_FILE) as maps:
        return maps[name]


def _index_scale(vmin: float, vmax: float) -> np.float32:
    """The factor that maps ``vmin..vmax`` onto the colour map's 0..255 (an empty range counts as one unit)."""
    span = vmax - vmin if vmax > vmin else 1.0
    return np.float32(255.0 / span)


def _color_indices(values: np.ndarray, *, vmin: float, vmax: float) -> np.ndarray:
    """Each cell's place on a 256-entry colour map (uint8), lowest row at the bottom; outside values clipped."""
    return np.clip((values.astype(np.float32) - vmin) * _index_scale(vmin, vmax), 0, 255).astype(np.uint8)[::-1]


def colorize(values: np.ndarray, *, vmin: float, vmax: float, cmap: str = "magma") -> np.ndarray:
    """Map a 2-D array onto a colour map, lowest row at the bottom.

    Parameters
    ----------
    values : np.ndarray, shape (rows, cols)
    vmin, vmax : float
        The range mapped onto the colour map; values outside are clipped.

    Returns
    -------
    np.ndarray, uint8, shape (rows, cols, 3)
    """
    return colormap(cmap)[_color_indices(values, vmin=vmin, vmax=vmax)]


def png_bytes(rgb: np.ndarray, *, scale: int = 1) -> bytes:
    """Encode an RGB array as PNG, optionally enlarged `scale` times with sharp pixels."""
    image = Image.fromarray(rgb, "RGB")
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _indexed_png(indices: np.ndarray, cmap: str) -> bytes:
    """A colour-mapped image as a palette PNG: one byte per pixel, so a third of the work and size of RGB.

    It decodes to exactly the pixels of :func:`colorize` (the palette is the colour map). Written
    directly (zlib, no Pillow image): for maps this small Pillow's per-image set-up was most of the time.
    """
    if indices.ndim != 2 or indices.dtype != np.uint8:
        raise ValueError("Expected a 2-D uint8 array of colour-map indices.")
    height, width = indices.shape
    # Each row starts with its filter type byte (0: none), then one palette index per pixel.
    rows = np.zeros((height, width + 1), dtype=np.uint8)
    rows[:, 1:] = indices
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)  # 8-bit palette, no interlace
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"PLTE", _palette(cmap)),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _png_chunk(b"IEND", b""),
        )
    )


@cache
def _palette(cmap: str) -> bytes:
    """A colour map as a PNG palette (256 RGB triples)."""
    return colormap(cmap).astype(np.uint8).tobytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def filter_png(activation: np.ndarray, *, vmax: float, cmap: str = "magma") -> bytes:
    """A filter's output map as a small PNG (ReLU outputs: the scale starts at 0).

    Parameters
    ----------
    activation : np.ndarray, shape (height, width)
    vmax : float
        Top of the scale: the filter's own max, or the layer's for a shared scale.
    """
    return _indexed_png(_color_indices(activation, vmin=0.0, vmax=float(vmax) or 1.0), cmap)


def layer_maps_png(activations: np.ndarray, *, vmax: np.ndarray, cmap: str = "magma") -> bytes:
    """Every filter's map of a layer side by side, in index order, each drawn as :func:`filter_png` draws it.

    One image instead of one per filter: a page showing a layer's grid makes one request.

    Parameters
    ----------
    activations : np.ndarray, shape (filters, height, width)
    vmax : np.ndarray, shape (filters,)
        Top of each map's scale (its own max, or the layer's for a shared scale).

    Returns
    -------
    bytes
        A PNG of width ``filters * width``: filter k occupies columns ``k * width`` to ``(k + 1) * width``.
    """
    if activations.ndim != 3 or len(vmax) != len(activations):
        raise ValueError("Expected maps shaped (filters, height, width) and one vmax per filter.")
    # All maps at once, each with filter_png's own factor: the same indices as _color_indices map by map.
    factors = np.array([_index_scale(0.0, float(v) or 1.0) for v in vmax], dtype=np.float32)
    scaled = activations.astype(np.float32) * factors[:, None, None]
    indices = np.clip(scaled, 0, 255).astype(np.uint8)[:, ::-1]
    filters, height, width = indices.shape
    return _indexed_png(indices.transpose(1, 0, 2).reshape(height, filters * width), cmap)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _nice_ticks(low: float, high: float, target: int = 6) -> list[float]:
    """Round tick positions covering [low, high]."""
    span = high - low
    if span <= 0:
        return [low]
    raw = span / target
    magnitude = 10 ** np.floor(np.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = np.ceil(low / step) * step
    return [float(t) for t in np.arange(first, high + step * 1e-6, step)]


def figure_png(
    values: np.ndarray,
    *,
    duration_s: float,
    max_freq_hz: float,
    vmin: float,
    vmax: float,
    cmap: str = "magma",
    title: str = "",
    colorbar_label: str = "",
    width: int = 720,
    height: int = 320,
    rgb: np.ndarray | None = None,
) -> bytes:
    """A map with time (s) and frequency (kHz) axes, a title and a colour bar.

    Parameters
    ----------
    values : np.ndarray, shape (rows, cols)
        Frequency on axis 0 (lowest first), time on axis 1.
    rgb : np.ndarray, uint8, shape (rows, cols, 3), optional
        Already coloured pixels (an overlay), drawn instead of `values` through `cmap`;
        the colour bar still shows `cmap` from `vmin` to `vmax`.
    """
    left, right, top, bottom = 58, 96, 30 if title else 12, 44
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    plot_w, plot_h = width - left - right, height - top - bottom
    pixels = rgb if rgb is not None else colorize(values, vmin=vmin, vmax=vmax, cmap=cmap)
    plot = Image.fromarray(pixels, "RGB")
    resample = Image.Resampling.NEAREST if values.shape[1] < plot_w / 2 else Image.Resampling.BILINEAR
    canvas.paste(plot.resize((plot_w, plot_h), resample), (left, top))
    ink, grey, font = (28, 34, 51), (122, 130, 153), _font(11)
    draw.rectangle([left - 1, top - 1, left + plot_w, top + plot_h], outline=grey)
    if title:
        draw.text((left, 8), title, fill=ink, font=_font(13))
    for t in _nice_ticks(0.0, duration_s):
        x = left + t / duration_s * plot_w
        draw.line([x, top + plot_h, x, top + plot_h + 4], fill=grey)
        draw.text((x, top + plot_h + 6), f"{t:g}", fill=ink, font=font, anchor="ma")
    draw.text((left + plot_w / 2, height - 14), "time (s)", fill=grey, font=font, anchor="ma")
    for f in _nice_ticks(0.0, max_freq_hz / 1000):
        y = top + plot_h - f * 1000 / max_freq_hz * plot_h
        draw.line([left - 4, y, left, y], fill=grey)
        draw.text((left - 6, y), f"{f:g}", fill=ink, font=font, anchor="rm")
    draw.text((12, top + plot_h / 2), "kHz", fill=grey, font=font, anchor="lm")
    bar_x = left + plot_w + 14
    gradient = colormap(cmap)[::-1][:, np.newaxis, :].repeat(12, axis=1)
    canvas.paste(Image.fromarray(gradient, "RGB").resize((12, plot_h)), (bar_x, top))
    draw.rectangle([bar_x - 1, top - 1, bar_x + 12, top + plot_h], outline=grey)
    for value, y in ((vmax, top), (vmin, top + plot_h)):
        draw.text((bar_x + 16, y), f"{value:.3g}", fill=ink, font=font, anchor="lm")
    if colorbar_label:
        draw.text((bar_x + 16, top + plot_h / 2), colorbar_label, fill=grey, font=font, anchor="lm")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def log_spectrogram_db(y: np.ndarray, sr: int) -> tuple[np.ndarray, FeatureParams]:
    """A display spectrogram in dB (top 80 dB) of a whole clip at its own rate.

    Parameters
    ----------
    y : np.ndarray, float32, shape (n,)

    Returns
    -------
    db : np.ndarray, shape (n_freq, n_frames)
    params : the analysis parameters used (32 ms windows, 8 ms hop at `sr`).
    """
    n_fft = int(2 ** np.ceil(np.log2(0.032 * sr)))
    params = FeatureParams(sample_rate=sr, n_fft=n_fft, win_length=n_fft, hop_length=max(1, n_fft // 4))
    power = np.abs(stft(y.astype(np.float32), params)) ** 2
    db = 10 * np.log10(np.maximum(power, 1e-12))
    return np.maximum(db, db.max() - 80.0), params


def spectrogram_png(y: np.ndarray, sr: int, *, title: str = "", width: int = 720, height: int = 260) -> bytes:
    """The log spectrogram of a clip with time and frequency axes.

    Parameters
    ----------
    y : np.ndarray, float32, shape (n,)
    """
    db, _ = log_spectrogram_db(y, sr)
    return figure_png(
        db,
        duration_s=len(y) / sr,
        max_freq_hz=sr / 2,
        vmin=float(db.min()),
        vmax=float(db.max()),
        cmap="magma",
        title=title,
        colorbar_label="dB",
        width=width,
        height=height,
    )


def kernels_png(kernels: np.ndarray, *, cell: int = 10, columns: int = 8) -> bytes:
    """First-layer kernels as a grid of small images on a diverging colour map centred on 0.

    Parameters
    ----------
    kernels : np.ndarray, shape (filters, k, k)
    """
    filters, k, _ = kernels.shape
    rows = int(np.ceil(filters / columns))
    gap = 4
    size = k * cell
    canvas = Image.new("RGB", (columns * (size + gap) + gap, rows * (size + gap) + gap), (255, 255, 255))
    limit = float(np.abs(kernels).max()) or 1.0
    for index, kernel in enumerate(kernels):
        # Kernel rows run along frequency like the maps they slide over: low at the bottom.
        rgb = colorize(kernel, vmin=-limit, vmax=limit, cmap="RdBu_r")
        tile = Image.fromarray(rgb, "RGB").resize((size, size), Image.Resampling.NEAREST)
        row, column = divmod(index, columns)
        canvas.paste(tile, (gap + column * (size + gap), gap + row * (size + gap)))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def overlay_rgb(base: np.ndarray, heat: np.ndarray, *, signed: bool = False) -> np.ndarray:
    """A spectrogram in grey with an attribution map laid over it.

    Parameters
    ----------
    base : np.ndarray, shape (rows, cols)
        The input spectrogram (any scale).
    heat : np.ndarray, shape (rows, cols)
        In [0, 1] (Grad-CAM: magma, opacity grows with the value) or, with `signed`,
        any sign (integrated gradients: red for evidence for the digit, blue against).

    Returns
    -------
    np.ndarray, uint8, shape (rows, cols, 3), lowest row at the bottom
    """
    low, high = float(base.min()), float(base.max())
    grey = (base - low) / (high - low if high > low else 1.0)
    grey_rgb = np.repeat((40 + 180 * grey)[..., np.newaxis], 3, axis=2)
    if signed:
        limit = float(np.abs(heat).max()) or 1.0
        colours = colorize(heat, vmin=-limit, vmax=limit, cmap="RdBu_r")[::-1].astype(np.float32)
        alpha = np.clip(np.abs(heat) / limit * 1.6, 0, 0.9)
    else:
        colours = colorize(heat, vmin=0.0, vmax=1.0, cmap="magma")[::-1].astype(np.float32)
        alpha = np.clip(heat, 0, 1) * 0.8
    mixed = grey_rgb * (1 - alpha[..., np.newaxis]) + colours * alpha[..., np.newaxis]
    return np.clip(mixed, 0, 255).astype(np.uint8)[::-1]
