import pytest

from jobs.models import Job
from jobs.services import job_create
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("job_kinds")


def test_it_shows_progress_to_the_owner(alice_client, alice):
    job = Job.objects.create(kind="test-steps", owner=alice, progress=40, message="Computing features")

    response = alice_client.get(f"/jobs/{job.id}/")

    assert response.status_code == 200
    assert b"Computing features" in response.content
    assert b'aria-valuenow="40"' in response.content
    assert b'hx-trigger="every 700ms"' in response.content


def test_it_serves_only_the_fragment_to_htmx(alice_client, alice):
    job = Job.objects.create(kind="test-steps", owner=alice)

    response = alice_client.get(f"/jobs/{job.id}/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'data-job-status="pending"' in response.content


def test_it_stops_polling_when_done(alice_client, alice):
    job = job_create(kind="test-steps", owner=alice)

    response = alice_client.get(f"/jobs/{job.id}/", headers={"HX-Request": "true"})

    assert b'data-job-status="done"' in response.content
    assert b"hx-trigger" not in response.content


def test_it_retries_a_failed_job(alice_client, alice):
    job = job_create(kind="test-fails", owner=alice)

    response = alice_client.post(f"/jobs/{job.id}/retry/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == Job.Status.DONE


def test_it_rejects_other_users(client, alice, charlie):
    job = Job.objects.create(kind="test-steps", owner=alice)
    login(client, charlie)

    assert client.get(f"/jobs/{job.id}/").status_code == 404
    assert client.post(f"/jobs/{job.id}/retry/").status_code == 404
    assert client.get(f"/api/jobs/{job.id}/").status_code == 404


def test_the_api_shows_the_job(alice_client, alice):
    job = job_create(kind="test-steps", owner=alice)

    data = alice_client.get(f"/api/jobs/{job.id}/").json()

    assert data["status"] == "done"
    assert data["progress"] == 100
    assert data["result"] == {"answer": 42}
