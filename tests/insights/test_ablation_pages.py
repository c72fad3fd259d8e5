"""Ablations on the pages: the form, with and without side by side, the history and the comparison's links."""

import pytest

from insights.models import Ablation
from tests.conftest import login
from tests.experiments.lab_support import analysed, stored_state


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


def test_the_form_shows_every_filter_of_the_chosen_layer(alice_client, analysis):
    html = alice_client.get(f"/analyses/{analysis.pk}/ablations/?layer=conv3").content.decode()

    assert html.count('name="filters"') == 32
    assert "Run the network without them" in html
    assert "No filter of this clip’s network has been muted yet." in html


def test_muting_from_the_filter_zoom_opens_the_with_and_without_page(alice_client, analysis):
    response = alice_client.post(
        f"/analyses/{analysis.pk}/ablations/", {"layer": "conv1", "filters": "2", "mode": "mute"}, follow=True
    )

    ablation = Ablation.objects.get()
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/ablations/{ablation.pk}/"
    assert "Filter 2 of conv1 muted" in html
    assert "with every filter" in html and "On the 250 evaluation clips" in html
    assert f"/ablations/{ablation.pk}/before.wav" in html and f"/ablations/{ablation.pk}/after.wav" in html
    assert "clips right without them" in html


def test_solo_from_the_form_and_the_history_lists_it(alice_client, analysis):
    alice_client.post(f"/analyses/{analysis.pk}/ablations/", {"layer": "conv2", "filters": "7", "mode": "solo"})

    html = alice_client.get(f"/analyses/{analysis.pk}/ablations/").content.decode()

    assert Ablation.objects.get().muted == [k for k in range(16) if k != 7]
    assert "only filter 7 of conv2" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"layer": "conv1", "mode": "mute"}, "Choose at least one filter."),
        ({"layer": "conv1", "mode": "solo", "filters": ["1", "2"]}, "Solo keeps exactly one filter."),
        ({"layer": "conv1", "mode": "mute", "filters": "x"}, "whole numbers"),
        ({"layer": "conv1", "mode": "louder", "filters": "1"}, "mute filters or to solo"),
        ({"layer": "nope", "mode": "mute", "filters": "1"}, "not a convolution layer"),
    ],
)
def test_a_bad_form_explains_itself_and_saves_nothing(alice_client, analysis, data, message):
    before = stored_state()

    response = alice_client.post(f"/analyses/{analysis.pk}/ablations/", data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert stored_state() == before


def test_other_users_get_404_and_an_instructor_reads_without_a_form(client, alice, charlie, ines, submitted_experiment):
    from experiments.selectors import experiment_analyses

    analysis, _ = experiment_analyses(submitted_experiment)
    login(client, alice)
    client.post(f"/analyses/{analysis.pk}/ablations/", {"layer": "conv1", "filters": "1", "mode": "mute"})
    ablation = Ablation.objects.get()

    login(client, charlie)
    assert client.get(f"/analyses/{analysis.pk}/ablations/").status_code == 404
    assert client.get(f"/ablations/{ablation.pk}/").status_code == 404
    login(client, ines)
    page = client.get(f"/analyses/{analysis.pk}/ablations/").content.decode()
    assert "Only the student who owns this recording" in page and 'name="filters"' not in page
    assert client.get(f"/ablations/{ablation.pk}/").status_code == 200
    assert client.post(f"/analyses/{analysis.pk}/ablations/", {"layer": "conv1", "filters": "2"}).status_code == 404


def test_the_comparison_page_links_each_sides_ablations(client, alice, ab_experiment):
    from experiments.selectors import experiment_analyses

    analysis, _ = experiment_analyses(ab_experiment)
    login(client, alice)
    client.post(f"/analyses/{analysis.pk}/ablations/", {"layer": "conv3", "filters": "5", "mode": "mute"})

    html = client.get(f"/experiments/{ab_experiment.pk}/").content.decode()

    assert "with and without filters" in html
    assert f'href="/ablations/{Ablation.objects.get().pk}/"' in html and "filter 5 of conv3 muted" in html


def test_an_audio_part_that_does_not_exist_is_404(alice_client, analysis):
    alice_client.post(f"/analyses/{analysis.pk}/ablations/", {"layer": "conv1", "filters": "1", "mode": "mute"})

    assert alice_client.get(f"/ablations/{Ablation.objects.get().pk}/sideways.wav").status_code == 404
