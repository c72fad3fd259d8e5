"""The admin's list of trainings (who, how far, how long, which worker) and its stop action."""

import pytest

from jobs.models import Job
from tests.conftest import login
from tests.workshop.workshop_support import running_training


@pytest.mark.django_db
def test_an_admin_sees_every_training_and_stops_running_ones(client, admin_user, alice, bob):
    alices, bobs = running_training(alice, name="alice's"), running_training(bob, name="bob's")
    Job.objects.filter(pk=bobs.job_id).update(status=Job.Status.PENDING)
    login(client, admin_user)

    listing = client.get("/admin/workshop/training/").content.decode()
    response = client.post(
        "/admin/workshop/training/",
        {"action": "stop", "_selected_action": [alices.pk, bobs.pk]},
        follow=True,
    )

    assert "alice&#x27;s" in listing and "bob&#x27;s" in listing and "1 / 4" in listing
    assert "Asked 2 training(s) to stop." in response.content.decode()
    alices.job.refresh_from_db()
    bobs.refresh_from_db()
    assert alices.job.cancel_requested and alices.job.status == Job.Status.RUNNING  # its worker stops it
    assert bobs.status == "cancelled" and bobs.job.status == Job.Status.CANCELLED


@pytest.mark.django_db
def test_students_cannot_open_the_admin_list(client, alice):
    login(client, alice)
    assert client.get("/admin/workshop/training/").status_code == 302
