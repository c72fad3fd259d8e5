"""Faithfulness next to every explanation: each map's curves, FF and baseline, the sanity check, in the API and page."""

import pytest
from rest_framework.test import APIClient

from insights.models import Attribution
from jobs.models import Job
from tests.experiments.lab_support import analysed


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_login(alice)
    return client


def test_each_map_carries_its_faithfulness_and_the_attribution_its_sanity_check(api, analysis):
    data = api.post(f"/api/analyses/{analysis.pk}/attribution/", {}, format="json").json()
    data = api.get(f"/api/attributions/{data['id']}/").json()

    assert [m["key"] for m in data["maps"]] == ["ig", "cam_conv1", "cam_conv2", "cam_conv3"]
    for entry in data["maps"]:
        faith = entry["faithfulness"]
        assert {"deletion_auc", "insertion_auc", "ff", "baseline"} <= set(faith)
        assert faith["baseline"] == "silence"
        assert 0 <= faith["deletion_auc"] <= 1 and 0 <= faith["insertion_auc"] <= 1 and -1 <= faith["ff"] <= 1
        assert faith["deletion"][0] == pytest.approx(analysis.probabilities[analysis.predicted_label], abs=1e-3)
        assert faith["deletion_auc"] < faith["insertion_auc"]
        assert len(faith["fractions"]) == len(faith["deletion"]) == len(faith["insertion"])
    sanity = data["sanity"]
    assert set(sanity["randomised_similarity"]) == {"ig", "cam_conv1", "cam_conv2", "cam_conv3"}
    assert sanity["threshold"] == 0.5
    assert sanity["flagged"] == [k for k, v in sanity["randomised_similarity"].items() if v >= 0.5]


def test_the_page_says_in_plain_words_whether_to_trust_each_map(alice_client, api, analysis):
    api.post(f"/api/analyses/{analysis.pk}/attribution/", {}, format="json")

    html = alice_client.get(f"/analyses/{analysis.pk}/attribution/").content.decode()

    assert "Can these maps be trusted?" in html
    assert html.count('data-faithfulness="') == 4
    assert html.count('<figure class="curve-chart">') == 4
    assert "Removing the 5% of the spectrogram this map points at first" in html
    assert "On a network with random weights" in html
    assert "removing cells at random" in html


def test_an_explanation_made_before_the_checks_is_made_again_with_them(alice_client, api, analysis):
    first = api.post(f"/api/analyses/{analysis.pk}/attribution/", {}, format="json").json()
    attribution = Attribution.objects.get(pk=first["id"])
    attribution.summary = {k: v for k, v in attribution.summary.items() if k not in ("faithfulness", "sanity")}
    attribution.save()
    page = alice_client.get(f"/analyses/{analysis.pk}/attribution/").content.decode()
    assert "Explain again, with the checks" in page
    assert api.get(f"/api/attributions/{first['id']}/").json()["maps"][0]["faithfulness"] is None

    again = api.post(f"/api/analyses/{analysis.pk}/attribution/", {}, format="json").json()

    assert again["id"] == first["id"] and again["maps"][0]["faithfulness"] is not None
    assert Job.objects.filter(kind="attribution_run").count() == 2
