"""Downloading figures of a comparison, a layer and a sweep for a lab report."""

import pytest

from insights.services import sweep_request
from tests.conftest import login
from tests.experiments.lab_support import analysed

TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
@pytest.mark.parametrize("name", ["probabilities", "similarity"])
def test_a_comparison_downloads_its_figures(alice_client, ab_experiment, name, fmt):
    response = alice_client.get(f"/experiments/{ab_experiment.pk}/figures/{name}.{fmt}")

    assert response.status_code == 200
    assert response["Content-Type"] == TYPES[fmt]
    assert response["Content-Disposition"] == f'attachment; filename="experiment-{ab_experiment.pk}-{name}.{fmt}"'
    assert len(response.content) > 1000


def test_the_comparison_page_links_its_figures(alice_client, ab_experiment):
    page = alice_client.get(f"/experiments/{ab_experiment.pk}/").content.decode()

    for name in ("probabilities", "similarity"):
        for fmt in ("png", "svg", "pdf"):
            assert f"/experiments/{ab_experiment.pk}/figures/{name}.{fmt}" in page


def test_a_layer_downloads_as_one_grid(alice, alice_client, active_model):
    analysis = analysed(alice)

    response = alice_client.get(f"/analyses/{analysis.pk}/layers/conv2/figure.pdf")
    explorer = alice_client.get(f"/analyses/{analysis.pk}/explorer/?tab=conv2").content.decode()

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert f"/analyses/{analysis.pk}/layers/conv2/figure.svg" in explorer
    assert alice_client.get(f"/analyses/{analysis.pk}/layers/conv9/figure.pdf").status_code == 404


def test_a_sweep_downloads_its_robustness_curve(alice, alice_client, active_model):
    recording = analysed(alice).recording
    sweep = sweep_request(recording=recording, requested_by=alice, op="gain", start=-6, stop=6, num=3)

    response = alice_client.get(f"/sweeps/{sweep.pk}/figure.svg")

    assert response.status_code == 200
    assert response.content.startswith(b"<?xml")
    assert f"/sweeps/{sweep.pk}/figure.png".encode() in alice_client.get(f"/sweeps/{sweep.pk}/").content


def test_an_unknown_figure_or_format_is_404(alice_client, ab_experiment):
    assert alice_client.get(f"/experiments/{ab_experiment.pk}/figures/weights.png").status_code == 404
    assert alice_client.get(f"/experiments/{ab_experiment.pk}/figures/similarity.gif").status_code == 404


def test_it_rejects_other_users(client, charlie, alice, ab_experiment, active_model):
    analysis = analysed(alice)
    sweep = sweep_request(recording=analysis.recording, requested_by=alice, op="gain", start=-6, stop=6, num=3)
    login(client, charlie)

    assert client.get(f"/experiments/{ab_experiment.pk}/figures/probabilities.png").status_code == 404
    assert client.get(f"/analyses/{analysis.pk}/layers/conv1/figure.png").status_code == 404
    assert client.get(f"/sweeps/{sweep.pk}/figure.png").status_code == 404
