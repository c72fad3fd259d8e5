"""The access rules written once in the selectors: who teaches a course, who reviews an experiment,
and which model versions a user may name (an invalid or hidden one answers like a missing one)."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from rest_framework.test import APIClient

from experiments.models import Experiment
from experiments.selectors import is_course_instructor, is_experiment_reviewer
from experiments.services.experiments import experiment_create, experiment_submit
from experiments.services.recordings import recording_derive
from modelzoo.models import ModelVersion


@pytest.fixture
def broken_version(active_model) -> ModelVersion:
    """A version whose validation failed: only admins see it."""
    return ModelVersion.objects.create(name="broken", labels=active_model.labels, status=ModelVersion.Status.INVALID)


def test_only_the_courses_instructors_teach_it(course, alice, bob, ines, olga, admin_user):
    assert is_course_instructor(user=ines, course=course)
    for user in (alice, bob, olga, admin_user, AnonymousUser()):
        assert not is_course_instructor(user=user, course=course), user
    assert not is_course_instructor(user=ines, course=None)


def test_a_reviewer_teaches_the_course_a_submission_went_to(ab_experiment, course, ines, olga, alice):
    assert not is_experiment_reviewer(user=ines, experiment=ab_experiment)  # a draft has no reviewer

    experiment_submit(experiment=ab_experiment, course=course)

    assert is_experiment_reviewer(user=ines, experiment=ab_experiment)
    assert not is_experiment_reviewer(user=olga, experiment=ab_experiment)
    assert not is_experiment_reviewer(user=alice, experiment=ab_experiment)


def test_the_course_page_and_the_api_agree_on_who_teaches(client, course, ines, alice):
    for user, role in ((ines, "instructor"), (alice, "student")):
        client.force_login(user)
        page = client.get(reverse("course_detail", args=[course.pk])).content.decode()
        api = client.get(f"/api/courses/{course.pk}/").json()
        assert api["role"] == role
        assert ("You teach this course" in page) == (role == "instructor")
        assert (course.join_code in page) == (role == "instructor")
        submissions = client.get(f"/api/courses/{course.pk}/submissions/")
        assert submissions.status_code == (200 if role == "instructor" else 403)


@pytest.mark.parametrize("field", ["model_version", "model_version_b"])
def test_the_api_answers_a_hidden_model_version_like_a_missing_one(alice, make_clip, broken_version, field):
    clip = make_clip(alice)
    api = APIClient()
    api.force_authenticate(alice)

    hidden = api.post("/api/experiments/", {"recording_a": clip.pk, field: broken_version.pk}, format="json")
    missing = api.post("/api/experiments/", {"recording_a": clip.pk, field: 999999}, format="json")

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()[field] == [m.replace("999999", str(broken_version.pk)) for m in missing.json()[field]]
    assert not Experiment.objects.exists()


def test_changing_an_experiment_to_a_hidden_version_answers_like_a_missing_one(alice, make_clip, broken_version):
    clip = make_clip(alice)
    experiment = experiment_create(
        owner=alice, recording_a=clip, recording_b=recording_derive(recording=clip, operations=[{"op": "reverse"}])
    )
    api = APIClient()
    api.force_authenticate(alice)

    response = api.patch(f"/api/experiments/{experiment.pk}/", {"model_version": broken_version.pk}, format="json")

    assert response.status_code == 400 and "model_version" in response.json()
    experiment.refresh_from_db()
    assert experiment.model_version_id != broken_version.pk


def test_the_experiment_form_offers_only_versions_that_can_analyse(client, alice, make_clip, broken_version):
    clip = make_clip(alice)
    client.force_login(alice)

    form = client.get(reverse("experiment_new")).content.decode()
    response = client.post(
        reverse("experiment_new"), {"mode": "models", "recording_a": clip.pk, "model_version_b": broken_version.pk}
    )

    # The two model selects' options (a recording's option may carry the same number).
    offered = re.findall(r'<select name="model_version(?:_b)?"[^>]*>(.*?)</select>', form, re.S)
    assert len(offered) == 2
    assert all(f'value="{broken_version.pk}"' not in options for options in offered)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Experiment.objects.exists()
