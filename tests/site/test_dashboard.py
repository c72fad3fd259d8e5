import pytest
from django.utils import timezone

from tests.conftest import login


def test_it_redirects_anonymous_users_to_login(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/"


def test_it_shows_a_student_their_empty_dashboard(alice_client):
    response = alice_client.get("/")

    assert response.status_code == 200
    assert b"Hello, alice" in response.content
    assert b"No recordings yet" in response.content
    assert b"No experiments yet" in response.content


def test_a_students_empty_dashboard_links_to_the_upload(alice_client):
    page = alice_client.get("/").content.decode()

    empty = page[page.index("No recordings yet") : page.index("No experiments yet")]
    assert 'href="/recordings/new/" data-empty-upload' in empty
    assert 'href="/recordings/new/#upload"' in empty and 'href="/recordings/new/#record"' in empty


def test_it_shows_an_instructor_the_submissions_waiting(client, ines, course, alice):
    from experiments.models import Experiment

    experiment = _experiment(alice, "Reversed seven")
    experiment.course, experiment.status, experiment.submitted_at = course, Experiment.Status.SUBMITTED, timezone.now()
    experiment.save()

    response = login(client, ines).get("/")

    assert response.status_code == 200
    assert b"Submissions waiting for review" in response.content
    assert b"Reversed seven" in response.content


def test_it_tells_an_instructor_with_nothing_to_review_what_to_do(client, ines):
    response = login(client, ines).get("/")

    assert b"Nothing to review" in response.content


def test_it_shows_an_admin_the_admin_link(client, admin_user):
    response = login(client, admin_user).get("/")

    assert response.status_code == 200
    assert b"Open the admin site" in response.content


def test_the_admins_counts_say_one_instructor_and_two_analyses(client, admin_user, ines, alice, active_model):
    from tests.experiments.lab_support import analysed

    analysed(alice)
    analysed(alice, "3_theo_5")

    page = login(client, admin_user).get("/").content.decode()

    assert '<div class="value">1</div><div class="label">instructor</div>' in page
    assert '<div class="value">1</div><div class="label">student</div>' in page
    assert '<div class="value">2</div><div class="label">analyses</div>' in page
    assert '<div class="value">0</div><div class="label">courses</div>' in page


def test_the_admin_site_says_analyses(client, admin_user):
    page = login(client, admin_user).get("/admin/").content.decode()

    assert "Analyses" in page and "Analysiss" not in page


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_it_does_not_show_other_students_work(client, alice, bob, who):
    _experiment(alice, "Alice's secret experiment")
    user = alice if who == "alice" else bob

    response = login(client, user).get("/")

    assert (b"Alice&#x27;s secret experiment" in response.content) == (who == "alice")


def _experiment(owner, title):
    from tests.factories import experiment_create

    return experiment_create(owner=owner, title=title)


def test_it_shows_an_admin_the_failed_jobs_and_what_the_site_holds(client, admin_user, alice):
    from jobs.models import Job

    Job.objects.create(kind="analysis_run", owner=alice, status=Job.Status.FAILED, error="The clip is silent.")

    response = login(client, admin_user).get("/")

    assert b"Failed jobs" in response.content
    assert b"The clip is silent." in response.content
    assert response.context["counts"]["students"] == 1
