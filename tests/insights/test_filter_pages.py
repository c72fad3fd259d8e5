"""What a filter likes on the pages: the filter zoom, the explorer's tiles, the model page, labels and their review."""

import pytest

from insights.models import FilterLabel
from tests.conftest import login
from tests.experiments.lab_support import analysed
from tests.insights.insight_support import dead_filters, stored_insight


@pytest.fixture
def insight(active_model):
    return stored_insight(active_model)


@pytest.fixture
def analysis(alice, active_model):
    return analysed(alice)


def test_the_filter_zoom_shows_what_the_filter_likes_across_the_evaluation_set(alice_client, insight, analysis):
    response = alice_client.get(f"/analyses/{analysis.pk}/layers/conv1/3/", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "What it likes across the evaluation set" in html
    assert "Listen to what it likes" in html and f"/models/{insight.model_version_id}/filters/conv1/3/likes.wav" in html
    assert html.count("/filters/conv1/3/examples/") >= 2
    assert "Mean response per digit" in html
    assert "Mute this filter" in html and "Keep only this filter" in html


def test_a_dead_filter_is_marked_dead_for_the_model_not_just_for_this_clip(alice_client, insight, analysis):
    html = alice_client.get(
        f"/analyses/{analysis.pk}/layers/conv2/{dead_filters(insight.model_version)[0]}/"
    ).content.decode()

    assert "dead filter" in html and "never fires on any of the evaluation clips" in html
    assert "never fires on this clip" in html  # the clip's own statistic, beside it


def test_before_it_is_computed_the_zoom_says_so(alice_client, analysis):
    html = alice_client.get(f"/analyses/{analysis.pk}/layers/conv1/3/").content.decode()

    assert "has not been computed yet" in html


def test_the_explorer_tiles_show_dead_filters_approved_labels_and_what_they_like(
    alice_client, alice, ines, course, insight, analysis, active_model
):
    dead = dead_filters(insight.model_version)
    # A filter that lives on the evaluation set (which ones die depends on the bundled model).
    liked = next(k for k in range(16) if k not in dead)
    label = FilterLabel.objects.create(
        model_version=active_model, layer="conv2", index=liked, text="vowel onset", proposed_by=alice
    )
    other = next(k for k in range(16) if k != liked)
    FilterLabel.objects.create(
        model_version=active_model, layer="conv2", index=other, text="not yet", proposed_by=alice
    )
    html = alice_client.get(f"/analyses/{analysis.pk}/explorer/?tab=conv2").content.decode()
    assert "vowel onset" not in html and "not yet" not in html  # only approved labels show on tiles

    FilterLabel.objects.filter(pk=label.pk).update(status=FilterLabel.Status.APPROVED, reviewed_by=ines)
    html = alice_client.get(f"/analyses/{analysis.pk}/explorer/?tab=conv2").content.decode()

    assert dead and html.count(">dead across the dataset</span>") == len(dead)
    # The other filters that do not fire on this clip are only silent for it; none offers to play silence.
    silent = {k for k in range(16) if analysis.layers[1]["max"][k] == 0}
    assert set(dead) <= silent
    tiles = {}
    for chunk in html.split('<figure class="tile')[1:]:
        tiles[int(chunk.split('data-filter="')[1].split('"')[0])] = chunk.split("</figure>")[0]
    assert sorted(tiles) == list(range(16))
    for k, tile in tiles.items():
        assert ("data-play=" in tile) == (k not in silent), k
        assert ("silent for this clip</span>" in tile) == (k in silent - set(dead)), k
        assert ("mean " in tile and " · max " in tile) == (k not in silent), k
    assert "vowel onset <small>· alice</small>" in html
    assert f"/filters/conv2/{liked}/likes.wav" in html and f"/filters/conv2/{dead[0]}/likes.wav" not in html


def test_the_model_page_counts_dead_filters_per_layer_and_says_which_method_to_believe(alice_client, insight):
    html = alice_client.get(f"/models/{insight.model_version_id}/").content.decode()

    assert "Dead filters" in html
    assert "conv2: dead filters" in html and all(f"#{k}<" in html for k in dead_filters(insight.model_version))
    assert "conv1: every filter fires" in html
    assert "Which explanation to believe" in html and "believe" in html
    for title in ("Integrated gradients", "Grad-CAM · conv1", "Grad-CAM · conv2", "Grad-CAM · conv3"):
        assert title in html
    assert "cells in a random order" in html


def test_an_admin_starts_it_from_the_model_page_and_a_student_cannot(client, alice, admin_user, active_model):
    login(client, alice)
    assert "Compute it now" not in client.get(f"/models/{active_model.pk}/").content.decode()
    assert client.post(f"/models/{active_model.pk}/insight/").status_code == 302  # to the admin login
    from insights.models import VersionInsight

    assert not VersionInsight.objects.exists()

    login(client, admin_user)
    assert "Compute it now" in client.get(f"/models/{active_model.pk}/").content.decode()


def test_the_model_filter_page_and_its_media(alice_client, insight, active_model):
    page = alice_client.get(f"/models/{active_model.pk}/filters/conv3/0/")
    image = alice_client.get(f"/models/{active_model.pk}/filters/conv3/0/examples/0.png")
    sound = alice_client.get(f"/models/{active_model.pk}/filters/conv3/0/examples/0.wav")
    likes = alice_client.get(f"/models/{active_model.pk}/filters/conv3/0/likes.wav")
    again = alice_client.get(
        f"/models/{active_model.pk}/filters/conv3/0/likes.wav", HTTP_IF_NONE_MATCH=likes.headers["ETag"]
    )

    assert page.status_code == 200 and "conv3 · filter 0" in page.content.decode()
    assert image.headers["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")
    assert sound.headers["Content-Type"] == "audio/wav" and sound.content.startswith(b"RIFF")
    assert len(likes.content) > len(sound.content)  # several clips, one after another
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "filters/conv3/32/",
        "filters/dense/0/",
        "filters/conv3/0/examples/9.png",
        "filters/conv2/{dead}/likes.wav",  # a dead filter likes nothing
        "filters/conv2/{dead}/examples/0.wav",
    ],
)
def test_filters_and_examples_that_do_not_exist_are_404(alice_client, insight, active_model, path):
    path = path.format(dead=dead_filters(insight.model_version)[0])
    assert alice_client.get(f"/models/{active_model.pk}/{path}").status_code == 404


