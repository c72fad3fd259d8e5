"""Each filter as an image and as sound, rendered from the cache, cached by the browser."""

import io

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from tests.experiments.lab_support import analysed


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


def _url(analysis, position: int, index: int, suffix: str) -> str:
    return f"/analyses/{analysis.pk}/layers/{analysis.layers[position]['name']}/{index}{suffix}"


@pytest.mark.parametrize(("position", "index"), [(0, 0), (0, 15), (1, 7), (2, 31)])
def test_a_filter_image_is_a_png_of_its_map(alice_client, analysis, position, index):
    response = alice_client.get(_url(analysis, position, index, ".png"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.mode == "P"  # the colour map is its palette
    height, width, _ = analysis.layers[position]["shape"]
    assert image.size[0] % width == 0 and image.size[1] % height == 0
    assert image.size[0] // width == image.size[1] // height  # square cells


def test_images_carry_caching_headers_and_answer_304(alice_client, analysis):
    url = _url(analysis, 0, 2, ".png")

    response = alice_client.get(url)

    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = alice_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert alice_client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_each_scale_and_colour_map_is_its_own_image(alice_client, analysis):
    # a filter that responds, but less than the layer's strongest, so the two scales differ
    maxima = analysis.layers[1]["max"]
    index = next(i for i, m in enumerate(maxima) if 0 < m < 0.8 * max(maxima))
    url = _url(analysis, 1, index, ".png")

    responses = [alice_client.get(url + q) for q in ("", "?scale=layer", "?cmap=viridis")]

    assert len({r["ETag"] for r in responses}) == 3
    assert len({r.content for r in responses}) == 3
    assert alice_client.get(url + "?cmap=jet").status_code == 404
    assert alice_client.get(url + "?scale=global").status_code == 404


def _pixels(response) -> np.ndarray:
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


@pytest.mark.parametrize("scale", ["filter", "layer"])
@pytest.mark.parametrize("position", [0, 2])
def test_a_layers_maps_are_its_filter_images_side_by_side(alice_client, analysis, position, scale):
    layer = analysis.layers[position]
    url = f"/analyses/{analysis.pk}/layers/{layer['name']}/maps.png?scale={scale}"

    maps = _pixels(alice_client.get(url))

    filters = [
        _pixels(alice_client.get(_url(analysis, position, k, f".png?scale={scale}"))) for k in range(layer["filters"])
    ]
    height, width, _ = filters[0].shape
    assert maps.shape == (height, layer["filters"] * width, 3)
    for k, image in enumerate(filters):
        assert np.array_equal(maps[:, k * width : (k + 1) * width], image), k


def test_a_layers_maps_are_cached_and_refuse_an_unknown_scale(alice_client, analysis):
    url = f"/analyses/{analysis.pk}/layers/conv2/maps.png"

    response = alice_client.get(url)

    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert alice_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert alice_client.get(url + "?scale=layer")["ETag"] != response["ETag"]
    assert alice_client.get(url + "?scale=loud").status_code == 404
    assert alice_client.get(f"/analyses/{analysis.pk}/layers/dense/maps.png").status_code == 404


@pytest.mark.parametrize("method", ["mask", "griffinlim"])
@pytest.mark.parametrize(("position", "index"), [(0, 0), (1, 9), (2, 31)])
def test_a_filter_sound_is_a_wav_at_the_models_rate_and_length(alice_client, analysis, method, position, index):
    response = alice_client.get(_url(analysis, position, index, f".wav?method={method}"))

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    params = analysis.model_version.feature_params
    y, sr = sf.read(io.BytesIO(response.content))
    assert sr == params["sample_rate"] == 8000
    assert len(y) == int(params["duration_s"] * sr)
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) <= 1.0
    assert "immutable" in response["Cache-Control"]
    assert (
        alice_client.get(response.wsgi_request.get_full_path(), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    )


def test_the_two_sonifications_differ_and_mask_is_the_default(alice_client, analysis):
    url = _url(analysis, 0, 4, ".wav")

    default, mask, griffinlim = (alice_client.get(url + q) for q in ("", "?method=mask", "?method=griffinlim"))

    assert default.content == mask.content
    assert mask.content != griffinlim.content
    assert default["ETag"] != griffinlim["ETag"]
    assert alice_client.get(url + "?method=vocoder").status_code == 404


def test_a_filter_that_responds_sounds_like_part_of_the_clip(alice_client, analysis):
    strongest = int(np.argmax(analysis.layers[0]["mean"]))

    y, _ = sf.read(io.BytesIO(alice_client.get(_url(analysis, 0, strongest, ".wav")).content))

    assert np.max(np.abs(y)) > 0.5  # scaled to a 0.9 peak: audible


def test_the_zoomed_map_is_a_large_png_with_axes(alice_client, analysis):
    small = Image.open(io.BytesIO(alice_client.get(_url(analysis, 2, 0, ".png")).content))
    response = alice_client.get(_url(analysis, 2, 0, "/zoom.png"))

    zoom = Image.open(io.BytesIO(response.content))
    assert response["Content-Type"] == "image/png"
    assert zoom.size[0] >= 600 and zoom.size[0] > small.size[0]
    assert "immutable" in response["Cache-Control"]


def test_the_input_image_and_sound_are_what_the_network_receives(alice_client, analysis):
    image = alice_client.get(f"/analyses/{analysis.pk}/input.png")
    sound = alice_client.get(f"/analyses/{analysis.pk}/input.wav")

    assert image["Content-Type"] == "image/png" and image.content[:4] == b"\x89PNG"
    y, sr = sf.read(io.BytesIO(sound.content))
    assert sr == 8000 and len(y) == 8000
    assert "immutable" in image["Cache-Control"] and "immutable" in sound["Cache-Control"]


def test_media_of_an_unfinished_analysis_is_404(alice_client, analysis):
    analysis.job.status = "pending"
    analysis.job.save()

    for suffix in (".png", ".wav", "/zoom.png", "/"):
        assert alice_client.get(_url(analysis, 0, 0, suffix)).status_code == 404
    assert alice_client.get(f"/analyses/{analysis.pk}/input.png").status_code == 404
    assert alice_client.get(f"/analyses/{analysis.pk}/input.wav").status_code == 404


def test_a_rerun_analysis_serves_its_new_maps_not_the_cached_ones(alice_client, analysis):
    from django.core.files.base import ContentFile

    from dsp.canonical import encode_wav
    from experiments.services.analyses import analysis_retry
    from experiments.services.recordings import recording_audio

    url = _url(analysis, 0, 0, ".png")
    before = alice_client.get(url)
    # The clip's stored audio changes and its analysis runs again (as after a failure).
    recording = analysis.recording
    audio = recording_audio(recording)
    recording.audio.save("replaced.wav", ContentFile(encode_wav(audio.y[::-1], audio.sample_rate)))
    analysis.job.status = "failed"
    analysis.job.save()

    analysis_retry(analysis=analysis)

    after = alice_client.get(url)
    assert after["ETag"] != before["ETag"]
    assert after.content != before.content
    assert alice_client.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
