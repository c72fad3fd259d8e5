"""The layer explorer: every filter of every layer, the overview, the input, the weights, the model, and zoom."""

import re

import pytest

from tests.experiments.lab_support import analysed


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


def _explorer(client, analysis, query: str = "", htmx: bool = True) -> str:
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.get(f"/analyses/{analysis.pk}/explorer/{query}", **extra)
    assert response.status_code == 200
    return response.content.decode()


def test_it_has_a_tab_per_convolution_layer_and_four_more(alice_client, analysis):
    body = _explorer(alice_client, analysis)

    tabs = re.findall(r'aria-selected="(?:true|false)">([^<]+)', body)
    names = [layer["name"] for layer in analysis.layers]
    assert [t.strip() for t in tabs] == [*names, "Overview", "Input", "Weights", "Model"]
    for layer in analysis.layers:
        assert f"{layer['filters']} filters" in body


def test_a_layer_tab_prefetches_the_maps_the_other_tabs_will_show(alice_client, analysis):
    first = _explorer(alice_client, analysis, "?tab=conv1&scale=layer")
    held = first.split("<template data-prefetch-maps>")[1].split("</template>")[0]
    prefetched = set(re.findall(r'<link rel="prefetch" as="image" href="([^"]+)"', held))

    for other in ("conv2", "conv3"):
        shown = set(
            re.findall(
                r'<img src="(/analyses/[^"]+\.png[^"]*)"',
                _explorer(alice_client, analysis, f"?tab={other}&scale=layer"),
            )
        )
        assert shown and shown <= prefetched  # the very URLs: the browser's cache answers the tab
    assert not any("/layers/conv1/" in url for url in prefetched)
    assert len(prefetched) == 2  # one image of maps for each other layer


@pytest.mark.parametrize(("position", "filters"), [(0, 16), (1, 16), (2, 32)])
def test_every_layer_tab_lists_all_its_filters_with_an_image_and_a_play_button(
    alice_client, analysis, position, filters
):
    name = analysis.layers[position]["name"]
    silent = {k for k in range(filters) if analysis.layers[position]["max"][k] == 0}

    body = _explorer(alice_client, analysis, f"?tab={name}")

    a = analysis.pk
    assert body.count('<figure class="tile') == filters
    assert f'style="--n: {filters}"' in body
    for k in range(filters):
        tile = body.split(f'data-filter="{k}">')[1].split("</figure>")[0]
        # its part of the layer's one image of maps
        assert f'<img src="/analyses/{a}/layers/{name}/maps.png?scale=filter&amp;grant=' in tile
        assert f'style="--k: {k}" alt="{name} filter {k} output map"' in tile
        assert (f'data-play="/analyses/{a}/layers/{name}/{k}.wav?grant=' in body) == (k not in silent)
        assert f'hx-get="/analyses/{a}/layers/{name}/{k}/?scale=filter" hx-target="#filter-zoom"' in body
    assert 'id="filter-zoom"' in body


def test_a_filter_silent_for_this_clip_says_so_and_offers_no_sound(alice_client, analysis):
    layer = analysis.layers[1]
    silent = [k for k in range(layer["filters"]) if layer["max"][k] == 0]
    assert silent  # the bundled model's conv2 has filters that do not fire on this clip

    body = _explorer(alice_client, analysis, f"?tab={layer['name']}")

    for k in range(layer["filters"]):
        tile = body.split(f'data-filter="{k}">')[1].split("</figure>")[0]
        if k in silent:
            assert "silent for this clip" in tile and "<button" in tile and " disabled " in tile
            assert "data-play" not in tile and "mean " not in tile
        else:
            assert "data-play" in tile and "disabled" not in tile and "silent" not in tile
            assert f"mean {layer['mean'][k]:.2f} · max {layer['max'][k]:.2f}" in tile  # the numbers say what they are

    zoom = alice_client.get(f"/analyses/{analysis.pk}/layers/{layer['name']}/{silent[0]}/").content.decode()
    assert "<audio" not in zoom and "nothing to hear" in zoom
    alive = next(k for k in range(layer["filters"]) if k not in silent)
    zoom = alice_client.get(f"/analyses/{analysis.pk}/layers/{layer['name']}/{alive}/").content.decode()
    assert "<audio" in zoom and "nothing to hear" not in zoom


