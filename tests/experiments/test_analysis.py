"""The analysis behind the lab: cached once per clip and model, polled while pending, retried after a failure."""

import re
import threading
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from experiments import selectors
from experiments.models import Analysis
from experiments.services.analyses import analysis_request
from experiments.services.recordings import recording_from_sample, recording_upload
from jobs.models import Job
from jobs.runner import job_report
from jobs.worker import Worker
from tests.experiments.lab_support import SEVEN, analysed, sample_bytes

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_asking_twice_reuses_the_analysis(alice, active_model):
    recording = recording_from_sample(owner=alice, name=SEVEN)

    first, created_first = analysis_request(recording=recording, requested_by=alice)
    second, created_second = analysis_request(recording=recording, requested_by=alice)

    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Analysis.objects.count() == 1
    assert Job.objects.filter(kind="analysis_run").count() == 1
    assert first.job.attempts == 1


def test_opening_the_lab_again_does_not_analyse_again(alice_client, alice, active_model):
    analysis = analysed(alice)

    for _ in range(2):
        assert alice_client.get(f"/recordings/{analysis.recording.pk}/").status_code == 200

    assert Analysis.objects.get().pk == analysis.pk
    assert Job.objects.get().attempts == 1


def test_opening_the_lab_never_starts_an_analysis_and_offers_analyse(alice_client, alice, active_model):
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")

    page = alice_client.get(f"/recordings/{recording.pk}/").content.decode()

    assert not Analysis.objects.exists() and not Job.objects.exists()
    assert "The network has not listened to this clip yet." in page
    assert f'hx-post="/recordings/{recording.pk}/analysis/"' in page and ">Analyse</button>" in page

    panel = alice_client.post(f"/recordings/{recording.pk}/analysis/", HTTP_HX_REQUEST="true")

    assert panel.status_code == 200 and 'data-status="done"' in panel.content.decode()
    assert Analysis.objects.get().is_done


