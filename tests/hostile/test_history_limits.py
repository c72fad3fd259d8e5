"""Histories have an upper bound, and a long one replays on a worker rather than inside a web request."""

import pytest

from core.errors import ServiceError
from dsp.limits import INLINE_REPLAY_MAX_STEPS, MAX_HISTORY_STEPS, MAX_STEPS_PER_EDIT
from experiments.models import Recording
from experiments.services.recordings import recording_derive, recording_upload
from jobs.models import Job
from tests.experiments.lab_support import sample_bytes, stored_state

STEP = {"op": "gain", "params": {"db": 0.5}}


def _history_of(owner, steps: int) -> Recording:
    recording = recording_upload(owner=owner, data=sample_bytes(), filename="seven.wav")
    while len(recording.operations) < steps:
        recording = recording_derive(
            recording=recording, operations=[STEP] * min(MAX_STEPS_PER_EDIT, steps - len(recording.operations))
        )
    return recording


def test_a_derive_past_the_cap_is_a_clear_400_and_saves_nothing(alice_client, alice):
    recording = _history_of(alice, MAX_HISTORY_STEPS - 1)
    before = stored_state()

    response = alice_client.post(
        f"/api/recordings/{recording.pk}/derive/", {"operations": [STEP, STEP]}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"A recording's history holds at most {MAX_HISTORY_STEPS} steps; this version has {MAX_HISTORY_STEPS - 1}, "
        f"so 2 more would make {MAX_HISTORY_STEPS + 1}. Start again from an earlier version or the original."
    )
    assert stored_state() == before


def test_a_history_can_reach_the_cap(alice):
    assert len(_history_of(alice, MAX_HISTORY_STEPS).operations) == MAX_HISTORY_STEPS


def test_the_page_shows_the_reason_next_to_the_edit_form(alice_client, alice):
    recording = _history_of(alice, MAX_HISTORY_STEPS)

    response = alice_client.post(
        f"/recordings/{recording.pk}/derive/", {"op": "gain", "param_db": "1"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert f"holds at most {MAX_HISTORY_STEPS} steps" in response.content.decode()


def test_a_short_history_replays_inline(alice_client, alice):
    recording = _history_of(alice, INLINE_REPLAY_MAX_STEPS)

    response = alice_client.post(f"/recordings/{recording.pk}/replay/")

    assert 'data-replay="match"' in response.content.decode()
    assert not Job.objects.filter(kind="recording_replay").exists()


def test_a_long_history_replays_as_a_job(alice_client, alice):
    recording = _history_of(alice, INLINE_REPLAY_MAX_STEPS + 1)

    response = alice_client.post(f"/recordings/{recording.pk}/replay/")

    job = Job.objects.get(kind="recording_replay")
    assert job.payload == {"recording": recording.pk}
    assert job.status == Job.Status.DONE and job.result["matches"] is True  # tasks run inline in tests
    page = response.content.decode()
    assert 'data-replay="match"' in page and f"Replayed {INLINE_REPLAY_MAX_STEPS + 1} steps" in page


def test_an_attack_or_import_cannot_smuggle_a_longer_history(alice):
    from experiments.services.recordings import recording_audio, recording_save_derived

    recording = _history_of(alice, MAX_HISTORY_STEPS)

    with pytest.raises(ServiceError, match=f"at most {MAX_HISTORY_STEPS} steps"):
        recording_save_derived(parent=recording, steps=[STEP], audio=recording_audio(recording))
