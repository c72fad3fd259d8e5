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


def test_a_digit_it_does_not_hear_asks_what_would_make_it_hear_that_digit(alice_client, analysis):
    heard = analysis.predicted_label
    other = next(label for label in analysis.model_version.labels if label != heard)

    page = _explain(alice_client, analysis, other).content.decode()

    assert f"What in the clip would make the network hear “{other}”?" in page
    assert f"It hears “{heard}” ({round(analysis.probabilities[heard] * 100)} %)" in page
    assert f"Why does the network hear “{other}”" not in page


def test_the_summary_says_what_the_numbers_mean_in_plain_words(alice_client, analysis):
    page = _explain(alice_client, analysis).content.decode()
    summary = Attribution.objects.get().summary

    assert "error of the sum" not in page and "adds up to" not in page
    assert f"If the clip were silence, the network would give “{analysis.predicted_label}” " in page
    assert f"{summary['baseline_score'] * 100:.1f} %; for the clip as it is, {summary['score'] * 100:.1f} %" in page


def test_a_map_whose_evidence_lies_in_the_padding_says_so(alice_client, alice, active_model):
    from experiments.selectors import analysis_cache
    from insights.attribution import PADDING_WARNING_SHARE, evidence_outside_word
    from insights.selectors import attribution_maps

    # On this take the bundled model's conv2 and conv3 Grad-CAMs put over a quarter of their evidence outside the word.
    analysis = analysed(alice, "2_nicolas_5")
    page = _explain(alice_client, analysis).content.decode()
    attribution = Attribution.objects.get()
    params = FeatureParams.from_dict(active_model.feature_params)
    waveform = analysis_cache(analysis).waveform
    shares = {key: evidence_outside_word(m, waveform, params) for key, m in attribution_maps(attribution).items()}

    warned = [key for key, share in shares.items() if share >= PADDING_WARNING_SHARE]
    assert "cam_conv3" in warned and "ig" not in warned
    assert page.count("data-padding-warning") == len(warned)
    assert f"{round(shares['cam_conv3'] * 100)} % of this map’s evidence" in page


def test_the_evidence_and_the_rest_keep_their_loudness_in_the_clip(alice_client, analysis, active_model):
    from experiments.selectors import analysis_cache
    from insights.attribution import attribution_masks, listen
    from insights.selectors import attribution_maps

    _explain(alice_client, analysis)
    attribution = Attribution.objects.get()
    params = FeatureParams.from_dict(active_model.feature_params)
    spectrum = analysis_cache(analysis).stft
    for key, heat in attribution_maps(attribution).items():
        masks = dict(zip(("evidence", "rest"), attribution_masks(heat), strict=True))
        gains = []
        for part, mask in masks.items():
            wav = alice_client.get(f"/attributions/{attribution.pk}/{key}/{part}.wav").content
            played, _ = sf.read(io.BytesIO(wav))
            raw = listen(spectrum, mask, params)
            gains.append(np.abs(played).max() / np.abs(raw).max())
        # one gain for both parts: each scaled to its own peak would give two different factors
        assert gains[0] == pytest.approx(gains[1], rel=1e-3), key
