"""POST /api/analyses/{id}/ablations/ and GET /api/ablations/{id}/: mute or solo, with and without, scoped."""

import numpy as np
import pytest
from rest_framework.test import APIClient

from experiments.models import Analysis
from insights.models import Ablation, AblationAccuracy
from jobs.models import Job
from tests.experiments.lab_support import analysed, stored_state
from tests.insights.insight_support import dead_filters


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def analysis(alice, active_model) -> Analysis:
    return analysed(alice)


def _post(user, analysis, payload):
    return _api(user).post(f"/api/analyses/{analysis.pk}/ablations/", payload, format="json")


def test_muting_filters_gives_new_probabilities_their_change_and_the_layers_sound(alice, analysis):
    client = _api(alice)

    response = _post(alice, analysis, {"layer": "conv3", "mute": [4, 1]})

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "done" and data["mode"] == "mute"
    assert data["filters"] == [1, 4] and data["muted"] == [1, 4]
    assert sum(data["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert data["predicted_label"] == max(data["probabilities"], key=data["probabilities"].get)
    for label, change in data["change"].items():
        assert change == pytest.approx(data["probabilities"][label] - analysis.probabilities[label], abs=1e-5)
    assert data["accuracy"]["status"] == "done" and data["accuracy"]["n"] == 250
    assert data["accuracy"]["change"] == pytest.approx(data["accuracy"]["after"] - data["accuracy"]["before"], abs=1e-4)
    for key in ("audio", "audio_before"):
        sound = client.get(data[key])
        assert sound.status_code == 200 and sound.headers["Content-Type"] == "audio/wav"
    assert client.get(data["audio"]).content != client.get(data["audio_before"]).content
    assert client.get(f"/api/ablations/{data['id']}/").json() == data


def test_solo_keeps_one_filter_and_muting_all_of_a_layer_is_a_valid_edit(alice, analysis):
    solo = _post(alice, analysis, {"layer": "conv1", "solo": 5}).json()
    everything = _post(alice, analysis, {"layer": "conv1", "mute": list(range(16))}).json()

    assert solo["mode"] == "solo" and solo["filters"] == [5] and solo["muted"] == [k for k in range(16) if k != 5]
    assert everything["status"] == "done" and sum(everything["probabilities"].values()) == pytest.approx(1, abs=1e-4)
    assert everything["accuracy"]["after"] <= 0.2  # a deaf first layer leaves the network guessing


def test_muting_a_dead_filter_changes_nothing(alice, analysis):
    dead = dead_filters(analysis.model_version)
    assert dead
    data = _post(alice, analysis, {"layer": "conv2", "mute": dead}).json()

    assert max(abs(v) for v in data["change"].values()) < 1e-5
    assert data["accuracy"]["change"] == 0


def test_the_same_edit_asked_again_is_reused_and_the_accuracy_is_shared_between_clips(alice, analysis, active_model):
    first = _post(alice, analysis, {"layer": "conv2", "mute": [3]})
    again = _post(alice, analysis, {"layer": "conv2", "mute": [3]})
    other_clip = analysed(alice, "2_george_5")
    elsewhere = _post(alice, other_clip, {"layer": "conv2", "mute": [3]})

    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert elsewhere.status_code == 201 and elsewhere.json()["id"] != first.json()["id"]
    assert AblationAccuracy.objects.count() == 1
    assert elsewhere.json()["accuracy"] == first.json()["accuracy"]


def test_the_probabilities_match_the_network_run_on_with_those_filters_silenced(alice, analysis, active_model):
    from dsp.features import prepare
    from experiments.services.recordings import recording_audio
    from modelzoo.inference import load_version

    data = _post(alice, analysis, {"layer": "conv2", "mute": [2, 11]}).json()

    model = load_version(active_model)
    audio = recording_audio(analysis.recording)
    x = prepare(audio.y, audio.sample_rate, model.params, allow_silent=True).features
    acts = model.keras_model.get_layer("conv2")
    import keras

    head = keras.Model(model.keras_model.inputs[0], acts.output)
    a = head(x[None, ..., None]).numpy()
    a[..., [2, 11]] = 0
    tail_layers = model.keras_model.layers[model.keras_model.layers.index(acts) + 1 :]
    for layer in tail_layers:
        a = layer(a, training=False)
    np.testing.assert_allclose(list(data["probabilities"].values()), np.asarray(a)[0], atol=2e-5)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"mute": [1]}, "layer"),
        ({"layer": "conv1"}, "either"),
        ({"layer": "conv1", "mute": [1], "solo": 2}, "either"),
        ({"layer": "conv1", "mute": []}, "empty"),
        ({"layer": "conv1", "mute": [16]}, "filters 0 to 15"),
        ({"layer": "conv1", "mute": [-1]}, "greater than or equal to 0"),
        ({"layer": "conv1", "mute": [2, 2]}, "only once"),
        ({"layer": "conv1", "mute": ["two"]}, "valid integer"),
        ({"layer": "conv1", "mute": [True]}, "valid integer"),
        ({"layer": "conv1", "solo": 99}, "filters 0 to 15"),
        ({"layer": "dense", "mute": [0]}, "not a convolution layer"),
        ({"layer": "conv1", "mute": list(range(5000))}, "no more than 4096"),
        ({"layer": "conv1", "mute": {"a": {"b": {"c": [1]}}}}, "list"),
    ],
)
def test_a_bad_edit_is_a_400_with_the_reason_and_saves_nothing(alice, analysis, payload, message):
    before = stored_state()

    response = _post(alice, analysis, payload)

    assert response.status_code == 400
    assert message in str(response.json())
    assert stored_state() == before
    assert not Ablation.objects.exists()


