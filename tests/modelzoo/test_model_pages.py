"""The model list and a model's page show its measured accuracy as it was measured."""

import pytest

from modelzoo.models import ModelVersion
from modelzoo.templatetags.model_figures import percent, plain

METRICS = {
    "heldout_takes": {"accuracy": 0.988, "n": 250},
    "leave_one_speaker_out": {"mean_accuracy": 0.8773, "folds": {"loso george": 0.8622}},
}


@pytest.mark.parametrize(
    ("fraction", "text"),
    [(0.988, "98.8%"), (1.0, "100%"), (0.0, "0%"), (0.87733, "87.7%"), (0.9996, "100%"), (None, "—"), ("", "—")],
)
def test_percent_keeps_one_decimal(fraction, text):
    assert percent(fraction) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (["george", "jackson"], "george, jackson"),
        ((10.0, 40.0), "10.0, 40.0"),
        ([], ""),
        (0.002, "0.002"),
        ("hann", "hann"),
    ],
)
def test_plain_writes_lists_as_a_person_would(value, text):
    assert plain(value) == text


def test_the_list_and_the_page_show_held_out_and_leave_one_speaker_out_accuracy(alice_client, active_model):
    ModelVersion.objects.filter(pk=active_model.pk).update(metrics=METRICS, training_data={"speakers": ["a", "b"]})

    listing = alice_client.get("/models/").content.decode()
    page = alice_client.get(f"/models/{active_model.pk}/").content.decode()

    assert "98.8%" in listing and "99%" not in listing
    assert "98.8%" in page and "87.7%" in page
    assert "george 86.2%" in page  # every fold
    assert "<dd>a, b</dd>" in page