def test_the_first_layer_is_the_default_tab(alice_client, analysis):
    body = _explorer(alice_client, analysis)

    assert body.count('<figure class="tile') == 16
    assert f'data-layer="{analysis.layers[0]["name"]}"' in body


def test_it_orders_filters_by_strength_and_shares_the_colour_scale(alice_client, analysis):
    layer = analysis.layers[2]

    body = _explorer(alice_client, analysis, f"?tab={layer['name']}&sort=strength&scale=layer")

    shown = [int(k) for k in re.findall(r'<figure class="tile[^"]*" data-filter="(\d+)"', body)]
    assert shown == sorted(range(32), key=lambda k: -layer["mean"][k])
    assert sorted(shown) == list(range(32))
    first = body.split(f'data-filter="{shown[0]}">')[1].split("</figure>")[0]
    assert f"/layers/{layer['name']}/maps.png?scale=layer" in first and f'style="--k: {shown[0]}"' in first


def test_the_layer_scale_and_order_go_into_the_labs_address_and_a_reload_keeps_them(alice_client, analysis):
    lab = analysis.recording.get_absolute_url()
    response = alice_client.get(
        f"/analyses/{analysis.pk}/explorer/?tab=conv2&scale=layer&sort=strength",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{lab}?from=list",
    )

    assert response["HX-Replace-Url"] == f"{lab}?from=list&layer=conv2&scale=layer&sort=strength"
    page = alice_client.get(response["HX-Replace-Url"]).content.decode()
    assert re.search(r'\?tab=conv2[^"]*"\s+hx-get="[^"]*"[^>]*\s+aria-selected="true"', page)
    assert re.search(r'btn-selected"[^>]*scale=layer[^>]*>shared across the layer', page)
    assert re.search(r'btn-selected"[^>]*sort=strength[^>]*>strongest first', page)
    layer = next(layer for layer in analysis.layers if layer["name"] == "conv2")
    shown = [int(k) for k in re.findall(r'<figure class="tile[^"]*" data-filter="(\d+)"', page)]
    assert shown == sorted(range(layer["filters"]), key=lambda k: -layer["mean"][k])


