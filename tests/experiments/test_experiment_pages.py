"""Experiment pages: create from the lab, the comparison page, its fragments and images, list, edit, delete."""

import io

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from dsp.params import FeatureParams
from experiments.models import Experiment
from experiments.services.experiments import experiment_create, experiment_submit
from experiments.services.recordings import recording_derive
from jobs.models import Job
from jobs.runner import job_execute
from modelzoo.models import ModelVersion

HTMX = {"HTTP_HX_REQUEST": "true"}


def _png(response) -> Image.Image:
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))


# ----------------------------------------------------------------------------- creating from the lab


def test_compare_with_original_creates_an_experiment_from_the_lab(client, alice, make_clip):
    original = make_clip(alice)
    edited = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}])
    client.force_login(alice)
    lab = client.get(reverse("recording_detail", args=[edited.pk])).content.decode()
    assert "Compare with original" in lab and "Compare with…" in lab

    response = client.post(
        reverse("experiment_new"), {"mode": "recordings", "recording_a": original.pk, "recording_b": edited.pk}
    )

    experiment = Experiment.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == reverse("experiment_detail", args=[experiment.pk])
    assert (experiment.recording_a, experiment.recording_b) == (original, edited)
    assert experiment.status == "draft"
    assert experiment.title == f"{original.title}: original vs reverse"


def test_compare_with_original_twice_opens_the_same_experiment(client, alice, make_clip):
    original = make_clip(alice)
    edited = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}])
    client.force_login(alice)
    lab = client.get(reverse("recording_detail", args=[edited.pk])).content.decode()
    assert 'name="reuse" value="1"' in lab
    pair = {"mode": "recordings", "recording_a": original.pk, "recording_b": edited.pk, "reuse": "1"}

    first = client.post(reverse("experiment_new"), pair)
    second = client.post(reverse("experiment_new"), pair, HTTP_HX_REQUEST="true")

    experiment = Experiment.objects.get(owner=alice)
    assert first["Location"] == reverse("experiment_detail", args=[experiment.pk])
    assert second["HX-Redirect"] == reverse("experiment_detail", args=[experiment.pk])
    # the form without "reuse" is a deliberate new comparison of the same pair
    client.post(reverse("experiment_new"), {**pair, "reuse": ""})
    assert Experiment.objects.filter(owner=alice).count() == 2


def test_compare_with_menu_lists_the_other_versions_and_prefills_the_form(client, alice, make_clip):
    original = make_clip(alice)
    edited = recording_derive(recording=original, operations=[{"op": "gain", "params": {"db": 6}}])
    client.force_login(alice)
    lab = client.get(reverse("recording_detail", args=[original.pk])).content.decode()
    link = f"{reverse('experiment_new')}?a={original.pk}&amp;b={edited.pk}"
    assert link in lab and "Compare with original" not in lab  # an original has no original to compare with

    form = client.get(reverse("experiment_new"), {"a": original.pk, "b": edited.pk}).content.decode()
    assert f'<option value="{original.pk}" selected>' in form and f'<option value="{edited.pk}" selected>' in form


def test_the_lab_shows_no_compare_actions_to_a_reviewer(client, ines, submitted_experiment):
    client.force_login(ines)
    lab = client.get(reverse("recording_detail", args=[submitted_experiment.recording_a_id])).content.decode()
    assert "Compare with" not in lab


