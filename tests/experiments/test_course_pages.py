"""Courses: instructors create them, students join by code, submit experiments, and see them reviewed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from experiments.models import Course, Experiment
from experiments.services.courses import course_join, normalise_join_code
from experiments.services.experiments import experiment_create, experiment_submit


def test_an_instructor_creates_a_course_with_a_join_code(client, olga):
    client.force_login(olga)
    response = client.post(reverse("course_new"), {"name": "  Deep   audio ", "description": "Due Friday."})
    course = Course.objects.get()
    assert response["Location"] == reverse("course_detail", args=[course.pk])
    assert course.name == "Deep audio" and list(course.instructors.all()) == [olga]
    assert len(course.join_code) == 8 and not set(course.join_code) & set("01IO")
    page = client.get(response["Location"]).content.decode()
    assert course.join_code in page and f"/courses/join/?code={course.join_code}" in page


def test_a_student_cannot_create_a_course(client, alice):
    client.force_login(alice)
    assert client.post(reverse("course_new"), {"name": "Mine"}).status_code == 403
    assert "Create a course" not in client.get(reverse("course_list")).content.decode()
    assert not Course.objects.exists()


def test_a_student_joins_by_code_ignoring_case_spaces_and_dashes(client, charlie, course):
    client.force_login(charlie)
    code = course.join_code.lower()
    typed = f"{code[:4]} - {code[4:]}"
    response = client.post(reverse("course_join"), {"join_code": typed})
    assert response["Location"] == reverse("course_detail", args=[course.pk])
    assert course.students.filter(pk=charlie.pk).exists()
    # Twice is harmless.
    assert client.post(reverse("course_join"), {"join_code": code}).status_code == 302
    assert course.students.filter(pk=charlie.pk).count() == 1


def test_a_wrong_code_is_explained_and_joins_nothing(client, charlie, course):
    client.force_login(charlie)
    response = client.post(reverse("course_join"), {"join_code": "NOPE2345"})
    page = response.content.decode()
    assert response.status_code == 400 and "No course has the join code" in page
    # the message sits next to the code field in the join form, on the join page (not a 404 page)
    assert 'id="join-form"' in page and 'aria-invalid="true"' in page
    field = page[page.index('name="join_code"') :]
    assert field.index("No course has the join code") < field.index("</form>")
    assert not charlie.courses_attended.exists()


def test_the_join_link_fills_in_the_code(client, charlie, course):
    client.force_login(charlie)
    page = client.get(reverse("course_join"), {"code": course.join_code}).content.decode()
    assert f'value="{course.join_code}"' in page


def test_an_instructor_cannot_join_their_own_course_as_a_student(ines, course):
    with pytest.raises(Exception, match="You teach"):
        course_join(student=ines, join_code=course.join_code)


def test_normalise_join_code():
    assert normalise_join_code(" ab-cd 23\t45 ") == "ABCD2345"


def test_the_course_list_shows_taught_and_attended_courses(client, alice, ines, course, other_course):
    client.force_login(ines)
    page = client.get(reverse("course_list")).content.decode()
    assert course.name in page and course.join_code in page and other_course.name not in page
    client.force_login(alice)
    page = client.get(reverse("course_list")).content.decode()
    assert course.name in page and course.join_code not in page and "Join a course" in page


def test_submissions_are_listed_newest_first_with_their_status(client, alice, bob, ines, course, make_clip):
    experiments = []
    for owner, name in ((alice, "3_theo_5"), (bob, "7_nicolas_5"), (alice, "5_george_5")):
        clip = make_clip(owner, name)
        other = make_clip(owner, "0_george_5")
        experiment = experiment_create(owner=owner, recording_a=clip, recording_b=other, title=f"{owner} {name}")
        experiment_submit(experiment=experiment, course=course)
        experiments.append(experiment)
    # Make the order of submission explicit.
    for age, experiment in enumerate(reversed(experiments)):
        Experiment.objects.filter(pk=experiment.pk).update(submitted_at=timezone.now() - timedelta(minutes=age))
    Experiment.objects.filter(pk=experiments[0].pk).update(status="reviewed")
    draft = experiment_create(owner=alice, recording_a=make_clip(alice, "9_jackson_6"), recording_b=make_clip(alice))
    client.force_login(ines)
    url = reverse("course_detail", args=[course.pk])

    def listed(**params) -> list[int]:
        page = client.get(url, params).content.decode()
        return [int(x.split('"')[0]) for x in page.split('<tr data-experiment="')[1:]]

    assert listed() == [experiments[2].pk, experiments[1].pk]  # waiting, newest first
    assert listed(status="reviewed") == [experiments[0].pk]
    assert listed(status="all") == [e.pk for e in reversed(experiments)]
    assert draft.pk not in listed(status="all")
    fragment = client.get(url, {"status": "all"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="submissions")
    assert fragment.content.decode().lstrip().startswith('<div id="submissions">')


def test_a_student_sees_only_their_own_submissions_on_the_course_page(client, alice, bob, course, make_clip):
    mine = experiment_create(owner=alice, recording_a=make_clip(alice), recording_b=make_clip(alice, "1_theo_6"))
    theirs = experiment_create(owner=bob, recording_a=make_clip(bob), recording_b=make_clip(bob, "1_theo_6"))
    for experiment in (mine, theirs):
        experiment_submit(experiment=experiment, course=course)
    client.force_login(alice)
    page = client.get(reverse("course_detail", args=[course.pk])).content.decode()
    assert reverse("experiment_detail", args=[mine.pk]) in page
    assert reverse("experiment_detail", args=[theirs.pk]) not in page
    assert course.join_code not in page and "bob" not in page  # no roster, no code for students


def test_a_student_submits_a_draft_to_a_course_they_attend(client, alice, ab_experiment, course, other_course):
    client.force_login(alice)
    page = client.get(reverse("experiment_detail", args=[ab_experiment.pk])).content.decode()
    assert "Submit for review" in page and course.name in page and other_course.name not in page
    url = reverse("experiment_submit", args=[ab_experiment.pk])

    assert client.post(url, {"course": other_course.pk}).status_code == 302
    ab_experiment.refresh_from_db()
    assert ab_experiment.status == "draft"  # not a course of hers: refused with a message

    client.post(url, {"course": course.pk})
    ab_experiment.refresh_from_db()
    assert (ab_experiment.status, ab_experiment.course) == ("submitted", course) and ab_experiment.submitted_at
    page = client.get(reverse("experiment_detail", args=[ab_experiment.pk])).content.decode()
    assert "Submit for review" not in page and "submitted to" in page


def test_an_instructor_draws_a_new_code_and_the_old_one_stops_working(client, ines, charlie, course):
    old = course.join_code
    client.force_login(ines)
    client.post(reverse("course_new_code", args=[course.pk]))
    course.refresh_from_db()
    assert course.join_code != old
    with pytest.raises(Exception, match="No course has the join code"):
        course_join(student=charlie, join_code=old)


def test_a_student_leaves_a_course(client, bob, course):
    client.force_login(bob)
    assert client.post(reverse("course_leave", args=[course.pk])).status_code == 302
    assert not course.students.filter(pk=bob.pk).exists()
    assert client.get(reverse("course_detail", args=[course.pk])).status_code == 404


def test_dashboards_link_experiments_courses_and_waiting_submissions(client, alice, ines, submitted_experiment):
    client.force_login(ines)
    page = client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("experiment_detail", args=[submitted_experiment.pk])}"' in page
    client.force_login(alice)
    page = client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("experiment_detail", args=[submitted_experiment.pk])}"' in page
    assert f'href="{reverse("course_detail", args=[submitted_experiment.course_id])}"' in page
