"""The network at a glance: every layer of the version as one flow, thumbnails, lines from the strongest filters."""

import re

import pytest

from insights.network import network_edges, network_stages, strongest
from tests.conftest import login
from tests.experiments.lab_support import analysed
from tests.insights.insight_support import dead_filters, stored_insight


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


def test_it_draws_input_layers_and_digits_with_a_link_per_filter(alice_client, analysis, active_model):
    html = alice_client.get(f"/analyses/{analysis.pk}/network/").content.decode()

    horizontal = html.split('class="flow flow-vertical"')[0]
    for stage in ("input", "conv1", "pool1", "conv2", "pool2", "conv3", "pool3", "flatten", "dense", "digits"):
        assert f'data-stage="{stage}"' in horizontal
    assert 'data-stage="dropout_dense"' not in horizontal and 'data-stage="probabilities"' not in horizontal
    assert len(re.findall(r'href="/analyses/\d+/layers/conv\d/\d+/"', horizontal)) == 64
    assert len(re.findall(r'data-digit="\d"', horizontal)) == 10
    assert horizontal.count('class="frame strong"') == 9
    assert f'data-digit="{analysis.predicted_label}"' in horizontal
    assert 'class="flow flow-vertical"' in html  # the phone layout, shown by CSS below 900 px
    assert "from the strongest filters of a layer to the strongest of the next" in html  # no kernels yet


def test_with_the_versions_insight_lines_follow_the_kernels_and_dead_filters_are_marked(
    alice_client, analysis, active_model
):
    stored_insight(active_model)

    html = alice_client.get(f"/analyses/{analysis.pk}/network/").content.decode()
    horizontal = html.split('class="flow flow-vertical"')[0]

    assert "the sum of the kernel between them" in html
    dead = dead_filters(active_model)  # the bundled model's conv1 and conv3 have none
    assert dead and len(re.findall(r'class="frame( strong)? dead"', horizontal)) == len(dead)


def test_the_input_thumbnail_is_an_image(alice_client, analysis):
    response = alice_client.get(f"/analyses/{analysis.pk}/network/input.png")

    assert response.headers["Content-Type"] == "image/png"


def test_another_users_analysis_is_404(client, charlie, analysis):
    login(client, charlie)

    assert client.get(f"/analyses/{analysis.pk}/network/").status_code == 404
    assert client.get(f"/analyses/{analysis.pk}/network/input.png").status_code == 404


def test_any_uploaded_models_layers_make_the_stages():
    table = [
        {"name": "in", "type": "InputLayer"},
        {"name": "c", "type": "Conv2D", "filters": 4},
        {"name": "bn", "type": "BatchNormalization"},
        {"name": "gap", "type": "GlobalAveragePooling2D"},
        {"name": "drop", "type": "Dropout"},
        {"name": "out", "type": "Dense", "units": 3},
    ]

    stages = network_stages(layer_table=table, labels=["a", "b", "c"])

    assert [(s["kind"], s["name"]) for s in stages] == [
        ("input", "input"),
        ("conv", "c"),
        ("block", "bn"),
        ("block", "gap"),
        ("output", "digits"),
    ]
    edges = network_edges(stages=stages, layer_means={"c": [0.1, 0.0, 0.5, 0.2]}, probabilities={"a": 0.9, "b": 0.1})
    assert [e["target"] for e in edges if e["source"] == (0, 0)] == [(1, 2), (1, 3), (1, 0)]
    assert {e["target"] for e in edges if e["source"] == (3, 0)} == {(4, 0), (4, 1)}  # c at 0 % gets no line


def test_lines_between_layers_follow_activation_times_kernel():
    stages = [
        {"kind": "input", "name": "input"},
        {"kind": "conv", "name": "a", "items": 2},
        {"kind": "conv", "name": "b", "items": 3},
        {"kind": "output", "name": "digits", "items": 1, "labels": ["x"]},
    ]
    kernel_sums = [[0.0, 2.0, -1.0], [5.0, 0.0, 0.1]]

    edges = network_edges(
        stages=stages,
        layer_means={"a": [1.0, 0.1], "b": [0.0, 0.0, 0.3]},
        probabilities={"x": 1.0},
        connections={"b": kernel_sums},
    )

    between = {(e["source"], e["target"]): e["weight"] for e in edges if e["source"][0] == 1}
    assert between == {((1, 0), (2, 1)): 1.0, ((1, 1), (2, 0)): 0.25, ((1, 1), (2, 2)): pytest.approx(0.005)}


def test_strongest_leaves_out_filters_that_say_nothing():
    assert strongest([0.0, 0.3, 0.3, 0.1]) == [1, 2, 3]
    assert strongest([0.0, 0.0]) == []
