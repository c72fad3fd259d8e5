"""A reviewer sees what was submitted, nothing else of the student's.

Alice's clip has versions she never submitted; she submits one version (v2, made from v1) to
ines's course. Opening it, ines sees it and the steps of its history (v1, the original), and
never the titles or ids of alice's other versions: not on the recording page, not in the API,
not on the experiment's pages.
"""

import re

import pytest
from django.utils import timezone

from experiments.models import Experiment
from experiments.services.recordings import recording_derive, recording_upload
from tests.conftest import login
from tests.experiments.lab_support import sample_bytes

SECRET = "alice-private-attempt"


@pytest.fixture
def versions(alice, active_model):
    """The original, v1 (reversed), v2 (from v1, submitted), and two versions alice keeps to herself."""
    original = recording_upload(owner=alice, data=sample_bytes(), filename="seven.wav", title="Seven")
    v1 = recording_derive(recording=original, operations=[{"op": "reverse", "params": {}}], title="Seven reversed")
    v2 = recording_derive(recording=v1, operations=[{"op": "gain", "params": {"db": 3}}], title="Seven reversed louder")
    hidden_child = recording_derive(
        recording=v2, operations=[{"op": "gain", "params": {"db": -6}}], title=f"{SECRET} one"
    )
    hidden_sibling = recording_derive(
        recording=original, operations=[{"op": "repeat", "params": {"times": 2}}], title=f"{SECRET} two"
    )
    return {"original": original, "v1": v1, "v2": v2, "hidden": [hidden_child, hidden_sibling]}


@pytest.fixture
def submitted(versions, course, active_model):
    return Experiment.objects.create(
        owner=versions["original"].owner,
        title="Is a louder reversed seven still a seven?",
        recording_a=versions["v2"],
        model_version=active_model,
        course=course,
        status=Experiment.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )


def _links_to(page: str, recording) -> bool:
    return re.search(rf'href="/recordings/{recording.pk}/"', page) is not None


def test_the_reviewer_sees_the_submitted_version_and_its_history_only(client, ines, versions, submitted):
    login(client, ines)

    page = client.get(f"/recordings/{versions['v2'].pk}/").content.decode()

    assert SECRET not in page
    for hidden in versions["hidden"]:
        assert f"/recordings/{hidden.pk}/" not in page
    # the steps of its history are named, and the versions she may not open are not links
    assert "Seven reversed" in page and "Original · Seven" in page
    assert '<span class="muted">3 versions</span>' in page
    assert not _links_to(page, versions["v1"]) and not _links_to(page, versions["original"])
    assert _links_to(page, versions["v2"])


def test_the_owner_still_sees_every_version(alice_client, versions, submitted):
    page = alice_client.get(f"/recordings/{versions['v2'].pk}/").content.decode()

    assert f"{SECRET} one" in page and f"{SECRET} two" in page
    assert '<span class="muted">5 versions</span>' in page
    for hidden in versions["hidden"]:
        assert _links_to(page, hidden)


def test_the_reviewer_cannot_open_the_other_versions(client, ines, versions, submitted):
    login(client, ines)

    for recording in [versions["original"], versions["v1"], *versions["hidden"]]:
        assert client.get(f"/recordings/{recording.pk}/").status_code == 404
        assert client.get(f"/api/recordings/{recording.pk}/").status_code == 404
        assert client.get(f"/recordings/{recording.pk}/audio.wav").status_code == 404


def test_the_api_names_the_history_and_nothing_else(client, ines, versions, submitted):
    login(client, ines)

    body = client.get(f"/api/recordings/{versions['v2'].pk}/").json()
    listed = client.get("/api/recordings/").json()
    experiment = client.get(f"/api/experiments/{submitted.pk}/").content.decode()

    assert body["parent"] == versions["v1"].pk and body["root"] == versions["original"].pk
    assert SECRET not in str(body) and SECRET not in experiment
    assert listed["count"] == 0


def test_the_experiment_pages_show_nothing_else_of_the_student(client, ines, versions, submitted):
    login(client, ines)

    for url in (f"/experiments/{submitted.pk}/", f"/courses/{submitted.course_id}/", "/"):
        page = client.get(url).content.decode()
        assert SECRET not in page, url
        for hidden in versions["hidden"]:
            assert f"/recordings/{hidden.pk}/" not in page, url


def test_the_reviewer_of_another_course_sees_nothing(client, olga, versions, submitted):
    login(client, olga)

    assert client.get(f"/recordings/{versions['v2'].pk}/").status_code == 404