def test_a_json_bomb_is_a_400(alice, analysis, active_model):
    depth = 100_000
    bomb = '{"layer": "conv1", "mute": ' + "[" * depth + "]" * depth + "}"
    client = _api(alice)

    ablation = client.post(f"/api/analyses/{analysis.pk}/ablations/", bomb, content_type="application/json")
    label = client.post(f"/api/models/{active_model.pk}/filters/conv1/1/labels/", bomb, content_type="application/json")

    for response in (ablation, label):
        assert response.status_code == 400 and "levels deep" in response.json()["detail"]
    assert not Ablation.objects.exists()


def test_an_analysis_still_running_cannot_be_edited(alice, analysis):
    Job.objects.filter(pk=analysis.job_id).update(status=Job.Status.RUNNING)

    response = _post(alice, analysis, {"layer": "conv1", "mute": [1]})

    assert response.status_code == 409 and "not finished" in response.json()["detail"]


def test_someone_elses_analysis_and_ablation_are_the_same_404_as_missing_ones(alice, charlie, analysis):
    ablation_id = _post(alice, analysis, {"layer": "conv1", "mute": [1]}).json()["id"]
    client = _api(charlie)

    assert _post(charlie, analysis, {"layer": "conv1", "mute": [1]}).status_code == 404
    assert (
        client.get(f"/api/ablations/{ablation_id}/").json() == client.get(f"/api/ablations/{ablation_id + 99}/").json()
    )
    assert client.get(f"/api/ablations/{ablation_id}/").status_code == 404
    assert client.get(f"/ablations/{ablation_id}/after.wav").status_code == 404
    assert client.get(f"/api/analyses/{analysis.pk}/ablations/").status_code == 404


def test_the_instructor_of_a_submitted_experiment_reads_its_ablations_but_cannot_add_any(
    alice, ines, submitted_experiment
):
    from experiments.selectors import experiment_analyses

    analysis, _ = experiment_analyses(submitted_experiment)
    made = _post(alice, analysis, {"layer": "conv1", "solo": 0}).json()

    listed = _api(ines).get(f"/api/analyses/{analysis.pk}/ablations/").json()
    refused = _post(ines, analysis, {"layer": "conv1", "mute": [1]})

    assert [row["id"] for row in listed] == [made["id"]]
    assert _api(ines).get(made["audio"]).status_code == 200
    assert refused.status_code == 403 and "owner" in refused.json()["detail"]
    assert Ablation.objects.count() == 1


def test_a_failed_ablation_is_retried_when_asked_again(alice, analysis):
    first = _post(alice, analysis, {"layer": "conv1", "mute": [1]}).json()
    job_id = Ablation.objects.get(pk=first["id"]).job_id
    Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, error="The worker stopped.")

    again = _post(alice, analysis, {"layer": "conv1", "mute": [1]})

    assert again.status_code == 200 and again.json()["status"] == "done"
