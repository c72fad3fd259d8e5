"""Attribution you can see and hear: Grad-CAM per layer and integrated gradients, evidence and rest."""

import io

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from dsp.params import FeatureParams
from insights.models import Attribution
from tests.conftest import login
from tests.experiments.lab_support import analysed


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


def _explain(client, analysis, target=None):
    """Ask for an explanation as the page's buttons do (a POST), then follow to the page."""
    data = {"target": target} if target else {}
    return client.post(f"/analyses/{analysis.pk}/attribution/", data, follow=True)


def test_opening_the_page_starts_nothing(alice_client, analysis):
    response = alice_client.get(f"/analyses/{analysis.pk}/attribution/")

    assert response.status_code == 200
    assert b"Explain" in response.content
    assert not Attribution.objects.exists()


def test_it_explains_the_predicted_digit_by_default(alice_client, analysis):
    response = _explain(alice_client, analysis)

    assert response.status_code == 200
    attribution = Attribution.objects.get()
    assert attribution.target == analysis.predicted_label
    assert attribution.is_done, attribution.job.error
    assert set(attribution.summary["layers"]) == {"conv1", "conv2", "conv3"}
    assert f"/attributions/{attribution.pk}/ig.png".encode() in response.content
    for layer in ("conv1", "conv2", "conv3"):
        assert f"/attributions/{attribution.pk}/cam_{layer}/evidence.wav".encode() in response.content


@pytest.mark.parametrize("target", ["0", "3", "9", "eleven"])
def test_it_explains_any_digit_the_user_picks(alice_client, analysis, target):
    response = _explain(alice_client, analysis, target)

    if target == "eleven":
        assert response.status_code == 404
        assert not Attribution.objects.exists()
        return
    assert response.status_code == 200
    assert Attribution.objects.get().target == target


def test_asking_twice_reuses_the_attribution(alice_client, analysis):
    _explain(alice_client, analysis, "4")
    _explain(alice_client, analysis, "4")

    assert Attribution.objects.count() == 1


def test_the_overlays_are_pngs_with_axes(alice_client, analysis):
    _explain(alice_client, analysis)
    attribution = Attribution.objects.get()

    for key in ("ig", "cam_conv1", "cam_conv3"):
        response = alice_client.get(f"/attributions/{attribution.pk}/{key}.png")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert "immutable" in response["Cache-Control"]
        assert Image.open(io.BytesIO(response.content)).size == (720, 320)
    assert alice_client.get(f"/attributions/{attribution.pk}/cam_conv9.png").status_code == 404


def test_the_evidence_and_the_rest_are_clips_the_models_length(alice_client, analysis, active_model):
    _explain(alice_client, analysis)
    attribution = Attribution.objects.get()
    params = FeatureParams.from_dict(active_model.feature_params)

    clips = {}
    for part in ("evidence", "rest"):
        response = alice_client.get(f"/attributions/{attribution.pk}/ig/{part}.wav")
        assert response.status_code == 200
        clips[part], sr = sf.read(io.BytesIO(response.content))
        assert sr == params.sample_rate
        assert len(clips[part]) == params.n_samples
    assert np.abs(clips["evidence"]).max() > 0
    assert not np.allclose(clips["evidence"], clips["rest"])
    assert alice_client.get(f"/attributions/{attribution.pk}/ig/everything.wav").status_code == 404


def test_it_rejects_other_users(client, analysis, charlie, alice_client):
    _explain(alice_client, analysis)
    attribution = Attribution.objects.get()
    login(client, charlie)

    assert client.get(f"/analyses/{analysis.pk}/attribution/").status_code == 404
    assert client.post(f"/analyses/{analysis.pk}/attribution/").status_code == 404
    assert client.get(f"/attributions/{attribution.pk}/ig.png").status_code == 404
    assert client.get(f"/attributions/{attribution.pk}/ig/evidence.wav").status_code == 404
    assert client.post(f"/api/analyses/{analysis.pk}/attribution/", {}).status_code == 404
    assert client.get(f"/api/attributions/{attribution.pk}/").status_code == 404


def test_a_missing_attribution_and_another_users_answer_the_same_404(client, analysis, charlie, alice_client):
    _explain(alice_client, analysis)
    attribution = Attribution.objects.get()
    login(client, charlie)

    other = client.get(f"/api/attributions/{attribution.pk}/")
    missing = client.get(f"/api/attributions/{attribution.pk + 1000}/")

    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()


def test_the_api_gives_the_maps_and_their_sounds(alice_client, analysis):
    response = alice_client.post(
        f"/api/analyses/{analysis.pk}/attribution/", {"target": "2"}, content_type="application/json"
    )

    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "done" and data["target"] == "2"
    assert [m["key"] for m in data["maps"]] == ["ig", "cam_conv1", "cam_conv2", "cam_conv3"]
    assert alice_client.get(data["maps"][1]["evidence"]).status_code == 200
    assert alice_client.get(f"/api/attributions/{data['id']}/").json()["summary"]["layers"] == [
        "conv1",
        "conv2",
        "conv3",
    ]
    bad = alice_client.post(
        f"/api/analyses/{analysis.pk}/attribution/", {"target": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert "not one of the model's labels" in bad.json()["detail"]
