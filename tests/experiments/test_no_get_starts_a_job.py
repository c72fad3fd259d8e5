"""No GET starts a job: pages only show what runs. Analyses start when what they belong to is saved
(upload, sample, browser take, edit, sweep point, experiment) or when someone presses a POST button."""

import pytest
from django.urls import reverse

from experiments.models import Analysis, Experiment, Recording
from experiments.services.experiments import experiment_create
from experiments.services.recordings import recording_derive
from insights.models import Sweep
from insights.services import sweep_request
from jobs.models import Job
from tests.experiments.lab_support import sample_bytes, upload_file


@pytest.fixture
def unanalysed(alice, make_clip):
    """Alice's experiment (a clip against its reversed version) whose analyses were all lost."""
    clip = make_clip(alice)
    experiment = experiment_create(
        owner=alice, recording_a=clip, recording_b=recording_derive(recording=clip, operations=[{"op": "reverse"}])
    )
    Analysis.objects.all().delete()
    Job.objects.all().delete()
    return experiment


def test_no_page_starts_an_analysis(client, alice, unanalysed):
    client.force_login(alice)
    clip = unanalysed.recording_a
    pages = [
        reverse("dashboard"),
        reverse("recording_list"),
        reverse("recording_detail", args=[clip.pk]),
        reverse("recording_detail", args=[unanalysed.recording_b_id]),
        reverse("recording_analysis", args=[clip.pk]),
        reverse("experiment_list"),
        reverse("experiment_detail", args=[unanalysed.pk]),
        reverse("experiment_report", args=[unanalysed.pk]),
        reverse("attack_new", args=[clip.pk]),
        reverse("sweep_new", args=[clip.pk]),
    ]

    for url in pages:
        for htmx in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}):
            assert client.get(url, **htmx).status_code in (200, 302), url

    assert not Job.objects.exists() and not Analysis.objects.exists()


def test_the_comparison_page_offers_analyse_and_does_not_poll_for_nothing(client, alice, unanalysed):
    client.force_login(alice)

    page = client.get(reverse("experiment_detail", args=[unanalysed.pk])).content.decode()

    results = page.split('<div id="results"')[1].split(">")[0]
    assert 'data-state="missing"' in results and "hx-trigger" not in results
    assert "Not analysed yet" in page and ">Analyse</button>" in page

    response = client.post(reverse("experiment_retry", args=[unanalysed.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and 'data-state="done"' in response.content.decode()
    assert Analysis.objects.filter(job__status="done").count() == 2


@pytest.mark.parametrize("source", ["upload", "record", "sample"])
def test_saving_a_clip_starts_its_analysis(client, alice, active_model, source):
    client.force_login(alice)
    if source == "sample":
        data = {"sample": "5_george_5"}
    else:
        data = {"file": upload_file(sample_bytes(), "seven.wav"), "source": source}

    client.post(reverse("recording_new"), data, HTTP_HX_REQUEST="true")

    assert Recording.objects.get().analyses.get().is_done


def test_saving_an_edit_or_a_sweep_point_starts_its_analysis(client, alice, make_clip):
    clip = make_clip(alice)
    client.force_login(alice)

    client.post(reverse("recording_derive", args=[clip.pk]), {"op": "reverse"})
    edited = Recording.objects.get(parent=clip, operations__0__op="reverse")
    sweep = sweep_request(recording=clip, requested_by=alice, op="gain", start=-6, stop=6, num=2)
    sweep = Sweep.objects.get(pk=sweep.pk)
    client.post(reverse("sweep_open_point", args=[sweep.pk, 1]))
    point = Recording.objects.get(parent=clip, operations__0__op="gain")

    assert edited.analyses.get().is_done
    assert point.analyses.get().is_done


def test_creating_an_experiment_starts_both_analyses(client, alice, make_clip):
    clip = make_clip(alice)
    edited = recording_derive(recording=clip, operations=[{"op": "reverse"}])
    Analysis.objects.filter(recording=edited).delete()
    client.force_login(alice)

    client.post(reverse("experiment_new"), {"mode": "recordings", "recording_a": clip.pk, "recording_b": edited.pk})

    assert Experiment.objects.get()
    assert edited.analyses.get().is_done