@pytest.mark.parametrize(
    ("choose", "message"),
    [
        ({"recording_b": "same"}, "Recording B is the same as recording A"),
        ({}, "Choose a second recording (B)"),
    ],
)
def test_the_form_explains_what_is_wrong(client, alice, make_clip, choose, message):
    clip = make_clip(alice)
    client.force_login(alice)
    data = {"mode": "recordings", "recording_a": clip.pk}
    if choose.get("recording_b") == "same":
        data["recording_b"] = clip.pk
    response = client.post(reverse("experiment_new"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Experiment.objects.exists()


def test_another_users_recording_cannot_be_put_in_an_experiment(client, alice, bob, make_clip):
    mine, theirs = make_clip(alice), make_clip(bob, "5_george_5")
    client.force_login(alice)
    response = client.post(
        reverse("experiment_new"), {"mode": "recordings", "recording_a": mine.pk, "recording_b": theirs.pk}
    )
    assert response.status_code == 400 and not Experiment.objects.exists()


# ----------------------------------------------------------------------------- the comparison page


def test_the_comparison_page_shows_both_sides_and_what_changed(client, alice, ab_experiment):
    client.force_login(alice)
    response = client.get(reverse("experiment_detail", args=[ab_experiment.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    a, b = ab_experiment.recording_a, ab_experiment.recording_b
    for url in (reverse("recording_audio", args=[a.pk]), reverse("recording_spectrogram", args=[b.pk])):
        assert url in page
    assert page.count("data-waveform") == 2 and "dBFS" in page
    assert 'data-state="done"' in page and "hx-trigger" not in page.split('id="results"')[1].split(">")[0]
    assert "Change A→B" in page and page.count('class="delta-val') == 10
    assert "‖A−B‖ / (‖A‖ + ‖B‖)" in page  # the measure is stated where the ranking is
    assert 'class="sim-chart"' in page and page.count('class="pt') == 5  # input, conv1-3, output
    assert page.count('class="cmp-filter"') >= 16
    first_filter = page.split('class="cmp-filter"')[1]
    assert "/layers/" in first_filter and "/row-ab.png" in first_filter
    id_a, id_b = _analysis_ids(ab_experiment)
    assert f'data-play="/analyses/{id_a}/layers/' in page and f'data-play="/analyses/{id_b}/layers/' in page
    assert "Join a course to submit" in page and "Download report" in page  # alice attends no course here


def _analysis_ids(experiment):
    from experiments.selectors import experiment_analyses

    return [a.pk for a in experiment_analyses(experiment)]


def test_filters_are_ranked_by_change_or_listed_by_index(client, alice, ab_experiment):
    client.force_login(alice)
    url = reverse("experiment_detail", args=[ab_experiment.pk])
    ranked = client.get(url, {"layer": "conv3"}, HTTP_HX_TARGET="layer-panel", **HTMX).content.decode()
    assert ranked.lstrip().startswith('<div id="layer-panel">') and "<html" not in ranked
    changes = [float(x.split('"')[0]) for x in ranked.split('data-change="')[1:]]
    assert len(changes) == 32 and changes == sorted(changes, reverse=True)
    by_index = client.get(url, {"layer": "conv3", "order": "index"}, HTTP_HX_TARGET="layer-panel", **HTMX)
    indexes = [int(x.split('"')[0]) for x in by_index.content.decode().split('data-filter="')[1:]]
    assert indexes == list(range(32))


def test_swapping_puts_b_on_the_left_and_flips_the_difference(client, alice, ab_experiment):
    client.force_login(alice)
    page = client.get(reverse("experiment_detail", args=[ab_experiment.pk]), {"swap": "1"}).content.decode()
    sides = page.split('data-side="')
    assert sides[1].startswith("A") and reverse("recording_audio", args=[ab_experiment.recording_b_id]) in sides[1]
    assert "/row-ba.png" in page and "/row-ab.png" not in page
    assert f'href="{reverse("experiment_detail", args=[ab_experiment.pk])}"' in page  # swap back


def test_a_pending_analysis_shows_progress_and_is_swapped_in_when_done(client, alice, make_clip, settings):
    clip = make_clip(alice)
    edited = recording_derive(recording=clip, operations=[{"op": "reverse", "params": {}}])
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
    experiment = experiment_create(owner=alice, recording_a=clip, recording_b=edited)
    client.force_login(alice)
    url = reverse("experiment_detail", args=[experiment.pk])

    page = client.get(url).content.decode()
    assert 'data-state="pending"' in page and 'hx-trigger="load delay:100ms, every 2s"' in page
    assert "The network is listening" in page

    for job in Job.objects.filter(kind="analysis_run", status="pending"):
        job_execute(job_id=str(job.pk))
    fragment = client.get(url, HTTP_HX_TARGET="results", **HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="results" data-state="done"') and "hx-trigger" not in fragment[:300]
    assert 'id="layer-panel"' in fragment


def test_a_failed_analysis_shows_its_message_and_can_be_retried(client, alice, ab_experiment):
    from experiments.selectors import experiment_analyses

    _, analysis_b = experiment_analyses(ab_experiment)
    Job.objects.filter(pk=analysis_b.job_id).update(status="failed", error="The worker ran out of memory.")
    client.force_login(alice)
    page = client.get(reverse("experiment_detail", args=[ab_experiment.pk])).content.decode()
    assert 'data-state="failed"' in page and "The worker ran out of memory." in page and "Retry" in page

    response = client.post(reverse("experiment_retry", args=[ab_experiment.pk]))
    assert response.status_code == 302
    analysis_b.job.refresh_from_db()
    assert analysis_b.job.status == "done"


# ----------------------------------------------------------------------------- images


def test_filter_images_share_a_scale_and_the_difference_is_centred_on_zero(client, alice, ab_experiment):
    client.force_login(alice)
    base = ("experiment_filter_image", ab_experiment.pk, "conv1", 3)
    images = {side: _png(client.get(reverse(base[0], args=[*base[1:], side]))) for side in ("a", "b", "ab", "ba")}
    params = FeatureParams.from_dict(ab_experiment.model_version.feature_params)
    # conv1 keeps the input's (time, frequency) size
    assert {image.size for image in images.values()} == {(params.n_frames, params.n_freq)}
    ab, ba = np.asarray(images["ab"], dtype=int), np.asarray(images["ba"], dtype=int)
    # Mirror images on RdBu_r: where A−B is red, B−A is blue.
    assert (ab[..., 0] - ab[..., 2]).mean() == pytest.approx(-(ba[..., 0] - ba[..., 2]).mean(), abs=2)
    response = client.get(reverse(base[0], args=[*base[1:], "a"]))
    assert response["Cache-Control"].endswith("immutable") and response["ETag"]
    again = client.get(reverse(base[0], args=[*base[1:], "a"]), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_row_image_puts_a_b_and_the_difference_side_by_side(client, alice, ab_experiment):
    from experiments.comparison_page import row_gap

    client.force_login(alice)
    args = [ab_experiment.pk, "conv2", 7]
    row = np.asarray(_png(client.get(reverse("experiment_filter_image", args=[*args, "row-ab"]))))
    panels = [
        np.asarray(_png(client.get(reverse("experiment_filter_image", args=[*args, s])))) for s in ("a", "b", "ab")
    ]
    height, width, _ = panels[0].shape
    gap = row_gap(width)
    assert row.shape == (height, 3 * width + 2 * gap, 3)
    for k, panel in enumerate(panels):
        assert np.array_equal(row[:, k * (width + gap) : k * (width + gap) + width], panel)
    assert (row[:, width : width + gap] == 255).all()  # white gaps between the panels


def test_the_difference_of_identical_maps_is_white(client, alice, make_clip):
    clip = make_clip(alice)
    louder = recording_derive(recording=clip, operations=[{"op": "gain", "params": {"db": 6}}])
    experiment = experiment_create(owner=alice, recording_a=clip, recording_b=louder)
    client.force_login(alice)
    # The network standardises its input: 6 dB louder is the same input, so A−B is 0 everywhere.
    diff = np.asarray(_png(client.get(reverse("experiment_filter_image", args=[experiment.pk, "conv2", 0, "ab"]))))
    assert np.abs(diff.astype(int) - diff[0, 0].astype(int)).max() <= 2 and diff[0, 0].min() > 230


@pytest.mark.parametrize(("layer", "index", "side"), [("conv9", 0, "a"), ("conv1", 16, "a"), ("conv1", 0, "x")])
def test_unknown_layers_filters_and_sides_answer_404(client, alice, ab_experiment, layer, index, side):
    client.force_login(alice)
    url = reverse("experiment_filter_image", args=[ab_experiment.pk, layer, index, side])
    assert client.get(url).status_code == 404


# ----------------------------------------------------------------------------- two model versions


def test_comparing_two_model_versions_shows_both_and_their_weights(client, alice, model_experiment, second_model):
    client.force_login(alice)
    page = client.get(reverse("experiment_detail", args=[model_experiment.pk])).content.decode()
    assert "One clip, two model versions" in page and second_model.name in page
    assert page.count("data-waveform") == 1  # one clip, drawn once
    assert 'id="weights"' in page and page.count('class="outline-a"') == page.count('class="outline-b"') >= 6
    assert "Two separately trained versions" in page
    assert page.count('class="cmp-filter"') >= 16


def test_comparing_two_model_versions_shows_their_robustness_side_by_side(
    client, alice, model_experiment, active_model, second_model
):
    def measured(noisy: float) -> dict:
        per_label = {str(d): 1.0 for d in range(10)}
        row = {"title": "room noise at 10 dB SNR", "accuracy": noisy, "per_label": per_label, "n": 250}
        return {"robustness": {"seed": 0, "n": 250, "conditions": {"noise_10db": row}}}

    ModelVersion.objects.filter(pk=active_model.pk).update(metrics=measured(0.516))
    ModelVersion.objects.filter(pk=second_model.pk).update(metrics=measured(0.9))
    client.force_login(alice)

    page = client.get(reverse("experiment_detail", args=[model_experiment.pk])).content.decode()

    assert 'id="robustness"' in page and "Robustness of the two versions" in page
    assert "room noise at 10 dB SNR" in page and "51.6%" in page and "90%" in page
    assert "+38.4%" in page  # B minus A


def test_versions_measured_before_robustness_existed_show_no_robustness_table(client, alice, model_experiment):
    client.force_login(alice)

    page = client.get(reverse("experiment_detail", args=[model_experiment.pk])).content.decode()

    assert "Robustness of the two versions" not in page


# ----------------------------------------------------------------------------- list, edit, duplicate, delete


def test_the_list_searches_titles_notes_and_recordings_and_filters_by_status(client, alice, make_clip, course):
    clip = make_clip(alice)
    other = make_clip(alice, "7_nicolas_5")
    first = experiment_create(owner=alice, recording_a=clip, recording_b=other, title="Vowels", notes="formants")
    second = experiment_create(owner=alice, recording_a=other, recording_b=clip, title="Loudness")
    experiment_submit(experiment=second, course=course)
    client.force_login(alice)
    url = reverse("experiment_list")

    def titles(**params) -> list[str]:
        page = client.get(url, params).content.decode()
        return [e.title for e in (first, second) if f'data-experiment="{e.pk}"' in page]

    assert titles() == ["Vowels", "Loudness"]
    assert titles(q="formant") == ["Vowels"]
    assert titles(q="nicolas") == ["Vowels", "Loudness"]  # a recording's title
    assert titles(status="submitted") == ["Loudness"]
    fragment = client.get(url, {"q": "vow"}, HTTP_HX_TARGET="experiment-results", **HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="experiment-results">') and "Vowels" in fragment
    assert "No experiment matches" in client.get(url, {"q": "zzz"}).content.decode()


def test_the_owner_edits_title_and_notes(client, alice, ab_experiment):
    client.force_login(alice)
    url = reverse("experiment_edit", args=[ab_experiment.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"title": "  Reversal  ", "notes": "<b>bold</b> guess"})
    assert response.status_code == 302
    ab_experiment.refresh_from_db()
    assert (ab_experiment.title, ab_experiment.notes) == ("Reversal", "<b>bold</b> guess")
    page = client.get(reverse("experiment_detail", args=[ab_experiment.pk])).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; guess" in page and "<b>bold</b>" not in page


def test_duplicating_makes_a_new_draft(client, alice, submitted_experiment):
    client.force_login(alice)
    response = client.post(reverse("experiment_duplicate", args=[submitted_experiment.pk]))
    copy = Experiment.objects.exclude(pk=submitted_experiment.pk).get()
    assert response["Location"] == reverse("experiment_detail", args=[copy.pk])
    assert copy.title == f"Copy of {submitted_experiment.title}" and copy.status == "draft" and copy.course is None
    assert (copy.recording_a, copy.recording_b) == (submitted_experiment.recording_a, submitted_experiment.recording_b)
    assert copy.comments.count() == 0


def test_deleting_asks_first_then_deletes_and_keeps_the_recordings(client, alice, ab_experiment):
    client.force_login(alice)
    url = reverse("experiment_delete", args=[ab_experiment.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Delete this experiment?" in confirm.content.decode()
    assert Experiment.objects.filter(pk=ab_experiment.pk).exists()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("experiment_list")
    assert not Experiment.objects.filter(pk=ab_experiment.pk).exists()
    assert alice.recordings.count() == 2


def test_a_submitted_experiment_is_not_deleted(client, alice, submitted_experiment):
    client.force_login(alice)
    response = client.post(reverse("experiment_delete", args=[submitted_experiment.pk]))
    assert response.status_code == 409 and "kept for your instructors" in response.content.decode()
    assert Experiment.objects.filter(pk=submitted_experiment.pk).exists()


def test_posts_need_the_csrf_token(alice, ab_experiment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("experiment_duplicate", args=[ab_experiment.pk])).status_code == 403
    assert client.post(reverse("experiment_delete", args=[ab_experiment.pk])).status_code == 403
    assert Experiment.objects.count() == 1


def test_filters_silent_for_both_sides_say_so_have_no_play_button_and_no_similarity(client, alice, ab_experiment):
    from experiments.selectors import experiment_analyses

    analysis_a, analysis_b = experiment_analyses(ab_experiment)
    conv2_a, conv2_b = analysis_a.layers[1], analysis_b.layers[1]
    silent_both = [k for k in range(16) if conv2_a["max"][k] == 0 and conv2_b["max"][k] == 0]
    assert silent_both  # the bundled model's conv2 has filters that never fire
    client.force_login(alice)

    panel = client.get(
        reverse("experiment_detail", args=[ab_experiment.pk]),
        {"layer": "conv2", "order": "index"},
        HTTP_HX_TARGET="layer-panel",
        **HTMX,
    ).content.decode()

    figures = {int(f.split('"')[0]): f for f in panel.split('data-filter="')[1:]}
    for k, figure in figures.items():
        if k in silent_both:
            assert "data-silent-both" in figure and "cosine similarity undefined" in figure
            assert "data-play=" not in figure and figure.count("silent</span>") == 2
        else:
            assert "data-silent-both" not in figure and "undefined" not in figure
    page = client.get(reverse("experiment_detail", args=[ab_experiment.pk])).content.decode()
    for k in silent_both:  # no dot claims a similarity for them
        assert f"conv2 filter {k}: cosine" not in page
    conv3_a, conv3_b = analysis_a.layers[2], analysis_b.layers[2]
    count = len(silent_both) + sum(1 for k in range(32) if conv3_a["max"][k] == 0 and conv3_b["max"][k] == 0)
    assert f"{count} filters fire for neither A nor B" in page