def test_analyse_without_an_active_model_says_why_next_to_the_button(alice_client, alice):
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")

    response = alice_client.post(f"/recordings/{recording.pk}/analysis/", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#analysis-panel" and response["HX-Reswap"] == "outerHTML"
    slot = body.split(">Analyse</button>")[1].split("</form>")[0]
    assert "No model version is active yet; an admin must activate one." in slot and "hidden" not in slot
    assert not Analysis.objects.exists() and not Job.objects.exists()


def test_the_analysis_keeps_every_layer_and_its_timings(alice, active_model):
    analysis = analysed(alice)

    assert [layer["filters"] for layer in analysis.layers] == [16, 16, 32]
    for layer in analysis.layers:
        assert len(layer["mean"]) == len(layer["max"]) == layer["filters"]
        assert layer["layer_max"] == pytest.approx(max(layer["max"]))
    assert analysis.activations.name.startswith("analyses/")
    assert {"features_ms", "forward_ms", "store_ms", "queued_ms", "worker_ms", "cache_bytes"} <= set(analysis.timings)
    assert 0 < analysis.timings["forward_ms"] < analysis.timings["worker_ms"]
    assert analysis.job.progress == 100


@pytest.fixture
def pending(alice, active_model, settings):
    """A clip whose analysis waits in the database queue for a worker."""
    settings.TASKS = DATABASE_BACKEND
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")
    analysis, created = analysis_request(recording=recording, requested_by=alice)
    assert created and analysis.job.status == Job.Status.PENDING
    return analysis


def _run_worker() -> None:
    call_command("run_worker", "--batch", "--no-startup-delay", stdout=StringIO())


def _run_worker_in_a_thread() -> None:
    """`_run_worker` as a worker process would, closing its own database connection at the end.

    A thread's connection is its own: left open, it outlives the test and PostgreSQL refuses to drop the
    test database at the end of the run ("being accessed by other users").
    """
    try:
        _run_worker()
    finally:
        connections.close_all()


# The worker closes and reopens connections, as in production: no wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_the_panel_polls_while_pending_and_swaps_the_results_in(alice_client, pending):
    url = f"/recordings/{pending.recording.pk}/"

    page = alice_client.get(url).content.decode()
    assert f'hx-get="{url}analysis/" hx-trigger="load delay:100ms, every 2s" hx-swap="outerHTML"' in page
    assert 'data-status="pending"' in page
    assert "Waiting for a worker" in page
    assert 'aria-valuenow="0"' in page
    assert "Every filter of every convolution layer appears here" in page  # explorer not yet

    Job.objects.filter(pk=pending.job_id).update(status=Job.Status.RUNNING)
    job_report(job=pending.job, percent=30, message="Running the network")
    panel = alice_client.get(f"{url}analysis/", HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith('<section class="card" id="analysis-panel"')
    assert "<html" not in panel
    assert 'hx-trigger="load delay:100ms, every 2s"' in panel
    assert 'aria-valuenow="30"' in panel and "width: 30%" in panel
    assert "Running the network" in panel
    Job.objects.filter(pk=pending.job_id).update(status=Job.Status.PENDING, progress=0)

    _run_worker()

    panel = alice_client.get(f"{url}analysis/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in panel
    assert 'hx-trigger="every' not in panel
    assert panel.count('<span class="digit">') == 10
    analysis = Analysis.objects.get()
    assert f"The network hears “{analysis.predicted_label}”" in panel
    # The explorer comes along (out of band), with the first layer's filters.
    oob = panel.split('<div hx-swap-oob="innerHTML:#explorer-card">')[1]
    assert f'<div id="explorer" class="explorer" data-analysis="{analysis.pk}">' in oob
    assert len(re.findall(r'<figure class="tile[ "]', oob)) == 16


def test_the_panel_without_htmx_sends_the_browser_to_the_lab(alice_client, alice, active_model):
    analysis = analysed(alice)

    response = alice_client.get(f"/recordings/{analysis.recording.pk}/analysis/")

    assert response.status_code == 302
    assert response.url == f"/recordings/{analysis.recording.pk}/"


def test_a_failed_analysis_shows_its_message_and_a_retry_that_works(alice_client, alice, active_model):
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")
    stored = Path(recording.audio.path)
    good = stored.read_bytes()
    stored.write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")  # the stored audio is damaged
    alice_client.post(f"/recordings/{recording.pk}/analysis/", HTTP_HX_REQUEST="true")  # "Analyse"

    page = alice_client.get(f"/recordings/{recording.pk}/").content.decode()

    analysis = Analysis.objects.get()
    assert analysis.job.status == Job.Status.FAILED
    assert "The recording's stored audio could not be read" in analysis.job.error
    assert 'data-status="failed"' in page
    assert "The analysis failed." in page
    assert "The recording&#x27;s stored audio could not be read" in page
    assert 'hx-trigger="every' not in page
    assert f'hx-post="/recordings/{recording.pk}/analysis/"' in page and ">Retry</button>" in page
    api = alice_client.get(f"/api/analyses/{analysis.pk}/").json()
    assert api["status"] == "failed" and "could not be read" in api["error"]
    assert api["layers"] == [] and api["probabilities"] == {}

    stored.write_bytes(good)  # restored
    panel = alice_client.post(f"/recordings/{recording.pk}/analysis/", HTTP_HX_REQUEST="true").content.decode()

    analysis.refresh_from_db()
    assert analysis.job.status == Job.Status.DONE
    assert analysis.job.attempts == 2
    assert Analysis.objects.count() == 1
    assert 'data-status="done"' in panel
    assert panel.count('<span class="digit">') == 10
    assert "The analysis failed." not in alice_client.get(f"/recordings/{recording.pk}/").content.decode()


def test_retry_without_javascript_goes_back_to_the_lab(alice_client, alice, active_model):
    recording = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav")
    stored = Path(recording.audio.path)
    good = stored.read_bytes()
    stored.write_bytes(b"")
    alice_client.post(f"/recordings/{recording.pk}/analysis/")  # "Analyse": it fails
    assert Analysis.objects.get().job.status == Job.Status.FAILED
    stored.write_bytes(good)

    response = alice_client.post(f"/recordings/{recording.pk}/analysis/")

    assert response.status_code == 302
    assert response.url == f"/recordings/{recording.pk}/"
    assert Analysis.objects.get().is_done


def test_a_done_analysis_is_not_run_again_by_retry(alice_client, alice, active_model):
    analysis = analysed(alice)

    alice_client.post(f"/recordings/{analysis.recording.pk}/analysis/", HTTP_HX_REQUEST="true")

    assert Job.objects.get().attempts == 1


@pytest.mark.parametrize(("waited_s", "delay_ms"), [(0, 100), (10, 500), (60, 2000)])
def test_the_panel_asks_less_often_the_longer_a_job_waits(alice_client, pending, waited_s, delay_ms):
    from datetime import timedelta

    from django.utils import timezone

    Job.objects.filter(pk=pending.job_id).update(created_at=timezone.now() - timedelta(seconds=waited_s))

    panel = alice_client.get(f"/recordings/{pending.recording.pk}/analysis/", HTTP_HX_REQUEST="true").content.decode()

    assert f'hx-trigger="load delay:{delay_ms}ms, every 2s"' in panel


@pytest.mark.django_db(transaction=True)
def test_the_lab_page_of_a_new_upload_waits_for_its_analysis_and_comes_with_the_results(
    alice_client, pending, settings, monkeypatch
):
    settings.LAB_WAITS_FOR_A_NEW_ANALYSIS_S = 60  # the most it waits; it stops as the job ends
    monkeypatch.setattr(Worker, "configure_signals", lambda self: None)  # signals are the main thread's
    worker = threading.Thread(target=_run_worker_in_a_thread)
    worker.start()
    try:
        page = alice_client.get(f"/recordings/{pending.recording.pk}/").content.decode()
    finally:
        worker.join()

    assert 'data-status="done"' in page
    assert 'hx-trigger="load delay' not in page  # nothing left to poll for
    assert f'<div id="explorer" class="explorer" data-analysis="{pending.pk}">' in page


def test_the_lab_page_does_not_wait_for_a_job_that_has_been_queued_a_while(alice_client, pending, monkeypatch):
    Job.objects.filter(pk=pending.job_id).update(created_at=timezone.now() - timedelta(seconds=30))
    monkeypatch.setattr(selectors.time, "sleep", lambda seconds: pytest.fail("the page waited"))

    page = alice_client.get(f"/recordings/{pending.recording.pk}/").content.decode()

    assert 'data-status="pending"' in page and "Waiting for a worker" in page
    assert 'hx-trigger="load delay:' in page
