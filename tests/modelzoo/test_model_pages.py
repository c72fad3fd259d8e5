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


def test_an_uploaded_version_shows_its_held_out_accuracy_on_the_list(alice_client, active_model, second_model):
    # What validation records for an uploaded version: no training split of its own, the bundled held-out clips.
    ModelVersion.objects.filter(pk=second_model.pk).update(
        metrics={"sample_clips": {"accuracy": 0.85, "n": 20}, "evaluation_clips": {"accuracy": 0.912, "n": 250}}
    )

    listing = alice_client.get("/models/").content.decode()

    row = listing[listing.index(second_model.name) :]
    row = row[: row.index("</tr>")]
    assert '<span title="on the 250 bundled held-out clips">91.2%</span>' in row


def _robustness(clean: float, noisy: float) -> dict:
    per_label = {str(d): 1.0 for d in range(10)}
    return {
        "seed": 0,
        "n": 250,
        "conditions": {
            "clean": {"title": "as recorded (clean, 8 kHz)", "accuracy": clean, "per_label": per_label, "n": 250},
            "noise_10db": {
                "title": "room noise at 10 dB SNR",
                "accuracy": noisy,
                "per_label": per_label | {"6": 0.2},
                "n": 250,
            },
        },
    }


def test_the_page_shows_where_the_version_breaks(alice_client, active_model):
    ModelVersion.objects.filter(pk=active_model.pk).update(metrics={"robustness": _robustness(0.992, 0.516)})

    page = alice_client.get(f"/models/{active_model.pk}/").content.decode()

    assert "Robustness: where it breaks" in page
    assert "room noise at 10 dB SNR" in page and "51.6%" in page and "99.2%" in page
    assert "“6” 20%" in page  # the weakest digit under that condition
    assert 'class="robust-bad"' in page  # 51.6 % is where it breaks
    assert "where it does worst: room noise at 10 dB SNR" in page


def test_a_version_validated_before_robustness_existed_says_so(alice_client, active_model):
    ModelVersion.objects.filter(pk=active_model.pk).update(metrics={"heldout_takes": {"accuracy": 0.9, "n": 250}})

    page = alice_client.get(f"/models/{active_model.pk}/").content.decode()

    assert "validated before robustness was measured" in page and "robust-bar" not in page
