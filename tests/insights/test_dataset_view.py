"""The dataset view: the confusion matrix on the 250 held-out evaluation clips, and each cell's clips."""

import pytest

from experiments.models import Recording
from tests.conftest import login


@pytest.mark.slow
def test_validation_evaluates_every_bundled_clip(evaluated_model):
    evaluation = evaluated_model.metrics["evaluation_clips"]

    assert evaluation["n"] == 250
    assert sum(map(sum, evaluation["confusion"])) == 250
    assert len(evaluation["clips"]) == 250
    assert {c["label"] for c in evaluation["clips"]} == {str(d) for d in range(10)}
    assert evaluated_model.metrics["sample_clips"]["n"] == 20


@pytest.mark.slow
def test_it_shows_the_confusion_matrix(alice_client, evaluated_model):
    response = alice_client.get(f"/models/{evaluated_model.pk}/dataset/")

    assert response.status_code == 200
    assert b"Confusion matrix" in response.content
    assert b"250 held-out evaluation clips" in response.content
    for label in "0123456789":
        assert f"?true={label}&amp;pred=".encode() in response.content


@pytest.mark.slow
def test_a_cell_lists_its_clips_to_hear_and_open(alice_client, evaluated_model):
    evaluation = evaluated_model.metrics["evaluation_clips"]
    clip = evaluation["clips"][0]

    response = alice_client.get(
        f"/models/{evaluated_model.pk}/dataset/?true={clip['label']}&pred={clip['predicted']}",
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert clip["file"].encode() in response.content
    name = clip["file"].removesuffix(".wav")
    assert alice_client.get(f"/models/clips/{name}.wav")["Content-Type"] == "audio/wav"
    opened = alice_client.post("/recordings/new/", {"sample": name})
    recording = Recording.objects.get()
    assert opened.url == f"/recordings/{recording.pk}/"
    assert recording.original_name == clip["file"]


@pytest.mark.slow
@pytest.mark.parametrize("query", ["?true=3&pred=x", "?true=&pred=", "?true=11&pred=3"])
def test_a_bad_cell_lists_nothing(alice_client, evaluated_model, query):
    response = alice_client.get(f"/models/{evaluated_model.pk}/dataset/{query}")

    assert response.status_code == 200
    assert b"Pick a cell of the matrix" in response.content


@pytest.mark.slow
def test_the_api_gives_the_matrix(client, evaluated_model, alice):
    login(client, alice)

    data = client.get(f"/api/models/{evaluated_model.pk}/dataset/").json()

    assert data["labels"] == [str(d) for d in range(10)]
    assert len(data["clips"]) == 250


def test_unknown_clips_and_unevaluated_versions_answer_404(alice_client, active_model):
    assert alice_client.get("/models/clips/../../settings.wav").status_code == 404
    assert alice_client.get("/models/clips/nope.wav").status_code == 404
    assert alice_client.get(f"/models/{active_model.pk}/dataset/").status_code == 404
    assert alice_client.get(f"/api/models/{active_model.pk}/dataset/").status_code == 404
