"""An upload is analysable or refused with a reason; a failed job shows a sentence, never an exception name."""

import logging

import numpy as np
import pytest

from core.errors import ServiceError
from dsp.limits import MAX_PEAK
from experiments.models import Recording
from experiments.services.analyses import analysis_request
from experiments.services.recordings import recording_derive, recording_upload
from jobs.models import Job
from jobs.registry import job_handler
from jobs.runner import UNEXPECTED_FAILURE
from jobs.services import job_create
from tests.experiments.lab_support import stored_state, upload_file
from tests.hostile.media import write

T = np.arange(8000) / 8000


def _float_wav(peak: float) -> bytes:
    return write((peak * np.sin(2 * np.pi * 300 * T)).astype(np.float32), 8000, "WAV", "FLOAT")


def test_the_testers_float_wav_is_refused_at_upload(alice_client):
    before = stored_state()

    response = alice_client.post("/api/recordings/", {"file": upload_file(_float_wav(1.5e38), "loud.wav")})

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "The recording is far too loud to analyse: it peaks at +764 dBFS, and at most +60 dBFS "
        "(1000 times full scale) is accepted."
    )
    assert stored_state() == before


def test_non_finite_samples_are_refused():
    y = np.sin(2 * np.pi * 300 * T).astype(np.float32)
    y[100] = np.nan
    with pytest.raises(ServiceError, match="non-finite"):
        recording_upload(owner=None, data=write(y, 8000, "WAV", "FLOAT"), filename="nan.wav")  # type: ignore[arg-type]


def test_a_float_wav_just_under_the_ceiling_is_accepted_and_analysed(alice, active_model):
    recording = recording_upload(owner=alice, data=_float_wav(0.99 * MAX_PEAK), filename="loud.wav")

    analysis, _ = analysis_request(recording=recording, requested_by=alice)

    assert analysis.is_done, analysis.job.error
    assert sum(analysis.probabilities.values()) == pytest.approx(1, abs=1e-3)


def test_an_edit_cannot_push_a_clip_over_the_ceiling(alice):
    recording = recording_upload(owner=alice, data=_float_wav(0.5), filename="tone.wav")
    recording = recording_derive(recording=recording, operations=[{"op": "gain", "params": {"db": 30}}] * 2)

    with pytest.raises(ServiceError, match=r"^step 1 \(gain\): the result would peak at \+84\.0 dBFS.*smaller db"):
        recording_derive(recording=recording, operations=[{"op": "gain", "params": {"db": 30}}])
    assert Recording.objects.count() == 2


@job_handler("test_handler_that_breaks")
def _breaks(job, progress):
    return [][0]  # an IndexError, like the analysis of a clip peaking at 1.5e38 used to raise


def test_a_job_that_fails_unexpectedly_shows_a_sentence_and_logs_the_details(alice, caplog):
    with caplog.at_level(logging.ERROR, logger="jobs.runner"):
        job = job_create(kind="test_handler_that_breaks", owner=alice, payload={})

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == UNEXPECTED_FAILURE
    assert "IndexError" not in job.error and "Error" not in job.error
    assert "IndexError" in caplog.text  # the traceback went to the log
