"""Course voices: students give labelled recordings to a course with consent and take them back; an instructor's
training of that course hears them."""

import pytest
from django.urls import reverse

from experiments.services.recordings import recording_from_sample
from jobs.models import Job
from modelzoo.models import ModelVersion
from tests.conftest import login
from workshop import worker
from workshop.architecture import Design
from workshop.models import CourseVoice
from workshop.services import training_start, voice_contribute, voice_remove

VOICES = reverse("voice_list")


@pytest.fixture
def alices_take(alice):
    return recording_from_sample(owner=alice, name="3_theo_5")


@pytest.mark.django_db
def test_a_student_gives_a_recording_with_consent_and_takes_it_back(client, alice, course, alices_take):
    login(client, alice)
    refused = client.post(VOICES, {"course": course.pk, "recording": alices_take.pk, "label": "3"})
    given = client.post(VOICES, {"course": course.pk, "recording": alices_take.pk, "label": "3", "consent": "on"})

    assert refused.status_code == 400 and "nothing is shared without it" in refused.content.decode()
    voice = CourseVoice.objects.get()
    assert given.status_code == 302 and voice.contributor == alice and voice.label == "3"
    assert course.name in voice.consent_text and "remove it at any time" in voice.consent_text
    page = client.get(VOICES).content.decode()
    assert f'data-voice="{voice.pk}"' in page and "data-consent" in page

    client.post(reverse("voice_remove", args=[voice.pk]))
    assert not CourseVoice.objects.exists()


@pytest.mark.django_db
def test_nobody_gives_or_removes_for_someone_else(client, alice, bob, charlie, course, other_course, alices_take):
    voice = voice_contribute(student=alice, course=course, recording=alices_take, label="3", consent=True)

    login(client, bob)
    assert client.post(reverse("voice_remove", args=[voice.pk])).status_code == 404
    stolen = client.post(VOICES, {"course": course.pk, "recording": alices_take.pk, "label": "3", "consent": "on"})
    login(client, charlie)  # attends another course
    elsewhere = client.post(VOICES, {"course": course.pk, "recording": alices_take.pk, "label": "3", "consent": "on"})

    assert stolen.status_code == 400 and elsewhere.status_code == 400
    assert CourseVoice.objects.count() == 1


@pytest.mark.django_db
def test_only_an_instructor_of_the_course_may_train_on_its_voices(client, alice, ines, olga, course, alices_take):
    from core.errors import ServiceError

    with pytest.raises(ServiceError, match="No student of Audio ML 101"):
        training_start(owner=ines, name="voices", design=Design(epochs=1), course=course)
    voice_contribute(student=alice, course=course, recording=alices_take, label="3", consent=True)
    for outsider in (alice, olga):
        with pytest.raises(ServiceError, match="Only an instructor") as refused:
            training_start(owner=outsider, name="voices", design=Design(epochs=1), course=course)
        assert refused.value.status == 404

    assert 'name="course"' in login(client, ines).get(reverse("training_new")).content.decode()
    assert 'name="course"' not in login(client, alice).get(reverse("training_new")).content.decode()


@pytest.mark.django_db
def test_an_instructors_training_hears_the_voices_given_when_it_starts(
    settings, alice, bob, ines, course, active_model
):
    settings.WORKSHOP_MAX_CLIPS = 120
    three = recording_from_sample(owner=alice, name="3_theo_5")
    seven = recording_from_sample(owner=bob, name="7_george_5")
    taken_back = recording_from_sample(owner=bob, name="1_theo_6")
    voice_contribute(student=alice, course=course, recording=three, label="3", consent=True)
    voice_contribute(student=bob, course=course, recording=seven, label="7", consent=True)
    voice_remove(voice=voice_contribute(student=bob, course=course, recording=taken_back, label="1", consent=True))

    voices = worker.course_voices_dataset(course.pk, worker.recipe.recipe_features())
    assert voices.labels.tolist() == [3, 7] and len(voices.clips) == 2
    training = training_start(
        owner=ines, name="with voices", design=Design(filters=(8, 8, 8), dense=16, epochs=1), course=course
    )

    training.refresh_from_db()
    assert training.job.status == Job.Status.DONE, training.job.error
    version = training.model_version
    assert version.status == ModelVersion.Status.VALID and version.owner == ines
    assert version.training_data["course_voices"] == {"course": course.name, "clips": 2, "consent": "given by each"}
    assert version.training_data["clips"] == 120  # the FSDD share; the voices are counted apart
