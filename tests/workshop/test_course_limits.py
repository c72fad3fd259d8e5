"""An instructor lets the people of a course run more trainings at once: the form on /workshop/, the rule in
training_start, 404 for anyone else's course, 400 outside the bounds, the site-wide cap still holding."""

import pytest

from core.errors import ServiceError
from tests.conftest import login
from tests.workshop.workshop_support import running_training
from workshop.architecture import Design
from workshop.models import CourseLimits, Training
from workshop.services import MAX_TRAININGS_AT_ONCE, training_start


@pytest.fixture
def database_queue(settings):
    """Jobs wait on the queue (no worker here), so a started training stays running."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _set(client, course, value, **headers):
    return client.post(f"/workshop/courses/{course.pk}/limits/", {"trainings_at_once": value}, **headers)


@pytest.mark.django_db
def test_an_instructor_lets_her_students_run_two_trainings_at_once(client, ines, alice, course, database_queue):
    running_training(alice)
    with pytest.raises(ServiceError, match="still running"):
        training_start(owner=alice, name="second", design=Design())

    response = _set(login(client, ines), course, 2, HTTP_HX_REQUEST="true")
    second = training_start(owner=alice, name="second", design=Design())

    assert response.status_code == 200 and "Saved." in response.content.decode()
    assert CourseLimits.objects.get(course=course).trainings_at_once == 2
    assert second.status == Training.Status.QUEUED
    with pytest.raises(ServiceError, match="You have 2 trainings running, as many as your course allows"):
        training_start(owner=alice, name="third", design=Design())


@pytest.mark.django_db
def test_the_site_cap_still_holds(client, ines, alice, bob, course, database_queue, settings):
    settings.WORKSHOP_MAX_RUNNING = 2
    CourseLimits.objects.create(course=course, trainings_at_once=3)
    running_training(alice)
    running_training(bob)

    with pytest.raises(ServiceError, match="training 2 models already"):
        training_start(owner=alice, name="second", design=Design())


@pytest.mark.django_db
def test_it_rejects_other_users(client, alice, olga, course):
    for user in (alice, olga):  # a student of the course, an instructor of another
        assert _set(login(client, user), course, 3).status_code == 404
    assert not CourseLimits.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, MAX_TRAININGS_AT_ONCE + 1, "many"])
def test_a_value_out_of_bounds_explains_itself_next_to_the_field(client, ines, course, value):
    response = _set(login(client, ines), course, value, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 400
    assert response["HX-Retarget"] == f"#course-limits-{course.pk}"
    assert 'data-field-errors="trainings_at_once"' in html
    assert not CourseLimits.objects.exists()


@pytest.mark.django_db
def test_the_workshop_page_shows_the_form_to_the_courses_instructors_only(client, ines, alice, course):
    CourseLimits.objects.create(course=course, trainings_at_once=3)

    mine = login(client, ines).get("/workshop/").content.decode()
    theirs = login(client, alice).get("/workshop/").content.decode()

    assert f'id="course-limits-{course.pk}"' in mine and 'value="3"' in mine
    assert "course-limits" not in theirs