def test_the_explorers_own_page_keeps_its_choices_in_its_address(alice_client, analysis):
    page = f"/analyses/{analysis.pk}/explorer/"
    response = alice_client.get(
        f"{page}?tab=conv3&scale=layer&sort=index",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
    )

    assert response["HX-Replace-Url"] == f"{page}?tab=conv3&scale=layer&sort=index"
    # embedded anywhere else (no page of its own to reload), the address is left alone
    other = alice_client.get(f"{page}?tab=conv3", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/")
    assert "HX-Replace-Url" not in other


def test_a_full_page_without_htmx_has_the_layout(alice_client, analysis):
    body = _explorer(alice_client, analysis, htmx=False)

    assert "<html" in body and "<h1>Layer explorer</h1>" in body
    assert f'href="/recordings/{analysis.recording.pk}/"' in body


def test_the_overview_shows_mean_and_max_of_every_filter_and_marks_the_strongest(alice_client, analysis):
    body = _explorer(alice_client, analysis, "?tab=overview")

    for layer in analysis.layers:
        section = body.split(f"<h3>{layer['name']}</h3>")[1].split('<div class="bars-axis">')[0]
        assert section.count('class="bar-col') == layer["filters"]
        assert section.count("bar-col strong") == 3
        strongest = max(range(layer["filters"]), key=lambda k: layer["mean"][k])
        assert f'/layers/{layer["name"]}/{strongest}/" title="filter {strongest}:' in section
        assert 'class="bar-max" style="height: 100.0%"' in section


def test_the_input_tab_shows_and_plays_what_the_network_receives(alice_client, analysis):
    body = _explorer(alice_client, analysis, "?tab=input")

    assert f'src="/analyses/{analysis.pk}/input.png"' in body
    assert f'src="/analyses/{analysis.pk}/input.wav"' in body
    assert "1.0 s at 8000 Hz" in body


def test_the_weights_tab_has_a_histogram_per_weight_and_the_kernels(alice_client, analysis):
    body = _explorer(alice_client, analysis, "?tab=weights")

    version = analysis.model_version
    assert body.count('<figure class="hist">') == len(version.weight_histograms) > 0
    for entry in version.weight_histograms:
        assert f"Histogram of {entry['layer']} {entry['weight']}" in body
    assert body.count("<rect ") == sum(len(e["counts"]) for e in version.weight_histograms)
    kernels = alice_client.get(f"/models/{version.pk}/kernels.png")
    assert f'src="/models/{version.pk}/kernels.png"' in body
    assert kernels.status_code == 200 and kernels.content[:4] == b"\x89PNG"


def test_the_model_tab_has_the_layer_table_and_hyperparameters(alice_client, analysis):
    body = _explorer(alice_client, analysis, "?tab=model")

    version = analysis.model_version
    assert body.count('<tr class="conv-row">') == 3
    for layer in version.layers:
        assert f"<strong>{layer['name']}</strong>" in body
    for kernel in ("7×7", "5×5", "3×3"):
        assert kernel in body
    assert "<h3>Hyper-parameters</h3>" in body
    assert "n_fft" in body and "hop_length" in body


@pytest.mark.parametrize("tab", ["nope", "dense", "../weights"])
def test_an_unknown_tab_is_404(alice_client, analysis, tab):
    assert alice_client.get(f"/analyses/{analysis.pk}/explorer/?tab={tab}").status_code == 404


def test_an_unfinished_analysis_has_no_explorer(alice_client, analysis):
    analysis.job.status = "running"
    analysis.job.save()

    assert alice_client.get(f"/analyses/{analysis.pk}/explorer/").status_code == 404


def test_the_zoom_partial_shows_the_map_the_sound_and_the_statistics(alice_client, analysis):
    layer = analysis.layers[1]
    name, a = layer["name"], analysis.pk
    # A filter that fires on this clip, with neighbours on both sides (which ones fire depends on the model).
    k = max(range(1, 15), key=lambda f: layer["max"][f])
    assert layer["max"][k] > 0

    response = alice_client.get(f"/analyses/{a}/layers/{name}/{k}/?scale=layer", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="filter-zoom"') and "<html" not in body
    assert f'src="/analyses/{a}/layers/{name}/{k}/zoom.png?scale=layer"' in body
    assert f'src="/analyses/{a}/layers/{name}/{k}.wav" data-filter-audio' in body
    assert f'src="/analyses/{a}/layers/{name}/{k}.wav?method=griffinlim"' in body
    rank = sorted(range(16), key=lambda k: -layer["mean"][k]).index(k) + 1
    assert f"strength rank {rank} of 16" in body
    for label in ("Mean activation", "Max activation", "Standard deviation", "Active cells", "Strongest at"):
        assert f"<dt>{label}</dt>" in body
    assert f"{layer['max'][k]:.4f}" in body or f"{layer['max'][k]:.3f}" in body
    assert f"/layers/{name}/{k - 1}/" in body and f"/layers/{name}/{k + 1}/" in body  # previous and next
    assert "data-close-zoom" in body


def test_the_zoom_page_without_htmx_has_the_layout_and_ends_at_the_last_filter(alice_client, analysis):
    name = analysis.layers[2]["name"]

    body = alice_client.get(f"/analyses/{analysis.pk}/layers/{name}/31/").content.decode()

    assert "<html" in body and f"<h1>{name} · filter 31</h1>" in body
    assert f"/layers/{name}/30/" in body
    assert f"/layers/{name}/32/" not in body
    assert "data-close-zoom" not in body


@pytest.mark.parametrize(
    "path", ["{layer}/16/", "{layer}/99.png", "nolayer/0/", "{layer}/16.wav", "{layer}/16/zoom.png"]
)
def test_a_filter_that_does_not_exist_is_404(alice_client, analysis, path):
    url = f"/analyses/{analysis.pk}/layers/" + path.format(layer=analysis.layers[0]["name"])

    assert alice_client.get(url).status_code == 404
