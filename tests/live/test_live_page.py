"""The /live/ page, freezing a take into the lab, and the classroom's view of a frozen take."""

import re

import pytest
from django.core.files.base import ContentFile

from experiments.models import Analysis, Recording
from modelzoo.models import ModelVersion
from tests.conftest import login
from tests.live.engine_support import digit_window


def test_the_page_lists_the_versions_the_user_may_listen_with_and_a_nav_link(alice_client, active_model):
    ModelVersion.objects.create(name="not-validated", status=ModelVersion.Status.PENDING)

    response = alice_client.get("/live/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/live/" aria-current="page">Live</a>' in html
    assert '<div class="live" data-live' in html and 'data-api="/api/live/"' in html
    assert active_model.name in html and "not-validated" not in html
    versions = response.context["versions"]
    assert [v["id"] for v in versions] == [active_model.pk]
    assert versions[0]["layers"] == [  # no insight computed yet: no filter known to be dead
        {"name": "conv1", "filters": 16, "dead": []},
        {"name": "conv2", "filters": 16, "dead": []},
        {"name": "conv3", "filters": 32, "dead": []},
    ]
    assert "Classroom mode" not in html  # students do not get the classroom toggle
    assert [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag] == []  # nothing inline


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/live/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_says_so_when_no_version_can_listen(alice_client):
    response = alice_client.get("/live/")

    assert response.status_code == 200
    assert "No model version can listen yet" in response.content.decode()


def test_classroom_mode_is_for_instructors(client, ines, alice, active_model):
    teacher = login(client, ines).get("/live/?classroom=1").content.decode()
    student = login(client, alice).get("/live/?classroom=1").content.decode()

    assert "live-classroom" in teacher and 'data-classroom="1"' in teacher and "Full screen" in teacher
    assert "live-classroom" not in student and 'data-classroom="0"' in student


def test_freezing_saves_a_recording_through_the_upload_and_opens_it_in_the_lab(alice_client, alice, active_model):
    response = alice_client.post(
        "/live/freeze/",
        {"file": ContentFile(digit_window(seconds=3, rate=16000), name="live.wav"), "model_version": active_model.pk,
         "title": "Live take (heard 3)"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip

    assert response.status_code == 200
    recording = Recording.objects.get(owner=alice)
    assert response["HX-Redirect"] == recording.get_absolute_url()
    assert recording.source == Recording.Source.RECORD and recording.title == "Live take (heard 3)"
    assert recording.duration_s == pytest.approx(3.0)
    analysis = Analysis.objects.get(recording=recording, model_version=active_model)
    assert analysis.predicted_label == "3"  # the jobs run inline in tests


def test_nothing_is_stored_without_a_take_and_the_refusal_lands_in_the_freeze_slot(alice_client, alice, active_model):
    response = alice_client.post("/live/freeze/", {"model_version": active_model.pk}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert response["HX-Retarget"] == "#freeze-error"
    assert "nothing to freeze" in response.content.decode()
    assert not Recording.objects.exists()


def test_freezing_with_a_version_the_user_may_not_see_is_a_404(alice_client, active_model):
    hidden = ModelVersion.objects.create(name="pending", status=ModelVersion.Status.PENDING)

    response = alice_client.post(
        "/live/freeze/", {"file": ContentFile(digit_window(), name="live.wav"), "model_version": hidden.pk}
    )

    assert response.status_code == 404
    assert not Recording.objects.exists()


def test_classroom_freeze_opens_the_solo_sound_of_the_filter_on_screen(client, ines, active_model):
    login(client, ines)
    response = client.post(
        "/live/freeze/",
        {"file": ContentFile(digit_window(seconds=2, rate=16000), name="live.wav"), "model_version": active_model.pk,
         "classroom": "1", "layer": "conv2", "filter": "7"},
    )  # fmt: skip

    recording = Recording.objects.get(owner=ines)
    assert response.status_code == 302
    assert response["Location"] == f"/live/frozen/{recording.pk}/?model_version={active_model.pk}&layer=conv2&filter=7"
    page = client.get(response["Location"]).content.decode()
    analysis = Analysis.objects.get(recording=recording)
    assert "Filter 7 of conv2, alone" in page
    assert f'src="/analyses/{analysis.pk}/layers/conv2/7.wav"' in page
    assert client.get(f"/analyses/{analysis.pk}/layers/conv2/7.wav").status_code == 200


def test_another_users_frozen_take_is_a_404(client, ines, bob, active_model):
    login(client, ines)
    client.post(
        "/live/freeze/", {"file": ContentFile(digit_window(), name="live.wav"), "model_version": active_model.pk}
    )
    recording = Recording.objects.get(owner=ines)

    assert login(client, bob).get(f"/live/frozen/{recording.pk}/?layer=conv1&filter=0").status_code == 404


def test_the_frozen_take_waits_for_its_analysis_and_polls_only_its_panel(client, ines, active_model):
    from jobs.models import Job

    login(client, ines)
    client.post(
        "/live/freeze/", {"file": ContentFile(digit_window(), name="live.wav"), "model_version": active_model.pk}
    )
    analysis = Analysis.objects.get(recording__owner=ines)
    Job.objects.filter(pk=analysis.job_id).update(status=Job.Status.RUNNING)
    url = f"/live/frozen/{analysis.recording_id}/?layer=conv1&filter=2"

    page = client.get(url).content.decode()
    panel = client.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert "listening to the frozen take" in page and 'hx-trigger="every 1s"' in page
    assert panel.lstrip().startswith('<section class="card live-solo" id="live-solo"')
    assert "<html" not in panel and "listening to the frozen take" in panel
    Job.objects.filter(pk=analysis.job_id).update(status=Job.Status.DONE)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and "Filter 2 of conv1, alone" in done


def test_the_frozen_take_says_when_the_filter_on_screen_stays_silent(client, ines, active_model):
    login(client, ines)
    client.post(
        "/live/freeze/", {"file": ContentFile(digit_window(), name="live.wav"), "model_version": active_model.pk}
    )
    analysis = Analysis.objects.get(recording__owner=ines)
    conv1 = next(layer for layer in analysis.layers if layer["name"] == "conv1")
    firing = next(i for i, peak in enumerate(conv1["max"]) if peak)
    url = f"/live/frozen/{analysis.recording_id}/?layer=conv1&filter={firing}"
    assert "stays silent" not in client.get(url).content.decode()

    # The same filter as if the take never made it fire (its stored peak is what the page reads).
    conv1["max"][firing] = 0.0
    analysis.save(update_fields=["layers"])

    assert "This filter stays silent for this take" in client.get(url).content.decode()


def test_the_page_knows_the_dead_filters_so_it_starts_on_a_live_one(alice_client, active_model):
    from tests.insights.insight_support import dead_filters, stored_insight

    stored_insight(active_model)

    versions = alice_client.get("/live/").context["versions"]

    conv2 = next(layer for layer in versions[0]["layers"] if layer["name"] == "conv2")
    assert conv2["dead"] == dead_filters(active_model) and conv2["dead"]