def test_proposing_a_label_from_the_zoom_returns_the_list_and_an_error_next_to_the_field(
    alice_client, insight, active_model
):
    url = f"/models/{active_model.pk}/filters/conv1/3/labels/"

    ok = alice_client.post(url, {"text": "high hiss"}, HTTP_HX_REQUEST="true")
    refused = alice_client.post(url, {"text": "x"}, HTTP_HX_REQUEST="true")

    assert ok.status_code == 200 and "high hiss" in ok.content.decode() and "waiting for review" in ok.content.decode()
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "data-error-message" in html and "2 to 80 characters" in html and 'aria-invalid="true"' in html
    assert FilterLabel.objects.count() == 1


def test_without_htmx_a_proposal_comes_back_to_the_page_it_was_made_on(alice_client, insight, active_model):
    url = f"/models/{active_model.pk}/filters/conv1/3/labels/"

    response = alice_client.post(url, {"text": "hiss", "next": "/models/"})
    offsite = alice_client.post(url, {"text": "other", "next": "https://evil.example/"})

    assert response.status_code == 302 and response.url == "/models/"
    assert offsite.url == f"/models/{active_model.pk}/filters/conv1/3/"


def test_an_instructor_reviews_her_students_labels_from_the_dashboard(client, alice, ines, course, active_model):
    label = FilterLabel.objects.create(
        model_version=active_model, layer="conv1", index=2, text="plosive burst", proposed_by=alice
    )
    login(client, ines)

    dashboard = client.get("/").content.decode()
    page = client.get("/filter-labels/").content.decode()
    approved = client.post(f"/filter-labels/{label.pk}/review/", {"decision": "approve"}, HTTP_HX_REQUEST="true")

    assert "Concept labels to review" in dashboard and "Review 1" in dashboard
    assert "plosive burst" in page and "alice" in page
    assert approved.status_code == 200 and "approved" in approved.content.decode()
    assert FilterLabel.objects.get(pk=label.pk).status == "approved"
    assert "Concept labels to review" not in client.get("/").content.decode()


def test_reviewing_from_the_filter_zoom_refreshes_its_labels(client, alice, ines, course, insight, active_model):
    label = FilterLabel.objects.create(
        model_version=active_model, layer="conv1", index=2, text="burst", proposed_by=alice
    )
    login(client, ines)

    response = client.post(
        f"/filter-labels/{label.pk}/review/", {"decision": "reject", "panel": "1"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200 and "rejected" in response.content.decode()
    assert 'id="labels-' in response.content.decode()


@pytest.mark.parametrize(("persona", "status"), [("olga", 404), ("bob", 404), ("alice", 403)])
def test_only_an_instructor_of_the_proposers_course_can_review(
    request, client, alice, course, other_course, active_model, persona, status
):
    label = FilterLabel.objects.create(
        model_version=active_model, layer="conv1", index=2, text="burst", proposed_by=alice
    )
    login(client, request.getfixturevalue(persona))

    response = client.post(f"/filter-labels/{label.pk}/review/", {"decision": "approve"}, HTTP_HX_REQUEST="true")

    assert response.status_code == status
    assert FilterLabel.objects.get(pk=label.pk).status == "proposed"
