import io

import numpy as np
import pytest
from PIL import Image

from modelzoo.rendering import colorize, colormap, figure_png, filter_png, kernels_png, layer_maps_png, spectrogram_png


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize("name", ["magma", "viridis", "cividis", "RdBu_r", "jet"])
def test_it_has_perceptual_colour_maps_only(name):
    if name == "jet":
        with pytest.raises(ValueError, match="Unknown colour map"):
            colormap(name)
        return
    lut = colormap(name)
    assert lut.shape == (256, 3) and lut.dtype == np.uint8


def test_low_frequencies_are_drawn_at_the_bottom():
    values = np.zeros((4, 3))
    values[0] = 1.0  # row 0 is the lowest frequency

    rgb = colorize(values, vmin=0, vmax=1)

    assert (rgb[-1] == colormap("magma")[255]).all()
    assert (rgb[0] == colormap("magma")[0]).all()


@pytest.mark.parametrize("shape", [(129, 101), (64, 50), (32, 25)])
def test_a_filter_map_is_a_png_of_its_own_size(shape):
    image = _image(filter_png(np.random.default_rng(0).random(shape), vmax=1.0))

    assert image.size == (shape[1], shape[0])


@pytest.mark.parametrize("cmap", ["magma", "viridis", "cividis", "RdBu_r"])
def test_a_filter_map_decodes_to_the_colour_mapped_pixels(cmap):
    values = np.random.default_rng(1).random((40, 30)) * 2 - 0.2  # some cells outside the scale

    image = _image(filter_png(values, vmax=1.5, cmap=cmap))

    assert image.mode == "P"  # one byte per pixel: the palette is the colour map
    assert np.array_equal(np.asarray(image.convert("RGB")), colorize(values, vmin=0.0, vmax=1.5, cmap=cmap))


def test_a_layers_maps_are_its_filter_maps_side_by_side():
    maps = np.random.default_rng(2).random((5, 12, 7))
    maps[3] = 0.0  # a dead filter: drawn on a scale of 1, as filter_png draws it
    vmax = np.array([1.0, 0.5, 2.0, 0.0, 0.9])

    strip = np.asarray(_image(layer_maps_png(maps, vmax=vmax, cmap="viridis")).convert("RGB"))

    assert strip.shape == (12, 5 * 7, 3)
    for k in range(5):
        one = np.asarray(_image(filter_png(maps[k], vmax=vmax[k], cmap="viridis")).convert("RGB"))
        assert np.array_equal(strip[:, 7 * k : 7 * (k + 1)], one)


def test_a_layers_maps_need_one_scale_per_filter():
    with pytest.raises(ValueError, match="one vmax per filter"):
        layer_maps_png(np.zeros((3, 4, 4)), vmax=np.ones(2))


def test_a_dead_filter_still_renders():
    assert _image(filter_png(np.zeros((32, 25)), vmax=0.0)).size == (25, 32)


def test_the_zoomed_figure_has_axes_room_and_the_requested_size():
    image = _image(
        figure_png(
            np.random.default_rng(0).random((64, 50)),
            duration_s=1.0,
            max_freq_hz=4000,
            vmin=0,
            vmax=1,
            title="conv2 · filter 3",
            colorbar_label="activation",
        )
    )

    assert image.size == (720, 320)
    corner = np.asarray(image.convert("RGB"))[5, 5]
    assert (corner == 255).all()  # the margin, where the axes are drawn, is white


def test_the_spectrogram_of_a_clip_renders():
    t = np.arange(16000) / 16000
    assert _image(spectrogram_png(np.sin(2 * np.pi * 500 * t).astype(np.float32), 16000)).size == (720, 260)


def test_kernels_are_drawn_in_a_grid():
    image = _image(kernels_png(np.random.default_rng(0).standard_normal((16, 7, 7)), cell=10, columns=8))

    assert image.size == (8 * 74 + 4, 2 * 74 + 4)
